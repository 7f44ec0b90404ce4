/**
 * The retry and timeout rules of the library: how a failure is classified, which failures each kind of request
 * retries, how long to wait, and how one attempt is bounded. Each request path (API calls through
 * `CdfClient.request`, the completion call among them; single PUTs and parts in `uploadPut`; token requests of
 * `CdfAuth` client credentials; the GETs of `Files.download`) classifies its failures here and is retried through
 * `Effect.retry` (a download: `Stream.retry`) with a schedule made here, once per client.
 *
 * What a failure is (`FailureKind`):
 * - `throttle`: 429. Never processed, so retried for every request, creates included.
 * - `connect`: a transport error before the request reached the server (refused connection, DNS failure, connect
 *   timeout: `connectCodes` along the error's cause chain). Retried for every request, at most `maxConnectRetries`
 *   times whatever the schedule allows (a wrong base URL fails in seconds, not minutes).
 * - `opaque`: in a browser, a transport error that says nothing (fetch's `TypeError`: a CORS refusal, a refused
 *   connection and a dropped one look the same). It may have been processed, so it is retried as `transient` is,
 *   but counted with connect-phase failures, so at most `maxConnectRetries` times: a page that CORS refuses fails
 *   in seconds, not after the whole schedule. Its messages name CORS as a possible cause (`browser.ts`).
 * - `transient`: may or may not have been processed: 408/500/502/503/504 (`ambiguousStatuses`), any answer with
 *   `cdf-is-auto-retryable` (not `false`), a transport error after the connection was made, an attempt timeout.
 *   Retried only for idempotent requests. Each request says which it is (`retry` of `CdfClient.request`, a
 *   `RetryPolicy`): PUTs, the download's GETs, token requests, `byids`, `list`, `update`, `downloadlink`,
 *   `uploadlink`, `multiuploadlink`, `completemultipartupload` and `Files.delete` are idempotent, and so is a
 *   create with an external id: a repeat that is refused with 409 takes up the record the first attempt made, if
 *   it is provably that one (`fileRecords.createRecord`), and with `overwrite` a repeat replaces it. A create without
 *   one is not, nor is the delete of a cleanup (a repeat of a delete that was done would fail it).
 * - `unauthorized`: a 401 from the API: one token refresh and the request again (`CdfClient`). A 401 or 403 from
 *   storage or from the identity provider is `fatal` (an `UploadError` / `AuthError` at once).
 * - `fatal`: never retried. Also a request the HTTP client refused to send (`refusedCodes`: a header value with a
 *   line break, ...), in the connect phase: nothing reached the server.
 *
 * How long to wait (`makeSchedule`): the base schedule of the client (`apiRetrySchedule`, `transferRetrySchedule`,
 * or the token request's `retrySchedule`) decides how many retries and the backoff; each backoff is capped at
 * `maxRetryDelay`; a `Retry-After` on a 429 or 503 (seconds or an HTTP date, `parseRetryAfter`) raises the wait to
 * it, capped at `maxRetryAfter` (its own setting; by default equal to `maxRetryDelay`, 30 s).
 *
 * Timeouts: `attemptTimeout` bounds one attempt (API 60 s, transfer 600 s by default) and runs the same code under
 * `TestClock` as in production (a deadline on the current `Clock`, one sleeper per clock for all attempts).
 *
 * What lives with its caller, because only that caller uses it:
 * - the stall watchdog of streamed PUTs (`uploadRequest.watchdogOf`), and a download's stall and attempt timeouts
 *   on its stream (`download.ts`);
 * - the overall deadline of a `Files` call (`deadline.ts`);
 * - the default retry schedule of token requests (`auth.ts`: 200 ms growing, jittered, 3 retries);
 * - how long an interrupted create waits for its answer (`fileRecords.createGrace`, 10 s), and the cleanup's delete
 *   (`recordCleanup.deleteCreated`: 10 s an attempt, two retries, 15 s in all);
 * - the poll of `waitUntilAcknowledged` (`filesService.defaultAcknowledgeSchedule`).
 * Each is driven by this module's `makeSchedule`, `attemptTimeout` or a `Schedule` of its own, never a loop.
 *
 * The success path stays cheap: `retrying` makes no schedule driver, no fiber and no span event unless an attempt
 * failed with a retryable failure.
 *
 * Over 450 lines for a reason: issue 10 asked for the retry and timeout policy in one module (the classification,
 * the schedules, the attempt timeout). Split, those rules would again be in several places, which is the defect this
 * module fixed.
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import { Clock, Duration, Effect, Fiber, FiberId, Runtime, Schedule, type Tracer } from "effect"
import { inBrowser } from "./browser.js"

/** @internal */
export type FailureKind = "throttle" | "connect" | "opaque" | "transient" | "unauthorized" | "fatal"

/** What a schedule made by `makeSchedule` reads from a failure. @internal */
export interface Classified {
  readonly kind: FailureKind
  /** The wait asked for by `Retry-After` (429 and 503 only), in milliseconds. */
  readonly retryAfterMillis: number | undefined
}

/** Statuses whose request may or may not have been processed: retried for idempotent requests only. @internal */
export const ambiguousStatuses: ReadonlySet<number> = new Set([408, 500, 502, 503, 504])

/** Every retryable status: the ambiguous ones and 429 (never processed). @internal */
export const retryableStatuses: ReadonlySet<number> = new Set([429, ...ambiguousStatuses])

/** Node/undici error codes meaning the request never reached the server. @internal */
export const connectCodes: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_NONAME",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENETDOWN",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_CONNECT"
])

/**
 * Error codes of a request the HTTP client refused to send (a header value with a line break, a malformed method or
 * URL): nothing reached the server, and sending it again would be refused again. Such a failure is `fatal`, in the
 * connect phase.
 *
 * @internal
 */
export const refusedCodes: ReadonlySet<string> = new Set([
  "UND_ERR_INVALID_ARG",
  "ERR_INVALID_CHAR",
  "ERR_INVALID_HTTP_TOKEN",
  "ERR_HTTP_INVALID_HEADER_VALUE",
  "ERR_INVALID_URL"
])

/** How many times a request is retried after connect-phase failures, whatever its schedule allows. @internal */
export const maxConnectRetries = 3

const codeOf = (u: unknown): string | undefined => {
  if (typeof u !== "object" || u === null || !("code" in u)) return undefined
  return typeof u.code === "string" ? u.code : undefined
}

/** The error codes found along a platform error's cause chain (AggregateError members included). @internal */
export const errorCodes = (cause: unknown): ReadonlyArray<string> => {
  const codes: Array<string> = []
  const seen = new Set<unknown>()
  const visit = (u: unknown, depth: number) => {
    if (depth > 6 || typeof u !== "object" || u === null || seen.has(u)) return
    seen.add(u)
    const code = codeOf(u)
    if (code !== undefined) codes.push(code)
    if ("errors" in u && Array.isArray(u.errors)) for (const e of u.errors) visit(e, depth + 1)
    if ("cause" in u) visit(u.cause, depth + 1)
  }
  visit(cause, 0)
  return codes
}

/** Whether a transport failure happened before the request reached the server. @internal */
export const transportPhase = (cause: unknown): "connect" | "request" =>
  errorCodes(cause).some((code) => connectCodes.has(code) || refusedCodes.has(code)) ? "connect" : "request"

/**
 * The kind of a transport failure (a platform `RequestError`'s cause): `connect` by its error codes; in a browser,
 * `opaque` when it has none (see `FailureKind`); else `transient`.
 *
 * @internal
 */
export const kindOfTransport = (cause: unknown): FailureKind => {
  const codes = errorCodes(cause)
  if (codes.some((code) => refusedCodes.has(code))) return "fatal"
  if (codes.some((code) => connectCodes.has(code))) return "connect"
  return codes.length === 0 && inBrowser() ? "opaque" : "transient"
}

/** `Retry-After` (seconds or an HTTP date, relative to `now`) in milliseconds; `undefined` when absent or malformed. @internal */
export const parseRetryAfter = (value: string | undefined, now: number): number | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** A header's value when it has exactly one. @internal */
export const header = (headers: Headers.Headers, name: string): string | undefined => {
  const value = headers[name]
  return typeof value === "string" ? value : undefined
}

/**
 * The kind of a non-2xx answer. `from`: `api` (a 401 is `unauthorized`: refresh and retry), `storage` or `token`
 * (a 401 is `fatal`).
 *
 * @internal
 */
export const kindOfStatus = (
  status: number,
  headers: Headers.Headers,
  from: "api" | "storage" | "token"
): FailureKind => {
  if (status === 429) return "throttle"
  if (status === 401 && from === "api") return "unauthorized"
  if (ambiguousStatuses.has(status)) return "transient"
  const autoRetryable = header(headers, "cdf-is-auto-retryable")
  return autoRetryable !== undefined && autoRetryable.toLowerCase() !== "false" ? "transient" : "fatal"
}

/** The `Retry-After` of a 429 or 503 answer, in milliseconds (other statuses: `undefined`). @internal */
export const retryAfterOf = (status: number, headers: Headers.Headers, now: number): number | undefined =>
  status === 429 || status === 503 ? parseRetryAfter(header(headers, "retry-after"), now) : undefined

/** A failed answer, classified. @internal */
export const classifyStatus = (
  status: number,
  headers: Headers.Headers,
  now: number,
  from: "api" | "storage" | "token"
): Classified => ({ kind: kindOfStatus(status, headers, from), retryAfterMillis: retryAfterOf(status, headers, now) })

/**
 * Which failures a request retries: `idempotent` requests retry every retryable failure; `nonIdempotent` ones
 * (creates without an external id) only those that prove the request was not processed (429, connect phase).
 *
 * @internal
 */
export type RetryPolicy = "idempotent" | "nonIdempotent" | "never"

/** @internal */
export const isRetryable = (policy: RetryPolicy, failure: Classified): boolean => {
  switch (policy) {
    case "never":
      return false
    case "nonIdempotent":
      return failure.kind === "throttle" || failure.kind === "connect"
    case "idempotent":
      return failure.kind === "throttle" || failure.kind === "connect" || failure.kind === "opaque" ||
        failure.kind === "transient"
  }
}

/** The caps of every wait. @internal */
export interface Limits {
  /** Caps each backoff delay of the base schedule. */
  readonly maxRetryDelay: Duration.Duration
  /** Caps the wait asked for by `Retry-After`. */
  readonly maxRetryAfter: Duration.Duration
}

/**
 * The retry schedule of a client: `base` (how many retries, backoff) with each delay capped at `maxRetryDelay`,
 * raised to the failure's `Retry-After` capped at `maxRetryAfter`, and stopped after `maxConnectRetries`
 * connect-phase (or opaque) failures. Whole milliseconds: `TestClock` cannot give nanos for fractional instants. Make it once
 * per client; `Effect.retry` makes a fresh driver per use.
 *
 * @internal
 */
export const makeSchedule = (
  base: Schedule.Schedule<unknown, unknown>,
  limits: Limits
): Schedule.Schedule<unknown, Classified> => {
  const maxDelay = Duration.toMillis(limits.maxRetryDelay)
  const maxAfter = Duration.toMillis(limits.maxRetryAfter)
  const isConnect = (failure: Classified): number => failure.kind === "connect" || failure.kind === "opaque" ? 1 : 0
  const connectBound = Schedule.identity<Classified>().pipe(
    // `reduce` outputs the count of the failures before this one; add this one
    Schedule.reduce(0, (before: number, failure: Classified) => before + isConnect(failure)),
    Schedule.intersect(Schedule.identity<Classified>()),
    Schedule.whileOutput(([before, failure]) => before + isConnect(failure) <= maxConnectRetries)
  )
  return Schedule.intersect(base, connectBound).pipe(
    Schedule.modifyDelay(([, [, failure]], delay) => {
      const backoff = Math.min(Duration.toMillis(delay), maxDelay)
      const asked = failure.retryAfterMillis === undefined ? 0 : Math.min(failure.retryAfterMillis, maxAfter)
      return Duration.millis(Math.round(Math.max(backoff, asked)))
    })
  )
}

/**
 * `attempt`, retried through `Effect.retry(schedule)` while `retryable`. The schedule's driver is made only when a
 * first attempt failed with a retryable failure; that failure is given to it first, so delays (`Retry-After`) and
 * the count of retries are what `Effect.retry` alone would give. `onRetry` runs before each retry with the failure
 * of the previous attempt.
 *
 * @internal
 */
export const retrying = <A, F, R>(
  attempt: Effect.Effect<A, F, R>,
  options: {
    readonly schedule: Schedule.Schedule<unknown, F>
    readonly retryable: (failure: F) => boolean
    readonly onRetry: (previous: F) => Effect.Effect<void>
  }
): Effect.Effect<A, F, R> =>
  Effect.catchAll(attempt, (first) => {
    if (!options.retryable(first)) return Effect.fail(first)
    let pending: F | undefined = first
    let last: F = first
    const retried = Effect.suspend(() => Effect.zipRight(options.onRetry(last), attempt)).pipe(
      Effect.tapError((failure) =>
        Effect.sync(() => {
          last = failure
        })
      )
    )
    const again = Effect.suspend(() => {
      const failure = pending
      pending = undefined
      return failure === undefined ? retried : Effect.fail(failure)
    })
    return Effect.retry(again, { schedule: options.schedule, while: options.retryable })
  })

/**
 * An event on `span` (by default the current span), at the time of the current `Clock` (never a secret in
 * `attributes`).
 *
 * @internal
 */
export const spanEvent = (
  name: string,
  attributes: Record<string, unknown>,
  span?: Tracer.Span | undefined
): Effect.Effect<void> => {
  const add = (span: Tracer.Span) =>
    Effect.map(Clock.currentTimeMillis, (now) => span.event(name, BigInt(Math.round(now)) * 1_000_000n, attributes))
  return span === undefined ? Effect.currentSpan.pipe(Effect.flatMap(add), Effect.ignore) : add(span)
}

/**
 * The `cdf.retry` event of a retry: its attempt number (2 for the first retry) and why the previous one failed; on
 * `span`, else the current span.
 *
 * @internal
 */
export const retryEvent = (attempt: number, reason: string, span?: Tracer.Span | undefined): Effect.Effect<void> =>
  spanEvent("cdf.retry", { "cdf.retry.attempt": attempt, "cdf.retry.reason": reason }, span)

/**
 * Bounds one attempt: past `duration` (on the current `Clock`: the live one, or `TestClock`) the work is
 * interrupted and, once its interruption has completed, the effect fails with `onTimeout()`; an interruption of the
 * caller interrupts the work (after `interruptGrace`, if given: see below). The same code runs under every clock: the
 * work runs in a fiber of its own, started at once on the caller's runtime from within the registration of an
 * `Effect.async` (which nothing interrupts, so no uninterruptible region is needed around the start), and the
 * deadline is one entry in the clock's `Deadlines` (one sleeping root fiber per clock for all attempts in flight);
 * whichever ends first settles the attempt and stops the other. A duration past what a timer can hold means no
 * timeout.
 *
 * `interruptGrace`: when the caller is interrupted, the work is first given this long to end by itself (a create
 * request whose answer tells what to delete); its result is dropped, the caller stays interrupted.
 *
 * Why this shape (measured in the small-files run, 2000 x 4 KiB at 16, CPU per file; `packages/bench`):
 * - `Effect.timeoutFail` races two forked fibers and merges the winner's fiber refs back: about 0.1 ms per file
 *   more than a forked work fiber;
 * - a sleep per attempt (a root fiber each) costs about as much again as the work's fork: the deadlines of every
 *   attempt share one sleeper per clock instead;
 * - the sleeper must be interruptible and stopped when no attempt is in flight: a timer left behind keeps the
 *   process alive for the whole timeout (a CLI run ended 60 s after its upload). The test "an attempt that ends
 *   leaves no timer behind" pins that. It is stopped 20 ms after the last attempt ended, not at once: the next
 *   request of a sequence comes within that time and finds it armed (starting and stopping it per attempt added
 *   0.2-0.3 ms to each request of a sequential upload);
 * - the work itself must be a fiber of its own (a fiber can not turn its own interruption into a failure): that
 *   fork is the remaining cost of a timeout.
 *
 * @internal
 */
export const attemptTimeout = <A, E, R, E2>(
  self: Effect.Effect<A, E, R>,
  options: {
    readonly duration: Duration.Duration
    readonly onTimeout: () => E2
    readonly interruptGrace?: Duration.Duration | undefined
  }
): Effect.Effect<A, E | E2, R> =>
  Effect.clockWith((clock) => {
    const millis = Duration.toMillis(options.duration)
    const timed = millis <= maxTimerMillis
    const grace = options.interruptGrace
    if (!timed && grace === undefined) return self
    return Effect.flatMap(Effect.runtime<R>(), (runtime) =>
      Effect.async<A, E | E2>((resume) => {
        // The work starts here, at once, on the caller's runtime (its context, fiber refs and interruptibility): the
        // registration of an `Effect.async` is not interrupted, so no uninterruptible region is needed around the
        // start. It succeeds with its Exit: a failing fiber would be logged as "unhandled" (at Debug).
        const work = Runtime.runFork(runtime)(Effect.exit(self))
        let settled = false
        const deadlines = timed ? deadlinesOf(clock) : undefined
        const deadline = deadlines?.add(millis, () => {
          if (settled) return
          settled = true
          resume(Effect.zipRight(Fiber.interrupt(work), Effect.fail(options.onTimeout())))
        })
        work.addObserver((exit) => {
          if (settled) return
          settled = true
          if (deadline !== undefined) deadlines?.cancel(deadline)
          resume(exit._tag === "Success" ? exit.value : Effect.failCause(exit.cause))
        })
        return Effect.suspend(() => {
          settled = true
          if (deadline !== undefined) deadlines?.cancel(deadline)
          return grace === undefined
            ? Effect.asVoid(Fiber.interrupt(work))
            // (the canceller runs uninterruptibly: the wait must be interruptible for the grace to end it)
            : Effect.interruptible(Fiber.await(work)).pipe(
              Effect.timeoutOption(grace),
              Effect.flatMap((ended) => ended._tag === "None" ? Effect.asVoid(Fiber.interrupt(work)) : Effect.void)
            )
        })
      }))
  })

/** How long an idle deadline sleeper stays armed for the next attempt. */
const idleMillis = 20

/** Timers longer than this are not set (as Effect's own clock does: the duration is infinite). */
const maxTimerMillis = 2 ** 31 - 1

/** One attempt's deadline: `fire` is dropped once it fired or was cancelled. */
interface Deadline {
  readonly at: number
  fire: (() => void) | undefined
}

/**
 * The deadlines of the attempts in flight under one `Clock`, in order, with one root fiber sleeping (the clock's
 * own `sleep`) until the earliest; stopped when none is left.
 */
class Deadlines {
  /** Sorted by `at`; entries before `head` are gone; cancelled entries stay until they reach the head. */
  private queue: Array<Deadline> = []
  private head = 0
  private live = 0
  private sleeper: Fiber.RuntimeFiber<void> | undefined = undefined
  private sleeperAt = Infinity
  /** The pending stop of an idle sleeper (see `cancel`). */
  private idle: ReturnType<typeof setTimeout> | undefined = undefined

  constructor(private readonly clock: Clock.Clock) {}

  add(millis: number, fire: () => void): Deadline {
    if (this.idle !== undefined) {
      clearTimeout(this.idle)
      this.idle = undefined
    }
    const deadline: Deadline = { at: this.clock.unsafeCurrentTimeMillis() + millis, fire }
    const queue = this.queue
    let i = queue.length
    while (i > this.head && queue[i - 1]!.at > deadline.at) i--
    if (i === queue.length) queue.push(deadline)
    else queue.splice(i, 0, deadline)
    this.live++
    if (deadline.at < this.sleeperAt) this.arm(deadline.at)
    return deadline
  }

  cancel(deadline: Deadline): void {
    if (deadline.fire === undefined) return
    deadline.fire = undefined
    this.live--
    if (this.live === 0) {
      this.queue = []
      this.head = 0
      // The sleeper is stopped a moment later, unless an attempt comes first (the next request of a sequence of
      // uploads, in the same few milliseconds): starting and stopping it on every attempt cost 0.2-0.3 ms of
      // latency per request. Only this stop is on a timer of the platform's: it holds the process for `idleMillis`
      // at most, where the sleeper's own timer would hold it for the whole timeout.
      if (this.sleeper !== undefined && this.idle === undefined) {
        this.idle = setTimeout(() => {
          this.idle = undefined
          if (this.live === 0) this.disarm()
        }, idleMillis)
      }
      return
    }
    this.dropGone()
  }

  /** Drops the fired and cancelled entries at the head, and compacts the queue when they are most of it. */
  private dropGone(): void {
    const queue = this.queue
    while (this.head < queue.length && queue[this.head]!.fire === undefined) this.head++
    const waiting = queue.length - this.head
    if (waiting > 4096 && this.live * 4 < waiting) {
      // cancelled entries behind a long-lived one
      this.queue = queue.slice(this.head).filter((deadline) => deadline.fire !== undefined)
      this.head = 0
    } else if (this.head > 1024 && this.head > waiting) {
      this.queue = queue.slice(this.head)
      this.head = 0
    }
  }

  private arm(at: number): void {
    this.disarm()
    const fiber = Effect.runFork(this.clock.sleep(Duration.millis(Math.max(0, at - this.clock.unsafeCurrentTimeMillis()))))
    this.sleeper = fiber
    this.sleeperAt = at
    fiber.addObserver((exit) => {
      if (this.sleeper !== fiber) return
      this.sleeper = undefined
      this.sleeperAt = Infinity
      if (exit._tag === "Success") this.wake()
    })
  }

  private disarm(): void {
    const sleeper = this.sleeper
    if (sleeper === undefined) return
    this.sleeper = undefined
    this.sleeperAt = Infinity
    sleeper.unsafeInterruptAsFork(FiberId.none)
  }

  /** Fires every deadline that has passed, then sleeps until the next one. */
  private wake(): void {
    const now = this.clock.unsafeCurrentTimeMillis()
    const due: Array<() => void> = []
    const queue = this.queue
    while (this.head < queue.length && queue[this.head]!.at <= now) {
      const deadline = queue[this.head++]!
      if (deadline.fire !== undefined) {
        due.push(deadline.fire)
        deadline.fire = undefined
        this.live--
      }
    }
    this.dropGone()
    if (this.live === 0) {
      this.queue = []
      this.head = 0
    } else {
      this.arm(this.queue[this.head]!.at)
    }
    for (const fire of due) fire()
  }
}

const deadlinesByClock = new WeakMap<Clock.Clock, Deadlines>()

const deadlinesOf = (clock: Clock.Clock): Deadlines => {
  let deadlines = deadlinesByClock.get(clock)
  if (deadlines === undefined) {
    deadlines = new Deadlines(clock)
    deadlinesByClock.set(clock, deadlines)
  }
  return deadlines
}
