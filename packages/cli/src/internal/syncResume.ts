/**
 * A sync that would resume an interrupted run started with other options. The engine resumes a run with the options
 * it started with (its stored `IngestJob` payload and plan), whatever this command says: a changed `--include`,
 * `--exclude`, `--directory` or `--checksum` would be silently ignored. This reads the stored options of the job's
 * running run from the state file before the engine starts (so that nothing resumes meanwhile), and the command
 * refuses when they differ.
 *
 * What it reads belongs to `@effect-cdf/ingest` (the `cdf_ingest_jobs` table) and to `@effect/cluster`'s message
 * storage (`cluster_messages`: the payload of the workflow `cdf-ingest/Job`, JSON), in a SQLite state file or a
 * runners' PostgreSQL database alike; it only reads them, and a state it cannot read is left to the engine to report.
 *
 * @internal
 */
import type { Ingest } from "@effect-cdf/ingest"
import { Context, Effect, type Layer, Option, Schema } from "effect"

/** The options of a run that change what is uploaded or where (the source root and prefix make the job id). */
export interface RunOptions {
  readonly include: ReadonlyArray<string>
  readonly exclude: ReadonlyArray<string>
  readonly directory: string | null
  readonly checksum: boolean
}

/** The running run of a job as the state file has it. */
export interface StoredRun {
  readonly run: number
  readonly options: RunOptions
}

/** The parts of the stored `cdf-ingest/Job` payload read here. */
const JobPayload = Schema.parseJson(Schema.Struct({
  jobId: Schema.String,
  run: Schema.Number,
  directory: Schema.NullOr(Schema.String),
  checksum: Schema.Boolean,
  source: Schema.NullOr(Schema.Struct({ include: Schema.Array(Schema.String), exclude: Schema.Array(Schema.String) }))
}))

/**
 * The state database's client, as `Ingest.layerStateFile` and `IngestCluster.layerState` give it (`@effect/sql`'s
 * `SqlClient`, which this package does not depend on: its tag is found by its key).
 */
type StateClient = Layer.Layer.Success<ReturnType<typeof Ingest.layerStateFile>>
const StateClient = Context.GenericTag<StateClient>("@effect/sql/SqlClient")

/**
 * The running run of `jobId` in the state database (`state`: `Ingest.layerStateFile` or `IngestCluster.layerState`)
 * and its stored options; none when the job has no running run, or its run has stored no options yet (killed before
 * the engine had it), or the database cannot be read (the engine then says why).
 *
 * @internal
 */
export const storedRun = <E>(
  state: Layer.Layer<StateClient, E>,
  jobId: string
): Effect.Effect<Option.Option<StoredRun>> =>
  Effect.gen(function*() {
    const sql = yield* StateClient
    const running = yield* sql<{ readonly run: number | bigint | string }>`SELECT run FROM cdf_ingest_jobs
      WHERE job_id = ${jobId} AND state = 'running'`
    if (running.length === 0) return Option.none()
    const run = Number(running[0].run)
    const payloads = yield* sql<{ readonly payload: string | null }>`SELECT payload FROM cluster_messages
      WHERE entity_type = 'Workflow/cdf-ingest/Job' AND tag = 'run' AND payload LIKE ${`%${jobId}%`}`
    for (const { payload } of payloads) {
      if (payload === null) continue
      const decoded = Schema.decodeUnknownOption(JobPayload)(payload)
      if (Option.isSome(decoded) && decoded.value.jobId === jobId && decoded.value.run === run) {
        const stored = decoded.value
        return Option.some<StoredRun>({
          run,
          options: {
            include: stored.source?.include ?? [],
            exclude: stored.source?.exclude ?? [],
            directory: stored.directory,
            checksum: stored.checksum
          }
        })
      }
    }
    return Option.none<StoredRun>()
  }).pipe(
    Effect.provide(state),
    Effect.orElseSucceed(() => Option.none())
  )

const quote = (arg: string) => /^[\w./:=@+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`

/** The flags that give `options`, as typed on a command line. */
const asFlags = (name: string, options: RunOptions): Array<string> => {
  switch (name) {
    case "--include":
      return options.include.map((glob) => `--include ${quote(glob)}`)
    case "--exclude":
      return options.exclude.map((glob) => `--exclude ${quote(glob)}`)
    case "--directory":
      return options.directory === null ? [] : [`--directory ${quote(options.directory)}`]
    default:
      return options.checksum ? ["--checksum"] : []
  }
}

const sameSet = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) =>
  a.length === b.length && [...a].sort().every((value, i) => value === [...b].sort()[i])

/**
 * The flags whose value differs between the stored run and this command, in the order of `--help`.
 *
 * @internal
 */
export const differences = (stored: RunOptions, now: RunOptions): Array<string> => [
  ...(stored.directory === now.directory ? [] : ["--directory"]),
  ...(sameSet(stored.include, now.include) ? [] : ["--include"]),
  ...(sameSet(stored.exclude, now.exclude) ? [] : ["--exclude"]),
  ...(stored.checksum === now.checksum ? [] : ["--checksum"])
]

/**
 * Why this command does not resume the run, and how to go on.
 *
 * @internal
 */
export const refusal = (
  job: { readonly jobId: string; readonly run: number; readonly state: string },
  flags: ReadonlyArray<string>,
  stored: RunOptions,
  now: RunOptions
): string => {
  const then = flags.flatMap((flag) => asFlags(flag, stored))
  const given = flags.flatMap((flag) => asFlags(flag, now))
  return `${job.state} holds an interrupted run of this job (job ${job.jobId}, run ${job.run}) started with a ` +
    `different ${flags.join(", ")}: resumed, it would go on with those, not with the ones given now.\n` +
    `  started with: ${then.length === 0 ? "(none)" : then.join(" ")}\n` +
    `  given now:    ${given.length === 0 ? "(none)" : given.join(" ")}\n` +
    `  To finish the interrupted run, rerun with the flags it started with; to sync with the new ones instead, use ` +
    `another state file (--state): files already uploaded and unchanged are skipped.`
}
