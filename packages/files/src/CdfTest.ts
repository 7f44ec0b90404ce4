/**
 * Helpers for testing code that uses `@effect-cdf/files`: a recorder of spans and log lines (what the library traces
 * and logs, for assertions), and runners that give a Promise-style test runner the typed failure of an Effect rather
 * than a `FiberFailure`. Needs only `effect`: it runs wherever the library does. The `Files` stack on the emulator in
 * memory is in `CdfTestEmulator` (`@effect-cdf/files/CdfTestEmulator`, which needs `@effect-cdf/emulator`).
 *
 * @since 0.1.0
 */
import type { Effect, Either } from "effect"
import * as internal from "./internal/testRecorder.js"

/**
 * An event added to a span (`Effect.annotateCurrentSpan` sets attributes; `span.event(...)` adds events): the library
 * adds `cdf.retry` before each retry of a request, with the attempt and the reason.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedEvent extends internal.RecordedEvent {}

/**
 * A span as the recorder saw it. It is updated while the span runs: `status` is `Started` until the span ends, then
 * `Ended` with the `Exit` of the traced effect.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedSpan extends internal.RecordedSpan {}

/**
 * A log line as the recorder saw it: the level (`"Info"`, `"Warning"`, `"Error"`, `"Debug"`, ...), the message (its
 * parts rendered and joined by spaces), the annotations, and the cause logged with it (rendered by `Cause.pretty`).
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedLog extends internal.RecordedLog {}

/**
 * What `makeRecorder` returns: the spans and log lines recorded so far, and the layer that records them.
 *
 * @since 0.1.0
 * @category models
 */
export interface Recorder extends internal.Recorder {}

/**
 * Makes a recorder: provide its `layer` (or pipe through `provide`) to the effect under test, then assert on `spans`
 * and `logs`, or search `dump()` (e.g. that no token or upload-URL signature was traced or logged).
 *
 * @example
 * const recorder = CdfTest.makeRecorder()
 * await Effect.runPromise(upload.pipe(recorder.provide, Effect.provide(filesLayer)))
 * recorder.spans.find((span) => span.name === "Files.create")?.events // [{ name: "cdf.retry", ... }] after a retry
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeRecorder: () => Recorder = internal.makeRecorder

/**
 * Runs an effect (with every requirement provided) and resolves with its typed failure: for Promise-style test
 * runners, where `Effect.runPromise` would reject with a `FiberFailure` wrapping it. Rejects when the effect
 * succeeds (an `Error` naming the value), and with the defect itself when it dies (an `AbortError` when it is
 * interrupted).
 *
 * @example
 * const error = await CdfTest.runFailure(Files.uploadBytes("again", { name: "a.txt", externalId: "a" }).pipe(Effect.provide(layer)))
 * expect(error).toMatchObject({ _tag: "CdfApiError", status: 409 })
 *
 * @since 0.1.0
 * @category running
 */
export const runFailure: <A, E>(effect: Effect.Effect<A, E>) => Promise<E> = internal.runFailure

/**
 * Runs an effect (with every requirement provided) and resolves with `Either.right(value)` when it succeeds or
 * `Either.left(error)` with its typed failure. Rejects with the defect itself when it dies (an `AbortError` when it
 * is interrupted), never with a `FiberFailure`.
 *
 * @since 0.1.0
 * @category running
 */
export const runEither: <A, E>(effect: Effect.Effect<A, E>) => Promise<Either.Either<A, E>> = internal.runEither

/**
 * `Effect.runPromise` that rejects with the typed error itself (or the defect, or an `AbortError` when interrupted)
 * instead of a `FiberFailure`, as the Promise API (`FilesClient`) does: `await expect(CdfTest.runPromise(effect))
 * .rejects.toMatchObject({ _tag: "CdfApiError" })`.
 *
 * @since 0.1.0
 * @category running
 */
export const runPromise: <A, E>(effect: Effect.Effect<A, E>) => Promise<A> = internal.runPromise
