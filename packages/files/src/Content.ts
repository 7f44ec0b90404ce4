/**
 * What `Files.uploadBytes` and friends send: every kind of content, each sent as exactly its bytes.
 *
 * - `string`: its UTF-8 bytes.
 * - `Uint8Array` (and Node's `Buffer`, a view over a possibly larger buffer): exactly the bytes of the view.
 * - `ArrayBuffer`: all of its bytes.
 * - `Blob`: its bytes, read by range; replayable.
 * - Effect `Stream<Uint8Array>`, `AsyncIterable<Uint8Array>`, web `ReadableStream<Uint8Array>`: one-shot. What is
 *   sent from them can be resent only from a buffer (a stream of unknown length that fits in one part is buffered).
 * - `fromFactory(() => stream)`: replayable; the factory is called again for every attempt.
 * - On Node, a file (`NodeFiles.content(path)`): replayable, known size, read by range.
 *
 * @since 0.1.0
 */
import type { Stream } from "effect"
import * as internal from "./internal/content.js"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: typeof internal.TypeId = internal.TypeId

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * Content ready to upload. Opaque: build it with `make`, `fromFactory` or `NodeFiles.content`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Content {
  readonly [TypeId]: TypeId
  /** The size in bytes, when known before reading (bytes, Blob, file, or a `size` given for a stream). */
  readonly size: number | undefined
  /** Whether the bytes can be read again (for retries and multipart): false only for one-shot streams. */
  readonly replayable: boolean
}

/**
 * Everything `make` (and every upload call) accepts.
 *
 * @since 0.1.0
 * @category models
 */
export type Input = internal.RawInput | Content

/**
 * Turns any accepted input into `Content`. Never throws and reads nothing. `size` declares the length of a stream
 * (an upload fails with `UploadError` reason `Content` if the stream then yields another number of bytes); it is
 * ignored for kinds whose size is known. Input from JavaScript that is none of the kinds (`null`, a number, a plain
 * object, a detached `ArrayBuffer`), or a `size` that is not a non-negative integer, gives content whose upload
 * fails with `InvalidContentError` before any request; a stream chunk that is not a `Uint8Array` fails the upload
 * at that chunk with `InvalidContentError` (reason `Chunk`), never retried.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (input: Input, options?: { readonly size?: number | undefined }): Content => {
  if (isContent(input)) return internal.isContent(input) ? internal.make(input, options) : input
  return internal.make(input, options)
}

/**
 * Replayable content from a function that makes a fresh stream each time it is called. A factory that throws fails
 * the upload with `UploadError` reason `Content` (with the thrown error's code and message); one that makes none of
 * the streaming kinds, with `InvalidContentError`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromFactory = (
  f: () => Stream.Stream<Uint8Array, unknown> | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
  options?: { readonly size?: number | undefined }
): Content => internal.fromFactory(f, options)

/**
 * Whether a value is `Content` (never throws: a Proxy whose traps throw is not).
 *
 * @since 0.1.0
 * @category guards
 */
export const isContent = (u: unknown): u is Content => {
  try {
    return typeof u === "object" && u !== null && TypeId in u
  } catch {
    return false
  }
}
