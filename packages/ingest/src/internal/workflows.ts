/**
 * The two workflows of a sync job (see docs/ingest.md): `IngestJob`, one execution per run (plan, then a child
 * `IngestBatch` per batch, then finish), and `IngestBatch` (decide, then transfer). Each step is an `Activity`, whose
 * result the engine stores; the per-file outcomes are written to the ingest tables in groups as files finish
 * (`outcomeInterval`), and a re-executed `Transfer` first finds the files stored before its outcomes were written.
 *
 * @internal
 */
import { Files, MultipartCheckpoint } from "@effect-cdf/files"
import * as NodeFiles from "@effect-cdf/files/NodeFiles"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Activity from "@effect/workflow/Activity"
import * as Workflow from "@effect/workflow/Workflow"
import { Clock, type Duration, Effect, Layer, Metric, Schedule, Schema } from "effect"
import * as nodePath from "node:path"
import { Counts, type FileOutcome } from "./model.js"
import { batchCount, batchSpreads, shardCount } from "./placement.js"
import * as Runtime from "./runtime.js"
import { countOutcomes, type Handle, IngestRuntime, jobKey, uploadSeconds } from "./runtime.js"
import { decideAll, errorOf, existing } from "./skipRule.js"
import * as Store from "./store.js"
import * as Walk from "./walk.js"

/** @internal */
export const IngestBatch = Workflow.make({
  name: "cdf-ingest/Batch",
  payload: {
    jobId: Schema.String,
    run: Schema.Int,
    batch: Schema.Int,
    checksum: Schema.Boolean,
    /** files and bytes in flight (on each runner that runs batches of the job) */
    concurrency: Schema.Int,
    bytesInFlight: Schema.Int,
    /** a number in the batch's id that puts it on a shard holding few batches (`placement.ts`); 0 when not spread */
    spread: Schema.optionalWith(Schema.Int, { default: () => 0 })
  },
  idempotencyKey: ({ batch, jobId, run, spread }) => spread === 0 ? `${jobId}/${run}/${batch}` : `${jobId}/${run}/${batch}/${spread}`
})

/** @internal */
export const IngestJob = Workflow.make({
  name: "cdf-ingest/Job",
  payload: {
    jobId: Schema.String,
    run: Schema.Int,
    prefix: Schema.String,
    directory: Schema.NullOr(Schema.String),
    checksum: Schema.Boolean,
    /** files per batch; 0: chosen by `Plan` to spread the job over runners (`spreadBatchSize`) */
    batchSize: Schema.Int,
    batchConcurrency: Schema.Int,
    concurrency: Schema.Int,
    bytesInFlight: Schema.Int,
    /** a directory source, for a runner that plans the job with no caller in its process (a cluster) */
    source: Schema.NullOr(Schema.Struct({
      root: Schema.String,
      include: Schema.Array(Schema.String),
      exclude: Schema.Array(Schema.String)
    }))
  },
  success: Counts,
  idempotencyKey: ({ jobId, run }) => `${jobId}/${run}`
})

const handleOf = (payload: {
  readonly jobId: string
  readonly run: number
  readonly concurrency: number
  readonly bytesInFlight: number
}) => Runtime.handle(jobKey(payload.jobId, payload.run), payload)

/** The external id and directory of an item. @internal */
export const placeOf = (prefix: string, directory: string | null, path: string) => {
  const dir = nodePath.posix.dirname(path)
  return {
    externalId: prefix + path,
    directory: directory === null ? undefined : dir === "." ? directory : nodePath.posix.join(directory, dir)
  }
}

/** Decides a batch: one `byids` call for the items not yet decided. */
const decideBatch = (payload: typeof IngestBatch.payloadSchema.Type) =>
  Effect.gen(function*() {
    const { batch, jobId, run } = payload
    const items = (yield* Store.persistently(Store.batchItems(jobId, run, batch))).filter((item) => item.decision === null)
    if (items.length === 0) return
    const handle = yield* handleOf(payload)
    const records = yield* Effect.either(existing(items))
    if (records._tag === "Left") {
      // CDF cannot say what exists: the batch's files are failed (a rerun asks again)
      const error = errorOf(records.left)
      yield* Store.persistently(Store.writeDecisions(jobId, run, items.map((item) => ({ seq: item.seq, decision: "upload" as const }))))
      yield* Store.persistently(
        Store.writeOutcomes(jobId, run, items.map((item) => ({ seq: item.seq, status: "failed", error, checkpointed: false })))
      )
      yield* emit(handle, items.map((item) => ({ path: item.path, externalId: item.externalId, status: "failed", bytes: 0, error })))
      return
    }
    const decisions = yield* decideAll(payload, items, records.right.records)
    yield* Store.persistently(
      Store.writeDecisions(jobId, run, decisions.map(({ decision, item }) => ({ seq: item.seq, decision })))
    )
    yield* emit(
      handle,
      decisions.filter(({ decision }) => decision === "skip").map(({ item }) => ({
        path: item.path,
        externalId: item.externalId,
        status: "skipped" as const,
        bytes: 0
      }))
    )
  }).pipe(Effect.orDie)

/** Counts and reports outcomes that are written. */
const emit = (handle: Handle, outcomes: ReadonlyArray<Omit<FileOutcome, "_tag">>) =>
  outcomes.length === 0
    ? Effect.void
    : Effect.zipRight(countOutcomes(outcomes), handle.emit(outcomes.map((outcome) => ({ _tag: "File", ...outcome }))))

/** A file whose upload ended: its outcome, to be written, then reported. */
interface Done {
  readonly outcome: Store.Outcome
  readonly report: Omit<FileOutcome, "_tag">
}

/** What every file of a batch shares: the batch, the runner, the job's state and the clock. */
interface BatchContext {
  readonly payload: typeof IngestBatch.payloadSchema.Type
  readonly runner: string
  readonly sql: SqlClient.SqlClient
  readonly clock: Clock.Clock
}

/**
 * Uploads one item, and gives its outcome to write. One pipeline, with no generator and what the batch already
 * knows passed in (the clock too: read in place, where `Clock.currentTimeMillis` is Effect work): it runs once per
 * file, and each step of it is Effect work per file. Called when the file's turn comes: its time starts then.
 */
const transferOne = (batch: BatchContext, item: Store.StoredItem, kept: string | undefined) => {
  const { clock, payload: { checksum, jobId, run }, runner, sql } = batch
  const start = clock.unsafeCurrentTimeMillis()
  // a multipart upload in flight at a kill continues from its checkpoint: acknowledged parts are not sent again
  let checkpointed = kept !== undefined
  const onCheckpoint = (next: MultipartCheckpoint.MultipartCheckpoint) =>
    Effect.suspend(() => {
      checkpointed = true
      return Store.persistently(Store.writeCheckpoint(jobId, run, item.seq, MultipartCheckpoint.toJson(next))).pipe(
        Effect.asVoid,
        Effect.orDie,
        Effect.provideService(SqlClient.SqlClient, sql)
      )
    })
  const place = { path: item.path, externalId: item.externalId }
  const send = (checkpoint: MultipartCheckpoint.MultipartCheckpoint | undefined) =>
    Effect.flatMap(NodeFiles.contentOfSize(item.file, item.size), (content) =>
      Files.upload(content, {
        name: nodePath.posix.basename(item.path),
        externalId: item.externalId,
        ...(item.directory === undefined ? {} : { directory: item.directory }),
        sourceModifiedTime: item.mtime,
        overwrite: true,
        resume: { checkpoint, onCheckpoint },
        ...(checksum ? { checksum: "sha256" as const } : {})
      }))
  const upload = kept === undefined
    ? send(undefined)
    : Effect.flatMap(MultipartCheckpoint.fromJson(kept).pipe(Effect.orElseSucceed(() => undefined)), send)
  return Effect.matchEffect(upload, {
    onFailure: (cause) => {
      const failed = errorOf(cause)
      // on a cluster, say which runner failed: a file it cannot read is a mount missing on that machine
      const error = runner === "local" ? failed : { ...failed, message: `${failed.message} (on runner ${runner})` }
      return Effect.succeed<Done>({
        outcome: { seq: item.seq, status: "failed", error, runner, checkpointed },
        report: { ...place, status: "failed", bytes: 0, error }
      })
    },
    onSuccess: ({ sha256 }) => {
      const done: Done = {
        outcome: { seq: item.seq, status: "uploaded", sha256, runner, checkpointed },
        report: { ...place, status: "uploaded", bytes: item.size }
      }
      const timed = Metric.update(uploadSeconds, (clock.unsafeCurrentTimeMillis() - start) / 1000)
      return Effect.as(
        checksum && sha256 !== undefined
          ? Effect.zipRight(timed, Store.persistently(Store.writeHash(jobId, item.externalId, item.mtime, sha256)).pipe(
            Effect.orDie,
            Effect.provideService(SqlClient.SqlClient, sql)
          ))
          : timed,
        done
      )
    }
  })
}

/**
 * How often a batch writes (then reports) the outcomes of the files finished since its last write: one transaction
 * for them all instead of one statement per file. A kill loses at most this much of outcomes, and the files it loses
 * are not sent again: the re-executed `Transfer` puts its files with no outcome through the skip rule first
 * (`finishedBefore`).
 *
 * @internal
 */
export const outcomeInterval: Duration.DurationInput = "100 millis"

/**
 * Of a re-executed `Transfer`'s files with no outcome, those that the skip rule finds stored in CDF: uploaded by the
 * execution that stopped, before their outcomes were written. One `byids` call; when CDF cannot answer, none (every
 * file is sent again, under its external id with `overwrite`: never a second record).
 */
const finishedBefore = (payload: typeof IngestBatch.payloadSchema.Type, items: ReadonlyArray<Store.StoredItem>) =>
  Effect.gen(function*() {
    const records = yield* Effect.either(existing(items))
    if (records._tag === "Left") return new Set<number>()
    const decisions = yield* decideAll(payload, items, records.right.records)
    return new Set(decisions.filter(({ decision }) => decision === "skip").map(({ item }) => item.seq))
  })

/**
 * The `Transfer` activity's work: uploads the batch's items decided `upload` that have no outcome yet.
 *
 * @internal
 */
export const transferBatch = (payload: typeof IngestBatch.payloadSchema.Type) =>
  Effect.gen(function*() {
    const { batch, jobId, run } = payload
    const { runner } = yield* IngestRuntime
    const undone = (yield* Store.persistently(Store.batchItems(jobId, run, batch))).filter((item) =>
      item.decision === "upload" && item.outcome === null
    )
    const handle = yield* handleOf(payload)
    // the multipart checkpoints of files in flight at a kill, read once for the batch
    const checkpoints = undone.length === 0 ? new Map<number, string>() : yield* Store.persistently(Store.batchCheckpoints(jobId, run, batch))
    // written (and reported) in groups: see `outcomeInterval`
    const write = (group: ReadonlyArray<Done>) =>
      group.length === 0 ? Effect.void : Effect.zipRight(
        Store.persistently(Store.writeOutcomes(jobId, run, group.map((done) => done.outcome))),
        emit(handle, group.map((done) => done.report))
      )
    const begun = yield* Store.persistently(Store.beginTransfer(jobId, run, batch))
    const stored = begun && undone.length > 0 ? yield* finishedBefore(payload, undone) : new Set<number>()
    yield* write(undone.filter((item) => stored.has(item.seq)).map((item): Done => ({
      outcome: { seq: item.seq, status: "uploaded", runner, checkpointed: checkpoints.has(item.seq) },
      report: { path: item.path, externalId: item.externalId, status: "uploaded", bytes: item.size }
    })))
    const todo = undone.filter((item) => !stored.has(item.seq))
    const { limits } = handle
    // a cancelled run (IngestCluster.cancel marks it done) sends no further file: its state is read before the first
    // file, then once a second while the batch runs (a per-file cached read cost 74 Effect operations a file)
    const readRunning = Effect.map(Store.persistently(Store.runState(jobId, run)), (state) => state === "running")
    // read in place by each file (a `Ref` costs Effect work per file); only the poll below sets it
    const still = { running: yield* readRunning }
    yield* readRunning.pipe(
      Effect.tap((now) => Effect.sync(() => (still.running = now))),
      Effect.repeat({ schedule: Schedule.spaced("1 second"), while: (now) => now }),
      Effect.delay("1 second"),
      // the engine runs an activity as an uninterruptible request: the poll must stop when the batch ends
      Effect.interruptible,
      Effect.forkScoped
    )
    const context: BatchContext = { payload, runner, sql: yield* SqlClient.SqlClient, clock: yield* Effect.clock }
    // the files finished since the last write: the writer below takes them all at once
    const finished: Array<Done> = []
    const writeFinished = Effect.suspend(() => write(finished.splice(0)))
    // the batch's files wait in the job's line for a file permit, then, past the permit's share, for their bytes
    // (never more than the budget)
    const transfers = Effect.forEach(todo, (item) => {
      const transfer = Effect.suspend(() =>
        still.running
          ? Effect.flatMap(transferOne(context, item, checkpoints.get(item.seq)), (done) =>
            Effect.sync(() => {
              finished.push(done)
            }))
          : Effect.void
      )
      return Runtime.withLimits(limits, item.size)(transfer)
    }, { concurrency: limits.files.total, discard: true })
    // fails only when the database stays away (`Store.persistently`): then the batch fails with it
    const writer = writeFinished.pipe(
      Effect.uninterruptible,
      Effect.repeat(Schedule.spaced(outcomeInterval)),
      Effect.interruptible
    )
    yield* Effect.raceFirst(transfers, writer).pipe(
      // interrupted (Ctrl-C) or failed: what finished is still written, as far as the database allows
      Effect.onError(() => Effect.ignore(writeFinished)),
      Effect.zipRight(writeFinished)
    )
  }).pipe(Effect.scoped, Effect.orDie)

const batchBody = (payload: typeof IngestBatch.payloadSchema.Type) =>
  Effect.gen(function*() {
    yield* Activity.make({ name: "Decide", execute: decideBatch(payload) })
    yield* Activity.make({ name: "Transfer", execute: transferBatch(payload) })
  })

const Planned = Schema.Struct({
  files: Schema.Int,
  batches: Schema.Int,
  /** each batch's `spread` (a plan stored before spreads existed has none: every spread is 0) */
  spreads: Schema.optionalWith(Schema.Array(Schema.Int), { default: () => [] })
})

/**
 * The batch size a job on runners starts from when none was given (`batchSize` 0): about 1000 batches, of 10 to
 * 1000 files. `Plan` then rounds the number of batches to a multiple of the engine's shard count, so that every
 * shard, and so every runner, gets the same number of batches (`placement.ts`). Each batch is a workflow execution
 * with two activities (a few engine messages), so batches are kept at 10 files at least: smaller ones cost more than
 * they gain. 1000 files a batch would put a job of 1000 files on one runner.
 *
 * @internal
 */
export const spreadBatchSize = (files: number) => Math.min(1000, Math.max(10, Math.ceil(files / 1000)))

const plan = (payload: typeof IngestJob.payloadSchema.Type) =>
  Effect.gen(function*() {
    const { batchSize, bytesInFlight, checksum, concurrency, directory, jobId, prefix, run } = payload
    const handle = yield* handleOf(payload)
    // a directory source travels in the payload: a runner with no caller in its process (a cluster) walks it
    const source: Walk.Source | undefined = handle.source ??
      (payload.source === null ? undefined : { _tag: "Directory", ...payload.source })
    if (source === undefined) {
      return yield* Effect.dieMessage(`job ${jobId} run ${run} has a stream source whose caller is gone: rerun sync`)
    }
    const walked = yield* Walk.items(source)
    const seen = new Set<string>()
    const unique: Array<Omit<Store.PlannedItem, "batch">> = []
    for (const item of walked.items) {
      const place = placeOf(prefix, directory, item.path)
      if (seen.has(place.externalId)) continue
      seen.add(place.externalId)
      unique.push({ ...item, ...place, seq: unique.length })
    }
    // the entries the walk passed over are planned with their outcome (after the files: no batch waits on them)
    const passed: Array<Omit<FileOutcome, "_tag">> = []
    for (const entry of walked.passed) {
      const place = placeOf(prefix, directory, entry.path)
      if (seen.has(place.externalId)) continue
      seen.add(place.externalId)
      unique.push({ path: entry.path, file: entry.file, size: 0, mtime: 0, ...place, seq: unique.length, walked: { status: entry.status, error: entry.error } })
      passed.push({ path: entry.path, externalId: place.externalId, status: entry.status, bytes: 0, error: entry.error })
    }
    // a batch size given is kept; the default on runners fills the engine's shards evenly (`placement.ts`)
    const batches = batchSize > 0
      ? Math.ceil(unique.length / batchSize)
      : batchCount(unique.length, spreadBatchSize(unique.length), yield* shardCount)
    const planned = unique.map((item): Store.PlannedItem => ({
      ...item,
      batch: batchSize > 0 ? Math.floor(item.seq / batchSize) : Math.floor((item.seq * batches) / unique.length)
    }))
    yield* Store.persistently(Store.writePlan(jobId, run, planned))
    yield* emit(handle, passed)
    const spreads = yield* batchSpreads(batches, IngestBatch.annotations, (batch, spread) =>
      IngestBatch.executionId({ jobId, run, batch, spread, checksum, concurrency, bytesInFlight }))
    return { files: planned.length, batches, spreads }
  }).pipe(Effect.orDie)

const jobBody = (payload: typeof IngestJob.payloadSchema.Type) =>
  Effect.gen(function*() {
    const { batchConcurrency, bytesInFlight, checksum, concurrency, jobId, run } = payload
    const planned = yield* Activity.make({ name: "Plan", success: Planned, execute: plan(payload) })
    yield* Effect.forEach(
      Array.from({ length: planned.batches }, (_, batch) => batch),
      (batch) =>
        IngestBatch.execute({ jobId, run, batch, spread: planned.spreads[batch] ?? 0, checksum, concurrency, bytesInFlight }),
      { concurrency: batchConcurrency, discard: true }
    )
    return yield* Activity.make({
      name: "Finish",
      success: Counts,
      execute: Effect.gen(function*() {
        const counts = yield* Store.persistently(Store.runCounts(jobId, run))
        yield* Store.persistently(Store.finishRun(jobId, run, counts, yield* Clock.currentTimeMillis))
        return counts
      }).pipe(Effect.orDie)
    })
  })

/**
 * Registers both workflows with the engine.
 *
 * @internal
 */
export const layerWorkflows = Layer.mergeAll(IngestJob.toLayer(jobBody), IngestBatch.toLayer(batchBody))

