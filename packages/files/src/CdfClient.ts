/**
 * The one place that talks to the CDF API: base URL and project path, `Authorization` from `CdfAuth` (re-read on
 * every attempt), the SDK identification headers, JSON bodies through Schema, decoding of the CDF error envelope and
 * `x-request-id` into typed errors, per-attempt timeouts, retries as a `Schedule` honouring `Retry-After`, and one
 * token refresh-and-retry on a 401.
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
  Clock,
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
import type { TransferSettings } from "./internal/transfer.js"

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
export const maxConnectRetries = 3

/**
 * Which failures a request may retry: `idempotent` (GET, `byids`, `uploadlink`, `multiuploadlink`,
 * `completemultipartupload`): transport errors, attempt timeouts, 408/429/500/502/503/504 and responses with
 * `cdf-is-auto-retryable`; `nonIdempotent` (creates): only 429 and connect-phase failures, where the request was
 * provably not processed; `never`.
 *
 * @since 0.1.0
 * @category models
 */
export type RetryPolicy = Api.RetryPolicy

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
   * `CdfClient {method} {path}` span.
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

const addSpanEvent = (name: string, attributes: Record<string, unknown>) =>
  Effect.currentSpan.pipe(
    Effect.flatMap((span) =>
      Effect.map(
        Clock.currentTimeMillis,
        (now) => span.event(name, BigInt(Math.round(now)) * 1_000_000n, attributes)
      )
    ),
    Effect.ignore
  )

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
    const apiOk = HttpClient.filterStatusOk(api)

    // With the platform tracer off for a request, the platform adds no trace-propagation headers to it either.
    const storage = platform.pipe(HttpClient.withTracerDisabledWhen(() => true))

    const resolveUploadUrl = (url: string): string => {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url
      return `${config.baseUrl}/${url.replace(/^\/+/, "")}`
    }

    const transfers = yield* Effect.makeSemaphore(config.maxConcurrentTransfers)
    const transfer: TransferSettings = {
      singlePutThreshold: config.singlePutThreshold,
      partSize: config.partSize,
      partConcurrency: config.partConcurrency,
      attemptTimeout: config.transferTimeout,
      stallTimeout: config.stallTimeout,
      retrySchedule: config.transferRetrySchedule,
      maxRetryDelay: config.maxRetryDelay,
      checksum: config.checksum,
      transfers,
      bodyMode: config.bodyMode,
      rawStreamBodies
    }

    // Each delay of the schedule raised to the failure's Retry-After, then capped at maxRetryDelay (whole millis:
    // TestClock cannot give nanos for fractional instants).
    const retryAfter = Schedule.identity<Api.Failure>().pipe(
      Schedule.addDelay((failure) => Option.getOrElse(failure.retryAfter, () => Duration.zero))
    )
    // A host that refuses connections (or does not resolve) is given `maxConnectRetries` retries, not the whole
    // schedule: like the Python SDK's connect retries, so a wrong base URL fails in seconds, not minutes.
    const isConnect = (failure: Api.Failure): number => failure.kind === "connect" ? 1 : 0
    const connectBound = Schedule.identity<Api.Failure>().pipe(
      // `reduce` outputs the count of the failures before this one; add this one
      Schedule.reduce(0, (before: number, failure: Api.Failure) => before + isConnect(failure)),
      Schedule.intersect(Schedule.identity<Api.Failure>()),
      Schedule.whileOutput(([before, failure]) => before + isConnect(failure) <= maxConnectRetries)
    )
    const retrySchedule = (base: Schedule.Schedule<unknown, unknown>) =>
      Schedule.intersect(base, retryAfter).pipe(
        Schedule.intersect(connectBound),
        Schedule.modifyDelay((_, delay) =>
          Duration.millis(Math.round(Duration.toMillis(Duration.min(delay, config.maxRetryDelay))))
        )
      )
    const defaultSchedule = retrySchedule(config.apiRetrySchedule)

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

        // State of this run of the request (plain variables: one fiber runs the attempts one after another).
        let attempts = 0
        let lastFailure: Api.Failure | undefined
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
        const attempt = Api.timeoutFail(
          Effect.suspend(() => {
            const n = ++attempts
            const previous = lastFailure
            if (n === 1 || previous === undefined) return send
            const retried = addSpanEvent("cdf.retry", {
              "cdf.retry.attempt": n,
              "cdf.retry.reason": Api.reasonOf(previous)
            })
            return Effect.zipRight(
              options.onRetry === undefined ? retried : Effect.zipRight(retried, options.onRetry(previous.error, n)),
              send
            )
          }),
          { duration: timeout, onTimeout: () => Api.attemptTimeoutFailure(info(), timeout) }
        ).pipe(
          Effect.tapError((failure) =>
            Effect.sync(() => {
              lastFailure = failure
            })
          )
        )

        // The schedule's driver is made only when an attempt failed with a retryable failure; that failure is given
        // to it first, so delays (Retry-After) and the count of retries are what `Effect.retry` alone would give.
        const retryable = (failure: Api.Failure) => Api.isRetryable(options.retry, failure)
        const withRetries = attempt.pipe(
          Effect.catchAll((first) => {
            if (!retryable(first)) return Effect.fail(first)
            const schedule = options.schedule === undefined ? defaultSchedule : retrySchedule(options.schedule)
            let pending: Api.Failure | undefined = first
            const again = Effect.suspend(() => {
              const failure = pending
              pending = undefined
              return failure === undefined ? attempt : Effect.fail(failure)
            })
            return Effect.retry(again, { schedule, while: retryable })
          })
        )

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
                yield* addSpanEvent("cdf.auth.refreshed", { "cdf.retry.reason": "status 401" })
                lastFailure = undefined
                return yield* withRetries
              })
          ),
          Effect.mapError((failure) => failure.error)
        )
      }).pipe((effect) =>
        options.span === false ? effect : Effect.withSpan(
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
