/**
 * Progress accounting shared by the parts of one upload, and `Progress.stream`.
 *
 * @internal
 */
import { Clock, Effect, Fiber, Option, Queue, Stream } from "effect"

/** @internal */
export interface Progress {
  readonly sent: number
  readonly acknowledged: number
  readonly total: number | undefined
}

/** @internal */
export type OnProgress = (progress: Progress) => Effect.Effect<void>

/** @internal */
export class Tracker {
  private readonly sentBy = new Map<number, number>()
  private sent = 0
  private acknowledged = 0
  private lastEmit = Number.NEGATIVE_INFINITY
  private lastSent = -1
  private lastAcknowledged = -1

  constructor(
    readonly total: number | undefined,
    private readonly onProgress: OnProgress | undefined,
    private readonly intervalMillis: number
  ) {}

  /** Whether anyone watches: without an observer, the effects of `pulled` and `ack` do nothing. */
  get observed(): boolean {
    return this.onProgress !== undefined
  }

  private snapshot(): Progress {
    return { sent: this.sent, acknowledged: this.acknowledged, total: this.total }
  }

  private maybeEmit(force: boolean): Effect.Effect<void> {
    const onProgress = this.onProgress
    if (onProgress === undefined) return Effect.void
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      if (this.sent === this.lastSent && this.acknowledged === this.lastAcknowledged) return Effect.void
      if (!force && now - this.lastEmit < this.intervalMillis) return Effect.void
      this.lastEmit = now
      this.lastSent = this.sent
      this.lastAcknowledged = this.acknowledged
      // a callback that throws, or gives no Effect, is ignored like one that fails
      const progress = this.snapshot()
      return Effect.suspend(() => onProgress(progress)).pipe(Effect.catchAllCause(() => Effect.void))
    })
  }

  /** `bytes` of `key` (a part, or 0 for a single PUT) have been pulled by the current attempt. */
  pulled(key: number, bytes: number): Effect.Effect<void> {
    const before = this.sentBy.get(key) ?? 0
    if (bytes <= before) return Effect.void
    this.sentBy.set(key, bytes)
    this.sent += bytes - before
    return this.maybeEmit(false)
  }

  /** `key` was confirmed by storage with `bytes` bytes. */
  ack(key: number, bytes: number): Effect.Effect<void> {
    const before = this.sentBy.get(key) ?? 0
    if (bytes > before) {
      this.sentBy.set(key, bytes)
      this.sent += bytes - before
    }
    this.acknowledged += bytes
    return this.maybeEmit(false)
  }

  /** Emits the current value unless it was the last one emitted. */
  get final(): Effect.Effect<void> {
    return this.maybeEmit(true)
  }
}

/** @internal */
export const stream = <A, E, R>(
  upload: (onProgress: OnProgress) => Effect.Effect<A, E, R>
): Stream.Stream<Progress, E, R> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    // `None` marks the end, so that no value is lost to a shutdown
    const queue = yield* Queue.unbounded<Option.Option<Progress>>()
    const run = upload((p) => Queue.offer(queue, Option.some(p))).pipe(
      Effect.ensuring(Queue.offer(queue, Option.none()))
    )
    const fiber = yield* Effect.forkScoped(run)
    return Stream.fromQueue(queue).pipe(
      Stream.takeWhile(Option.isSome),
      Stream.filterMap((value) => value),
      Stream.concat(Stream.fromEffect(Fiber.await(fiber)).pipe(
        Stream.flatMap((exit) => exit._tag === "Success" ? Stream.empty : Stream.failCause(exit.cause))
      ))
    )
  }))
