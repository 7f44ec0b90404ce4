/**
 * Every retry and timeout rule of the library, in one place. Each request path (API calls through
 * `CdfClient.request`, the completion call among them; single PUTs and parts in `transfer`; token requests of
 * `CdfAuth` client credentials) classifies its failures here and is retried through `Effect.retry` with a
 * schedule made here, once per client.
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
 *   Retried only for idempotent requests (GET, PUT, `byids`, `uploadlink`, `multiuploadlink`,
 *   `completemultipartupload`, token requests).
 * - `unauthorized`: a 401 from the API: one token refresh and the request again (`CdfClient`). A 401 or 403 from
 *   storage or from the identity provider is `fatal` (an `UploadError` / `AuthError` at once).
 * - `fatal`: never retried.
 *
 * How long to wait (`makeSchedule`): the base schedule of the client (`apiRetrySchedule`, `transferRetrySchedule`,
 * or the token request's `retrySchedule`) decides how many retries and the backoff; each backoff is capped at
 * `maxRetryDelay`; a `Retry-After` on a 429 or 503 (seconds or an HTTP date, `parseRetryAfter`) raises the wait to
 * it, capped at `maxRetryAfter` (its own setting; by default equal to `maxRetryDelay`, 30 s).
 *
 * Timeouts: `attemptTimeout` bounds one attempt (API 60 s, transfer 600 s by default) and runs the same code under
 * `TestClock` as in production (a forked sleep on the current `Clock`). The stall watchdog of streamed transfers
 * (`uploadBody`) and the overall `deadline` of a `Files` call live with their callers.
 *
 * The success path stays cheap: `retrying` makes no schedule driver, no fiber and no span event unless an attempt
 * failed with a retryable failure.
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import { Clock, Duration, Effect, Fiber, Schedule } from "effect"
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
  errorCodes(cause).some((code) => connectCodes.has(code)) ? "connect" : "request"

/**
 * The kind of a transport failure (a platform `RequestError`'s cause): `connect` by its error codes; in a browser,
 * `opaque` when it has none (see `FailureKind`); else `transient`.
 *
 * @internal
 */
export const kindOfTransport = (cause: unknown): FailureKind => {
  const codes = errorCodes(cause)
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

/** An event on the current span, at the time of the current `Clock` (never a secret in `attributes`). @internal */
export const spanEvent = (name: string, attributes: Record<string, unknown>): Effect.Effect<void> =>
  Effect.currentSpan.pipe(
    Effect.flatMap((span) =>
      Effect.map(
        Clock.currentTimeMillis,
        (now) => span.event(name, BigInt(Math.round(now)) * 1_000_000n, attributes)
      )
    ),
    Effect.ignore
  )

/** The `cdf.retry` event of a retry: its attempt number (2 for the first retry) and why the previous one failed. @internal */
export const retryEvent = (attempt: number, reason: string): Effect.Effect<void> =>
  spanEvent("cdf.retry", { "cdf.retry.attempt": attempt, "cdf.retry.reason": reason })

/**
 * Bounds one attempt: past `duration` (on the current `Clock`: the live one, or `TestClock`) the work is
 * interrupted and, once its interruption has completed, the effect fails with `onTimeout()`; an interruption of the
 * caller interrupts the work. The same code runs under every clock: the work runs in one forked fiber, and the
 * deadline is the clock's own `sleep`, run as a root fiber of its own (`Effect.runFork`: interruptible, with no fiber
 * refs copied from the caller); whichever ends first settles the attempt and stops the other. A duration past what a
 * timer can hold means no timeout.
 *
 * Why this shape (measured in the small-files run, 2000 x 4 KiB at 16, CPU per file; `packages/bench`):
 * - `Effect.timeoutFail` races two forked fibers and merges the winner's fiber refs back: about 0.1 ms per file
 *   more than this;
 * - a sleeper forked with `forkDaemon` inside the `uninterruptibleMask` inherits the mask: it can not be
 *   interrupted, so every finished attempt left its timer behind and kept the process alive for the whole timeout
 *   (a CLI run ended 60 s after its upload). The test "an attempt that ends leaves no timer behind" pins that;
 * - the work itself must be a fiber of its own (a fiber can not turn its own interruption into a failure): that
 *   fork is the remaining cost of a timeout, about 0.05 ms per attempt.
 *
 * @internal
 */
export const attemptTimeout = <A, E, R, E2>(
  self: Effect.Effect<A, E, R>,
  options: { readonly duration: Duration.Duration; readonly onTimeout: () => E2 }
): Effect.Effect<A, E | E2, R> =>
  Effect.clockWith((clock) => {
    if (Duration.toMillis(options.duration) > maxTimerMillis) return self
    return Effect.uninterruptibleMask((restore) =>
      // The work succeeds with its Exit: a failing fiber would be logged as "unhandled" (at Debug).
      Effect.flatMap(Effect.forkDaemon(Effect.exit(restore(self))), (work) =>
        restore(Effect.async<A, E | E2>((resume) => {
          let settled = false
          const timer = Effect.runFork(clock.sleep(options.duration))
          timer.addObserver((exit) => {
            if (settled || exit._tag !== "Success") return
            settled = true
            resume(Effect.zipRight(Fiber.interrupt(work), Effect.fail(options.onTimeout())))
          })
          work.addObserver((exit) => {
            if (settled) return
            settled = true
            timer.unsafeInterruptAsFork(work.id())
            resume(exit._tag === "Success" ? exit.value : Effect.failCause(exit.cause))
          })
          return Effect.suspend(() => {
            settled = true
            timer.unsafeInterruptAsFork(work.id())
            return Effect.asVoid(Fiber.interrupt(work))
          })
        })))
    )
  })

/** Timers longer than this are not set (as Effect's own clock does: the duration is infinite). */
const maxTimerMillis = 2 ** 31 - 1
