/**
 * The one place that talks to the CDF API: base URL and project path, `Authorization` from `CdfAuth` (re-read on
 * every attempt), the SDK identification headers, JSON bodies through Schema, decoding of the CDF error envelope and
 * `x-request-id` into typed errors, per-attempt timeouts, retries as a `Schedule` honouring `Retry-After`, and one
 * token refresh-and-retry on a 401. The rules of retries and timeouts (what is retried for which request, the
 * caps, the connect-phase bound) are those of `internal/retryPolicy.ts`, shared with transfers and token requests.
 *
 * It also hands out the client for upload URLs (`storage`: no `Authorization`, no `x-cdp-*`/`cdf-version`, no
 * platform tracing) and the transfer settings shared by every upload of the client.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as UrlParams from "@effect/platform/UrlParams"
import {
  Context,
  Duration,
  Effect,
  Layer,
  Option,
  type ParseResult,
  Redacted,
  Schedule,
  Schema
} from "effect"
import * as CdfAuth from "./CdfAuth.js"
import * as CdfConfig from "./CdfConfig.js"
import { type AuthError, type CdfError, CdfDecodeError, RequestInfo } from "./CdfError.js"
import * as Api from "./internal/api.js"
import * as Policy from "./internal/retryPolicy.js"
import { makeTransferSettings, type TransferSettings } from "./internal/transfer.js"

/**
 * The version sent in `x-cdp-sdk`.
 *
 * @since 0.1.0
 * @category constants
 */
export const sdkVersion = "0.1.0"

/**
 * The value of the `x-cdp-sdk` header.
 *
 * @since 0.1.0
 * @category constants
 */
export const sdkHeader = `EffectCdfFiles:${sdkVersion}`

/**
 * How many times a request is retried after connect-phase failures (refused connection, DNS failure, connect
 * timeout), whatever its schedule allows for other failures.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxConnectRetries: number = Policy.maxConnectRetries

/**
 * Which failures a request may retry: `idempotent` (GET, `byids`, `uploadlink`, `multiuploadlink`,
 * `completemultipartupload`): transport errors, attempt timeouts, 408/429/500/502/503/504 and responses with
 * `cdf-is-auto-retryable`; `nonIdempotent` (creates): only 429 and connect-phase failures, where the request was
 * provably not processed; `never`.
 *
 * @since 0.1.0
 * @category models
 */
export type RetryPolicy = Policy.RetryPolicy

/**
 * A JSON body, encoded through a Schema when the request is made.
 *
 * @since 0.1.0
 * @category models
 */
export interface JsonBody {
  readonly encoded: Effect.Effect<unknown, ParseResult.ParseError>
}

/**
 * A JSON body encoded through `schema`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const jsonBody = <A, I>(schema: Schema.Schema<A, I>, value: A): JsonBody => ({
  encoded: Schema.encode(schema)(value)
})

/**
 * A response schema meaning "the body of a 2xx does not matter": it is read and dropped, never parsed (for answers
 * such as `completemultipartupload` and `files/delete`, whose success is the status).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ignoreBody: Schema.Schema<void> = Schema.Void.annotations({ identifier: "IgnoredBody" })

/**
 * One API request.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestOptions<A, I> {
  readonly method: "GET" | "POST"
  /** The path below `/api/v1/projects/{project}/`, e.g. `files/byids`. */
  readonly path: string
  readonly urlParams?: UrlParams.Input | undefined
  readonly body?: JsonBody | undefined
  /** The schema of the 2xx answer (`ignoreBody` to read and drop it). */
  readonly response: Schema.Schema<A, I>
  readonly retry: RetryPolicy
  /** Overrides the attempt timeout of the config (e.g. a short one for best-effort cleanup). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Overrides the retry schedule of the config. */
  readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
  /** Called before each retry with the error of the failed attempt. */
  readonly onRetry?: ((error: CdfError, attempt: number) => Effect.Effect<void>) | undefined
  /**
   * `false`: no span of its own; the request (its `cdf.retry` events, the platform's `http.client` span) is
   * recorded under the caller's current span, for a caller whose span covers exactly this request. Default: a
   * `CdfClient {method} {path}` span when `CdfConfig.traceRequests` is on; otherwise the request is always recorded
   * under the caller's span (its retries as events there).
   */
  readonly span?: false | undefined
}

/**
 * A decoded 2xx answer.
 *
 * @since 0.1.0
 * @category models
 */
export interface Response<A> {
  readonly value: A
  readonly status: number
  readonly requestId: string | undefined
  /** How many attempts it took. */
  readonly attempts: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly config: CdfConfig.Service
  /** `{baseUrl}/api/v1/projects/{project}`. */
  readonly projectUrl: string
  /**
   * The API client with the project URL prepended, `Authorization`, `accept` and identification headers, and the
   * `transformClient` hook of the config; no retries or timeouts (those are in `request`).
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

/**
 * @since 0.1.0
 * @category tags
 */
export class CdfClient extends Context.Tag("@effect-cdf/files/CdfClient")<CdfClient, Service>() {}

/**
 * Whether the platform `HttpClient` sends a web `ReadableStream` given as a raw body (`HttpBody.raw`) itself, with
 * backpressure and the Content-Length it is given. undici does, and `NodeTransport.layer` provides `true`; then a
 * buffer over 1 MiB is handed to it view by view, with no Effect stream in between. Default `false` (e.g.
 * `FetchHttpClient`, which would refuse such a body): the views go as an Effect stream (`HttpBody.stream`). Read
 * when the client is built.
 *
 * @since 0.1.0
 * @category tags
 */
export class RawStreamBodies extends Context.Reference<RawStreamBodies>()(
  "@effect-cdf/files/CdfClient/RawStreamBodies",
  { defaultValue: (): boolean => false }
) {}

/**
 * Builds the client from the config, the auth service and the platform `HttpClient`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, CdfConfig.CdfConfig | CdfAuth.CdfAuth | HttpClient.HttpClient> = Effect.gen(
  function*() {
    const config = yield* CdfConfig.CdfConfig
    const rawStreamBodies = yield* RawStreamBodies
    const auth = yield* CdfAuth.CdfAuth
    const platform = yield* HttpClient.HttpClient
    const projectUrl = `${config.baseUrl}/api/v1/projects/${encodeURIComponent(config.project)}`

    const api = config.transformClient(
      platform.pipe(
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
        Effect.map(auth.token, (token) => HttpClientRequest.bearerToken(request, token))
      )
    )
    // A span per API request (the platform's `http.client`) only when asked: `CdfConfig.traceRequests`.
    const apiOk = HttpClient.filterStatusOk(
      config.traceRequests ? api : api.pipe(HttpClient.withTracerDisabledWhen(() => true))
    )

    // With the platform tracer off for a request, the platform adds no trace-propagation headers to it either.
    const storage = platform.pipe(HttpClient.withTracerDisabledWhen(() => true))

    const resolveUploadUrl = (url: string): string => {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url
      return `${config.baseUrl}/${url.replace(/^\/+/, "")}`
    }

    const transfers = yield* Effect.makeSemaphore(config.maxConcurrentTransfers)
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
          { duration: timeout, onTimeout: () => Api.attemptTimeoutFailure(info(), timeout) }
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

    return CdfClient.of({
      config,
      projectUrl,
      api,
      request,
      storage,
      resolveUploadUrl,
      transfer
    })
  }
)

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<CdfClient, never, CdfConfig.CdfConfig | CdfAuth.CdfAuth | HttpClient.HttpClient> = Layer.effect(
  CdfClient,
  make
)
