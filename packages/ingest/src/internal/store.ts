/**
 * The ingest tables, in the same database as the workflow engine's message storage: jobs (one row per job, its
 * current run), items (one row per file of a run: its batch, decision and outcome), checkpoints (multipart
 * sessions in flight), transfers (the batches whose `Transfer` has begun) and hashes (`--checksum`: the sha256 of
 * what was sent, kept across runs). See docs/ingest.md for when each is written.
 *
 * @internal
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Array as Arr, Effect, Schedule } from "effect"
import type { Counts, Item, JobInfo } from "./model.js"

/**
 * How long the transfer waits for the database when a read or write of the job's state fails: backing off to every
 * 2 s, for up to 2 minutes. With PostgreSQL restarting or failing over, an upload that ends meanwhile records its
 * outcome once the database is back, instead of failing its whole batch.
 *
 * @internal
 */
export const whileUnreachable = Schedule.exponential("100 millis", 2).pipe(
  Schedule.union(Schedule.spaced("2 seconds")),
  Schedule.upTo("2 minutes")
)

/**
 * `effect`; once it has failed, it runs again at once and then on `whileUnreachable`. The retry is built on the
 * failure path only: this wraps every file's outcome, and `Effect.retry` up front costs 33 Effect operations a file.
 *
 * @internal
 */
export const persistently = <A, R>(effect: Effect.Effect<A, SqlError, R>): Effect.Effect<A, SqlError, R> =>
  Effect.catchAll(effect, () => Effect.retry(effect, whileUnreachable))

/** @internal */
export const migrate: Effect.Effect<void, SqlError, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS cdf_ingest_jobs (
    job_id TEXT PRIMARY KEY, source TEXT NOT NULL, prefix TEXT NOT NULL, target TEXT NOT NULL,
    run INTEGER NOT NULL, state TEXT NOT NULL, started_at BIGINT NOT NULL, finished_at BIGINT,
    uploaded INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
    bytes BIGINT NOT NULL DEFAULT 0)`
  yield* sql`CREATE TABLE IF NOT EXISTS cdf_ingest_items (
    job_id TEXT NOT NULL, run INTEGER NOT NULL, seq INTEGER NOT NULL, batch INTEGER NOT NULL,
    path TEXT NOT NULL, file TEXT NOT NULL, external_id TEXT NOT NULL, directory TEXT,
    size BIGINT NOT NULL, mtime BIGINT NOT NULL,
    decision TEXT, outcome TEXT, error_tag TEXT, error_message TEXT, sha256 TEXT, runner TEXT,
    PRIMARY KEY (job_id, run, seq), UNIQUE (job_id, run, external_id))`
  yield* sql`CREATE INDEX IF NOT EXISTS cdf_ingest_items_batch ON cdf_ingest_items (job_id, run, batch)`
  yield* sql`CREATE TABLE IF NOT EXISTS cdf_ingest_checkpoints (
    job_id TEXT NOT NULL, run INTEGER NOT NULL, seq INTEGER NOT NULL, checkpoint TEXT NOT NULL,
    PRIMARY KEY (job_id, run, seq))`
  yield* sql`CREATE TABLE IF NOT EXISTS cdf_ingest_transfers (
    job_id TEXT NOT NULL, run INTEGER NOT NULL, batch INTEGER NOT NULL, PRIMARY KEY (job_id, run, batch))`
  yield* sql`CREATE TABLE IF NOT EXISTS cdf_ingest_hashes (
    job_id TEXT NOT NULL, external_id TEXT NOT NULL, mtime BIGINT NOT NULL, sha256 TEXT NOT NULL,
    PRIMARY KEY (job_id, external_id))`
})

interface JobRow {
  readonly job_id: string
  readonly source: string
  readonly prefix: string
  readonly target: string
  readonly run: number
  readonly state: "running" | "done"
  readonly started_at: number
  readonly finished_at: number | null
  readonly uploaded: number
  readonly skipped: number
  readonly failed: number
  readonly bytes: number
}

const toJob = (row: JobRow): JobInfo => ({
  jobId: row.job_id,
  source: row.source,
  prefix: row.prefix,
  target: row.target,
  run: Number(row.run),
  state: row.state,
  startedAt: Number(row.started_at),
  finishedAt: row.finished_at === null ? null : Number(row.finished_at),
  uploaded: Number(row.uploaded),
  skipped: Number(row.skipped),
  failed: Number(row.failed),
  bytes: Number(row.bytes)
})

/** Every job, the most recently started first; a run still going has the counts of what it has done so far. @internal */
export const jobs: Effect.Effect<Array<JobInfo>, SqlError, SqlClient.SqlClient> = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) =>
    sql<JobRow>`SELECT * FROM cdf_ingest_jobs ORDER BY started_at DESC`.pipe(
      Effect.flatMap(Effect.forEach((row) => {
        const job = toJob(row)
        return job.state === "done" ? Effect.succeed(job) : Effect.map(runCounts(job.jobId, job.run), (counts) => ({ ...job, ...counts }))
      }))
    )
)

/**
 * Starts a run of the job: resumes the current run when it is still `running`, else starts the next one.
 *
 * @internal
 */
export const startRun = (job: { readonly jobId: string; readonly source: string; readonly prefix: string; readonly target: string; readonly now: number }) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.withTransaction(Effect.gen(function*() {
      const rows = yield* sql<JobRow>`SELECT * FROM cdf_ingest_jobs WHERE job_id = ${job.jobId}`
      if (rows.length > 0 && rows[0].state === "running") return { run: Number(rows[0].run), resumed: true }
      const run = rows.length === 0 ? 1 : Number(rows[0].run) + 1
      yield* sql`INSERT INTO cdf_ingest_jobs (job_id, source, prefix, target, run, state, started_at)
        VALUES (${job.jobId}, ${job.source}, ${job.prefix}, ${job.target}, ${run}, 'running', ${job.now})
        ON CONFLICT (job_id) DO UPDATE SET run = excluded.run, state = 'running', started_at = excluded.started_at,
        finished_at = NULL, uploaded = 0, skipped = 0, failed = 0, bytes = 0`
      return { run, resumed: false }
    }))
  })

/** Marks the run done with its counts. @internal */
export const finishRun = (jobId: string, run: number, counts: Counts, now: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`UPDATE cdf_ingest_jobs SET state = 'done', finished_at = ${now}, uploaded = ${counts.uploaded},
      skipped = ${counts.skipped}, failed = ${counts.failed}, bytes = ${counts.bytes}
      WHERE job_id = ${jobId} AND run = ${run}`)

/**
 * A planned item: the source's item with its external id, directory and batch; an entry the walk passed over (a
 * symbolic link, a name that is not UTF-8) also has its outcome, written with it (its decision is `skip`: no step
 * after `Plan` takes it).
 *
 * @internal
 */
export interface PlannedItem extends Item {
  readonly seq: number
  readonly batch: number
  readonly externalId: string
  readonly directory: string | undefined
  readonly walked?: {
    readonly status: "skipped" | "failed"
    readonly error: { readonly tag: string; readonly message: string }
  } | undefined
}

/**
 * Writes the run's items (after deleting any it had: a `Plan` run again gives the same rows). A second item with an
 * external id already planned is left out. Returns the number of batches.
 *
 * @internal
 */
export const writePlan = (jobId: string, run: number, items: ReadonlyArray<PlannedItem>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql.withTransaction(Effect.gen(function*() {
      yield* sql`DELETE FROM cdf_ingest_items WHERE job_id = ${jobId} AND run = ${run}`
      yield* sql`DELETE FROM cdf_ingest_transfers WHERE job_id = ${jobId} AND run = ${run}`
      // 15 columns a row: 500 rows stay far below SQLite's limit of bound parameters
      for (const chunk of Arr.chunksOf(items, 500)) {
        yield* sql`INSERT INTO cdf_ingest_items ${
          sql.insert(chunk.map((item) => ({
            job_id: jobId,
            run,
            seq: item.seq,
            batch: item.batch,
            path: item.path,
            file: item.file,
            external_id: item.externalId,
            directory: item.directory ?? null,
            size: item.size,
            mtime: item.mtime,
            decision: item.walked === undefined ? null : "skip",
            outcome: item.walked?.status ?? null,
            error_tag: item.walked?.error.tag ?? null,
            error_message: item.walked?.error.message ?? null
          })))
        } ON CONFLICT DO NOTHING`
      }
    }))
    // fresh planner statistics: without them PostgreSQL scans the whole table for each per-file UPDATE until
    // autovacuum gets to it (minutes), which costs O(files²) rows read
    yield* sql`ANALYZE cdf_ingest_items`
  })

interface ItemRow {
  readonly seq: number
  readonly batch: number
  readonly path: string
  readonly file: string
  readonly external_id: string
  readonly directory: string | null
  readonly size: number
  readonly mtime: number
  readonly decision: "upload" | "skip" | null
  readonly outcome: "uploaded" | "skipped" | "failed" | null
}

/** A stored item with its decision and outcome. @internal */
export interface StoredItem extends PlannedItem {
  readonly decision: "upload" | "skip" | null
  readonly outcome: "uploaded" | "skipped" | "failed" | null
}

const toItem = (row: ItemRow): StoredItem => ({
  seq: Number(row.seq),
  batch: Number(row.batch),
  path: row.path,
  file: row.file,
  externalId: row.external_id,
  directory: row.directory ?? undefined,
  size: Number(row.size),
  mtime: Number(row.mtime),
  decision: row.decision,
  outcome: row.outcome
})

/** The items of one batch, in walk order. @internal */
export const batchItems = (jobId: string, run: number, batch: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<ItemRow>`SELECT seq, batch, path, file, external_id, directory, size, mtime, decision, outcome
      FROM cdf_ingest_items WHERE job_id = ${jobId} AND run = ${run} AND batch = ${batch} ORDER BY seq`.pipe(
      Effect.map(Arr.map(toItem))
    ))

/** Sequence numbers per statement: far under SQLite's and PostgreSQL's limits on parameters. */
const seqsPerStatement = 500

/**
 * Writes the decisions of a batch in one transaction (a skip is also the item's outcome): one statement per decision
 * and 500 items.
 *
 * @internal
 */
export const writeDecisions = (
  jobId: string,
  run: number,
  decisions: ReadonlyArray<{ readonly seq: number; readonly decision: "upload" | "skip" }>
) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const statements = (["upload", "skip"] as const).flatMap((decision) =>
      Arr.chunksOf(decisions.filter((d) => d.decision === decision).map((d) => d.seq), seqsPerStatement).map((seqs) =>
        sql`UPDATE cdf_ingest_items SET decision = ${decision}, outcome = ${decision === "skip" ? "skipped" : null}
          WHERE job_id = ${jobId} AND run = ${run} AND ${sql.in("seq", seqs)}`
      )
    )
    return sql.withTransaction(Effect.forEach(statements, (statement) => statement, { discard: true }))
  })

/**
 * Notes that the batch's `Transfer` has begun, and says whether it had begun before: a re-execution (after a kill, or
 * on another runner after the loss of one), whose files with no outcome may have been stored in CDF by the execution
 * that stopped before their outcomes were written.
 *
 * @internal
 */
export const beginTransfer = (jobId: string, run: number, batch: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.flatMap(
      sql`SELECT batch FROM cdf_ingest_transfers WHERE job_id = ${jobId} AND run = ${run} AND batch = ${batch}`,
      (rows) =>
        rows.length > 0 ? Effect.succeed(true) : Effect.as(
          sql`INSERT INTO cdf_ingest_transfers (job_id, run, batch) VALUES (${jobId}, ${run}, ${batch})
            ON CONFLICT DO NOTHING`,
          false
        )
    ))

/** The multipart checkpoint kept for an item (JSON), if any. @internal */
export const batchCheckpoints = (jobId: string, run: number, batch: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ seq: number; checkpoint: string }>`SELECT c.seq, c.checkpoint FROM cdf_ingest_checkpoints c
      JOIN cdf_ingest_items i ON i.job_id = c.job_id AND i.run = c.run AND i.seq = c.seq
      WHERE c.job_id = ${jobId} AND c.run = ${run} AND i.batch = ${batch}`.pipe(
      Effect.map((rows) => new Map(rows.map((row) => [Number(row.seq), row.checkpoint])))
    ))

/** Keeps the latest multipart checkpoint of an item (JSON). @internal */
export const writeCheckpoint = (jobId: string, run: number, seq: number, json: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`INSERT INTO cdf_ingest_checkpoints (job_id, run, seq, checkpoint) VALUES (${jobId}, ${run}, ${seq}, ${json})
      ON CONFLICT (job_id, run, seq) DO UPDATE SET checkpoint = excluded.checkpoint`)

/** The outcome of one file, for `writeOutcomes`. @internal */
export interface Outcome {
  readonly seq: number
  readonly status: "uploaded" | "failed"
  readonly sha256?: string | undefined
  readonly error?: { readonly tag: string; readonly message: string } | undefined
  /** the runner that did it (its address on a cluster, `local` for the embedded engine) */
  readonly runner?: string | undefined
  /** it may have a multipart checkpoint, dropped in the same transaction */
  readonly checkpointed: boolean
}

/**
 * Records the outcomes of a group of files in one transaction, and drops the multipart checkpoints of those that
 * may have one. Plain outcomes (no hash, no error) of one status and runner take one statement per 500 files; the
 * others one statement each.
 *
 * @internal
 */
export const writeOutcomes = (jobId: string, run: number, outcomes: ReadonlyArray<Outcome>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const plain = new Map<string, { status: string; runner: string | null; seqs: Array<number> }>()
    const statements: Array<Effect.Effect<unknown, SqlError>> = []
    for (const outcome of outcomes) {
      if (outcome.sha256 === undefined && outcome.error === undefined) {
        const key = `${outcome.status}\u0000${outcome.runner ?? ""}`
        const group = plain.get(key) ?? { status: outcome.status, runner: outcome.runner ?? null, seqs: [] }
        group.seqs.push(outcome.seq)
        plain.set(key, group)
      } else {
        statements.push(sql`UPDATE cdf_ingest_items SET outcome = ${outcome.status}, sha256 = ${outcome.sha256 ?? null},
          error_tag = ${outcome.error?.tag ?? null}, error_message = ${outcome.error?.message ?? null},
          runner = ${outcome.runner ?? null} WHERE job_id = ${jobId} AND run = ${run} AND seq = ${outcome.seq}`)
      }
    }
    for (const { runner, seqs, status } of plain.values()) {
      for (const chunk of Arr.chunksOf(seqs, seqsPerStatement)) {
        statements.push(sql`UPDATE cdf_ingest_items SET outcome = ${status}, sha256 = NULL, error_tag = NULL,
          error_message = NULL, runner = ${runner} WHERE job_id = ${jobId} AND run = ${run} AND ${sql.in("seq", chunk)}`)
      }
    }
    const checkpointed = outcomes.filter((outcome) => outcome.checkpointed).map((outcome) => outcome.seq)
    for (const chunk of Arr.chunksOf(checkpointed, seqsPerStatement)) {
      statements.push(sql`DELETE FROM cdf_ingest_checkpoints WHERE job_id = ${jobId} AND run = ${run}
        AND ${sql.in("seq", chunk)}`)
    }
    return statements.length === 1
      ? Effect.asVoid(statements[0]!)
      : sql.withTransaction(Effect.forEach(statements, (statement) => statement, { discard: true }))
  })

/** The counts of a run, from its items. @internal */
export const runCounts = (jobId: string, run: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ outcome: string | null; files: number; bytes: number | null }>`SELECT outcome, COUNT(*) AS files,
      SUM(size) AS bytes FROM cdf_ingest_items WHERE job_id = ${jobId} AND run = ${run} GROUP BY outcome`.pipe(
      Effect.map((rows): Counts => {
        const of = (outcome: string) => rows.find((row) => row.outcome === outcome)
        return {
          uploaded: Number(of("uploaded")?.files ?? 0),
          skipped: Number(of("skipped")?.files ?? 0),
          failed: Number(of("failed")?.files ?? 0),
          bytes: Number(of("uploaded")?.bytes ?? 0)
        }
      })
    ))

/** The failed items of a run, with their error. @internal */
export const failures = (jobId: string, run: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ path: string; external_id: string; error_tag: string | null; error_message: string | null }>`SELECT path,
      external_id, error_tag, error_message FROM cdf_ingest_items
      WHERE job_id = ${jobId} AND run = ${run} AND outcome = 'failed' ORDER BY seq`)

/** The sha256 kept for the external ids given (`--checksum`). @internal */
export const hashes = (jobId: string, externalIds: ReadonlyArray<string>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    externalIds.length === 0
      ? Effect.succeed(new Map<string, { mtime: number; sha256: string }>())
      : sql<{ external_id: string; mtime: number; sha256: string }>`SELECT external_id, mtime, sha256
      FROM cdf_ingest_hashes WHERE job_id = ${jobId} AND ${sql.in("external_id", externalIds)}`.pipe(
        Effect.map((rows) => new Map(rows.map((row) => [row.external_id, { mtime: Number(row.mtime), sha256: row.sha256 }])))
      ))

/** Keeps the sha256 of what was sent for an external id. @internal */
export const writeHash = (jobId: string, externalId: string, mtime: number, sha256: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`INSERT INTO cdf_ingest_hashes (job_id, external_id, mtime, sha256) VALUES (${jobId}, ${externalId}, ${mtime},
      ${sha256}) ON CONFLICT (job_id, external_id) DO UPDATE SET mtime = excluded.mtime, sha256 = excluded.sha256`)

/** A decided item of a run, as a follower of the job reads it. @internal */
export interface DoneRow {
  readonly seq: number
  readonly path: string
  readonly external_id: string
  readonly outcome: "uploaded" | "skipped" | "failed"
  readonly size: number
  readonly error_tag: string | null
  readonly error_message: string | null
}

/**
 * The items of a run that have an outcome, from `after + 1` on (a follower passes the highest seq below which it
 * has seen every outcome, so that each poll reads only the window of batches in flight, not the whole run).
 *
 * @internal
 */
export const outcomes = (jobId: string, run: number, after: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<DoneRow>`SELECT seq, path, external_id, outcome, size, error_tag, error_message FROM cdf_ingest_items
      WHERE job_id = ${jobId} AND run = ${run} AND seq > ${after} AND outcome IS NOT NULL ORDER BY seq`)

/** The run's state (`running`/`done`), or undefined when the job's current run is another one. @internal */
export const runState = (jobId: string, run: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ state: "running" | "done" }>`SELECT state FROM cdf_ingest_jobs WHERE job_id = ${jobId} AND run = ${run}`.pipe(
      Effect.map((rows) => rows[0]?.state)
    ))

/** How many files of a run each runner uploaded. @internal */
export const runnerCounts = (jobId: string, run: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ runner: string | null; files: number }>`SELECT runner, COUNT(*) AS files FROM cdf_ingest_items
      WHERE job_id = ${jobId} AND run = ${run} AND outcome = 'uploaded' GROUP BY runner ORDER BY runner`.pipe(
      Effect.map((rows) => rows.map((row) => ({ runner: row.runner ?? "?", files: Number(row.files) })))
    ))
