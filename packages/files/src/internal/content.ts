/**
 * The representation behind `Content`: where the bytes come from and whether they can be read again; and the two
 * helpers on bytes that planning and sending share (`concat`, `collect`).
 *
 * @internal
 */
import { Effect, Predicate, type Scope, Stream } from "effect"
import type { InvalidContentError } from "../CdfError.js"
import { checkSize, ContentReadError, describe, invalidKind, isDetached, onlyBytes } from "./contentValidation.js"

/** @internal */
export const TypeId: unique symbol = Symbol.for("@effect-cdf/files/Content")

/** @internal */
export type TypeId = typeof TypeId

/** @internal */
export { ContentReadError } from "./contentValidation.js"

/**
 * - `Bytes`: exactly the bytes of a view (never its whole underlying buffer); replayable, random access.
 * - `Ranged`: a replayable source of known size that can be read from any offset (a Blob, a file).
 * - `Factory`: a replayable source read from its start each time.
 * - `OneShot`: can be read once.
 *
 * @internal
 */
export type Source =
  | { readonly _tag: "Bytes"; readonly bytes: Uint8Array }
  | {
    readonly _tag: "Ranged"
    readonly size: number
    readonly slice: (start: number, end: number) => Stream.Stream<Uint8Array, unknown>
    /**
     * The whole source in one read, when the source can give it cheaper than its stream (a file: one `readFile`; a
     * Blob: one `arrayBuffer`): used for a small single PUT, read again on each attempt.
     */
    readonly readAll?: (() => Effect.Effect<Uint8Array, unknown>) | undefined
    /**
     * The bytes `[start, end)` opened for an HTTP client that reads a body itself (`uploadBody.sendRange`): one
     * promise per chunk, no Effect. Open until the scope closes.
     */
    readonly open?: ((start: number, end: number) => Effect.Effect<RangeReader, unknown, Scope.Scope>) | undefined
  }
  | { readonly _tag: "Factory"; readonly make: () => Stream.Stream<Uint8Array, unknown> }
  | { readonly _tag: "OneShot"; readonly stream: Stream.Stream<Uint8Array, unknown> }

/**
 * Reads an opened range: each call resolves with the next chunk, or `undefined` after the last; it rejects when a
 * read fails, and with a `ContentReadError` when the source ends before the range does. Calls are one at a time.
 *
 * @internal
 */
export type RangeReader = () => Promise<Uint8Array | undefined>

/** @internal */
export class ContentImpl {
  readonly [TypeId]: TypeId = TypeId
  constructor(
    readonly source: Source,
    readonly size: number | undefined,
    /** Set when the input cannot be uploaded: the error every use of this content fails with, before any request. */
    readonly invalid?: InvalidContentError | undefined
  ) {}
  get replayable(): boolean {
    return this.source._tag !== "OneShot"
  }
  toJSON(): unknown {
    return { _id: "Content", kind: this.source._tag, size: this.size, replayable: this.replayable }
  }
  toString(): string {
    return `Content(${this.source._tag}, ${this.size ?? "unknown size"})`
  }
}

/** @internal */
export const isContent = (u: unknown): u is ContentImpl => u instanceof ContentImpl

const encoder = new TextEncoder()

/** The whole of `source` as a stream, from its start. @internal */
export const streamOf = (source: Source): Stream.Stream<Uint8Array, unknown> => {
  switch (source._tag) {
    case "Bytes":
      return Stream.succeed(source.bytes)
    case "Ranged":
      return Stream.suspend(() => source.slice(0, source.size))
    case "Factory":
      return Stream.suspend(source.make)
    case "OneShot":
      return source.stream
  }
}

const isStream = (u: unknown): u is Stream.Stream<Uint8Array, unknown> =>
  Predicate.hasProperty(u, Stream.StreamTypeId)

const isReadableStream = (u: unknown): u is ReadableStream<Uint8Array> =>
  typeof ReadableStream !== "undefined" && u instanceof ReadableStream

const isBlob = (u: unknown): u is Blob => typeof Blob !== "undefined" && u instanceof Blob

const identity = (e: unknown): unknown => e

/** Whether a value is an async iterable (the last content kind `make` tries). */
const isAsyncIterable = (u: unknown): u is AsyncIterable<Uint8Array> =>
  Predicate.hasProperty(u, Symbol.asyncIterator) && typeof u[Symbol.asyncIterator] === "function"

/**
 * A one-shot or factory stream from any of the streaming kinds, failing at the first chunk that is not bytes
 * (`onlyBytes`); `undefined` when the input is none of them.
 */
const streamKind = (input: unknown): Stream.Stream<Uint8Array, unknown> | undefined => {
  if (isStream(input)) return onlyBytes(input, "a Stream")
  if (isReadableStream(input)) {
    return onlyBytes(Stream.fromReadableStream({ evaluate: () => input, onError: identity }), "a ReadableStream")
  }
  if (isAsyncIterable(input)) return onlyBytes(Stream.fromAsyncIterable(input, identity), "an async iterable")
  return undefined
}

/**
 * Content that cannot be uploaded: it carries `error`, which `prepare` and a PUT fail with before any request, and
 * its source (a one-shot stream of unknown size) fails with it too, should it be read anyway.
 */
const invalidContent = (error: InvalidContentError): ContentImpl =>
  new ContentImpl({ _tag: "OneShot", stream: Stream.fail(new ContentReadError(error)) }, undefined, error)

/** @internal */
export const blobSource = (blob: Blob): Source => ({
  _tag: "Ranged",
  size: blob.size,
  slice: (start, end) =>
    Stream.fromReadableStream({ evaluate: () => blob.slice(start, end).stream(), onError: identity }),
  readAll: () => Effect.tryPromise({ try: () => blob.arrayBuffer(), catch: identity }).pipe(Effect.map((b) => new Uint8Array(b))),
  open: (start, end) =>
    Effect.map(
      Effect.acquireRelease(
        Effect.sync(() => blob.slice(start, end).stream().getReader()),
        (reader) => Effect.promise(() => reader.cancel().catch(() => undefined))
      ),
      (reader): RangeReader => () => reader.read().then((next) => next.done ? undefined : next.value)
    )
})

/** The content kinds a user passes, besides `Content` itself. @internal */
export type RawInput =
  | string
  | Uint8Array
  | ArrayBuffer
  | Blob
  | Stream.Stream<Uint8Array, unknown>
  | AsyncIterable<Uint8Array>
  | ReadableStream<Uint8Array>

/** @internal */
export type Input = RawInput | ContentImpl

/**
 * Content from any input. A JavaScript caller may pass anything: what is none of the documented kinds (`null`, a
 * number, a plain object, a detached `ArrayBuffer`, an object whose properties throw when read), or a declared size
 * that is not a non-negative integer, gives a content that fails with `InvalidContentError` when it is prepared,
 * before any request; never a throw.
 *
 * @internal
 */
export const make = (input: Input, options?: { readonly size?: number | undefined }): ContentImpl => {
  try {
    return classify(input, options)
  } catch {
    // a Proxy whose traps throw, a getter that throws: nothing about it can be read, not even its kind
    return invalidContent(invalidKind("an object whose properties cannot be read"))
  }
}

const classify = (input: Input, options: { readonly size?: number | undefined } | undefined): ContentImpl => {
  if (isContent(input)) {
    if (options?.size === undefined || input.size !== undefined) return input
    const invalid = checkSize(options.size, "a Content")
    return invalid === undefined ? new ContentImpl(input.source, options.size) : invalidContent(invalid)
  }
  if (typeof input === "string") {
    const bytes = encoder.encode(input)
    return new ContentImpl({ _tag: "Bytes", bytes }, bytes.byteLength)
  }
  if (input instanceof Uint8Array) {
    return input.byteLength === 0 && isDetached(input.buffer)
      ? invalidContent(invalidKind(`a ${input.constructor.name} over a detached ArrayBuffer`))
      : new ContentImpl({ _tag: "Bytes", bytes: input }, input.byteLength)
  }
  if (input instanceof ArrayBuffer) {
    if (isDetached(input)) return invalidContent(invalidKind("a detached ArrayBuffer"))
    const bytes = new Uint8Array(input)
    return new ContentImpl({ _tag: "Bytes", bytes }, bytes.byteLength)
  }
  if (isBlob(input)) return new ContentImpl(blobSource(input), input.size)
  const stream = streamKind(input)
  if (stream === undefined) return invalidContent(invalidKind(describe(input)))
  const invalid = checkSize(options?.size, describe(input))
  return invalid === undefined ? new ContentImpl({ _tag: "OneShot", stream }, options?.size) : invalidContent(invalid)
}

/** @internal */
export const fromFactory = (
  f: () => Stream.Stream<Uint8Array, unknown> | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
  options?: { readonly size?: number | undefined }
): ContentImpl => {
  if (typeof f !== "function") return invalidContent(invalidKind(`${describe(f)} given as a factory`))
  const invalid = checkSize(options?.size, "a stream factory")
  return invalid === undefined
    ? new ContentImpl(
      {
        _tag: "Factory",
        make: () =>
          Stream.suspend(() => {
            let made: unknown
            try {
              made = f()
            } catch (e) {
              return Stream.fail(new ContentReadError(e))
            }
            return streamKind(made) ??
              Stream.fail(new ContentReadError(invalidKind(`${describe(made)} made by a stream factory`)))
          })
      },
      options?.size
    )
    : invalidContent(invalid)
}

/** @internal */
export const fromRanged = (
  size: number,
  slice: (start: number, end: number) => Stream.Stream<Uint8Array, unknown>,
  options?: {
    readonly readAll?: (() => Effect.Effect<Uint8Array, unknown>) | undefined
    readonly open?: ((start: number, end: number) => Effect.Effect<RangeReader, unknown, Scope.Scope>) | undefined
  }
): ContentImpl => new ContentImpl({ _tag: "Ranged", size, slice, readAll: options?.readAll, open: options?.open }, size)

/** @internal */
export const fromBytes = (bytes: Uint8Array): ContentImpl =>
  new ContentImpl({ _tag: "Bytes", bytes }, bytes.byteLength)

/** @internal */
export const concat = (chunks: ReadonlyArray<Uint8Array>, size: number): Uint8Array => {
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}

/** A byte stream read into one buffer. @internal */
export const collect = <E>(stream: Stream.Stream<Uint8Array, E>): Effect.Effect<Uint8Array, E> =>
  Stream.runFold(stream, [] as Array<Uint8Array>, (acc, c) => {
    acc.push(c)
    return acc
  }).pipe(Effect.map((chunks) => concat(chunks, chunks.reduce((n, c) => n + c.byteLength, 0))))
