/**
 * Multipart upload sessions (`withMultipartUploadSession`, `withMultipartUploadContentSession`): the caller sends
 * each part, the session checks every part was sent once, then completes the upload (and, for a new record, deletes
 * it on failure).
 *
 * @internal
 */
import { Effect, Ref } from "effect"
import type * as CdfClient from "../CdfClient.js"
import { type CdfError, UploadError } from "../CdfError.js"
import * as Content from "../Content.js"
import * as Identifier from "../FileIdentifier.js"
import type * as FileMetadata from "../FileMetadata.js"
import * as FileRecords from "./fileRecords.js"
import { withCleanupOf } from "./recordCleanup.js"
import * as FileWire from "./fileWire.js"
import { validateCallOptions, validateSessionOptions } from "./callOptions.js"
import * as Validation from "./metadataValidation.js"
import * as Transfer from "./transfer.js"
import { settingsFor } from "./uploadFlow.js"
import type { MultipartUploadSession } from "./uploadTypes.js"

const makeSession = (
  client: CdfClient.Service,
  record: FileWire.MultiPartUploadFileMetadata,
  parts: number,
  settings: Transfer.TransferSettings
) =>
  Effect.map(Ref.make(new Map<number, "sending" | "sent">()), (state) => {
    const urls = record.uploadUrls.map((url) => FileRecords.uploadUrlOf(client, url))
    const session: MultipartUploadSession = {
      file: FileRecords.plainMetadata(record),
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
          const { onProgress } = yield* validateCallOptions(options ?? {})
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
            onProgress
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

/** Runs `use`, then (only if it succeeded) checks that every part was sent and completes the upload. */
const runSession = <A, E, R>(
  client: CdfClient.Service,
  record: FileWire.MultiPartUploadFileMetadata,
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
    yield* FileRecords.completeMultipart(client, { id: record.id, uploadId: record.uploadId })
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
    // a JavaScript caller may pass anything: read once, before any request (the metadata schema ignores the call's
    // own options)
    const { checksum, parts } = yield* validateSessionOptions(options)
    const valid = yield* Validation.validateUploadOptions(options)
    yield* Effect.annotateCurrentSpan("cdf.upload.parts", parts)
    const body = Validation.toWireBody(valid)
    const overwrite = valid.overwrite ?? false
    const settings = settingsFor(client, { checksum })
    // register: a record this call created is recorded atomically with its creation (also when interrupted while
    // the create is in flight), so withCleanupOf deletes it if anything after fails or is interrupted.
    return yield* withCleanupOf(client, (created) =>
      Effect.flatMap(
        FileRecords.createMultipart(client, { body, overwrite, parts, register: created }),
        ({ record }) => runSession(client, record, parts, settings, use)
      ))
  }).pipe(Effect.withSpan("Files.withMultipartUploadSession"))

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
    const { checksum, parts } = yield* validateSessionOptions(options)
    const valid = yield* Identifier.validateContentIdentifier(identifier)
    const record = yield* FileRecords.multiUploadLink(client, valid, parts)
    return yield* runSession(client, record, parts, settingsFor(client, { checksum }), use)
  }).pipe(Effect.withSpan("Files.withMultipartUploadContentSession"))
