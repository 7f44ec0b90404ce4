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
import { Context, Effect, Layer, Schema } from "effect"
import * as CdfAuth from "./CdfAuth.js"
import * as CdfConfig from "./CdfConfig.js"
import * as internal from "./internal/apiClient.js"
import * as Policy from "./internal/retryPolicy.js"

/**
 * The version sent in `x-cdp-sdk`.
 *
 * @since 0.1.0
 * @category constants
 */
export const sdkVersion: string = internal.sdkVersion

/**
 * The value of the `x-cdp-sdk` header.
 *
 * @since 0.1.0
 * @category constants
 */
export const sdkHeader: string = internal.sdkHeader

/**
 * How many times a request is retried after connect-phase failures (refused connection, DNS failure, connect
 * timeout), whatever its schedule allows for other failures.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxConnectRetries: number = Policy.maxConnectRetries

/**
 * Which failures a request may retry: `idempotent` (reads such as `byids` and `list`, `update`, `delete`,
 * `uploadlink`, `multiuploadlink`, `completemultipartupload`, a create with an external id): transport errors,
 * attempt timeouts, 408/429/500/502/503/504 and responses with `cdf-is-auto-retryable`; `nonIdempotent` (a create
 * without an external id, the delete of a cleanup): only 429 and connect-phase failures, where the request was provably not processed;
 * `never`.
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
export interface JsonBody extends internal.JsonBody {}

/**
 * A JSON body encoded through `schema`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const jsonBody: <A, I>(schema: Schema.Schema<A, I>, value: A) => JsonBody = internal.jsonBody

/**
 * A response schema meaning "the body of a 2xx does not matter": it is read and dropped, never parsed (for answers
 * such as `completemultipartupload` and `files/delete`, whose success is the status).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ignoreBody: Schema.Schema<void> = internal.ignoreBody

/**
 * One API request.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestOptions<A, I> extends internal.RequestOptions<A, I> {}

/**
 * A decoded 2xx answer.
 *
 * @since 0.1.0
 * @category models
 */
export interface Response<A> extends internal.Response<A> {}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service extends internal.Service {}

/**
 * @since 0.1.0
 * @category tags
 */
export class CdfClient extends Context.Tag("@effect-cdf/files/CdfClient")<CdfClient, Service>() {}

/**
 * Whether the platform `HttpClient` sends a web `ReadableStream` given as a raw body (`HttpBody.raw`) itself, with
 * backpressure and the Content-Length it is given. undici does, and `NodeTransport.layer` provides `true`; then a
 * buffer over 1 MiB is handed to it view by view, and a range of a file or a Blob as a web stream that reads when
 * the client pulls, with no Effect stream in between. Default `false` (e.g.
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
export const make: Effect.Effect<Service, never, CdfConfig.CdfConfig | CdfAuth.CdfAuth | HttpClient.HttpClient> = Effect
  .gen(function*() {
    return yield* internal.make({
      config: yield* CdfConfig.CdfConfig,
      auth: yield* CdfAuth.CdfAuth,
      platform: yield* HttpClient.HttpClient,
      rawStreamBodies: yield* RawStreamBodies
    })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<CdfClient, never, CdfConfig.CdfConfig | CdfAuth.CdfAuth | HttpClient.HttpClient> = Layer.effect(
  CdfClient,
  make
)
