/**
 * Progress of an upload, offered the Effect way: an effectful `onProgress` callback option on every upload call,
 * throttled (at most one call per interval, 100 ms by default, plus the final value), and `stream` to turn it into
 * a `Stream`.
 *
 * @since 0.1.0
 */
import type { Effect, Stream } from "effect"
import * as internal from "./internal/progress.js"

/**
 * - `sent`: bytes handed to the socket (counted as the request body is pulled). Never decreases, across retries
 *   too: a resent range is not counted twice.
 * - `acknowledged`: bytes of single PUTs or parts that storage confirmed (2xx).
 * - `total`: the size, when known.
 *
 * The last value of a successful upload has `sent === acknowledged === total`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Progress extends internal.Progress {}

/**
 * The effectful callback the upload calls with each (throttled) progress value. Its failures cannot fail the upload,
 * and the upload waits for it: keep it quick.
 *
 * @since 0.1.0
 * @category models
 */
export type OnProgress = internal.OnProgress

/**
 * Runs `upload` with an `onProgress` callback and exposes the progress values as a `Stream` that ends when the
 * upload ends, and fails as the upload fails. The upload runs while the stream is consumed: stopping the stream
 * early interrupts the upload.
 *
 * @example
 * ```ts
 * import { Files, Progress } from "@effect-cdf/files"
 * import { Effect, Stream } from "effect"
 *
 * const progress = Progress.stream((onProgress) => Files.uploadBytes(new Uint8Array(1024), { name: "big.bin", onProgress }))
 * const program = progress.pipe(Stream.runForEach((p) => Effect.log(`${p.acknowledged}/${p.total}`)))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const stream: <A, E, R>(
  upload: (onProgress: OnProgress) => Effect.Effect<A, E, R>
) => Stream.Stream<Progress, E, R> = internal.stream
