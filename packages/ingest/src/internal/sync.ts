/**
 * `Ingest.sync`: starts or resumes a run of the job (the engine executes `IngestJob`), streams the per-file
 * outcomes the activities emit in this process, then the summary; `--dry-run` decides without the engine and
 * without a write. Also the engine layers (SQLite file, memory) and the list of jobs.
 *
 * @internal
 */
import { CdfConfig, Files } from "@effect-cdf/files"
import * as ClusterWorkflowEngine from "@effect/cluster/ClusterWorkflowEngine"
import * as SingleRunner from "@effect/cluster/SingleRunner"
import type { FileSystem } from "@effect/platform"
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as WorkflowEngine from "@effect/workflow/WorkflowEngine"
import { Array as Arr, Cause, Clock, Context, Effect, Layer, Mailbox, Option, Stream } from "effect"
import { createHash } from "node:crypto"
import { type FileOutcome, IngestError, type JobInfo, type Summary } from "./model.js"
import {
  countOutcomes,
  defaultBytesInFlight,
  defaultConcurrency,
  IngestRuntime,
  jobKey,
  layerRuntime,
  makeLimits,
  register
} from "./runtime.js"
import * as Store from "./store.js"
import * as Walk from "./walk.js"
import { decideEach, existing } from "./skipRule.js"
import { IngestJob, layerWorkflows, placeOf } from "./workflows.js"

/** @internal */
export interface SyncOptions {
  readonly externalIdPrefix: string
  readonly directory?: string | undefined
  readonly checksum?: boolean | undefined
  readonly dryRun?: boolean | undefined
  readonly concurrency?: number | undefined
  readonly bytesInFlight?: number | undefined
  readonly batchSize?: number | undefined
  readonly batchConcurrency?: number | undefined
  readonly target?: string | undefined
}

/** @internal */
export type SyncEvent = FileOutcome | Summary

/** What `sync` needs of the engine layer. @internal */
export type Engine = WorkflowEngine.WorkflowEngine | SqlClient.SqlClient | IngestRuntime

/** @internal */
export const jobIdOf = (source: string, prefix: string, target: string): string =>
  createHash("sha256").update(JSON.stringify([source, prefix, target])).digest("hex").slice(0, 16)

/** The options, checked (before anything is sent). @internal */
export const checkOptions = (options: SyncOptions) =>
  Effect.gen(function*() {
    const fail = (message: string) => new IngestError({ reason: "Options", message })
    const int = (name: string, value: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER) => {
      const v = value ?? fallback
      return Number.isInteger(v) && v >= 1 && v <= max
        ? Effect.succeed(v)
        : Effect.fail(fail(`${name} must be an integer from 1 to ${max}, got ${v}`))
    }
    if (typeof options.externalIdPrefix !== "string") return yield* fail("externalIdPrefix must be a string")
    if (options.directory !== undefined && !options.directory.startsWith("/")) {
      return yield* fail(`directory must be an absolute unix-style path (starting with /), got ${options.directory}`)
    }
    return {
      concurrency: yield* int("concurrency", options.concurrency, defaultConcurrency),
      bytesInFlight: yield* int("bytesInFlight", options.bytesInFlight, defaultBytesInFlight),
      batchSize: yield* int("batchSize", options.batchSize, 1000, 1000),
      batchConcurrency: yield* int("batchConcurrency", options.batchConcurrency, 4)
    }
  })

/** A directory source as the job's payload carries it (a runner in another process walks it). @internal */
export const sourceSpec = (source: Walk.Source) =>
  source._tag === "Directory"
    ? { root: Walk.sourceName(source), include: [...(source.include ?? [])], exclude: [...(source.exclude ?? [])] }
    : null

/** @internal */
export const targetOf = (options: SyncOptions) =>
  options.target !== undefined
    ? Effect.succeed(options.target)
    : Effect.map(
      Effect.serviceOption(CdfConfig.CdfConfig),
      Option.match({ onNone: () => "default", onSome: (config) => `${config.baseUrl} ${config.project}` })
    )

/** @internal */
export const stateError = (error: { readonly message: string }) =>
  new IngestError({ reason: "State", message: `the state database: ${error.message}` })

/** @internal */
export const sync = (
  source: Walk.Source,
  options: SyncOptions
): Stream.Stream<SyncEvent, IngestError, Engine | Files.Files | FileSystem.FileSystem> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const settings = yield* checkOptions(options)
    const startedAt = yield* Clock.currentTimeMillis
    const target = yield* targetOf(options)
    const name = Walk.sourceName(source)
    const jobId = jobIdOf(name, options.externalIdPrefix, target)
    const directory = options.directory ?? null
    const checksum = options.checksum === true
    yield* Walk.checkSource(source)
    if (options.dryRun === true) {
      return dryRun(source, { jobId, prefix: options.externalIdPrefix, directory, checksum, batchSize: settings.batchSize, startedAt })
    }
    const { resumed, run } = yield* Store.startRun({
      jobId,
      source: name,
      prefix: options.externalIdPrefix,
      target,
      now: startedAt
    }).pipe(Effect.mapError(stateError))
    const mailbox = yield* Mailbox.make<SyncEvent, IngestError>()
    yield* register(jobKey(jobId, run), {
      source,
      limits: yield* makeLimits(settings.concurrency, settings.bytesInFlight),
      emit: (outcomes) => Effect.asVoid(mailbox.offerAll(outcomes))
    })
    yield* IngestJob.execute({
      jobId,
      run,
      prefix: options.externalIdPrefix,
      directory,
      checksum,
      batchSize: settings.batchSize,
      batchConcurrency: settings.batchConcurrency,
      concurrency: settings.concurrency,
      bytesInFlight: settings.bytesInFlight,
      source: sourceSpec(source)
    }).pipe(
      Effect.matchCauseEffect({
        onSuccess: (counts) =>
          Effect.gen(function*() {
            const now = yield* Clock.currentTimeMillis
            yield* mailbox.offer({
              _tag: "Summary",
              jobId,
              run,
              resumed,
              dryRun: false,
              ...counts,
              seconds: (now - startedAt) / 1000
            })
            yield* mailbox.end
          }),
        onFailure: (cause) =>
          Effect.gen(function*() {
            if (Cause.isInterruptedOnly(cause)) return yield* mailbox.failCause(cause as Cause.Cause<never>)
            // the engine stored the failure as the run's result: the next sync starts a new run
            const counts = yield* Store.runCounts(jobId, run).pipe(Effect.orElseSucceed(() => ({ uploaded: 0, skipped: 0, failed: 0, bytes: 0 })))
            yield* Store.finishRun(jobId, run, counts, yield* Clock.currentTimeMillis).pipe(Effect.ignore)
            yield* mailbox.fail(new IngestError({ reason: "State", message: `the job failed: ${Cause.pretty(cause)}` }))
          })
      }),
      Effect.forkScoped
    )
    return Mailbox.toStream(mailbox)
  }))

const dryRun = (
  source: Walk.Source,
  job: {
    readonly jobId: string
    readonly prefix: string
    readonly directory: string | null
    readonly checksum: boolean
    readonly batchSize: number
    readonly startedAt: number
  }
): Stream.Stream<SyncEvent, IngestError, Files.Files | FileSystem.FileSystem | SqlClient.SqlClient> =>
  Stream.unwrap(Effect.gen(function*() {
    const walked = yield* Walk.items(source)
    const seen = new Set<string>()
    const planned = walked.items.flatMap((item) => {
      const place = placeOf(job.prefix, job.directory, item.path)
      if (seen.has(place.externalId)) return []
      seen.add(place.externalId)
      return [{ ...item, ...place }]
    })
    let wouldUpload = 0
    let skipped = 0
    let bytes = 0
    let failed = 0
    // the entries the walk passed over come first, as `Plan` reports them
    const passed = walked.passed.flatMap((entry): Array<FileOutcome> => {
      const { externalId } = placeOf(job.prefix, job.directory, entry.path)
      if (seen.has(externalId)) return []
      seen.add(externalId)
      if (entry.status === "skipped") skipped++
      else failed++
      return [{ _tag: "File", path: entry.path, externalId, status: entry.status, bytes: 0, error: entry.error }]
    })
    const decided = Stream.fromIterable(Arr.chunksOf(planned, job.batchSize)).pipe(
      Stream.mapEffect((batch) =>
        Effect.gen(function*() {
          const { invalid, records: byExternalId } = yield* existing(batch).pipe(
            Effect.mapError((error) =>
              new IngestError({ reason: "Source", message: `cannot ask CDF which files exist: ${error.message}` })
            )
          )
          const refused = new Map(invalid.map(({ error, item }) => [item.externalId, error]))
          const kept = job.checksum
            ? yield* Store.hashes(job.jobId, batch.map((item) => item.externalId)).pipe(Effect.mapError(stateError))
            : new Map<string, { mtime: number; sha256: string }>()
          // a refused item has no record: the rule says upload, and it is reported failed instead
          const decisions = yield* decideEach(batch, byExternalId, kept, job.checksum)
          return decisions.map(({ decision, item }): FileOutcome => {
            const error = refused.get(item.externalId)
            if (error !== undefined) {
              failed++
              return { _tag: "File", path: item.path, externalId: item.externalId, status: "failed", bytes: 0, error }
            }
            if (decision === "skip") skipped++
            else {
              wouldUpload++
              bytes += item.size
            }
            return {
              _tag: "File",
              path: item.path,
              externalId: item.externalId,
              status: decision === "skip" ? "skipped" : "would-upload",
              bytes: decision === "skip" ? 0 : item.size
            }
          })
        })
      )
    )
    const outcomes = Stream.concat(Stream.make(passed), decided).pipe(
      Stream.tap(countOutcomes),
      Stream.flattenIterables
    )
    const summary = Effect.map(Clock.currentTimeMillis, (now): SyncEvent => ({
      _tag: "Summary",
      jobId: job.jobId,
      run: 0,
      resumed: false,
      dryRun: true,
      uploaded: wouldUpload,
      skipped,
      failed,
      bytes,
      seconds: (now - job.startedAt) / 1000
    }))
    return Stream.concat(outcomes, Stream.fromEffect(summary))
  }))

/** @internal */
export const jobs: Effect.Effect<Array<JobInfo>, IngestError, SqlClient.SqlClient> = Store.migrate.pipe(
  Effect.zipRight(Store.jobs),
  Effect.mapError(stateError)
)

/** @internal */
export const layerMigrated = Layer.effectDiscard(Effect.mapError(Store.migrate, stateError))

/**
 * A state file's connection. The client turns on WAL; `synchronous = NORMAL` makes a commit wait for the operating
 * system's cache, not for the disk: a killed process (SIGKILL) loses nothing, while a power loss may lose the last
 * commits, whose files are then sent again under the same external id (`overwrite: true`: never a second record).
 * With the default FULL, every outcome waited for an fsync: 0.30 ms a statement here, against 0.03.
 */
const layerSqliteFile = (filename: string) =>
  Layer.tap(SqliteClient.layer({ filename }), (context) =>
    Context.get(context, SqlClient.SqlClient)`PRAGMA synchronous = NORMAL`)

/** @internal */
export const layerStateFile = (filename: string): Layer.Layer<SqlClient.SqlClient, IngestError> =>
  layerMigrated.pipe(
    Layer.provideMerge(layerSqliteFile(filename)),
    Layer.mapError((error) => error instanceof IngestError ? error : stateError(error))
  )

/** @internal */
export const layerSqlite = (
  options: { readonly filename: string }
): Layer.Layer<Engine, IngestError, Files.Files | FileSystem.FileSystem> =>
  layerWorkflows.pipe(
    Layer.provideMerge(ClusterWorkflowEngine.layer),
    Layer.provideMerge(SingleRunner.layer({
      // a killed process leaves no shard lock to wait for: the state file has one runner at a time
      runnerStorage: "memory",
      shardingConfig: { entityTerminationTimeout: 2000 }
    })),
    Layer.provideMerge(Layer.merge(layerRuntime, layerMigrated)),
    Layer.provideMerge(layerSqliteFile(options.filename)),
    Layer.mapError((error) => error instanceof IngestError ? error : stateError(error))
  )

/** @internal */
export const layerMemory: Layer.Layer<Engine, IngestError, Files.Files | FileSystem.FileSystem> = layerWorkflows.pipe(
  Layer.provideMerge(WorkflowEngine.layerMemory),
  Layer.provideMerge(Layer.merge(layerRuntime, layerMigrated)),
  Layer.provideMerge(SqliteClient.layer({ filename: ":memory:" })),
  Layer.mapError((error) => error instanceof IngestError ? error : stateError(error))
)
