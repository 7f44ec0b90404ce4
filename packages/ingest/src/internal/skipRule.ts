/**
 * The skip rule, which needs no local state: what CDF holds for a batch's external ids (one `byids` call), and for
 * each file whether it is skipped (its record is uploaded with the file's mtime as `sourceModifiedTime`, and with
 * `--checksum` the sha256 kept for what was sent is the file's) or uploaded. See docs/ingest.md, "The skip rule".
 *
 * @internal
 */
import { FileIdentifier, type FileMetadata, Files } from "@effect-cdf/files"
import type { CdfError } from "@effect-cdf/files/CdfError"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { createReadStream } from "node:fs"
import * as Store from "./store.js"

/** Files hashed at once with `--checksum`. */
const hashConcurrency = 8

/** The hex sha256 of a file on disk. */
const hashFile = (file: string): Effect.Effect<string, Error> =>
  Effect.async<string, Error>((resume) => {
    const hash = createHash("sha256")
    const stream = createReadStream(file)
    stream.on("data", (chunk) => hash.update(chunk))
    stream.on("error", (error) => resume(Effect.fail(error)))
    stream.on("end", () => resume(Effect.succeed(hash.digest("hex"))))
    return Effect.sync(() => stream.destroy())
  })

type RecordOf = { readonly uploaded: boolean; readonly sourceModifiedTime?: number | undefined } | undefined

/** The skip rule's time part: the record is uploaded and its `sourceModifiedTime` is the file's mtime. */
const sameTime = (item: { readonly mtime: number }, record: RecordOf) =>
  record !== undefined && record.uploaded && record.sourceModifiedTime === item.mtime

/**
 * The skip rule: the record is uploaded and its `sourceModifiedTime` is the file's mtime (and, with `--checksum`,
 * the file's sha256 is the one kept for what was sent).
 */
const decide = (
  item: { readonly file: string; readonly mtime: number },
  record: RecordOf,
  kept: { readonly mtime: number; readonly sha256: string } | undefined,
  checksum: boolean
): Effect.Effect<"upload" | "skip"> => {
  if (!sameTime(item, record)) return Effect.succeed("upload")
  if (!checksum) return Effect.succeed("skip")
  if (kept === undefined) return Effect.succeed("upload")
  return hashFile(item.file).pipe(
    Effect.map((sha256) => sha256 === kept.sha256 ? "skip" as const : "upload" as const),
    Effect.orElseSucceed(() => "upload" as const)
  )
}

/** A failure as the state and the outcomes keep it. @internal */
export const errorOf = (error: CdfError) => ({ tag: error._tag, message: error.message })

/**
 * The records of the items' external ids (`byids` with `ignoreUnknownIds`, 1000 a call). An external id the API
 * would refuse (too long, say) is not asked for: its item is in `invalid` with the error, for the upload (or the dry
 * run) to report.
 *
 * @internal
 */
export const existing = <I extends { readonly externalId: string }>(items: ReadonlyArray<I>) =>
  recordsOf(items).pipe(
    Effect.map((records) => ({ records, invalid: [] as Array<{ item: I; error: ReturnType<typeof errorOf> }> })),
    // `retrieveMany` checks every id before it sends anything: only when one is refused is each checked on its own
    Effect.catchTag("InvalidFileMetadataError", () => existingOneByOne(items))
  )

const recordsOf = (items: ReadonlyArray<{ readonly externalId: string }>) =>
  items.length === 0
    ? Effect.succeed(new Map<string | undefined, FileMetadata.FileMetadata>())
    : Effect.map(
      Files.retrieveMany(items.map((item) => ({ externalId: item.externalId })), { ignoreUnknownIds: true }),
      (records) => new Map(records.map((record) => [record.externalId, record]))
    )

const existingOneByOne = <I extends { readonly externalId: string }>(items: ReadonlyArray<I>) =>
  Effect.gen(function*() {
    const checked = yield* Effect.forEach(items, (item) =>
      Effect.either(FileIdentifier.validateFileIdentifier({ externalId: item.externalId })).pipe(
        Effect.map((result) => ({ item, result }))
      ))
    const valid = checked.flatMap(({ item, result }) => result._tag === "Right" ? [item] : [])
    const invalid = checked.flatMap(({ item, result }) => result._tag === "Left" ? [{ item, error: errorOf(result.left) }] : [])
    return { records: yield* recordsOf(valid), invalid }
  })

type Decidable = { readonly externalId: string; readonly file: string; readonly mtime: number }

/**
 * The skip rule over items whose records were read (`existing`), given the hashes kept for `--checksum`. By time
 * alone it needs no Effect per item: each is decided in place.
 *
 * @internal
 */
export const decideEach = <I extends Decidable>(
  items: ReadonlyArray<I>,
  records: { readonly get: (externalId: string) => RecordOf },
  kept: { readonly get: (externalId: string) => { readonly mtime: number; readonly sha256: string } | undefined },
  checksum: boolean
): Effect.Effect<Array<{ readonly item: I; readonly decision: "upload" | "skip" }>> =>
  checksum
    ? Effect.forEach(items, (item) =>
      Effect.map(
        decide(item, records.get(item.externalId), kept.get(item.externalId), checksum),
        (decision) => ({ item, decision })
      ), { concurrency: hashConcurrency })
    : Effect.succeed(items.map((item) => ({
      item,
      decision: sameTime(item, records.get(item.externalId)) ? "skip" as const : "upload" as const
    })))

/**
 * `decideEach` over a batch of a job, with the hashes kept in its state.
 *
 * @internal
 */
export const decideAll = <I extends Decidable>(
  job: { readonly jobId: string; readonly checksum: boolean },
  items: ReadonlyArray<I>,
  records: { readonly get: (externalId: string) => RecordOf }
) =>
  job.checksum
    ? Effect.flatMap(
      Store.persistently(Store.hashes(job.jobId, items.map((item) => item.externalId))),
      (kept) => decideEach(items, records, kept, true)
    )
    : decideEach(items, records, new Map(), false)
