/**
 * The large-files operations of `Files`: upload to an existing file (`uploadlink` / `multiuploadlink`), multipart
 * sessions, and waiting until the API marks a file uploaded.
 *
 * @internal
 */
import { Clock, Duration, Effect, Option, Ref, Schedule } from "effect"
import type * as CdfClient from "../CdfClient.js"
import { type CdfError, CdfTimeoutError, isCdfError, UploadError, withCleanup } from "../CdfError.js"
import * as Content from "../Content.js"
import * as FileMetadata from "../FileMetadata.js"
import type { MultipartUploadSession } from "../Files.js"
import type { OnProgress } from "../Progress.js"
import * as FilesApi from "./fileRecords.js"
import * as Transfer from "./transfer.js"

/** Options of the transfer itself (every upload call takes them). @internal */
export interface TransferOptions {
  readonly onProgress?: OnProgress | undefined
  readonly multipart?: boolean | undefined
  readonly checksum?: "sha256" | undefined
}

/** The client's transfer settings with the per-call checksum option applied. @internal */
export const settingsFor = (client: CdfClient.Service, options: TransferOptions): Transfer.TransferSettings =>
  options.checksum === "sha256" && !client.transfer.checksum ? { ...client.transfer, checksum: true } : client.transfer

/** @internal */
export interface ContentUploadResult {
  readonly file: FileMetadata.FileMetadata
  readonly transfer: Transfer.TransferResult
}

/**
 * Uploads content to an existing file (by external id or instance id): `uploadlink` and one PUT, or
 * `multiuploadlink`, the parts and `completemultipartupload`. No record is created, so nothing is deleted on failure.
 *
 * @internal
 */
export const uploadContentBytes = (
  client: CdfClient.Service,
  input: Content.Input,
  identifier: FileMetadata.ContentIdentifier,
  options: TransferOptions
): Effect.Effect<ContentUploadResult, CdfError> =>
  Effect.scoped(Effect.gen(function*() {
    const valid = yield* FileMetadata.validateContentIdentifier(identifier)
    const settings = settingsFor(client, options)
    const prepared = yield* Transfer.prepare(Content.make(input), settings, { multipart: options.multipart })
    yield* Effect.annotateCurrentSpan({ "cdf.upload.plan": prepared.plan._tag })
    if (prepared.plan._tag === "Single") {
      const record = yield* FilesApi.uploadLink(client, valid)
      const transfer = yield* Transfer.putSingle({
        storage: client.storage,
        url: FilesApi.uploadUrlOf(client, record.uploadUrl),
        prepared,
        contentType: record.mimeType,
        settings,
        onProgress: options.onProgress
      })
      return { file: FilesApi.plainMetadata(record), transfer }
    }
    const record = yield* FilesApi.multiUploadLink(client, valid, prepared.plan.parts)
    const transfer = yield* Transfer.putParts({
      storage: client.storage,
      urls: record.uploadUrls.map((url) => FilesApi.uploadUrlOf(client, url)),
      prepared,
      settings,
      onProgress: options.onProgress
    })
    yield* FilesApi.completeMultipart(client, { id: record.id, uploadId: record.uploadId })
    return { file: FilesApi.plainMetadata(record), transfer }
  })).pipe(Effect.withSpan("Files.uploadContentBytes"))


const makeSession = (
  client: CdfClient.Service,
  record: FileMetadata.MultiPartUploadFileMetadata,
  parts: number,
  settings: Transfer.TransferSettings
) =>
  Effect.map(Ref.make(new Map<number, "sending" | "sent">()), (state) => {
    const urls = record.uploadUrls.map((url) => FilesApi.uploadUrlOf(client, url))
    const session: MultipartUploadSession = {
      file: FilesApi.plainMetadata(record),
      parts,
      uploadPart: (part, input, options) =>
        Effect.gen(function*() {
          if (!Number.isInteger(part) || part < 0 || part >= parts) {
            return yield* new UploadError({
              message: `part ${part} is out of range: this session has parts 0 to ${parts - 1}`,
              reason: "Incomplete",
              part
            })
          }
          const claimed = yield* Ref.modify(state, (map) => {
            if (map.has(part)) return [false, map]
            const next = new Map(map)
            next.set(part, "sending")
            return [true, next]
          })
          if (!claimed) {
            return yield* new UploadError({ message: `part ${part} was sent twice`, reason: "Incomplete", part })
          }
          const release = Ref.update(state, (map) => {
            const next = new Map(map)
            next.delete(part)
            return next
          })
          return yield* Transfer.putPart({
            storage: client.storage,
            url: urls[part]!,
            part,
            content: Content.make(input),
            settings,
            onProgress: options?.onProgress
          }).pipe(
            Effect.tap(() => Ref.update(state, (map) => new Map(map).set(part, "sent"))),
            Effect.onExit((exit) => exit._tag === "Success" ? Effect.void : release)
          )
        }).pipe(Effect.withSpan("Files.uploadPart", { attributes: { "cdf.part": part } }))
    }
    const missing = Effect.map(Ref.get(state), (map) =>
      Array.from({ length: parts }, (_, i) => i).filter((i) => map.get(i) !== "sent"))
    return { session, missing }
  })

const checkParts = (parts: number): Effect.Effect<void, UploadError> =>
  Number.isInteger(parts) && parts >= 1 && parts <= Transfer.limits.maxParts
    ? Effect.void
    : Effect.fail(
      new UploadError({
        message: `parts must be an integer from 1 to ${Transfer.limits.maxParts}, not ${parts}`,
        reason: "Incomplete"
      })
    )

/** Runs `use`, then (only if it succeeded) checks that every part was sent and completes the upload. */
const runSession = <A, E, R>(
  client: CdfClient.Service,
  record: FileMetadata.MultiPartUploadFileMetadata,
  parts: number,
  settings: Transfer.TransferSettings,
  use: (session: MultipartUploadSession) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | CdfError, R> =>
  Effect.gen(function*() {
    const { missing, session } = yield* makeSession(client, record, parts, settings)
    const result = yield* use(session)
    const absent = yield* missing
    if (absent.length > 0) {
      return yield* new UploadError({
        message: `the session ended without part(s) ${absent.join(", ")} of ${parts}: the upload was not completed`,
        reason: "Incomplete"
      })
    }
    yield* FilesApi.completeMultipart(client, { id: record.id, uploadId: record.uploadId })
    return result
  })

/**
 * A multipart upload to a new record (`initmultipartupload`), run by `use`, completed after `use` succeeds. If `use`
 * fails or is interrupted, or a part is missing, or completion fails, the record is deleted (best effort).
 *
 * @internal
 */
export const withMultipartUploadSession = <A, E, R>(
  client: CdfClient.Service,
  options: FileMetadata.UploadOptions & { readonly parts: number; readonly checksum?: "sha256" | undefined },
  use: (session: MultipartUploadSession) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | CdfError, R> =>
  Effect.gen(function*() {
    const { checksum, parts, ...metadata } = options
    yield* checkParts(parts)
    const valid = yield* FileMetadata.validateUploadOptions(metadata)
    const body = FileMetadata.toWireBody(valid)
    const overwrite = valid.overwrite ?? false
    const settings = settingsFor(client, { checksum })
    const created = yield* Ref.make(Option.none<number>())
    const takeCreated = Ref.getAndSet(created, Option.none())
    const cleanup = (error: E | CdfError): Effect.Effect<never, E | CdfError> =>
      Effect.flatMap(takeCreated, (id) =>
        Option.match(id, {
          onNone: () => Effect.fail(error),
          onSome: (fileId) =>
            Effect.flatMap(FilesApi.deleteCreated(client, fileId), (c) =>
              Effect.fail(isCdfError(error) ? withCleanup(error, c) : error))
        }))
    return yield* Effect.gen(function*() {
      // register: a record this call created is recorded atomically with its creation (also when interrupted while
      // the create is in flight), so the cleanup below deletes it.
      const { record } = yield* FilesApi.createRecord({
        client,
        path: "files/initmultipartupload",
        urlParams: { overwrite: String(overwrite), parts: String(parts) },
        body,
        overwrite,
        response: FileMetadata.InitMultiPartUploadResponse,
        register: created,
        resume: (externalId) => FilesApi.multiUploadLink(client, { externalId }, parts)
      })
      return yield* runSession(client, record, parts, settings, use)
    }).pipe(
      Effect.catchAll(cleanup),
      Effect.onExit((exit) =>
        exit._tag === "Success" ? Effect.void : Effect.flatMap(takeCreated, (id) =>
          Option.match(id, {
            onNone: () => Effect.void,
            onSome: (fileId) => FilesApi.deleteCreated(client, fileId)
          }))
      )
    )
  }).pipe(Effect.withSpan("Files.withMultipartUploadSession", { attributes: { "cdf.upload.parts": options.parts } }))

/**
 * A multipart upload of new content to an existing file (`multiuploadlink`), run by `use`, completed after `use`
 * succeeds. Nothing is deleted on failure: the record was not created by this call.
 *
 * @internal
 */
export const withMultipartUploadContentSession = <A, E, R>(
  client: CdfClient.Service,
  identifier: FileMetadata.ContentIdentifier,
  options: { readonly parts: number; readonly checksum?: "sha256" | undefined },
  use: (session: MultipartUploadSession) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | CdfError, R> =>
  Effect.gen(function*() {
    yield* checkParts(options.parts)
    const valid = yield* FileMetadata.validateContentIdentifier(identifier)
    const record = yield* FilesApi.multiUploadLink(client, valid, options.parts)
    return yield* runSession(client, record, options.parts, settingsFor(client, options), use)
  }).pipe(Effect.withSpan("Files.withMultipartUploadContentSession"))

/** The default poll of `waitUntilAcknowledged`: 200 ms growing by 1.5, at most 2 s apart, 12 polls (about 15 s). @internal */
export const defaultAcknowledgeSchedule: Schedule.Schedule<unknown, unknown> = Schedule.exponential("200 millis", 1.5)
  .pipe(
    Schedule.union(Schedule.spaced("2 seconds")),
    Schedule.intersect(Schedule.recurs(11))
  )

/**
 * Polls `byids` on `schedule` until the file's `uploaded` is true; gives up with `CdfTimeoutError` kind `deadline`
 * when the schedule ends first.
 *
 * @internal
 */
export const waitUntilAcknowledged = (
  client: CdfClient.Service,
  file: typeof FileMetadata.FileIdentifier.Encoded,
  schedule: Schedule.Schedule<unknown, unknown> = defaultAcknowledgeSchedule
): Effect.Effect<FileMetadata.FileMetadata, CdfError> =>
  Effect.gen(function*() {
    const identifier = yield* FileMetadata.validateFileIdentifier(file)
    const start = yield* Clock.currentTimeMillis
    let polls = 0
    let last: FileMetadata.FileMetadata | undefined
    yield* FilesApi.retrieve(client, identifier).pipe(
      Effect.tap((record) =>
        Effect.sync(() => {
          polls++
          last = record
        })
      ),
      Effect.repeat({ schedule, while: (record) => !record.uploaded })
    )
    if (last === undefined) return yield* Effect.dieMessage("waitUntilAcknowledged: no poll ran")
    if (last.uploaded) return last
    const elapsed = (yield* Clock.currentTimeMillis) - start
    return yield* new CdfTimeoutError({
      message: `file ${last.id} was still not marked uploaded after ${polls} poll(s) over ${
        Duration.format(Duration.millis(elapsed))
      }`,
      kind: "deadline",
      timeoutMillis: elapsed
    })
  }).pipe(Effect.withSpan("Files.waitUntilAcknowledged"))
