/**
 * The API client's code (`CdfClient.make`): the request pipeline of the CDF API around one platform `HttpClient`:
 * headers and the token on every attempt, JSON bodies, typed errors from the error envelope, per-attempt timeouts and
 * retries (both from `retryPolicy.ts`), one refresh-and-retry on a 401; and the storage client for upload URLs.
 *
 * @internal
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as UrlParams from "@effect/platform/UrlParams"
import { Duration, Effect, Option, type ParseResult, Redacted, type Schedule, Schema } from "effect"
import { identity } from "effect/Function"
import type * as CdfAuth from "../CdfAuth.js"
import type * as CdfConfig from "../CdfConfig.js"
import { AuthError, type CdfError, CdfDecodeError, RequestInfo } from "../CdfError.js"
import * as Api from "./api.js"
import * as Policy from "./retryPolicy.js"
import { PermitsImpl } from "./permits.js"
import { apiTransport, withTracing } from "./tracePropagation.js"
import * as Untraced from "./untracedClient.js"
import { makeTransferSettings, type TransferSettings } from "./transfer.js"

/** @internal */
export interface JsonBody {
  readonly encoded: Effect.Effect<unknown, ParseResult.ParseError>
}

/** @internal */
export interface RequestOptions<A, I> {
  readonly method: "GET" | "POST"
  /** The path below `/api/v1/projects/{project}/`, e.g. `files/byids`. */
  readonly path: string
  readonly urlParams?: UrlParams.Input | undefined
  readonly body?: JsonBody | undefined
  /** The schema of the 2xx answer (`ignoreBody` to read and drop it). */
  readonly response: Schema.Schema<A, I>
  readonly retry: Policy.RetryPolicy
  /** Overrides the attempt timeout of the config (e.g. a short one for best-effort cleanup). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Overrides the retry schedule of the config. */
  readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
  /** Called before each retry with the error of the failed attempt. */
  readonly onRetry?: ((error: CdfError, attempt: number) => Effect.Effect<void>) | undefined
  /**
   * Called with a decoded 2xx answer within the attempt that got it, before the attempt ends: it runs even when the
   * caller is interrupted meanwhile (within `interruptGrace`), e.g. to record what a create made so that it is
   * deleted.
   */
  readonly onAnswer?: ((value: A) => Effect.Effect<void>) | undefined
  /** When the caller is interrupted during an attempt, the attempt is first given this long to answer. */
  readonly interruptGrace?: Duration.Duration | undefined
  /**
   * `false`: no span of its own; the request (its `cdf.retry` events, the platform's `http.client` span) is
   * recorded under the caller's current span, for a caller whose span covers exactly this request. Default: a
   * `CdfClient {method} {path}` span when `CdfConfig.traceRequests` is on; otherwise the request is always recorded
   * under the caller's span (its retries as events there).
   */
  readonly span?: false | undefined
}

/** @internal */
export interface Response<A> {
  readonly value: A
  readonly status: number
  readonly requestId: string | undefined
  /** How many attempts it took. */
  readonly attempts: number
}

/** @internal */
export interface Service {
  readonly config: CdfConfig.Service
  /** `{baseUrl}/api/v1/projects/{project}`. */
  readonly projectUrl: string
  /**
   * The API client: `Authorization`, `accept` and identification headers, and the `transformClient` hook of the
   * config, on absolute URLs (`request` builds them from `projectUrl`); no retries or timeouts (those are in
   * `request`).
   */
  readonly api: HttpClient.HttpClient.With<HttpClientError.HttpClientError | AuthError>
  /** Makes one API request: attempt timeout, typed errors, retries per `retry`, one refresh-and-retry on 401. */
  readonly request: <A, I>(options: RequestOptions<A, I>) => Effect.Effect<Response<A>, CdfError>
  /**
   * The client for upload URLs: the platform client as given, without `Authorization`, `x-cdp-*` or `cdf-version`,
   * with the platform tracer (which records `url.full`, signature included) and trace propagation disabled.
   */
  readonly storage: HttpClient.HttpClient
  /** An upload URL as given by the API, joined to the base URL when it has no origin (Private Link projects). */
  readonly resolveUploadUrl: (url: string) => string
  /** The transfer settings of this client, with its client-wide limit on concurrent transfers. */
  readonly transfer: TransferSettings
}

/** The version sent in `x-cdp-sdk`. @internal */
export const sdkVersion = "0.1.0"

/** The value of the `x-cdp-sdk` header. @internal */
export const sdkHeader = `EffectCdfFiles:${sdkVersion}`

/** A JSON body encoded through `schema` when the request is made. @internal */
export const jsonBody = <A, I>(schema: Schema.Schema<A, I>, value: A): JsonBody => ({
  encoded: Schema.encode(schema)(value)
})

/** A response schema meaning "the body of a 2xx does not matter": read and dropped, never parsed. @internal */
export const ignoreBody: Schema.Schema<void> = Schema.Void.annotations({ identifier: "IgnoredBody" })

/** What the client is made of. @internal */
export interface Parts {
  readonly config: CdfConfig.Service
  readonly auth: CdfAuth.Service
  readonly platform: HttpClient.HttpClient
  readonly rawStreamBodies: boolean
}

/** Tokens found fit for a header, so that a token kept for many requests is checked once. */
const sendableTokens = new WeakSet<Redacted.Redacted<string>>()

/**
 * Whether a token can be sent in an `Authorization` header: no line break, NUL or other control character, nothing
 * beyond Latin-1 (undici refuses to send such a header, and a retry would not change it).
 */
const sendable = (token: Redacted.Redacted<string>): boolean => {
  if (sendableTokens.has(token)) return true
  if (/[^\t\x20-\x7e\x80-\xff]/.test(Redacted.value(token))) return false
  sendableTokens.add(token)
  return true
}

/** The failure of a request whose token cannot be sent (never retried; nothing is sent). */
const unsendableToken = () =>
  new AuthError({
    reason: "TokenRequest",
    message: "the token cannot be sent: it holds a line break or another character an HTTP header cannot hold " +
      "(a token read from a file with a trailing newline?)"
  })

/** Builds the service (`CdfClient.make` gives it its parts from the context). @internal */
export const make = ({ auth, config, platform, rawStreamBodies }: Parts): Effect.Effect<Service> =>
  Effect.gen(function*() {
    const projectUrl = `${config.baseUrl}/api/v1/projects/${encodeURIComponent(config.project)}`

    const api = config.transformClient(
      apiTransport(platform, config).pipe(
        HttpClient.mapRequest((request) =>
          request.pipe(
            HttpClientRequest.acceptJson,
            HttpClientRequest.setHeaders({
              "x-cdp-sdk": sdkHeader,
              "x-cdp-app": config.clientName,
              "cdf-version": config.apiVersion
            })
          )
        )
      )
    ).pipe(
      HttpClient.mapRequestEffect((request) =>
        Effect.flatMap(auth.token, (token) =>
          sendable(token)
            ? Effect.succeed(HttpClientRequest.bearerToken(request, token))
            : Effect.fail(unsendableToken()))
      )
    )
    // A span per API request (the platform's `http.client`) only when asked: `CdfConfig.traceRequests`; trace
    // headers only with `CdfConfig.tracePropagation`.
    const apiOk = HttpClient.filterStatusOk(withTracing(api, config))

    // Untraced: the platform adds no span and no trace-propagation headers to a request to storage.
    const storage = Untraced.untraced(platform)

    const resolveUploadUrl = (url: string): string => {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url
      return `${config.baseUrl}/${url.replace(/^\/+/, "")}`
    }

    const transfers = new PermitsImpl(config.maxConcurrentTransfers)
    const transfer: TransferSettings = makeTransferSettings({
      singlePutThreshold: config.singlePutThreshold,
      partSize: config.partSize,
      partConcurrency: config.partConcurrency,
      attemptTimeout: config.transferTimeout,
      stallTimeout: config.stallTimeout,
      retrySchedule: config.transferRetrySchedule,
      maxRetryDelay: config.maxRetryDelay,
      maxRetryAfter: config.maxRetryAfter,
      checksum: config.checksum,
      transfers,
      bodyMode: config.bodyMode,
      rawStreamBodies
    })

    // Made once per client (each `Effect.retry` makes its own driver from it); an overriding schedule of a request
    // is made into one on use.
    const defaultSchedule = Policy.makeSchedule(config.apiRetrySchedule, config)

    const request = <A, I>(options: RequestOptions<A, I>): Effect.Effect<Response<A>, CdfError> =>
      Effect.gen(function*() {
        const url = `${projectUrl}/${options.path}`
        // Only failures need it: built on first use (URL parsing is a measurable share of a small upload).
        let requestInfo: RequestInfo | undefined
        const info = () => requestInfo ??= RequestInfo.fromUrl(options.method, url)
        const timeout = options.timeout === undefined ? config.apiTimeout : Duration.decode(options.timeout)
        let req = HttpClientRequest.make(options.method)(url)
        if (options.urlParams !== undefined) req = HttpClientRequest.setUrlParams(req, options.urlParams)
        if (options.body !== undefined) {
          // the body was validated before (a failure here is a defect of this library, not of the input)
          const encoded = yield* Effect.orDie(options.body.encoded)
          req = HttpClientRequest.bodyUnsafeJson(req, encoded)
        }
        const decode = (response: HttpClientResponse.HttpClientResponse) =>
          options.response.ast === ignoreBody.ast
            ? Effect.zipRight(Effect.ignore(response.text), Schema.decodeUnknown(options.response)(undefined))
            : HttpClientResponse.schemaBodyJson(options.response)(response)
        const decodeFailure = (
          response: HttpClientResponse.HttpClientResponse,
          error: { readonly _tag: string }
        ): Api.Failure => {
          const requestId = Api.requestIdOf(response.headers)
          return new Api.Failure(
            new CdfDecodeError({
              message: `${options.method} ${info().path} answered ${response.status} with a body that is not what the API specifies${
                error._tag === "ParseError" ? "" : " (not JSON)"
              }`,
              request: info(),
              status: response.status,
              ...(requestId === undefined ? {} : { requestId })
            }),
            "fatal"
          )
        }

        // How many attempts this run of the request made (one fiber runs them one after another).
        let attempts = 0
        const send = apiOk.execute(req).pipe(
          Effect.catchTags({
            RequestError: (error) => Effect.fail(Api.failureOfRequestError(info(), error)),
            ResponseError: (error) => Effect.flatMap(Api.failureOfResponse(info(), error.response), Effect.fail),
            AuthError: (error) => Effect.fail(new Api.Failure(error, "fatal"))
          }),
          Effect.flatMap((response) =>
            decode(response).pipe(
              Effect.mapError((error) => decodeFailure(response, error)),
              options.onAnswer === undefined ? identity : Effect.tap(options.onAnswer),
              Effect.map((value): Response<A> => ({
                value,
                status: response.status,
                requestId: Api.requestIdOf(response.headers),
                attempts
              }))
            )
          )
        )
        const attempt = Policy.attemptTimeout(
          Effect.suspend(() => {
            attempts++
            return send
          }),
          {
            duration: timeout,
            onTimeout: () => Api.attemptTimeoutFailure(info(), timeout),
            interruptGrace: options.interruptGrace
          }
        )
        const retryable = (failure: Api.Failure) => Policy.isRetryable(options.retry, failure)
        const onRetry = (previous: Api.Failure) => {
          const retried = Policy.retryEvent(attempts + 1, Api.reasonOf(previous))
          return options.onRetry === undefined
            ? retried
            : Effect.zipRight(retried, options.onRetry(previous.error, attempts + 1))
        }
        const withRetries = Policy.retrying(attempt, {
          schedule: options.schedule === undefined
            ? defaultSchedule
            : Policy.makeSchedule(options.schedule, config),
          retryable,
          onRetry
        })

        return yield* withRetries.pipe(
          Effect.catchIf(
            (failure) => failure.kind === "unauthorized" && Option.isSome(failure.rejectedToken),
            (failure) =>
              Effect.gen(function*() {
                const rejected = Option.getOrThrow(failure.rejectedToken)
                const fresh = yield* auth.refresh(rejected).pipe(
                  Effect.mapError((error) => new Api.Failure(error, "fatal"))
                )
                if (Redacted.value(fresh) === Redacted.value(rejected)) return yield* Effect.fail(failure)
                yield* Policy.spanEvent("cdf.auth.refreshed", { "cdf.retry.reason": "status 401" })
                return yield* withRetries
              })
          ),
          Effect.mapError((failure) => failure.error)
        )
      }).pipe((effect) =>
        options.span === false || !config.traceRequests ? effect : Effect.withSpan(
          effect,
          `CdfClient ${options.method} ${options.path.replace(/\/\d+$/, "/{id}")}`,
          {
            kind: "client",
            captureStackTrace: false,
            attributes: { "http.request.method": options.method, "cdf.project": config.project }
          }
        )
      )

    return { config, projectUrl, api, request, storage, resolveUploadUrl, transfer }
  })
