/**
 * Multipart uploads that survive a process restart (the `resume` option): each new session and each acknowledged
 * part is handed to `onCheckpoint` as a `MultipartCheckpoint`, and a stored checkpoint continues its session
 * (acknowledged parts are not sent again). A checkpoint that does not fit the content, URLs that storage refuses,
 * or a session gone at completion start the file again with a new session under the same external id, overwriting
 * the checkpoint's own record (never another writer's: without `overwrite: true`, only when the record under that
 * external id is the checkpoint's file).
 *
 * @internal
 */
import { Effect, Option, ParseResult, Ref, SynchronizedRef } from "effect"
import type * as CdfClient from "../CdfClient.js"
import { type CdfError, InvalidFileMetadataError } from "../CdfError.js"
import type * as FileMetadata from "../FileMetadata.js"
import * as MultipartCheckpoint from "../MultipartCheckpoint.js"
import type { OnProgress } from "../Progress.js"
import * as Queries from "./fileQueries.js"
import * as FileRecords from "./fileRecords.js"
import * as Transfer from "./transfer.js"
import { implOf } from "./uploadPlan.js"

/** A checked `resume` option. @internal */
export interface Resume {
  readonly externalId: string
  readonly checkpoint: MultipartCheckpoint.MultipartCheckpoint | undefined
  readonly onCheckpoint: (checkpoint: MultipartCheckpoint.MultipartCheckpoint) => Effect.Effect<void>
}

const invalid = (option: string, limit: string, detail: string) =>
  new InvalidFileMetadataError({ option, limit, message: `Invalid option ${option}: ${detail}` })

/**
 * What is wrong with a checkpoint, field by field, without its values: a checkpoint holds signed upload URLs, and
 * a parse error's own message quotes the value it refused.
 */
const describe = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => {
    const where = issue.path.length === 0 ? "the checkpoint" : issue.path.join(".")
    const what = issue._tag === "Type" || issue._tag === "Refinement"
      ? issue.message.replace(/, actual [\s\S]*$/, "").replace(/https?:\/\/\S+/g, "<url>")
      : issue._tag === "Missing"
      ? "is missing"
      : issue._tag === "Unexpected"
      ? "is not a checkpoint field"
      : "is invalid"
    return `${where}: ${what}`
  }).join("; ")

/**
 * Checks the `resume` option (absent: `undefined`): an object with an `onCheckpoint` function, a `checkpoint` that
 * decodes as a `MultipartCheckpoint`, and an `externalId` among the upload options.
 *
 * @internal
 */
export const validate = (
  resume: unknown,
  externalId: string | undefined
): Effect.Effect<Resume | undefined, InvalidFileMetadataError> =>
  Effect.gen(function*() {
    if (resume === undefined) return undefined
    if (typeof resume !== "object" || resume === null) {
      return yield* invalid("resume", "an object { checkpoint?, onCheckpoint }", "must be an object")
    }
    const onCheckpoint: unknown = Reflect.get(resume, "onCheckpoint")
    if (typeof onCheckpoint !== "function") {
      return yield* invalid("resume.onCheckpoint", "a function", "must be a function returning an Effect")
    }
    if (externalId === undefined) {
      return yield* invalid(
        "resume",
        "an externalId",
        "a resumable upload needs an externalId (a restart must find the same file)"
      )
    }
    const given: unknown = Reflect.get(resume, "checkpoint")
    const checkpoint = given === undefined ? undefined : yield* MultipartCheckpoint.decode(given).pipe(
      Effect.mapError((error) => invalid("resume.checkpoint", "a MultipartCheckpoint", describe(error)))
    )
    return {
      externalId,
      checkpoint,
      onCheckpoint: onCheckpoint as Resume["onCheckpoint"]
    }
  })

/**
 * Whether the record under the checkpoint's external id is the checkpoint's own file (so a restart may overwrite
 * it); `false` when there is none.
 *
 * @internal
 */
const ownsRecord = (
  client: CdfClient.Service,
  checkpoint: MultipartCheckpoint.MultipartCheckpoint
): Effect.Effect<boolean, CdfError> =>
  Effect.map(
    Queries.retrieveMany(client, [{ externalId: checkpoint.externalId }], { ignoreUnknownIds: true }),
    (records) => records.some((record) => record.id === checkpoint.fileId)
  )

/** The overwrite flag of a new session: the caller's, or true over the checkpoint's own record. @internal */
export const overwriteFor = (
  client: CdfClient.Service,
  resume: Resume | undefined,
  overwrite: boolean
): Effect.Effect<boolean, CdfError> =>
  overwrite || resume?.checkpoint === undefined ? Effect.succeed(overwrite) : ownsRecord(client, resume.checkpoint)

/** A failure that says the checkpoint's session cannot be continued: its URLs refused, or it is gone. */
const sessionRefused = (error: CdfError): boolean =>
  error._tag === "UploadError" && error.status !== undefined && (
    (error.reason === "Status" && error.part !== undefined && [400, 403, 404, 410].includes(error.status)) ||
    (error.reason === "Completion" && [400, 404].includes(error.status))
  )

type MultipartPlan = Extract<Transfer.Plan, { readonly _tag: "Multipart" }>

/** What a resumable multipart upload is given. @internal */
export interface ResumableArgs {
  readonly prepared: Transfer.Prepared
  readonly plan: MultipartPlan
  readonly body: FileMetadata.FileMetadataWrite
  readonly overwrite: boolean
  readonly created: Ref.Ref<Option.Option<number>>
  readonly onProgress: OnProgress | undefined
  readonly settings: Transfer.TransferSettings
  readonly resume: Resume
}

const fits = (checkpoint: MultipartCheckpoint.MultipartCheckpoint, plan: MultipartPlan, externalId: string) =>
  checkpoint.externalId === externalId && checkpoint.size === plan.size && checkpoint.partSize === plan.partSize &&
  checkpoint.parts === plan.parts

/** The parts of a session not yet acknowledged are sent (each acknowledgement checkpointed), then it is completed. */
const sendAndComplete = (
  client: CdfClient.Service,
  args: ResumableArgs,
  checkpoint: MultipartCheckpoint.MultipartCheckpoint
): Effect.Effect<Transfer.TransferResult, CdfError> =>
  Effect.gen(function*() {
    const current = yield* SynchronizedRef.make(checkpoint)
    const onPart = (part: number) =>
      SynchronizedRef.updateEffect(current, (c) => {
        const next: MultipartCheckpoint.MultipartCheckpoint = {
          ...c,
          acknowledged: [...c.acknowledged.filter((p) => p !== part), part].sort((a, b) => a - b)
        }
        return Effect.as(args.resume.onCheckpoint(next), next)
      })
    const transfer = yield* Transfer.putParts({
      storage: client.storage,
      urls: checkpoint.uploadUrls.map((url) => client.resolveUploadUrl(url)),
      prepared: args.prepared,
      settings: args.settings,
      onProgress: args.onProgress,
      skip: new Set(checkpoint.acknowledged),
      onPart
    }).pipe(
      FileRecords.withRequestSpan(client, "Files.transfer", {
        attributes: {
          "cdf.file.id": checkpoint.fileId,
          "cdf.upload.size": checkpoint.size,
          "cdf.upload.parts": checkpoint.parts,
          "cdf.upload.resumed.parts": checkpoint.acknowledged.length
        }
      })
    )
    yield* FileRecords.completeMultipart(client, { id: checkpoint.fileId, uploadId: checkpoint.uploadId })
    return transfer
  })

/** A new session (a new record, or the checkpoint's own overwritten), checkpointed, then every part sent. */
const fresh = (
  client: CdfClient.Service,
  args: ResumableArgs,
  overwrite: boolean
): Effect.Effect<{ readonly file: FileMetadata.FileMetadata; readonly transfer: Transfer.TransferResult }, CdfError> =>
  Effect.gen(function*() {
    const { plan } = args
    const { record } = yield* FileRecords.createMultipart(client, {
      body: args.body,
      overwrite,
      parts: plan.parts,
      register: args.created
    })
    const checkpoint: MultipartCheckpoint.MultipartCheckpoint = {
      version: 1,
      fileId: record.id,
      externalId: args.resume.externalId,
      uploadId: record.uploadId,
      size: plan.size,
      partSize: plan.partSize,
      parts: plan.parts,
      uploadUrls: record.uploadUrls.map((url) => FileRecords.uploadUrlOf(client, url)),
      acknowledged: []
    }
    yield* args.resume.onCheckpoint(checkpoint)
    // the caller holds a checkpoint of this record now: a failure from here on leaves it for a later resume
    yield* Ref.set(args.created, Option.none())
    const transfer = yield* sendAndComplete(client, args, checkpoint)
    return { file: FileRecords.plainMetadata(record), transfer }
  })

/**
 * A multipart upload with `resume`: continued from the checkpoint when it fits the content (and the content can be
 * read again should the session be refused), otherwise or on refusal started again with a new session.
 *
 * @internal
 */
export const uploadMultipart = (
  client: CdfClient.Service,
  args: ResumableArgs
): Effect.Effect<{ readonly file: FileMetadata.FileMetadata; readonly transfer: Transfer.TransferResult }, CdfError> =>
  Effect.gen(function*() {
    const { checkpoint } = args.resume
    const restart = Effect.flatMap(overwriteFor(client, args.resume, args.overwrite), (ow) => fresh(client, args, ow))
    if (checkpoint === undefined) return yield* fresh(client, args, args.overwrite)
    if (!fits(checkpoint, args.plan, args.resume.externalId)) return yield* restart
    const replayable = implOf(args.prepared.content).source._tag !== "OneShot"
    return yield* sendAndComplete(client, args, checkpoint).pipe(
      Effect.flatMap((transfer) =>
        Effect.map(FileRecords.retrieve(client, { id: checkpoint.fileId }), (file) => ({ file, transfer }))
      ),
      Effect.catchIf((error) => replayable && sessionRefused(error), () =>
        Effect.zipRight(Effect.annotateCurrentSpan("cdf.resume.restarted", true), restart))
    )
  }).pipe(Effect.withSpan("Files.resumableUpload", {
    captureStackTrace: false,
    attributes: { "cdf.resume.checkpoint": args.resume.checkpoint !== undefined }
  }))
