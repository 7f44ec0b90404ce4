/**
 * The same sync job past one machine: runners of `@effect/cluster` (its socket runner transport) whose message,
 * runner and ingest storage is one PostgreSQL database, and a client that submits a job to them and follows it from
 * the ingest tables. No coordinator of our own: the engine places each workflow execution (the job, and each batch)
 * on the runner that owns its shard, and moves the shards of a runner that is gone. See docs/cluster.md.
 *
 * @internal
 */
import * as ClusterMetrics from "@effect/cluster/ClusterMetrics"
import * as ClusterWorkflowEngine from "@effect/cluster/ClusterWorkflowEngine"
import * as RunnerAddress from "@effect/cluster/RunnerAddress"
import type * as ShardingConfig from "@effect/cluster/ShardingConfig"
import type { Files } from "@effect-cdf/files"
import type { FileSystem } from "@effect/platform"
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as SqlClient from "@effect/sql/SqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import type { WorkflowEngine } from "@effect/workflow"
import { Clock, Duration, Effect, Layer, Metric, Option, type Redacted, Ref, Schedule, Stream } from "effect"
import { type FileOutcome, IngestError } from "./model.js"
import { type IngestRuntime, layerRuntimeOf } from "./runtime.js"
import * as Store from "./store.js"
import {
  checkOptions,
  jobIdOf,
  layerMigrated,
  sourceSpec,
  stateError,
  type SyncEvent,
  type SyncOptions,
  targetOf
} from "./sync.js"
import * as Walk from "./walk.js"
import { IngestJob, layerWorkflows } from "./workflows.js"

/**
 * Sharding settings for a small cluster: a runner that is gone is noticed within seconds, not a minute (the
 * defaults are tuned for large clusters: a 1 minute health check, 35 s lock expiry), and a message stored while no
 * runner was listening is picked up within a second.
 *
 * @internal
 */
export const clusterSettings: Partial<ShardingConfig.ShardingConfig["Type"]> = {
  runnerHealthCheckInterval: Duration.seconds(3),
  shardLockRefreshInterval: Duration.seconds(2),
  shardLockExpiration: Duration.seconds(10),
  refreshAssignmentsInterval: Duration.seconds(1),
  entityMessagePollInterval: Duration.seconds(1),
  entityTerminationTimeout: Duration.seconds(5)
}

/** How long a follower waits for the database to come back. */
const followRetry = Schedule.exponential("200 millis", 1.5).pipe(
  Schedule.union(Schedule.spaced("3 seconds")),
  Schedule.upTo("2 minutes")
)

/** @internal */
export interface PostgresOptions {
  readonly url: Redacted.Redacted<string>
}

/** @internal */
export interface RunnerOptions extends PostgresOptions {
  /** the address other runners reach this one at */
  readonly host: string
  readonly port: number
  /** where to listen, when it differs from `host` (e.g. 0.0.0.0 in a container) */
  readonly listenHost?: string | undefined
}

const pg = (options: PostgresOptions) => PgClient.layer({ url: options.url })

/** The key of the advisory lock that start-ups take in turn ("cdf1"). */
const startupLock = 0x63646631

/**
 * Builds `layer` while holding a PostgreSQL advisory lock, so that processes starting at once on a new database
 * create its tables one after the other: the engine's storages and the ingest tables are each created "if not
 * exists", and PostgreSQL refuses a second concurrent CREATE of one table (a unique violation on its catalog). The
 * lock is a session lock on a connection reserved for the start-up only; a process that dies holding it ends that
 * session, and the lock with it.
 */
const oneStartAtATime = <A, E, R>(layer: Layer.Layer<A, E, R>) =>
  Layer.scopedContext(Effect.gen(function*() {
    const scope = yield* Effect.scope
    const sql = yield* SqlClient.SqlClient
    return yield* Effect.scoped(Effect.gen(function*() {
      const connection = yield* sql.reserve
      yield* connection.executeRaw("SELECT pg_advisory_lock($1)", [startupLock])
      return yield* Layer.buildWithScope(layer, scope).pipe(
        Effect.ensuring(Effect.ignore(connection.executeRaw("SELECT pg_advisory_unlock($1)", [startupLock])))
      )
    }))
  }))

const migrated = Layer.effectDiscard(Effect.mapError(Store.migrate, stateError))

/** @internal */
export type RunnerEngine = WorkflowEngine.WorkflowEngine | SqlClient.SqlClient | IngestRuntime

/** A runner: runs the job and batch workflows of the shards it owns. @internal */
export const layerRunner = (
  options: RunnerOptions
): Layer.Layer<RunnerEngine, IngestError, Files.Files | FileSystem.FileSystem> =>
  oneStartAtATime(layerWorkflows.pipe(
    Layer.provideMerge(ClusterWorkflowEngine.layer),
    Layer.provideMerge(NodeClusterSocket.layer({
      storage: "sql",
      shardingConfig: {
        ...clusterSettings,
        runnerAddress: Option.some(RunnerAddress.make(options.host, options.port)),
        runnerListenAddress: options.listenHost === undefined
          ? Option.none()
          : Option.some(RunnerAddress.make(options.listenHost, options.port))
      }
    })),
    Layer.provideMerge(Layer.merge(layerRuntimeOf(`${options.host}:${options.port}`), migrated))
  )).pipe(
    Layer.provideMerge(pg(options)),
    Layer.mapError((error) =>
      error instanceof IngestError
        ? error
        : new IngestError({ reason: "State", message: `the runner could not start: ${String(error)}` })
    )
  )

/**
 * Runs as long as the runner works, and fails once it has held no shard for `stalledAfter` while its database
 * answers. That is a runner the engine will not give work again: @effect/cluster 0.60.2 releases every shard when
 * its lock storage fails (a database restart), and that release waits for the entities of those shards to stop; an
 * entity that waits on another workflow's reply never stops, so the release never ends, and the runner keeps the
 * shards' locks (it refreshes the locks of the shards it is releasing) without reading their messages. The other
 * runners cannot take them over while it lives. Its process must go (its session locks go with its connection)
 * and start again: `cdf-files runner` exits with code 75 for its supervisor to restart it (see docs/cluster.md).
 *
 * @internal
 */
export const watchRunner = (
  options?: { readonly stalledAfter?: Duration.DurationInput | undefined }
): Effect.Effect<never, IngestError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const stalledAfter = Duration.decode(options?.stalledAfter ?? "30 seconds")
    const databaseAnswers = sql`SELECT 1`.pipe(Effect.timeout("2 seconds"), Effect.isSuccess)
    // since when the runner has held no shard with its database answering
    const idleSince = yield* Ref.make<number | undefined>(undefined)
    const check = Effect.gen(function*() {
      const shards = (yield* Metric.value(ClusterMetrics.shards)).value
      const now = yield* Clock.currentTimeMillis
      if (shards > 0n || !(yield* databaseAnswers)) return yield* Ref.set(idleSince, undefined)
      const since = yield* Ref.updateAndGet(idleSince, (since) => since ?? now)
      if (now - since! >= Duration.toMillis(stalledAfter)) {
        return yield* new IngestError({
          reason: "State",
          message: `the runner has held no shard for ${Duration.toSeconds(stalledAfter)} s while its database answers: ` +
            "its engine is stuck releasing the shards it held when the database went away; restart it"
        })
      }
    })
    return yield* Effect.repeat(check, Schedule.spaced("2 seconds")).pipe(Effect.zipRight(Effect.never))
  })

/** @internal */
export type ClientEngine = WorkflowEngine.WorkflowEngine | SqlClient.SqlClient | IngestRuntime

/** A client of the runners: submits jobs and reads the ingest tables; runs nothing. @internal */
export const layerClient = (options: PostgresOptions): Layer.Layer<ClientEngine, IngestError> =>
  oneStartAtATime(ClusterWorkflowEngine.layer.pipe(
    Layer.provideMerge(NodeClusterSocket.layer({ clientOnly: true, storage: "sql", shardingConfig: clusterSettings })),
    // a client runs no workflow: its runtime only makes it a drop-in for the embedded engine's services
    Layer.provideMerge(Layer.merge(migrated, layerRuntimeOf("client")))
  )).pipe(
    Layer.provideMerge(pg(options)),
    Layer.mapError((error) =>
      error instanceof IngestError ? error : stateError({ message: String(error) })
    )
  )

/** The state database of a cluster alone (to list jobs). @internal */
export const layerState = (options: PostgresOptions): Layer.Layer<SqlClient.SqlClient, IngestError> =>
  Layer.provideMerge(oneStartAtATime(layerMigrated), pg(options)).pipe(
    Layer.mapError((error) => error instanceof IngestError ? error : stateError(error))
  )

const toOutcome = (row: Store.DoneRow): FileOutcome => ({
  _tag: "File",
  path: row.path,
  externalId: row.external_id,
  status: row.outcome,
  bytes: row.outcome === "uploaded" ? Number(row.size) : 0,
  ...(row.error_tag === null ? {} : { error: { tag: row.error_tag, message: row.error_message ?? "" } })
})

/**
 * Submits a directory's job to the runners (or attaches to its running run) and follows it: the per-file outcomes
 * as the runners record them, then the summary. The job does not depend on this stream: interrupt it, or kill the
 * process, and the runners go on; the same call again attaches to the same run.
 *
 * @internal
 */
export const submit = (
  source: Walk.Source,
  options: SyncOptions & { readonly pollInterval?: Duration.DurationInput | undefined }
): Stream.Stream<SyncEvent, IngestError, ClientEngine | FileSystem.FileSystem> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    if (source._tag !== "Directory") {
      return yield* new IngestError({
        reason: "Options",
        message: "a cluster syncs a directory its runners can read: a stream of items runs locally (Ingest.sync)"
      })
    }
    const settings = yield* checkOptions(options)
    if (options.dryRun === true) {
      return yield* new IngestError({ reason: "Options", message: "a dry run runs locally: leave out the postgres state" })
    }
    const startedAt = yield* Clock.currentTimeMillis
    const target = yield* targetOf(options)
    const name = Walk.sourceName(source)
    const jobId = jobIdOf(name, options.externalIdPrefix, target)
    yield* Walk.checkSource(source)
    const { resumed, run } = yield* Store.startRun({
      jobId,
      source: name,
      prefix: options.externalIdPrefix,
      target,
      now: startedAt
    }).pipe(Effect.mapError(stateError))
    const payload = {
      jobId,
      run,
      prefix: options.externalIdPrefix,
      directory: options.directory ?? null,
      checksum: options.checksum === true,
      // none given: `Plan` cuts the job into batches of 10 files at least that fill the engine's shards evenly (placement.ts)
      batchSize: options.batchSize === undefined ? 0 : settings.batchSize,
      batchConcurrency: settings.batchConcurrency,
      concurrency: settings.concurrency,
      bytesInFlight: settings.bytesInFlight,
      source: sourceSpec(source)
    }
    const executionId = yield* IngestJob.execute(payload, { discard: true }).pipe(
      Effect.mapError((error) => stateError({ message: `cannot submit the job: ${String(error)}` }))
    )
    const seen = new Set<number>()
    let watermark = -1
    const poll = Effect.gen(function*() {
      // the state first: outcomes read after it include every outcome of a run seen done
      const state = yield* Store.runState(jobId, run)
      const result = state === "done" ? undefined : yield* IngestJob.poll(executionId)
      const rows = yield* Store.outcomes(jobId, run, watermark)
      const fresh = rows.filter((row) => !seen.has(Number(row.seq)))
      for (const row of fresh) seen.add(Number(row.seq))
      // every seq up to the watermark has been seen: the next poll starts above it
      while (seen.has(watermark + 1)) seen.delete(++watermark)
      const failure = result?._tag === "Complete" && result.exit._tag === "Failure" ? result.exit.cause : undefined
      return { outcomes: fresh.map(toOutcome), done: state === "done" || result?._tag === "Complete", failure }
    }).pipe(
      // a query on a connection the database dropped without a word would wait for ever: a poll that does not
      // answer in time is a failed poll, retried below
      Effect.timeoutFail({ duration: "15 seconds", onTimeout: () => ({ message: "the database did not answer within 15 s" }) }),
      // the engine's storage reports a lost database as a defect: the follower treats it as the failure it is
      Effect.catchAllDefect((defect) => Effect.fail({ message: String(defect) })),
      // the database may be away for a while (a restart, a failover): the job goes on, the follower waits for it
      Effect.retry(followRetry),
      Effect.mapError(stateError),
      Effect.flatMap((step) =>
        step.failure === undefined
          ? Effect.succeed(step)
          : new IngestError({ reason: "State", message: `the job failed on a runner: ${String(step.failure)}` })
      )
    )
    const summary = Effect.gen(function*() {
      const counts = yield* Store.runCounts(jobId, run).pipe(Effect.mapError(stateError))
      const now = yield* Clock.currentTimeMillis
      return { _tag: "Summary", jobId, run, resumed, dryRun: false, ...counts, seconds: (now - startedAt) / 1000 } as const
    })
    const follow = Stream.repeatEffectWithSchedule(poll, Schedule.spaced(options.pollInterval ?? "250 millis")).pipe(
      Stream.takeUntil((step) => step.done),
      Stream.mapConcat((step) => step.outcomes)
    )
    return Stream.concat(follow, Stream.fromEffect(summary))
  }))

/**
 * Cancels the running run of a job: the run is marked done with the counts so far, which every batch reads before
 * each file (at most once a second) and stops sending, wherever it runs; then the engine interrupts the job's
 * workflow execution. The next `submit` starts a new run, which skips what was
 * uploaded. A job with no running run is left alone (`false`).
 *
 * @internal
 */
export const cancel = (jobId: string): Effect.Effect<boolean, IngestError, ClientEngine> =>
  Effect.gen(function*() {
    const job = (yield* Store.jobs).find((info) => info.jobId === jobId)
    if (job === undefined || job.state !== "running") return false
    // the execution id depends only on the idempotency key (job id and run): the rest of the payload is not read
    const executionId = yield* IngestJob.executionId({
      jobId,
      run: job.run,
      prefix: job.prefix,
      directory: null,
      checksum: false,
      batchSize: 1,
      batchConcurrency: 1,
      concurrency: 1,
      bytesInFlight: 1,
      source: null
    })
    // first the run's state: every batch stops sending once it reads it (within a second), wherever it runs
    const counts = yield* Store.runCounts(jobId, job.run)
    yield* Store.finishRun(jobId, job.run, counts, yield* Clock.currentTimeMillis)
    // then the engine: the job's workflow (its children are interrupted with it when it next runs)
    yield* IngestJob.interrupt(executionId)
    return true
  }).pipe(Effect.mapError((error) => error instanceof IngestError ? error : stateError(error)))

/** How many files each runner uploaded in a run. @internal */
export const runnerCounts = (jobId: string, run: number) =>
  Effect.mapError(Store.runnerCounts(jobId, run), stateError)
