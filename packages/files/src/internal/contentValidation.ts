/**
 * Checks of what a caller passes as content, for callers the type system does not hold (JavaScript, `any`): the kind,
 * the declared size, each chunk of a stream, and the cause of a failed read. Valid input costs a few type checks.
 *
 * @internal
 */
import { Chunk, Effect, Predicate, Stream } from "effect"
import { InvalidContentError, UploadError } from "../CdfError.js"

/** A failure of the caller's content source (a stream that failed, a file that could not be read). @internal */
export class ContentReadError {
  readonly _tag = "ContentReadError"
  constructor(readonly cause: unknown) {}
}

/** What a value is, in words, for an error message (never its contents: they may be secret). @internal */
export const describe = (u: unknown): string => {
  if (u === null) return "null"
  switch (typeof u) {
    case "undefined":
      return "undefined"
    case "number":
      return Number.isNaN(u) ? "NaN" : "a number"
    case "string":
      return "a string"
    case "boolean":
      return "a boolean"
    case "bigint":
      return "a bigint"
    case "symbol":
      return "a symbol"
    case "function":
      return "a function"
  }
  if (Array.isArray(u)) return "an array"
  const name = (u as { constructor?: { name?: unknown } }).constructor?.name
  return typeof name === "string" && name !== "Object" && name !== "" ? withArticle(name) : "a plain object"
}

const withArticle = (name: string): string => /^[aeiou]/i.test(name) ? `an ${name}` : `a ${name}`

/**
 * The error of content that is none of the documented kinds: the message says what was given and what is accepted.
 *
 * @internal
 */
export const invalidKind = (content: string): InvalidContentError =>
  new InvalidContentError({
    message: `the content is ${content}, not something that can be uploaded: give a string, a Uint8Array (or Buffer), ` +
      "an ArrayBuffer, a Blob, a Stream, an AsyncIterable or a ReadableStream of Uint8Array, or a Content",
    reason: "Kind",
    content
  })

/** Whether an `ArrayBuffer` has been detached (transferred): it then has no bytes and cannot be viewed. @internal */
export const isDetached = (buffer: ArrayBufferLike): boolean => {
  if (buffer.byteLength !== 0) return false
  const flag = (buffer as { detached?: unknown }).detached
  if (typeof flag === "boolean") return flag
  try {
    new Uint8Array(buffer)
    return false
  } catch {
    return true
  }
}

/** The error of a declared size that is negative, not a number or not an integer; `undefined` when fine. @internal */
export const checkSize = (size: unknown, content: string): InvalidContentError | undefined => {
  if (size === undefined || (typeof size === "number" && Number.isSafeInteger(size) && size >= 0)) return undefined
  return new InvalidContentError({
    message: `the declared size of the content (${content}) is ${
      typeof size === "number" ? String(size) : describe(size)
    }: it must be a non-negative integer number of bytes, or left out`,
    reason: "Size",
    content
  })
}

/**
 * Fails a stream at the first chunk that is not a `Uint8Array` (a string, a number, a plain array), with an
 * `InvalidContentError` (wrapped in a `ContentReadError`, as every failure of a content source) naming the content
 * and the chunk. Counted afresh on every run.
 *
 * @internal
 */
export const onlyBytes = <E>(
  stream: Stream.Stream<Uint8Array, E>,
  content: string
): Stream.Stream<Uint8Array, E | ContentReadError> =>
  Stream.suspend(() => {
    let index = 0
    return Stream.mapChunksEffect(stream, (chunk) => {
      for (const item of chunk) {
        if (!(item instanceof Uint8Array)) {
          const found = describe(item)
          return Effect.fail(
            new ContentReadError(
              new InvalidContentError({
                message: `chunk ${index} of the content (${content}) is ${found}, not a Uint8Array: ` +
                  "a stream must yield bytes (encode strings with TextEncoder)",
                reason: "Chunk",
                content,
                chunk: index,
                found
              })
            )
          )
        }
        index++
      }
      return Effect.succeed(chunk)
    })
  })

/** What a failed read says about itself: its message and (for a system error) its code, e.g. `EACCES`. @internal */
export interface ReadFailure {
  readonly message: string
  readonly code: string | undefined
  /** The content was invalid (a chunk that is not bytes): this error, not an `UploadError`, is the outcome. */
  readonly invalid: InvalidContentError | undefined
}

/** The code of a system error, or of the error it wraps (a platform `SystemError` wraps Node's). */
const codeOf = (u: unknown): string | undefined =>
  Predicate.hasProperty(u, "code") && typeof u.code === "string" && u.code !== ""
    ? u.code
    : Predicate.hasProperty(u, "cause") && u.cause !== u && Predicate.hasProperty(u.cause, "code") &&
        typeof u.cause.code === "string" && u.cause.code !== ""
    ? u.cause.code
    : undefined

/**
 * The message and code of a failed read of the content: the reason the source gave (a string from our own checks,
 * the code and message of a system error such as `EACCES` or `EIO`), else "reading the content failed".
 *
 * @internal
 */
export const readFailureOf = (failure: unknown): ReadFailure => {
  let cause = failure
  while (cause instanceof ContentReadError) cause = cause.cause
  if (cause instanceof InvalidContentError) return { message: cause.message, code: undefined, invalid: cause }
  if (typeof cause === "string") return { message: `reading the content failed: ${cause}`, code: undefined, invalid: undefined }
  const code = codeOf(cause)
  const text = cause instanceof Error && cause.message !== "" ? cause.message : undefined
  const detail = text === undefined ? code : code === undefined || text.includes(code) ? text : `${code}: ${text}`
  return {
    message: detail === undefined ? "reading the content failed" : `reading the content failed: ${detail}`,
    code,
    invalid: undefined
  }
}

/** Fails with a `ContentReadError` when a stream of declared size yields another number of bytes. @internal */
export const exactly = (size: number | undefined) => <E>(stream: Stream.Stream<Uint8Array, E>) =>
  size === undefined ? stream : Stream.suspend(() => {
    let seen = 0
    return stream.pipe(
      Stream.mapChunksEffect((chunks) => {
        seen += Chunk.reduce(chunks, 0, (n, c) => n + c.byteLength)
        return seen > size
          ? Effect.fail(new ContentReadError(`more than the declared ${size} bytes`))
          : Effect.succeed(chunks)
      }),
      Stream.concat(Stream.suspend(() =>
        seen === size ? Stream.empty : Stream.fail(new ContentReadError(`${seen} bytes, not the declared ${size}`))
      ))
    )
  })

/**
 * The error of a failed read of the content: the `InvalidContentError` of a chunk that is not bytes, else an
 * `UploadError` (`Content`) with the reason the source gave (its message, and the code of a system error).
 *
 * @internal
 */
export const readFailed = (e: unknown): UploadError | InvalidContentError => {
  const failure = readFailureOf(e)
  return failure.invalid ??
    new UploadError({
      message: failure.message,
      reason: "Content",
      ...(failure.code === undefined ? {} : { code: failure.code })
    })
}
