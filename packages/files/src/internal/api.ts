/**
 * The request pipeline of the CDF API: one attempt (timeout, status classification, error envelope decoding), the
 * retry around it (schedule, `Retry-After`, what may be retried for which request), and the 401 refresh-and-retry.
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Clock, Duration, Effect, Fiber, Option, Redacted, Schema } from "effect"
import {
  AuthError,
  CdfApiError,
  type CdfError,
  CdfTimeoutError,
  CdfTransportError,
  type RequestInfo
} from "../CdfError.js"
import { ErrorEnvelope } from "./errorEnvelope.js"

/**
 * How a failed attempt may be retried:
 * - `throttle`: 429 (never processed): retried for every request;
 * - `connect`: the request never reached the server: retried for every request;
 * - `transient`: may or may not have been processed (5xx, timeouts, request-phase transport): retried only for
 *   idempotent requests;
 * - `unauthorized`: 401, handled by one token refresh-and-retry;
 * - `fatal`: never retried.
 *
 * @internal
 */
export type FailureKind = "throttle" | "connect" | "transient" | "unauthorized" | "fatal"

/** @internal */
export class Failure {
  readonly _tag = "Failure"
  constructor(
    readonly error: CdfError,
    readonly kind: FailureKind,
    readonly retryAfter: Option.Option<Duration.Duration> = Option.none(),
    readonly rejectedToken: Option.Option<Redacted.Redacted<string>> = Option.none()
  ) {}
}

/** @internal */
export const transientStatuses: ReadonlySet<number> = new Set([408, 500, 502, 503, 504])

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

/** `Retry-After` (seconds or an HTTP date) as a duration. @internal */
export const parseRetryAfter = (value: string | undefined, now: number): Option.Option<Duration.Duration> => {
  if (value === undefined) return Option.none()
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Option.some(Duration.millis(Math.round(Number(trimmed) * 1000)))
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? Option.none() : Option.some(Duration.millis(Math.max(0, date - now)))
}

const header = (headers: Headers.Headers, name: string): string | undefined => {
  const value = headers[name]
  return typeof value === "string" ? value : undefined
}

/** @internal */
export const requestIdOf = (headers: Headers.Headers): string | undefined => header(headers, "x-request-id")

const decodeEnvelope = Schema.decodeUnknownOption(Schema.parseJson(ErrorEnvelope))

const describe = (info: RequestInfo, status: number, requestId: string | undefined) =>
  `${status}, ${info.method} ${info.path}${requestId === undefined ? "" : `, x-request-id ${requestId}`}`

const safeText = (text: string) => text.replace(/\s+/g, " ").trim().slice(0, 300)

const tokenOfRequest = (response: HttpClientResponse.HttpClientResponse): Option.Option<Redacted.Redacted<string>> => {
  const value = header(response.request.headers, "authorization")
  return value !== undefined && /^bearer /i.test(value)
    ? Option.some(Redacted.make(value.slice("bearer ".length)))
    : Option.none()
}

/** Turns a non-2xx API answer into a `Failure`, reading (and decoding) its body. @internal */
export const failureOfResponse = (
  info: RequestInfo,
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<Failure> =>
  Effect.gen(function*() {
    const status = response.status
    const requestId = requestIdOf(response.headers)
    const text = yield* response.text.pipe(Effect.orElseSucceed(() => ""))
    const envelope = decodeEnvelope(text)
    const now = yield* Clock.currentTimeMillis
    const message = Option.match(envelope, {
      onNone: () => text === "" ? `HTTP ${status}` : safeText(text),
      onSome: (e) => e.error.message
    })
    const full = `${message} (${describe(info, status, requestId)})`
    const base = { message: full, request: info, status, ...(requestId === undefined ? {} : { requestId }) }
    if (status === 401 || status === 403) {
      const code = Option.map(envelope, (e) => e.error.code)
      const error = new AuthError({
        ...base,
        reason: status === 401 ? "Unauthorized" : "Forbidden",
        ...(Option.isSome(code) ? { code: code.value } : {})
      })
      return status === 401
        ? new Failure(error, "unauthorized", Option.none(), tokenOfRequest(response))
        : new Failure(error, "fatal")
    }
    const error = new CdfApiError({
      ...base,
      code: Option.match(envelope, { onNone: () => status, onSome: (e) => e.error.code }),
      ...Option.match(envelope, {
        onNone: () => ({}),
        onSome: (e) => ({
          ...(e.error.missing === undefined ? {} : { missing: e.error.missing }),
          ...(e.error.duplicated === undefined ? {} : { duplicated: e.error.duplicated })
        })
      })
    })
    const retryAfter = status === 429 || status === 503
      ? parseRetryAfter(header(response.headers, "retry-after"), now)
      : Option.none()
    if (status === 429) return new Failure(error, "throttle", retryAfter)
    const autoRetryable = header(response.headers, "cdf-is-auto-retryable")
    if (transientStatuses.has(status) || (autoRetryable !== undefined && autoRetryable.toLowerCase() !== "false")) {
      return new Failure(error, "transient", retryAfter)
    }
    return new Failure(error, "fatal")
  })

/** Turns a platform transport failure into a `Failure` (never keeping the platform error). @internal */
export const failureOfRequestError = (info: RequestInfo, error: HttpClientError.RequestError): Failure => {
  if (error.reason !== "Transport") {
    return new Failure(
      new CdfTransportError({
        message: `Could not send ${info.method} ${info.path} to ${info.origin} (${error.reason})`,
        request: info,
        phase: "connect"
      }),
      "fatal"
    )
  }
  const phase = transportPhase(error.cause)
  const codes = errorCodes(error.cause).filter((c) => /^[A-Z_]+$/.test(c))
  const detail = codes.length === 0 ? "" : ` (${codes[0]})`
  return new Failure(
    new CdfTransportError({
      message: phase === "connect"
        ? `Could not connect to ${info.origin}${detail}`
        : `The connection to ${info.origin} failed during ${info.method} ${info.path}${detail}`,
      request: info,
      phase
    }),
    phase === "connect" ? "connect" : "transient"
  )
}

/** @internal */
export const attemptTimeoutFailure = (info: RequestInfo, timeout: Duration.Duration): Failure =>
  new Failure(
    new CdfTimeoutError({
      message: `${info.method} ${info.path} at ${info.origin} got no complete answer within ${
        Duration.format(timeout)
      }`,
      request: info,
      kind: "attempt",
      timeoutMillis: Duration.toMillis(timeout)
    }),
    "transient"
  )

/** The clock of Effect's default services (`TestClock` and custom clocks are other instances). */
const liveClock: Clock.Clock = Effect.runSync(Effect.clock)

/** Timers longer than this are not set (as Effect's own clock does: the duration is infinite). */
const maxTimerMillis = 2 ** 31 - 1

/**
 * `Effect.timeoutFail` for an attempt, cheaper on the live clock: `self` runs in one forked fiber, watched by a
 * plain timer, where `Effect.timeoutFail` races two forked fibers (`self` and a sleep) and merges their fiber refs.
 * As with `Effect.timeoutFail`, past `duration` the work is interrupted and, once its interruption has completed,
 * the effect fails with `onTimeout()`; an interruption of the caller interrupts the work. Any other clock (such as
 * `TestClock`) gets `Effect.timeoutFail` itself, so tests drive these timeouts as before.
 *
 * @internal
 */
export const timeoutFail = <A, E, R, E2>(
  self: Effect.Effect<A, E, R>,
  options: { readonly duration: Duration.Duration; readonly onTimeout: () => E2 }
): Effect.Effect<A, E | E2, R> =>
  Effect.clockWith((clock) => {
    if (clock !== liveClock) return Effect.timeoutFail(self, options)
    const millis = Duration.toMillis(options.duration)
    if (millis > maxTimerMillis) return self
    return Effect.uninterruptibleMask((restore) =>
      // The work succeeds with its Exit: a failing fiber would be logged as "unhandled" (at Debug).
      Effect.flatMap(Effect.forkDaemon(Effect.exit(restore(self))), (fiber) =>
        restore(Effect.async<A, E | E2>((resume) => {
          let settled = false
          const handle = setTimeout(() => {
            if (settled) return
            settled = true
            resume(Effect.zipRight(Fiber.interrupt(fiber), Effect.fail(options.onTimeout())))
          }, millis)
          fiber.addObserver((exit) => {
            if (settled) return
            settled = true
            clearTimeout(handle)
            resume(exit._tag === "Success" ? exit.value : Effect.failCause(exit.cause))
          })
          return Effect.suspend(() => {
            settled = true
            clearTimeout(handle)
            return Effect.asVoid(Fiber.interrupt(fiber))
          })
        })))
    )
  })

/**
 * Which failures a request retries: `idempotent` requests retry every retryable failure; `nonIdempotent` ones
 * (creates without an external id) only those that prove the request was not processed (429, connect phase).
 *
 * @internal
 */
export type RetryPolicy = "idempotent" | "nonIdempotent" | "never"

/** @internal */
export const isRetryable = (policy: RetryPolicy, failure: Failure): boolean => {
  switch (policy) {
    case "never":
      return false
    case "nonIdempotent":
      return failure.kind === "throttle" || failure.kind === "connect"
    case "idempotent":
      return failure.kind === "throttle" || failure.kind === "connect" || failure.kind === "transient"
  }
}

/** A short, safe description of a failure for span events. @internal */
export const reasonOf = (failure: Failure): string => {
  const error = failure.error
  switch (error._tag) {
    case "CdfApiError":
    case "AuthError":
      return `status ${error.status ?? "?"}`
    case "CdfTransportError":
      return `transport (${error.phase})`
    case "CdfTimeoutError":
      return `timeout (${error.kind})`
    default:
      return error._tag
  }
}
