/**
 * One failed attempt of a CDF API request, made typed: the error envelope and `x-request-id` decoded into
 * `CdfApiError` / `AuthError`, transport and timeout failures into `CdfTransportError` / `CdfTimeoutError`, each
 * classified by the rules of `retryPolicy` (which also holds the retry and timeout rules themselves).
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Clock, Duration, Effect, Option, Redacted, Schema } from "effect"
import {
  AuthError,
  CdfApiError,
  type CdfError,
  CdfTimeoutError,
  CdfTransportError,
  type RequestInfo
} from "../CdfError.js"
import { corsHint } from "./browser.js"
import { ErrorEnvelope } from "./errorEnvelope.js"
import {
  type Classified,
  classifyStatus,
  errorCodes,
  type FailureKind,
  header,
  kindOfTransport
} from "./retryPolicy.js"

/**
 * A failed attempt of an API request: the typed error, how it may be retried (see `retryPolicy`), the wait its
 * `Retry-After` asked for, and the token a 401 rejected.
 *
 * @internal
 */
export class Failure implements Classified {
  readonly _tag = "Failure"
  constructor(
    readonly error: CdfError,
    readonly kind: FailureKind,
    readonly retryAfterMillis: number | undefined = undefined,
    readonly rejectedToken: Option.Option<Redacted.Redacted<string>> = Option.none()
  ) {}
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
        ? new Failure(error, "unauthorized", undefined, tokenOfRequest(response))
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
    const { kind, retryAfterMillis } = classifyStatus(status, response.headers, now, "api")
    return new Failure(error, kind, retryAfterMillis)
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
  const kind = kindOfTransport(error.cause)
  const codes = errorCodes(error.cause).filter((c) => /^[A-Z_]+$/.test(c))
  const detail = codes.length === 0 ? "" : ` (${codes[0]})`
  return new Failure(
    new CdfTransportError({
      message: kind === "connect"
        ? `Could not connect to ${info.origin}${detail}`
        : kind === "fatal"
        ? `The HTTP client refused to send ${info.method} ${info.path} to ${info.origin}${detail}: nothing was sent`
        : kind === "opaque"
        ? `The request ${info.method} ${info.path} to ${info.origin} failed${corsHint(info.origin)}`
        : `The connection to ${info.origin} failed during ${info.method} ${info.path}${detail}`,
      request: info,
      phase: kind === "connect" || kind === "fatal" ? "connect" : "request"
    }),
    kind
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
