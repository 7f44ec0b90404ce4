/**
 * JSON values the file records carry (`metadata`, `geoLocation.properties`): copies that check what they copy, and
 * the `Schema`s made of them. Used by the response model and by input validation alike.
 *
 * @internal
 */
import { Array as Arr, Effect, Either, ParseResult, Schema, type SchemaAST } from "effect"

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

const fromFault = (ast: SchemaAST.AST, u: unknown, fault: JsonFault): ParseResult.ParseIssue => {
  const leaf = new ParseResult.Type(ast, u, fault.limit)
  return Arr.isNonEmptyReadonlyArray(fault.path) ? new ParseResult.Pointer(fault.path, u, leaf) : leaf
}

const copying = <A>(copy: (u: unknown) => Either.Either<A, JsonFault>) => () =>
(
  u: unknown,
  _: SchemaAST.ParseOptions,
  ast: SchemaAST.Declaration
): Effect.Effect<A, ParseResult.ParseIssue> =>
  Either.match(copy(u), {
    onRight: ParseResult.succeed,
    onLeft: (fault) => ParseResult.fail(fromFault(ast, u, fault))
  })

/**
 * A record of strings, copied (keys like `__proto__` stay ordinary keys, unlike with `Schema.Record`).
 *
 * @internal
 */
export const StringRecord = Schema.declare(
  [],
  { decode: copying(copyStringRecord), encode: copying(copyStringRecord) },
  {
    description: "an object of string values",
    arbitrary: () => (fc) => fc.dictionary(fc.string(), fc.string())
  }
)

/**
 * A JSON object, deep-copied (plain objects, arrays, strings, finite numbers, booleans, null; no cycles).
 *
 * @internal
 */
export const JsonObject = Schema.declare(
  [],
  { decode: copying(copyJsonObject), encode: copying(copyJsonObject) },
  {
    description: "a JSON object",
    arbitrary: () => (fc) => fc.dictionary(fc.string(), fc.jsonValue())
  }
)
