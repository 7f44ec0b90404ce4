/**
 * The sync job of `Ingest` past one machine: `@effect/cluster` runners sharing one PostgreSQL database, using the
 * engine as it is (its socket runner transport, `SqlMessageStorage` and `SqlRunnerStorage` on `@effect/sql-pg`).
 *
 * - `layerRunner` makes this process a runner: it runs the job and batch workflows of the shards it owns. A job's
 *   batches are separate workflow executions, so they spread over the runners by the hash of their ids; the
 *   shards of a runner that is gone move to the others, and its batches resume there.
 * - `layerClient` and `submit` hand a directory's job to the runners and follow it from the ingest tables; the
 *   job does not depend on the follower.
 *
 * Source paths must be readable at the same path on every runner (a shared filesystem). See docs/cluster.md.
 *
 * @since 0.1.0
 */
import type { Files } from "@effect-cdf/files"
import type { FileSystem } from "@effect/platform"
import type { SqlClient } from "@effect/sql"
import type { Duration, Effect, Layer, Redacted, Stream } from "effect"
import type * as Ingest from "./Ingest.js"
import * as internal from "./internal/cluster.js"
import type { IngestError } from "./internal/model.js"

/**
 * Where a runner is reached by the others (`host`, `port`), and where it listens when that differs (`listenHost`).
 *
 * @since 0.1.0
 * @category models
 */
export interface RunnerOptions {
  /** `postgres://user:password@host:port/database`, the database shared by the runners */
  readonly url: Redacted.Redacted<string>
  readonly host: string
  readonly port: number
  readonly listenHost?: string | undefined
}

/**
 * The services of a runner.
 *
 * @since 0.1.0
 * @category models
 */
export type RunnerEngine = internal.RunnerEngine

/**
 * The services of a client of the runners.
 *
 * @since 0.1.0
 * @category models
 */
export type ClientEngine = internal.ClientEngine

/**
 * This process as a runner of the cluster: `Layer.launch` it to run until interrupted (on SIGTERM its shards are
 * handed back to the others). It uploads with the `Files` it is given, so its CDF settings are its own.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerRunner: (
  options: RunnerOptions
) => Layer.Layer<RunnerEngine, IngestError, Files.Files | FileSystem.FileSystem> = internal.layerRunner

/**
 * Runs beside `layerRunner` for as long as the runner works, and fails with an `IngestError` once the runner has held
 * no shard for `stalledAfter` (default 30 seconds) while its database answers. After a database restart,
 * @effect/cluster 0.60.2 can leave a runner stuck releasing the shards it held: it keeps their locks and reads none
 * of their messages, so the jobs on them stop until its process goes. When this fails, exit the process at once
 * (closing its scope would wait on the stuck release) and let its supervisor start it again: `cdf-files runner`
 * exits with code 75. See docs/cluster.md.
 *
 * @since 0.1.0
 * @category layers
 */
export const watchRunner: (
  options?: { readonly stalledAfter?: Duration.DurationInput | undefined }
) => Effect.Effect<never, IngestError, SqlClient.SqlClient> = internal.watchRunner

/**
 * A client of the runners: submits and follows jobs, runs none.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient: (
  options: { readonly url: Redacted.Redacted<string> }
) => Layer.Layer<ClientEngine, IngestError> = internal.layerClient

/**
 * The cluster's database alone, to list jobs with `Ingest.jobs`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerState: (
  options: { readonly url: Redacted.Redacted<string> }
) => Layer.Layer<SqlClient.SqlClient, IngestError> = internal.layerState

/**
 * Submits the job of a directory to the runners, or attaches to its running run (the same source, prefix and
 * target are the same job: never a second one), and follows it: the outcome of each file as a runner records it,
 * then the summary. The source must be a directory (`Ingest.directory`) at the same path on every runner. It
 * uploads nothing itself; interrupt it or kill its process and the job goes on. `--dryRun` is
 * refused: a dry run needs no runner (use `Ingest.sync`).
 *
 * @since 0.1.0
 * @category sync
 */
export const submit: (
  source: Ingest.Source,
  options: Ingest.SyncOptions & { readonly pollInterval?: Duration.DurationInput | undefined }
) => Stream.Stream<Ingest.SyncEvent, IngestError, ClientEngine | FileSystem.FileSystem> = internal.submit

/**
 * Cancels the running run of a job: the run is marked done with its counts so far, which its batches read before
 * each file (at most once a second, wherever they run) and stop sending; then the engine interrupts the job's
 * workflow. Uploads in flight finish. The next `submit` of the job starts a new run, which skips what was uploaded.
 * `false` when the job has no running run.
 *
 * @since 0.1.0
 * @category jobs
 */
export const cancel: (jobId: string) => Effect.Effect<boolean, IngestError, ClientEngine> = internal.cancel

/**
 * How many files of a run each runner uploaded (by the runner's `host:port`).
 *
 * @since 0.1.0
 * @category jobs
 */
export const runnerCounts: (
  jobId: string,
  run: number
) => Effect.Effect<Array<{ readonly runner: string; readonly files: number }>, IngestError, SqlClient.SqlClient> =
  internal.runnerCounts
