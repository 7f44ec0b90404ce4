/**
 * The settings of a client's transfers (sizes, concurrency, timeouts, the retry schedule made once by the rules of
 * `retryPolicy`) and the limits of the CDF Files API.
 *
 * @internal
 */
import { Duration, Effect, type Schedule } from "effect"
import { defaults, defaultTransferRetrySchedule } from "./config.js"
import * as Policy from "./retryPolicy.js"
import type { Permits } from "../Permits.js"
import { PermitsImpl } from "./permits.js"

/** @internal */
export const MiB = 1024 * 1024

/** The limits of the CDF Files API (its OpenAPI spec, and the Python SDK's `upload_bytes`). @internal */
export const limits = {
  /** Single-part upload URLs take up to 5000 MB (spec). */
  singlePut: 5_000_000_000,
  /** Every part but the last must be larger than this (spec). */
  minPartSize: 5 * MiB,
  maxPartSize: 4000 * MiB,
  maxParts: 250,
  /** 250 x 4000 MiB. */
  multipart: 250 * 4000 * MiB
} as const

/** What a client's transfer settings are made of (`makeTransferSettings` adds the retry schedule). @internal */
export interface TransferOptions {
  /** Bytes: one PUT up to here, multipart above. */
  readonly singlePutThreshold: number
  /** Default 50 MiB (Python SDK planning, grows to fit 250 parts). */
  readonly partSize: number
  /** Default 3. */
  readonly partConcurrency: number
  /** Per PUT attempt (default 600 s like the Python SDK). */
  readonly attemptTimeout: Duration.Duration
  /** No bytes moving for this long fails the attempt. */
  readonly stallTimeout: Duration.Duration
  /** The base schedule (how many retries, backoff); made into `retry` by the rules of `retryPolicy`. */
  readonly retrySchedule: Schedule.Schedule<unknown, unknown>
  /** Caps each backoff delay. */
  readonly maxRetryDelay: Duration.Duration
  /** Caps the wait asked for by a `Retry-After`. */
  readonly maxRetryAfter: Duration.Duration
  /** sha256 of what was sent. */
  readonly checksum: boolean
  /** Client-wide limit on concurrent PUTs and downloads (created once per CdfClient). */
  readonly transfers: Permits
  /**
   * `stream` (default): bodies are sent as streams with Content-Length (Node clients); `buffer`: every body (a
   * single PUT or a part) is sent from a buffer, for `FetchHttpClient` (browsers, Deno, Bun), which drops
   * Content-Length from streamed bodies.
   */
  readonly bodyMode?: "stream" | "buffer" | undefined
  /**
   * Whether the storage client sends a web `ReadableStream` given as a raw body itself, with backpressure and the
   * Content-Length it is given (undici: `NodeTransport`): then a buffer over 1 MiB is handed over view by view, and a
   * range of a file or a Blob as a web stream read as the client pulls. When false, both go as Effect streams (any
   * client that streams bodies).
   */
  readonly rawStreamBodies?: boolean | undefined
  /** Least time between two progress callbacks (default 100 ms). */
  readonly progressInterval?: Duration.Duration | undefined
}

/** @internal */
export interface TransferSettings extends TransferOptions {
  /** The retry schedule of every PUT and part, made once per client from `retrySchedule` and the caps. */
  readonly retry: Schedule.Schedule<unknown, Policy.Classified>
}

/** The settings of a client's transfers, with their retry schedule made once. @internal */
export const makeTransferSettings = (options: TransferOptions): TransferSettings => ({
  ...options,
  retry: Policy.makeSchedule(options.retrySchedule, options)
})

const defaultProgressInterval = Duration.millis(100)

/** The least time between two progress callbacks, in milliseconds. @internal */
export const progressIntervalOf = (settings: TransferSettings): number =>
  Duration.toMillis(settings.progressInterval ?? defaultProgressInterval)

/**
 * Settings from the production defaults (`CdfConfig.defaults`, `CdfConfig.defaultTransferRetrySchedule`) and
 * `overrides`, with new `Permits` of `transfers` (default `maxConcurrentTransfers`), or the `Permits` given. As in `CdfConfig`,
 * `maxRetryAfter` defaults to `maxRetryDelay`.
 *
 * @internal
 */
export const makeSettings = (
  overrides?:
    & Partial<Omit<TransferOptions, "transfers">>
    & { readonly transfers?: number | Permits }
): Effect.Effect<TransferSettings> =>
  Effect.gen(function*() {
    const transfers = typeof overrides?.transfers === "object"
      ? overrides.transfers
      : new PermitsImpl(overrides?.transfers ?? defaults.maxConcurrentTransfers)
    const maxRetryDelay = overrides?.maxRetryDelay ?? defaults.maxRetryDelay
    return makeTransferSettings({
      singlePutThreshold: defaults.singlePutThreshold,
      partSize: defaults.partSize,
      partConcurrency: defaults.partConcurrency,
      attemptTimeout: defaults.transferTimeout,
      stallTimeout: defaults.stallTimeout,
      retrySchedule: defaultTransferRetrySchedule,
      checksum: false,
      ...overrides,
      maxRetryDelay,
      maxRetryAfter: overrides?.maxRetryAfter ?? maxRetryDelay,
      transfers
    })
  })
