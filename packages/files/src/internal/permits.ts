/**
 * The code of `Permits` (see `Permits.ts`): a first-in, first-out queue of waiters over a count of free permits.
 * A release hands permits to the waiters at the head of the queue that they satisfy, and wakes nobody else.
 *
 * @internal
 */
import { Effect } from "effect"
import type * as Scope from "effect/Scope"

interface Waiter {
  readonly n: number
  readonly resume: (effect: Effect.Effect<void>) => void
  /** granted: its permits are taken, and its fiber resumed */
  granted: boolean
  /** interrupted while waiting: skipped when it reaches the head */
  gone: boolean
}

/** @internal */
export class PermitsImpl {
  free: number
  private readonly queue: Array<Waiter | undefined> = []
  private head = 0

  constructor(readonly total: number) {
    this.free = total
  }

  get waiting(): number {
    let count = 0
    for (let i = this.head; i < this.queue.length; i++) if (this.queue[i]?.gone === false) count++
    return count
  }

  /** Takes `n` permits, waiting in line behind everyone already waiting (no barging). */
  readonly take = (n: number): Effect.Effect<void> =>
    Effect.async<void>((resume) => {
      if (this.head === this.queue.length && this.free >= n) {
        this.free -= n
        return resume(Effect.void)
      }
      const waiter: Waiter = { n, resume, granted: false, gone: false }
      this.queue.push(waiter)
      return Effect.sync(() => {
        // interrupted while waiting; a grant that raced the interruption is given back
        if (waiter.granted) this.release(n)
        else {
          waiter.gone = true
          this.serve()
        }
      })
    })

  readonly release = (n: number): void => {
    this.free += n
    this.serve()
  }

  /** Grants the head of the line while it fits. */
  private serve(): void {
    while (this.head < this.queue.length) {
      const waiter = this.queue[this.head]!
      if (!waiter.gone) {
        if (waiter.n > this.free) break
        this.free -= waiter.n
        waiter.granted = true
      }
      this.queue[this.head++] = undefined
      if (waiter.granted) waiter.resume(Effect.void)
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head)
      this.head = 0
    }
  }

  readonly withPermits = (n: number) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.zipRight(
        restore(this.take(this.clamp(n))),
        Effect.ensuring(restore(self), Effect.sync(() => this.release(this.clamp(n))))
      )
    )

  readonly withPermitsScoped = (n: number): Effect.Effect<void, never, Scope.Scope> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.zipRight(
        restore(this.take(this.clamp(n))),
        Effect.asVoid(Effect.addFinalizer(() => Effect.sync(() => this.release(this.clamp(n)))))
      )
    )

  /** A request for more than the total would wait forever: it takes them all. */
  private clamp(n: number): number {
    return Math.min(Math.max(0, n), this.total)
  }
}
