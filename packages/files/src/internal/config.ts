/**
 * The code of `CdfConfig`: the defaults of every optional setting, the validation of the options, and the names read
 * from the environment.
 *
 * @internal
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { Config, Duration, Effect, Option, Schedule } from "effect"
import { InvalidConfigError } from "../CdfError.js"
import { inBrowser } from "./browser.js"
import { validateServiceUrl } from "./url.js"

/** @internal */
export interface Options {
  /** The API origin, e.g. `https://api.cognitedata.com` (or the emulator's URL). */
  readonly baseUrl: string
  /** The CDF project. */
  readonly project: string
  /** Sent as `x-cdp-app`; default `effect-cdf`. */
  readonly clientName?: string | undefined
  /** Accept plain `http://` to a non-loopback host (e.g. an emulator in a container on another host). */
  readonly allowInsecureHttp?: boolean | undefined
  /** Sent as `cdf-version`; default `20230101`. */
  readonly apiVersion?: string | undefined
  /** Timeout of one API request attempt, up to its whole response; default 60 seconds. */
  readonly apiTimeout?: Duration.DurationInput | undefined
  /** Timeout of one transfer (PUT or part) attempt; default 600 seconds. */
  readonly transferTimeout?: Duration.DurationInput | undefined
  /** A transfer attempt fails when no bytes moved for this long; default 60 seconds. */
  readonly stallTimeout?: Duration.DurationInput | undefined
  /**
   * An overall deadline for one `Files` call, retries and cleanup-free work included; default none. The multipart
   * sessions (which run the caller's code) and `waitUntilAcknowledged` (bounded by its poll schedule) are not under it.
   * Past it, the call still deletes a record it created: a create in flight is given up to 10 s to answer, and the
   * delete up to 15 s, so the call can end that much after its deadline.
   */
  readonly deadline?: Duration.DurationInput | undefined
  /** Retry schedule of API requests; default `defaultApiRetrySchedule`. */
  readonly apiRetrySchedule?: Schedule.Schedule<unknown, unknown> | undefined
  /** Retry schedule of transfers (each PUT or part on its own); default `defaultTransferRetrySchedule`. */
  readonly transferRetrySchedule?: Schedule.Schedule<unknown, unknown> | undefined
  /** Caps each backoff delay of the retry schedules; default 30 seconds. */
  readonly maxRetryDelay?: Duration.DurationInput | undefined
  /**
   * The longest `Retry-After` (of a 429 or 503) honoured: a longer one is waited for only this long; default
   * `maxRetryDelay` (so, unless set, 30 seconds).
   */
  readonly maxRetryAfter?: Duration.DurationInput | undefined
  /** Content up to this many bytes goes in one PUT, larger content in parts; default 100 MiB (above it, parts are faster and retried one by one). */
  readonly singlePutThreshold?: number | undefined
  /** Part size of multipart uploads (grown to fit 250 parts); default 50 MiB. */
  readonly partSize?: number | undefined
  /** Parts of one upload sent at the same time; default 3. */
  readonly partConcurrency?: number | undefined
  /** PUTs (single or part) and download GETs in flight at the same time across the whole client; default 5. */
  readonly maxConcurrentTransfers?: number | undefined
  /** Compute the sha256 of what was sent; default false. */
  readonly checksum?: boolean | undefined
  /**
   * `stream`: transfer bodies are streamed with Content-Length (Node clients; Deno and Bun too); `buffer`: every
   * body (a single PUT or a part) is sent from a buffer, as `FetchHttpClient` in a browser needs (browsers stream a
   * request body only over HTTP/2, and not in every browser). Default: `buffer` in a browser (a `window` and a
   * `document` exist), else `stream`.
   */
  readonly bodyMode?: "stream" | "buffer" | undefined
  /**
   * Traced by default: one span per call (`Files.uploadBytes`, ...) and one per transfer (`effect-cdf.files.put`, a
   * PUT or a part), with retries as `cdf.retry` events on them. `true` adds a span per API request (`Files.create`,
   * `CdfClient {method} {path}` and the platform's `http.client` span) and `Files.transfer` around each transfer:
   * for debugging; each span costs CPU on every upload. Default `false`.
   */
  readonly traceRequests?: boolean | undefined
  /**
   * Send trace-propagation headers (`b3`, `traceparent`) with API requests, so a tracing backend can join the
   * client's spans to the server's: the context of the platform's `http.client` span with `traceRequests`, else of
   * the call's span. Default `false`: the official CDF SDKs send no such headers, and a cluster's CORS allow-list
   * (for a browser app) may refuse them. Never sent to upload URLs or to the identity provider.
   */
  readonly tracePropagation?: boolean | undefined
  /** A hook applied to the API client (not to the client for upload URLs), e.g. to add a header or a log. */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

/** @internal */
export interface Service {
  /** The API origin (and path prefix, if any), validated, without a trailing slash. */
  readonly baseUrl: string
  readonly project: string
  readonly clientName: string
  readonly apiVersion: string
  readonly apiTimeout: Duration.Duration
  readonly transferTimeout: Duration.Duration
  readonly stallTimeout: Duration.Duration
  readonly deadline: Option.Option<Duration.Duration>
  readonly apiRetrySchedule: Schedule.Schedule<unknown, unknown>
  readonly transferRetrySchedule: Schedule.Schedule<unknown, unknown>
  /** Caps each backoff delay. */
  readonly maxRetryDelay: Duration.Duration
  /** Caps the wait asked for by a `Retry-After`. */
  readonly maxRetryAfter: Duration.Duration
  readonly singlePutThreshold: number
  readonly partSize: number
  readonly partConcurrency: number
  readonly maxConcurrentTransfers: number
  readonly checksum: boolean
  readonly bodyMode: "stream" | "buffer"
  readonly traceRequests: boolean
  readonly tracePropagation: boolean
  readonly transformClient: (client: HttpClient.HttpClient) => HttpClient.HttpClient
}

/** @internal */
export const defaultApiRetrySchedule: Schedule.Schedule<unknown, unknown> = Schedule.exponential("500 millis", 2).pipe(
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(8))
)

/** @internal */
export const defaultTransferRetrySchedule: Schedule.Schedule<unknown, unknown> = Schedule.exponential("1 second", 2)
  .pipe(
    Schedule.jittered,
    Schedule.intersect(Schedule.recurs(6))
  )

/** @internal */
export const defaults = {
  clientName: "effect-cdf",
  apiVersion: "20230101",
  apiTimeout: Duration.seconds(60),
  transferTimeout: Duration.seconds(600),
  stallTimeout: Duration.seconds(60),
  maxRetryDelay: Duration.seconds(30),
  maxRetryAfter: Duration.seconds(30),
  singlePutThreshold: 100 * 1024 * 1024,
  partSize: 50 * 1024 * 1024,
  partConcurrency: 3,
  maxConcurrentTransfers: 5
} as const

const positiveInt = (setting: string, value: number | undefined, fallback: number) =>
  value === undefined
    ? Effect.succeed(fallback)
    : Number.isSafeInteger(value) && value > 0
    ? Effect.succeed(value)
    : Effect.fail(setting)

const duration = (
  setting: string,
  value: Duration.DurationInput | undefined,
  fallback: Duration.Duration
): Effect.Effect<Duration.Duration, string> => {
  if (value === undefined) return Effect.succeed(fallback)
  const decoded = Duration.decodeUnknown(value)
  return Option.isSome(decoded) && Duration.greaterThan(decoded.value, Duration.zero)
    ? Effect.succeed(decoded.value)
    : Effect.fail(setting)
}

/** @internal */
export const make = (options: Options): Effect.Effect<Service, InvalidConfigError> =>
  Effect.gen(function*() {
    const baseUrl = yield* validateServiceUrl("baseUrl", options.baseUrl, options.allowInsecureHttp === true)
    const invalid = (setting: string, message: string) => Effect.fail(new InvalidConfigError({ message, setting }))
    const project = options.project.trim()
    if (project === "") return yield* invalid("project", "project must be a CDF project name, not empty")
    if (/[/?#\s]/.test(project)) {
      return yield* invalid("project", "project must be a CDF project name, without spaces, '/', '?' or '#'")
    }
    const settings = yield* Effect.all({
      apiTimeout: duration("apiTimeout", options.apiTimeout, defaults.apiTimeout),
      transferTimeout: duration("transferTimeout", options.transferTimeout, defaults.transferTimeout),
      stallTimeout: duration("stallTimeout", options.stallTimeout, defaults.stallTimeout),
      maxRetryDelay: duration("maxRetryDelay", options.maxRetryDelay, defaults.maxRetryDelay),
      deadline: options.deadline === undefined
        ? Effect.succeed(Option.none<Duration.Duration>())
        : Effect.map(duration("deadline", options.deadline, Duration.zero), Option.some),
      singlePutThreshold: positiveInt("singlePutThreshold", options.singlePutThreshold, defaults.singlePutThreshold),
      partSize: positiveInt("partSize", options.partSize, defaults.partSize),
      partConcurrency: positiveInt("partConcurrency", options.partConcurrency, defaults.partConcurrency),
      maxConcurrentTransfers: positiveInt(
        "maxConcurrentTransfers",
        options.maxConcurrentTransfers,
        defaults.maxConcurrentTransfers
      )
    }).pipe(Effect.catchAll((setting) => invalid(setting, `${setting} must be a positive number or duration`)))
    const maxRetryAfter = yield* duration("maxRetryAfter", options.maxRetryAfter, settings.maxRetryDelay).pipe(
      Effect.catchAll((setting) => invalid(setting, `${setting} must be a positive duration`))
    )
    return {
      baseUrl,
      project,
      clientName: options.clientName ?? defaults.clientName,
      apiVersion: options.apiVersion ?? defaults.apiVersion,
      ...settings,
      maxRetryAfter,
      apiRetrySchedule: options.apiRetrySchedule ?? defaultApiRetrySchedule,
      transferRetrySchedule: options.transferRetrySchedule ?? defaultTransferRetrySchedule,
      checksum: options.checksum ?? false,
      bodyMode: options.bodyMode ?? (inBrowser() ? "buffer" : "stream"),
      traceRequests: options.traceRequests ?? false,
      tracePropagation: options.tracePropagation ?? false,
      transformClient: options.transformClient ?? ((client) => client)
    }
  })

/** @internal */
export const environment: Config.Config<Options> = Config.all({
  baseUrl: Config.string("CDF_URL").pipe(
    Config.orElse(() =>
      Config.string("CDF_CLUSTER").pipe(Config.map((cluster) => `https://${cluster.trim()}.cognitedata.com`))
    )
  ),
  project: Config.string("CDF_PROJECT"),
  clientName: Config.string("CDF_CLIENT_NAME").pipe(Config.option, Config.map(Option.getOrUndefined))
})
