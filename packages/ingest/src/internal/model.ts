/**
 * The data of a sync job: the items (files) a job plans, the outcome of each, the summary of a run, and the errors,
 * as Schemas (the workflow payloads and activity results are stored by the engine through them).
 *
 * @internal
 */
import { Schema } from "effect"

/**
 * One file to sync: `path` relative to the source, POSIX separators (it makes the external id), `file` where its
 * bytes are read, its size and mtime in milliseconds.
 *
 * @internal
 */
export const Item = Schema.Struct({
  path: Schema.String,
  file: Schema.String,
  size: Schema.NonNegativeInt,
  mtime: Schema.Number
})

/** @internal */
export interface Item extends Schema.Schema.Type<typeof Item> {}

/**
 * What happened to one file: `uploaded`, `skipped` (unchanged in CDF), `failed` (with the error's tag and message)
 * or, with `dryRun`, `would-upload`. An entry the walk passed over (`walk.ts`) is `skipped` or `failed` with its
 * reason in `error`.
 *
 * @internal
 */
export const FileOutcome = Schema.TaggedStruct("File", {
  path: Schema.String,
  externalId: Schema.String,
  status: Schema.Literal("uploaded", "skipped", "failed", "would-upload"),
  bytes: Schema.NonNegativeInt,
  error: Schema.optionalWith(Schema.Struct({ tag: Schema.String, message: Schema.String }), { exact: true })
})

/** @internal */
export interface FileOutcome extends Schema.Schema.Type<typeof FileOutcome> {}

/**
 * The counts of one run of a job (over the whole run, resumed parts included).
 *
 * @internal
 */
export const Counts = Schema.Struct({
  uploaded: Schema.NonNegativeInt,
  skipped: Schema.NonNegativeInt,
  failed: Schema.NonNegativeInt,
  bytes: Schema.NonNegativeInt
})

/** @internal */
export interface Counts extends Schema.Schema.Type<typeof Counts> {}

/**
 * The last element of a sync's stream: the job, its run, whether it resumed an interrupted run, the counts of the
 * run and the seconds this call took. With `dryRun`, `uploaded` and `bytes` count what would be uploaded.
 *
 * @internal
 */
export const Summary = Schema.TaggedStruct("Summary", {
  jobId: Schema.String,
  run: Schema.Int,
  resumed: Schema.Boolean,
  dryRun: Schema.Boolean,
  ...Counts.fields,
  seconds: Schema.Number
})

/** @internal */
export interface Summary extends Schema.Schema.Type<typeof Summary> {}

/**
 * A job as the state file knows it.
 *
 * @internal
 */
export const JobInfo = Schema.Struct({
  jobId: Schema.String,
  source: Schema.String,
  prefix: Schema.String,
  target: Schema.String,
  run: Schema.Int,
  state: Schema.Literal("running", "done"),
  startedAt: Schema.Number,
  finishedAt: Schema.NullOr(Schema.Number),
  ...Counts.fields
})

/** @internal */
export interface JobInfo extends Schema.Schema.Type<typeof JobInfo> {}

/**
 * A sync could not run: the source cannot be read (`Source`), the state file cannot be used (`State`), or the options
 * are wrong (`Options`). Failures of single files are outcomes, not errors.
 *
 * @internal
 */
export class IngestError extends Schema.TaggedError<IngestError>("@effect-cdf/ingest/IngestError")("IngestError", {
  reason: Schema.Literal("Source", "State", "Options"),
  message: Schema.String
}) {}
