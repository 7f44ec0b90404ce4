import { Array as Arr, Either, Option, ParseResult, SchemaAST } from "effect"

/**
 * The size of a string in UTF-8 bytes (a lone surrogate counts as the 3 bytes of U+FFFD, as it is sent).
 *
 * @internal
 */
export const utf8Bytes = (s: string): number => {
  let bytes = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4
        i++
      } else bytes += 3
    } else bytes += 3
  }
  return bytes
}

/**
 * The length of a string in Unicode code points: what JSON Schema's `maxLength` counts.
 *
 * @internal
 */
export const codePoints = (s: string): number => {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) i++
    }
    n++
  }
  return n
}

// -------------------------------------------------------------------------------------------------------------------
// JSON values (geoLocation.properties)
// -------------------------------------------------------------------------------------------------------------------

/** @internal */
export interface JsonFault {
  readonly path: ReadonlyArray<PropertyKey>
  readonly limit: string
}

/** @internal */
export const MAX_JSON_DEPTH = 64

const isPlainObject = (u: object): boolean => {
  const proto = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

const go = (value: unknown, path: ReadonlyArray<PropertyKey>, seen: Set<object>): Either.Either<unknown, JsonFault> => {
  if (value === null || typeof value === "string" || typeof value === "boolean") return Either.right(value)
  if (typeof value === "number") {
    return Number.isFinite(value)
      ? Either.right(value)
      : Either.left({ path, limit: "a JSON value (a finite number, not NaN or Infinity)" })
  }
  if (typeof value !== "object") {
    return Either.left({ path, limit: "a JSON value (no functions, symbols, bigints or undefined)" })
  }
  if (path.length > MAX_JSON_DEPTH) return Either.left({ path, limit: `nested at most ${MAX_JSON_DEPTH} levels deep` })
  if (seen.has(value)) return Either.left({ path, limit: "a JSON value without cycles" })
  seen.add(value)
  try {
    if (Array.isArray(value)) {
      const out: Array<unknown> = []
      for (let i = 0; i < value.length; i++) {
        const item = go(value[i], [...path, i], seen)
        if (Either.isLeft(item)) return item
        out.push(item.right)
      }
      return Either.right(out)
    }
    return goObject(value, path, seen)
  } finally {
    seen.delete(value)
  }
}

const goObject = (
  value: object,
  path: ReadonlyArray<PropertyKey>,
  seen: Set<object>
): Either.Either<Record<string, unknown>, JsonFault> => {
  if (Array.isArray(value) || !isPlainObject(value)) {
    return Either.left({ path, limit: "a JSON object (a plain object, not an array or a class instance)" })
  }
  if (Object.getOwnPropertySymbols(value).length > 0) {
    return Either.left({ path, limit: "a JSON object (string keys only)" })
  }
  const entries: Array<[string, unknown]> = []
  for (const key of Object.keys(value)) {
    const item = go(Reflect.get(value, key), [...path, key], seen)
    if (Either.isLeft(item)) return Either.left(item.left)
    entries.push([key, item.right])
  }
  return Either.right(Object.fromEntries(entries))
}

/**
 * A deep copy of a JSON object made of plain objects, arrays, strings, finite numbers, booleans and null; or where
 * and why it is not one. Never throws on cycles or deep nesting.
 *
 * @internal
 */
export const copyJsonObject = (u: unknown): Either.Either<Record<string, unknown>, JsonFault> => {
  if (typeof u !== "object" || u === null) return Either.left({ path: [], limit: "a JSON object" })
  const seen = new Set<object>([u])
  return goObject(u, [], seen)
}

/**
 * A copy of an object of string values (own enumerable string keys of a plain object), or where and why it is not
 * one. Keys such as `__proto__` are kept as ordinary keys.
 *
 * @internal
 */
export const copyStringRecord = (u: unknown): Either.Either<Record<string, string>, JsonFault> => {
  if (typeof u !== "object" || u === null || Array.isArray(u) || !isPlainObject(u)) {
    return Either.left({ path: [], limit: "an object of string values" })
  }
  const entries: Array<[string, string]> = []
  for (const key of Object.keys(u)) {
    const value: unknown = Reflect.get(u, key)
    if (typeof value !== "string") return Either.left({ path: [key], limit: "a string" })
    entries.push([key, value])
  }
  return Either.right(Object.fromEntries(entries))
}

// -------------------------------------------------------------------------------------------------------------------
// From a ParseIssue to the option at fault and the limit in words
// -------------------------------------------------------------------------------------------------------------------

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
