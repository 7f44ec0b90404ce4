/**
 * From a failed decode (`ParseIssue`) to what a user reads: the path of the option at fault and the limit it broke,
 * in words.
 *
 * @internal
 */
import { Array as Arr, Option, ParseResult, SchemaAST } from "effect"

/** @internal */
export interface Fault {
  readonly path: ReadonlyArray<PropertyKey>
  readonly limit: string
}

const describe = (ast: SchemaAST.AST): string => {
  const description = SchemaAST.getDescriptionAnnotation(ast)
  if (Option.isSome(description)) return description.value
  switch (ast._tag) {
    case "StringKeyword":
      return "a string"
    case "NumberKeyword":
      return "a number"
    case "BooleanKeyword":
      return "a boolean"
    case "Literal":
      return JSON.stringify(ast.literal) ?? String(ast.literal)
    case "TypeLiteral":
      return "an object"
    case "TupleType":
      return "an array"
    case "Union":
      return ast.types.filter((member) => member._tag !== "UndefinedKeyword").map(describe).join(" or ")
    case "Refinement":
      return describe(ast.from)
    case "Transformation":
      return describe(ast.from)
    case "Suspend":
      return describe(ast.f())
    default:
      return "valid"
  }
}

/** Whether an issue says "this is not even the right kind of value" (at the root of the schema that failed). */
const isRootMismatch = (issue: ParseResult.ParseIssue): boolean => {
  switch (issue._tag) {
    case "Type":
      return true
    case "Refinement":
      return issue.kind === "From" && isRootMismatch(issue.issue)
    case "Transformation":
      return issue.kind === "Encoded" && isRootMismatch(issue.issue)
    default:
      return false
  }
}

/**
 * The first failure of a parse issue: where (as a path) and what limit was broken (in words).
 *
 * @internal
 */
export const firstFault = (issue: ParseResult.ParseIssue, path: ReadonlyArray<PropertyKey> = []): Fault => {
  switch (issue._tag) {
    case "Pointer":
      return firstFault(issue.issue, [...path, ...Arr.ensure<PropertyKey>(issue.path)])
    case "Refinement":
      return firstFault(issue.issue, path)
    case "Transformation":
      return firstFault(issue.issue, path)
    case "Type":
      return { path, limit: issue.message ?? describe(issue.ast) }
    case "Forbidden":
      return { path, limit: issue.message ?? describe(issue.ast) }
    case "Missing":
      return { path, limit: "present (it is required)" }
    case "Unexpected":
      return { path, limit: "absent (not a known key here)" }
    case "Composite": {
      const issues = Arr.ensure(issue.issues)
      if (issue.ast._tag === "Union") {
        // `X | undefined` (an optional option): the `undefined` member says nothing useful.
        const members = issues.filter((i) => !(i._tag === "Type" && i.ast._tag === "UndefinedKeyword"))
        if (members.length === 1) return firstFault(members[0], path)
        const near = members.filter((i) => !isRootMismatch(i))
        if (near.length === 1) return firstFault(near[0], path)
        return { path, limit: describe(issue.ast) }
      }
      return firstFault(issues[0], path)
    }
  }
}

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/**
 * Renders a path as a user writes it: `labels[3].externalId`, `metadata["my key"]`. The empty path is `options`.
 *
 * @internal
 */
export const formatPath = (path: ReadonlyArray<PropertyKey>, root = "options"): string => {
  if (path.length === 0) return root
  let out = ""
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`
    else if (typeof key === "symbol") out += `[${String(key)}]`
    else if (identifier.test(key)) out += out === "" ? key : `.${key}`
    else out += `[${JSON.stringify(key)}]`
  }
  return out
}
