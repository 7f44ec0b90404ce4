/**
 * Progress of an upload, offered the Effect way: an effectful `onProgress` callback option on every upload call,
 * throttled (at most one call per interval, 100 ms by default, plus the final value), and `stream` to turn it into
 * a `Stream`.
 *
 * @since 0.1.0
 */
import { Effect, Queue, Stream } from "effect"

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
export interface Progress {
  readonly sent: number
  readonly acknowledged: number
  readonly total: number | undefined
}

/**
 * The effectful callback the upload calls with each (throttled) progress value. Its failures cannot fail the upload,
 * and the upload waits for it: keep it quick.
 *
 * @since 0.1.0
 * @category models
 */
export type OnProgress = (progress: Progress) => Effect.Effect<void>

/**
 * Runs `upload` with an `onProgress` callback and exposes the progress values as a `Stream` that ends when the
 * upload ends; the upload's result (or failure) is the stream's last step: the stream fails as the upload fails.
 *
 * @example
 * ```ts
 * import { Files, Progress } from "@effect-cdf/files"
 * import { Effect, Stream } from "effect"
 *
 * const progress = Progress.stream((onProgress) => Files.uploadBytes(bytes, { name: "big.bin", onProgress }))
 * const program = progress.pipe(Stream.runForEach((p) => Effect.log(`${p.acknowledged}/${p.total}`)))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const stream = <A, E, R>(
  upload: (onProgress: OnProgress) => Effect.Effect<A, E, R>
): Stream.Stream<Progress, E, R> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const queue = yield* Queue.unbounded<Progress>()
    const run = upload((p) => Queue.offer(queue, p)).pipe(
      Effect.ensuring(Queue.shutdown(queue))
    )
    const fiber = yield* Effect.forkScoped(run)
    return Stream.fromQueue(queue).pipe(
      Stream.concat(Stream.fromEffect(fiber.await).pipe(
        Stream.flatMap((exit) => exit._tag === "Success" ? Stream.empty : Stream.failCause(exit.cause))
      ))
    )
  }))
