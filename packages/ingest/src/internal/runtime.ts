/**
 * What the workflows of this process share and is not durable: where each job's per-file outcomes go (the caller
 * of `sync` reads them), each job's source (read by `Plan`), and each job's limits (files and bytes in flight,
 * across its concurrent batches). A workflow resumed with nothing registered (no caller in this process) gets the
 * default limits and sends its outcomes nowhere.
 *
 * @internal
 */
import { Context, Effect, Layer, Metric, MetricBoundaries } from "effect"
import type { FileOutcome } from "./model.js"
import type { Source } from "./walk.js"

/** @internal */
export interface Limits {
  readonly files: Effect.Semaphore
  readonly bytes: Effect.Semaphore
  readonly bytesBudget: number
}

/** @internal */
export interface JobHandle {
  readonly source: Source
  readonly limits: Limits
  readonly emit: (outcome: FileOutcome) => Effect.Effect<void>
}

/** @internal */
export class IngestRuntime extends Context.Tag("@effect-cdf/ingest/IngestRuntime")<IngestRuntime, {
  readonly jobs: Map<string, JobHandle>
  readonly defaultLimits: Limits
  /** the limits of the jobs this process runs for a caller in another process (a cluster runner), by job key */
  readonly remoteLimits: Map<string, Limits>
  /** who runs the workflows: `local` (embedded engine), or the runner's address on a cluster */
  readonly runner: string
}>() {}

/** @internal */
export const defaultConcurrency = 8
/** @internal */
export const defaultBytesInFlight = 256 * 1024 * 1024

/** @internal */
export const makeLimits = (concurrency: number, bytesInFlight: number): Effect.Effect<Limits> =>
  Effect.map(
    Effect.all([Effect.makeSemaphore(concurrency), Effect.makeSemaphore(bytesInFlight)]),
    ([files, bytes]) => ({ files, bytes, bytesBudget: bytesInFlight })
  )

/** @internal */
export const layerRuntimeOf = (runner: string): Layer.Layer<IngestRuntime> =>
  Layer.effect(
    IngestRuntime,
    Effect.map(makeLimits(defaultConcurrency, defaultBytesInFlight), (defaultLimits) => ({
      jobs: new Map(),
      defaultLimits,
      remoteLimits: new Map(),
      runner
    }))
  )

/** @internal */
export const layerRuntime: Layer.Layer<IngestRuntime> = layerRuntimeOf("local")

/** @internal */
export const jobKey = (jobId: string, run: number) => `${jobId}/${run}`

// -------------------------------------------------------------------------------------------------------------------
// metrics
// -------------------------------------------------------------------------------------------------------------------

/** Files by outcome (tag `outcome`). @internal */
export const filesTotal = Metric.counter("cdf_ingest_files_total", {
  description: "files synced, by outcome (uploaded, skipped, failed)",
  incremental: true
})

/** Bytes of the files uploaded. @internal */
export const bytesTotal = Metric.counter("cdf_ingest_bytes_total", {
  description: "bytes of the files uploaded",
  incremental: true
})

/** The latency of one file's upload, in seconds. @internal */
export const uploadSeconds = Metric.histogram(
  "cdf_ingest_upload_seconds",
  MetricBoundaries.exponential({ start: 0.005, factor: 2, count: 14 }),
  "the time one file's upload took, in seconds"
)

/** Counts one outcome. @internal */
export const countOutcome = (status: FileOutcome["status"], bytes: number) =>
  status === "would-upload"
    ? Effect.void
    : Effect.zipRight(
      Metric.increment(Metric.tagged(filesTotal, "outcome", status)),
      status === "uploaded" ? Metric.incrementBy(bytesTotal, bytes) : Effect.void
    )
