/**
 * What the workflows of this process share and is not durable: where each job's per-file outcomes go (the caller
 * of `sync` reads them), each job's source (read by `Plan`), and each job's limits (files and bytes in flight,
 * across its concurrent batches). A workflow resumed with nothing registered (no caller in this process) gets the
 * default limits and sends its outcomes nowhere.
 *
 * @internal
 */
import * as Permits from "@effect-cdf/files/Permits"
import { Context, Deferred, type Duration, Effect, FiberId, Layer, Metric, MetricBoundaries } from "effect"
import type { FileOutcome } from "./model.js"
import type { Source } from "./walk.js"

/** @internal */
export interface Limits {
  /**
   * files in flight (first in, first out: a batch's waiting files cost nothing per release). Each file permit
   * carries `share` bytes of the budget, so a file of up to `share` bytes (most files of a large job) takes no other
   * permit: one permit region a file instead of two.
   */
  readonly files: Permits.Permits
  /** the rest of the budget: a larger file takes its bytes past its share from here (at most all of them) */
  readonly bytes: Permits.Permits
  readonly share: number
}

/** @internal */
export interface JobHandle {
  readonly source: Source
  readonly limits: Limits
  /** reports outcomes already written to the job's state */
  readonly emit: (outcomes: ReadonlyArray<FileOutcome>) => Effect.Effect<void>
}

/** @internal */
export class IngestRuntime extends Context.Tag("@effect-cdf/ingest/IngestRuntime")<IngestRuntime, {
  readonly jobs: Map<string, Deferred.Deferred<JobHandle>>
  readonly defaultLimits: Limits
  /** the limits of the jobs this process runs for a caller in another process (a cluster runner), by job key */
  readonly remoteLimits: Map<string, Limits>
  /** who runs the workflows: `local` (embedded engine), or the runner's address on a cluster */
  readonly runner: string
}>() {}

const slot = (runtime: IngestRuntime["Type"], key: string) => {
  let deferred = runtime.jobs.get(key)
  if (deferred === undefined) {
    deferred = Deferred.unsafeMake<JobHandle>(FiberId.none)
    runtime.jobs.set(key, deferred)
  }
  return deferred
}

/**
 * Registers the caller's handle of a job run (its source, limits and outcome sink) until the scope closes.
 *
 * @internal
 */
export const register = (key: string, handle: JobHandle) =>
  Effect.flatMap(IngestRuntime, (runtime) =>
    Effect.zipRight(
      Deferred.succeed(slot(runtime, key), handle),
      Effect.addFinalizer(() => Effect.sync(() => runtime.jobs.delete(key)))
    ))

/**
 * The handle of a job run. On a restart the engine resumes the run's workflow as soon as it starts, before the
 * caller registers: with the embedded engine the activities wait for the handle, up to `patience`. After that, or
 * at once on a cluster runner (whose callers are in other processes), they get the job's own limits on this
 * process (made once per run from the payload), send their outcomes nowhere, and `source` is none.
 *
 * @internal
 */
export const handle = (
  key: string,
  limits: { readonly concurrency: number; readonly bytesInFlight: number },
  patience: Duration.DurationInput = "30 seconds"
) =>
  Effect.flatMap(IngestRuntime, (runtime) => {
    const detached = Effect.gen(function*() {
      let own = runtime.remoteLimits.get(key)
      if (own === undefined) {
        own = yield* makeLimits(limits.concurrency, limits.bytesInFlight)
        runtime.remoteLimits.set(key, own)
      }
      return { source: undefined, limits: own, emit: () => Effect.void }
    })
    if (runtime.runner !== "local") return detached
    return Deferred.await(slot(runtime, key)).pipe(
      Effect.map((handle): Handle => handle),
      Effect.timeoutTo({ duration: patience, onSuccess: (handle) => Effect.succeed(handle), onTimeout: () => detached }),
      Effect.flatten
    )
  })

/** @internal */
export type Handle = { readonly source: Source | undefined } & Omit<JobHandle, "source">

/** @internal */
export const defaultConcurrency = 8
/** @internal */
export const defaultBytesInFlight = 256 * 1024 * 1024

/** @internal */
export const makeLimits = (concurrency: number, bytesInFlight: number): Effect.Effect<Limits> =>
  Effect.sync(() => {
    // half the budget in shares: the files in flight hold at most `concurrency * share` through their file
    // permits and the rest through `bytes`, so never more than `bytesInFlight` in all
    const share = Math.floor(bytesInFlight / (2 * concurrency))
    return {
      files: Permits.unsafeMake(concurrency),
      bytes: Permits.unsafeMake(bytesInFlight - concurrency * share),
      share
    }
  })

/**
 * `self` holding a file's place in the job's limits: a file permit, and past the permit's share, the file's other
 * bytes (all of `bytes` at most). The files in flight never hold more than the budget in all.
 *
 * @internal
 */
export const withLimits = (limits: Limits, size: number) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
  limits.files.withPermits(1)(size > limits.share ? limits.bytes.withPermits(size - limits.share)(self) : self)

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

/** The files counter of each outcome, tagged once (not per file). */
const filesBy = {
  uploaded: Metric.tagged(filesTotal, "outcome", "uploaded"),
  skipped: Metric.tagged(filesTotal, "outcome", "skipped"),
  failed: Metric.tagged(filesTotal, "outcome", "failed")
} as const

/** Counts outcomes: one update per counter, whatever their number. @internal */
export const countOutcomes = (outcomes: ReadonlyArray<Pick<FileOutcome, "status" | "bytes">>) => {
  let uploaded = 0
  let skipped = 0
  let failed = 0
  let bytes = 0
  for (const outcome of outcomes) {
    if (outcome.status === "uploaded") {
      uploaded++
      bytes += outcome.bytes
    } else if (outcome.status === "skipped") skipped++
    else if (outcome.status === "failed") failed++
  }
  const updates: Array<Effect.Effect<void>> = []
  if (uploaded > 0) updates.push(Metric.incrementBy(filesBy.uploaded, uploaded), Metric.incrementBy(bytesTotal, bytes))
  if (skipped > 0) updates.push(Metric.incrementBy(filesBy.skipped, skipped))
  if (failed > 0) updates.push(Metric.incrementBy(filesBy.failed, failed))
  return updates.length === 0 ? Effect.void : Effect.all(updates, { discard: true })
}
