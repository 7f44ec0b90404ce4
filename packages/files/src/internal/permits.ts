/**
 * The code of `Permits` (see `Permits.ts`): a first-in, first-out queue of waiters over a count of free permits.
 * A release hands permits to the waiters at the head of the queue that they satisfy, and wakes nobody else.
 *
 * @internal
 */
import { Effect } from "effect"
import type * as Scope from "effect/Scope"

/** Whether a caller holds its permits: set at the grant, read by the caller's release (which always runs). */
interface Ticket {
  held: boolean
}

interface Waiter {
  readonly n: number
  readonly ticket: Ticket
  readonly resume: (effect: Effect.Effect<void>) => void
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

  /**
   * Takes `n` permits for `ticket`, waiting in line behind everyone already waiting (no barging). The permits are
   * the ticket's from the grant on, even if the fiber is interrupted before it resumes: the caller's `give`, set up
   * before the wait, gives them back.
   */
  private take(n: number, ticket: Ticket): Effect.Effect<void> {
    return Effect.async<void>((resume) => {
      if (this.head === this.queue.length && this.free >= n) {
        this.free -= n
        ticket.held = true
        return resume(Effect.void)
      }
      const waiter: Waiter = { n, ticket, resume, gone: false }
      this.queue.push(waiter)
      return Effect.sync(() => {
        if (!ticket.held) {
          waiter.gone = true
          this.serve()
        }
      })
    })
  }

  private give(n: number, ticket: Ticket): void {
    if (!ticket.held) return
    ticket.held = false
    this.free += n
    this.serve()
  }

  /** Grants the head of the line while it fits. */
  private serve(): void {
    while (this.head < this.queue.length) {
      const waiter = this.queue[this.head]!
      if (!waiter.gone && waiter.n > this.free) break
      this.queue[this.head++] = undefined
      if (!waiter.gone) {
        this.free -= waiter.n
        waiter.ticket.held = true
        waiter.resume(Effect.void)
      }
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head)
      this.head = 0
    }
  }

  /** Takes `n` permits at once when they are free and nobody waits (what `take` would grant without waiting). */
  private takeNow(n: number, ticket: Ticket): boolean {
    if (this.head !== this.queue.length || this.free < n) return false
    this.free -= n
    ticket.held = true
    return true
  }

  /**
   * `self` holding `n` permits. One uninterruptible region: the permits are taken (at once when free, else by a wait
   * that interruption can end), `self` runs interruptibly, and whatever its end, the permits are given back in the
   * same step (no `ensuring`: its own region and the `Exit` it builds cost as much again on every PUT).
   */
  readonly withPermits = (n: number) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.uninterruptibleMask((restore) => {
      const count = this.clamp(n)
      const ticket: Ticket = { held: false }
      const run = this.takeNow(count, ticket) ? restore(self) : Effect.zipRight(restore(this.take(count, ticket)), restore(self))
      return Effect.matchCauseEffect(run, {
        onFailure: (cause) => {
          this.give(count, ticket)
          return Effect.failCause(cause)
        },
        onSuccess: (a) => {
          this.give(count, ticket)
          return Effect.succeed(a)
        }
      })
    })

  readonly withPermitsScoped = (n: number): Effect.Effect<void, never, Scope.Scope> =>
    Effect.suspend(() => {
      const count = this.clamp(n)
      const ticket: Ticket = { held: false }
      return Effect.uninterruptibleMask((restore) =>
        Effect.zipRight(
          Effect.addFinalizer(() => Effect.sync(() => this.give(count, ticket))),
          restore(this.take(count, ticket))
        )
      )
    })

  /** A request for more than the total would wait forever: it takes them all. */
  private clamp(n: number): number {
    return Math.min(Math.max(0, n), this.total)
  }
}
