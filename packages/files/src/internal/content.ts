/**
 * The representation behind `Content`: where the bytes come from and whether they can be read again.
 *
 * @internal
 */
import { Effect, Predicate, Stream } from "effect"

/** @internal */
export const TypeId: unique symbol = Symbol.for("@effect-cdf/files/Content")

/** @internal */
export type TypeId = typeof TypeId

/** A failure of the caller's content source (a stream that failed, a file that could not be read). @internal */
export class ContentReadError {
  readonly _tag = "ContentReadError"
  constructor(readonly cause: unknown) {}
}

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
  }
  | { readonly _tag: "Factory"; readonly make: () => Stream.Stream<Uint8Array, unknown> }
  | { readonly _tag: "OneShot"; readonly stream: Stream.Stream<Uint8Array, unknown> }

/** @internal */
export class ContentImpl {
  readonly [TypeId]: TypeId = TypeId
  constructor(readonly source: Source, readonly size: number | undefined) {}
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

/** A one-shot or factory stream from any of the streaming kinds. @internal */
export const toStream = (
  input: Stream.Stream<Uint8Array, unknown> | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>
): Stream.Stream<Uint8Array, unknown> => {
  if (isStream(input)) return input
  if (isReadableStream(input)) return Stream.fromReadableStream({ evaluate: () => input, onError: identity })
  return Stream.fromAsyncIterable(input, identity)
}

/** @internal */
export const blobSource = (blob: Blob): Source => ({
  _tag: "Ranged",
  size: blob.size,
  slice: (start, end) =>
    Stream.fromReadableStream({ evaluate: () => blob.slice(start, end).stream(), onError: identity }),
  readAll: () => Effect.tryPromise({ try: () => blob.arrayBuffer(), catch: identity }).pipe(Effect.map((b) => new Uint8Array(b)))
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

/** @internal */
export const make = (input: Input, options?: { readonly size?: number | undefined }): ContentImpl => {
  if (isContent(input)) {
    return options?.size === undefined || input.size !== undefined ? input : new ContentImpl(input.source, options.size)
  }
  if (typeof input === "string") {
    const bytes = encoder.encode(input)
    return new ContentImpl({ _tag: "Bytes", bytes }, bytes.byteLength)
  }
  if (input instanceof Uint8Array) return new ContentImpl({ _tag: "Bytes", bytes: input }, input.byteLength)
  if (input instanceof ArrayBuffer) {
    const bytes = new Uint8Array(input)
    return new ContentImpl({ _tag: "Bytes", bytes }, bytes.byteLength)
  }
  if (isBlob(input)) return new ContentImpl(blobSource(input), input.size)
  return new ContentImpl({ _tag: "OneShot", stream: toStream(input) }, options?.size)
}

/** @internal */
export const fromFactory = (
  f: () => Stream.Stream<Uint8Array, unknown> | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
  options?: { readonly size?: number | undefined }
): ContentImpl => new ContentImpl({ _tag: "Factory", make: () => toStream(f()) }, options?.size)

/** @internal */
export const fromRanged = (
  size: number,
  slice: (start: number, end: number) => Stream.Stream<Uint8Array, unknown>,
  readAll?: () => Effect.Effect<Uint8Array, unknown>
): ContentImpl => new ContentImpl({ _tag: "Ranged", size, slice, readAll }, size)

/** @internal */
export const fromBytes = (bytes: Uint8Array): ContentImpl =>
  new ContentImpl({ _tag: "Bytes", bytes }, bytes.byteLength)
