/**
 * Durable bulk ingestion: `Ingest.sync(source, options)` moves a directory (or a `Stream` of items) into CDF Files
 * as a job that survives `kill -9`: a workflow on `@effect/workflow`, run by `@effect/cluster`'s engine. Rerun it and
 * the job continues; run it again after it finished and it uploads only what changed (the skip rule: the record is
 * `uploaded` and its `sourceModifiedTime` is the file's mtime). The design, what is stored when and the guarantees
 * are in docs/ingest.md.
 *
 * Metrics (Effect `Metric`): `cdf_ingest_files_total` (counter, tag `outcome`: uploaded, skipped, failed),
 * `cdf_ingest_bytes_total` (counter, bytes uploaded), `cdf_ingest_upload_seconds` (histogram of one file's upload).
 *
 * @since 0.1.0
 */
import type { Files } from "@effect-cdf/files"
import type { FileSystem } from "@effect/platform"
import type { SqlClient } from "@effect/sql"
import type { Effect, Layer, Metric, MetricKeyType, MetricState, Stream } from "effect"
import * as Model from "./internal/model.js"
import * as Runtime from "./internal/runtime.js"
import * as internal from "./internal/sync.js"
import * as Walk from "./internal/walk.js"

/**
 * One file to sync from a `Stream` source: `path` relative to the source with `/` separators (the external id is
 * `externalIdPrefix + path`), `file` where its bytes are read on disk, `size` in bytes, `mtime` in epoch
 * milliseconds (sent as `sourceModifiedTime`).
 *
 * @since 0.1.0
 * @category models
 */
export const Item = Model.Item

/**
 * @since 0.1.0
 * @category models
 */
export interface Item extends Model.Item {}

/**
 * What happened to one file: `uploaded`, `skipped` (unchanged in CDF), `failed` (with the error's tag and message),
 * or, in a dry run, `would-upload`; `bytes` is the size of what was (or would be) uploaded, 0 otherwise.
 *
 * The entries of a directory that its walk does not sync are outcomes too, reported before the files, with the
 * reason in `error`: `skipped` for a symbolic link (`SymbolicLinkNotFollowed`: links are never followed) or a FIFO,
 * socket or device (`NotARegularFile`); `failed` for a name that is not valid UTF-8 (`InvalidFileNameError`; its
 * `path` shows each byte that is not as `\xNN`) or an entry that cannot be read (`UnreadableEntryError`). A directory
 * in either case stands for its files, which are not synced.
 *
 * @since 0.1.0
 * @category models
 */
export const FileOutcome = Model.FileOutcome

/**
 * @since 0.1.0
 * @category models
 */
export interface FileOutcome extends Model.FileOutcome {}

/**
 * The last element of a sync's stream: the job id, the run (0 for a dry run), whether this call resumed an
 * interrupted run, the counts over the whole run (files done before an interruption included) and the seconds this
 * call took.
 *
 * @since 0.1.0
 * @category models
 */
export const Summary = Model.Summary

/**
 * @since 0.1.0
 * @category models
 */
export interface Summary extends Model.Summary {}

/**
 * The counts of a run: files uploaded, skipped and failed, and the bytes uploaded.
 *
 * @since 0.1.0
 * @category models
 */
export const Counts = Model.Counts

/**
 * @since 0.1.0
 * @category models
 */
export interface Counts extends Model.Counts {}

/**
 * A job in the state database: its source, prefix and target, its current run and that run's state and counts.
 *
 * @since 0.1.0
 * @category models
 */
export const JobInfo = Model.JobInfo

/**
 * @since 0.1.0
 * @category models
 */
export interface JobInfo extends Model.JobInfo {}

/**
 * A sync could not run: its source cannot be read (`Source`), the state database cannot be used or the job failed
 * as a whole (`State`), or an option is wrong (`Options`, before anything is sent). A file that fails is an outcome,
 * not an error.
 *
 * @since 0.1.0
 * @category errors
 */
export class IngestError extends Model.IngestError {}

/**
 * What a sync reads: a directory walked on Node, or a `Stream` of items whose `name` stands for the source in the
 * job id. The walk takes the directory's regular files (`include`/`exclude`: picomatch globs on the relative POSIX
 * path, dotfiles included; a file must match one include, when any is given, and no exclude). It never follows a
 * symbolic link, to a file or to a directory (so a loop such as `ln -s . loop` is walked once): each link, and each
 * entry it cannot sync, is reported with the reason (see `FileOutcome`).
 *
 * @since 0.1.0
 * @category models
 */
export type Source = Walk.Source

/**
 * A directory source.
 *
 * @since 0.1.0
 * @category constructors
 */
export const directory = (
  root: string,
  options?: { readonly include?: ReadonlyArray<string> | undefined; readonly exclude?: ReadonlyArray<string> | undefined }
): Source => ({ _tag: "Directory", root, include: options?.include, exclude: options?.exclude })

/**
 * A source of items given as a stream; `name` names it in the job id.
 *
 * @since 0.1.0
 * @category constructors
 */
export const items = (name: string, stream: Stream.Stream<Item, IngestError>): Source => ({
  _tag: "Items",
  name,
  items: stream
})

/**
 * The options of a sync:
 * - `externalIdPrefix`: every file's external id is this plus its relative path;
 * - `directory`: the `directory` field of the records (absolute, `/`-separated), plus each file's relative dir;
 * - `checksum`: also compare sha256 (of what was sent, kept in the state) before skipping;
 * - `dryRun`: decide and report without writing (no workflow, no state written);
 * - `concurrency`: files in flight across the job (default 8); `bytesInFlight`: bytes of files in flight (default
 *   256 MiB; a larger file runs beside small files only: docs/ingest.md, "Uploads");
 * - `batchSize`: files per batch workflow and `byids` call (≤ 1000; default 1000, and on runners
 *   (`IngestCluster.submit`) 10 files or more, in a number of batches that fills the engine's shards evenly, so
 *   that the runners get equal shares); `batchConcurrency`:
 *   batches at a time (default 4);
 * - `target`: names the CDF project in the job id (default: `CdfConfig`'s base URL and project).
 *
 * @since 0.1.0
 * @category models
 */
export interface SyncOptions extends internal.SyncOptions {}

/**
 * An element of a sync's stream: a file's outcome, or the summary (last).
 *
 * @since 0.1.0
 * @category models
 */
export type SyncEvent = FileOutcome | Summary

/**
 * The services of an ingest engine (the workflow engine, its SQL database, the job registry of this process).
 *
 * @since 0.1.0
 * @category models
 */
export type Engine = internal.Engine

/**
 * The job id of a source, prefix and target: the same command against the same project is the same job.
 *
 * @since 0.1.0
 * @category jobs
 */
export const jobId: (source: Source, externalIdPrefix: string, target: string) => string = (source, prefix, target) =>
  internal.jobIdOf(Walk.sourceName(source), prefix, target)

/**
 * Syncs `source` into CDF Files: starts a run of the job, or resumes its interrupted run. The stream gives each
 * file's outcome as it is decided in this process (files finished before an interruption are not repeated), then
 * the summary. Interrupting the stream stops the job cleanly; the next `sync` of the same job resumes it.
 *
 * @since 0.1.0
 * @category sync
 */
export const sync: (
  source: Source,
  options: SyncOptions
) => Stream.Stream<SyncEvent, IngestError, Engine | Files.Files | FileSystem.FileSystem> = internal.sync

/**
 * The jobs in the state database, the most recently started first.
 *
 * @since 0.1.0
 * @category jobs
 */
export const jobs: Effect.Effect<Array<JobInfo>, IngestError, SqlClient.SqlClient> = internal.jobs

/**
 * The state database alone (to list jobs): SQLite at `filename`, the ingest tables created if missing.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStateFile: (filename: string) => Layer.Layer<SqlClient.SqlClient, IngestError> =
  internal.layerStateFile

/**
 * The embedded engine: a single-process runner of `@effect/cluster` (`SingleRunner`) with its message storage on
 * SQLite at `filename` (created if missing), and the ingest tables in the same file. One process at a time per file.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSqlite: (
  options: { readonly filename: string }
) => Layer.Layer<Engine, IngestError, Files.Files | FileSystem.FileSystem> = internal.layerSqlite

/**
 * An engine in memory (`WorkflowEngine.layerMemory` and an in-memory SQLite), for tests: nothing survives the
 * process.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<Engine, IngestError, Files.Files | FileSystem.FileSystem> = internal.layerMemory

/**
 * `cdf_ingest_files_total`: files synced, tagged `outcome` (uploaded, skipped, failed).
 *
 * @since 0.1.0
 * @category metrics
 */
export const filesTotal: Metric.Metric.Counter<number> = Runtime.filesTotal

/**
 * `cdf_ingest_bytes_total`: bytes of the files uploaded.
 *
 * @since 0.1.0
 * @category metrics
 */
export const bytesTotal: Metric.Metric.Counter<number> = Runtime.bytesTotal

/**
 * `cdf_ingest_upload_seconds`: the time one file's upload took (boundaries 5 ms × 2ⁿ).
 *
 * @since 0.1.0
 * @category metrics
 */
export const uploadSeconds: Metric.Metric<MetricKeyType.MetricKeyType.Histogram, number, MetricState.MetricState.Histogram> =
  Runtime.uploadSeconds
