/**
 * The upload orchestration of `Files`: a new file (create the record, then one PUT or the parts and completion,
 * deleting the record on failure) and new content for an existing file (`uploadlink` / `multiuploadlink`). The API
 * calls are in `fileRecords.ts`, the bytes side in `transfer.ts`.
 *
 * @internal
 */
import { Effect, type Option, type Ref } from "effect"
import type * as CdfClient from "../CdfClient.js"
import type { CdfError } from "../CdfError.js"
import * as Content from "../Content.js"
import * as Identifier from "../FileIdentifier.js"
import type * as FileMetadata from "../FileMetadata.js"
import type { OnProgress } from "../Progress.js"
import { withDeadline } from "./deadline.js"
import * as FileRecords from "./fileRecords.js"
import { withCleanupOf } from "./recordCleanup.js"
import * as Validation from "./metadataValidation.js"
import { validateCallOptions } from "./callOptions.js"
import * as Resumable from "./resumableUpload.js"
import * as Transfer from "./transfer.js"
import type { UploadBytesOptions, UploadResult } from "./uploadTypes.js"

/** Options of the transfer itself (every upload call takes them). @internal */
export interface CallTransferOptions {
  readonly onProgress?: OnProgress | undefined
  readonly multipart?: boolean | undefined
  readonly checksum?: "sha256" | undefined
}

/** The client's transfer settings with the per-call checksum option applied. @internal */
export const settingsFor = (client: CdfClient.Service, options: CallTransferOptions): Transfer.TransferSettings =>
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
  options: CallTransferOptions
): Effect.Effect<ContentUploadResult, CdfError> =>
  Effect.scoped(Effect.gen(function*() {
    const valid = yield* Identifier.validateContentIdentifier(identifier)
    const { checksum, multipart, onProgress } = yield* validateCallOptions(options)
    const settings = settingsFor(client, { checksum })
    const prepared = yield* Transfer.prepare(Content.make(input), settings, { multipart })
    yield* Effect.annotateCurrentSpan({ "cdf.upload.plan": prepared.plan._tag })
    if (prepared.plan._tag === "Single") {
      const record = yield* FileRecords.uploadLink(client, valid)
      const transfer = yield* Transfer.putSingle({
        storage: client.storage,
        url: FileRecords.uploadUrlOf(client, record.uploadUrl),
        prepared,
        contentType: record.mimeType,
        settings,
        onProgress
      })
      return { file: FileRecords.plainMetadata(record), transfer }
    }
    const record = yield* FileRecords.multiUploadLink(client, valid, prepared.plan.parts)
    const transfer = yield* Transfer.putParts({
      storage: client.storage,
      urls: record.uploadUrls.map((url) => FileRecords.uploadUrlOf(client, url)),
      prepared,
      settings,
      onProgress
    })
    yield* FileRecords.completeMultipart(client, { id: record.id, uploadId: record.uploadId })
    return { file: FileRecords.plainMetadata(record), transfer }
  })).pipe(Effect.withSpan("Files.uploadContentBytes"))

/**
 * Uploads content as a new file: validates the options, creates the record (`POST files` for a single PUT,
 * `initmultipartupload` for parts), sends the bytes, completes a multipart upload; a record this call created is
 * deleted if anything after its creation fails or is interrupted. `force` overrides the call's own options (the
 * checksum of a verified upload).
 *
 * @internal
 */
export const uploadWith = (client: CdfClient.Service) =>
(
  input: Content.Input,
  options: UploadBytesOptions,
  force?: { readonly checksum: "sha256" }
): Effect.Effect<UploadResult, CdfError> =>
  Effect.gen(function*() {
    // Validate first: a JavaScript caller may pass anything (null, a number, an object whose getters throw). The
    // metadata schema ignores the call's own options (onProgress, multipart, checksum, verify, resume); they are
    // read once, by `validateCallOptions`.
    const valid = yield* Validation.validateUploadOptions(options)
    const { checksum, multipart, onProgress, resume: resumeOption } = yield* validateCallOptions(options)
    const resume = resumeOption === undefined ? undefined : yield* Resumable.validate(resumeOption, valid.externalId)
    const body = Validation.toWireBody(valid)
    const overwrite = valid.overwrite ?? false
    const settings = settingsFor(client, { checksum: force?.checksum ?? checksum })
    return yield* withCleanupOf(client, (created) =>
      Effect.suspend(() => {
        const upload = (prepared: Transfer.Prepared): Effect.Effect<UploadResult, CdfError> =>
          Effect.gen(function*() {
            yield* Effect.annotateCurrentSpan({
              "cdf.upload.plan": prepared.plan._tag,
              ...(prepared.plan.size === undefined ? {} : { "cdf.upload.size": prepared.plan.size })
            })
            const { file, transfer } = yield* prepared.plan._tag === "Single"
              ? resume?.checkpoint === undefined
                ? uploadSingle(client, { prepared, body, overwrite, created, onProgress, settings })
                : Effect.flatMap(
                  Resumable.overwriteFor(client, resume, overwrite),
                  (overwrite) => uploadSingle(client, { prepared, body, overwrite, created, onProgress, settings })
                )
              : resume !== undefined
              ? Resumable.uploadMultipart(client, {
                prepared,
                plan: prepared.plan,
                body,
                overwrite,
                created,
                onProgress,
                settings,
                resume
              })
              : uploadMultipart(client, { prepared, plan: prepared.plan, body, overwrite, created, onProgress, settings })
            return { file, bytes: transfer.bytes, sha256: transfer.sha256 }
          })
        const content = Content.make(input)
        // Content in memory needs no reading, so no scope (a scope costs about as much as a span)
        const inMemory = Transfer.prepareInMemory(content, settings, { multipart })
        return inMemory === undefined
          ? Effect.scoped(Effect.flatMap(Transfer.prepare(content, settings, { multipart }), upload))
          : Effect.flatMap(inMemory, upload)
      }).pipe(withDeadline(client)))
  }).pipe(Effect.withSpan("Files.uploadBytes", { captureStackTrace: false }))

/** `uploadWith`, returning only the record. @internal */
export const uploadBytesWith = (client: CdfClient.Service) => {
  const upload = uploadWith(client)
  return (input: Content.Input, options: UploadBytesOptions): Effect.Effect<FileMetadata.FileMetadata, CdfError> =>
    Effect.map(upload(input, options), (result) => result.file)
}

/** What `uploadSingle` and `uploadMultipart` are given. */
interface UploadArgs {
  readonly prepared: Transfer.Prepared
  readonly body: FileMetadata.FileMetadataWrite
  readonly overwrite: boolean
  readonly created: Ref.Ref<Option.Option<number>>
  readonly onProgress: OnProgress | undefined
  readonly settings: Transfer.TransferSettings
}

const uploadSingle = (
  client: CdfClient.Service,
  args: UploadArgs
): Effect.Effect<ContentUploadResult, CdfError> =>
  Effect.gen(function*() {
    const { record } = yield* FileRecords.createFile(client, {
      body: args.body,
      overwrite: args.overwrite,
      register: args.created
    })
    const transfer = yield* Transfer.putSingle({
      storage: client.storage,
      url: FileRecords.uploadUrlOf(client, record.uploadUrl),
      prepared: args.prepared,
      contentType: record.mimeType,
      settings: args.settings,
      onProgress: args.onProgress
    }).pipe(
      FileRecords.withRequestSpan(client, "Files.transfer", {
        attributes: {
          "cdf.file.id": record.id,
          ...(args.prepared.plan.size === undefined ? {} : { "cdf.upload.size": args.prepared.plan.size })
        }
      })
    )
    return { file: FileRecords.plainMetadata(record), transfer }
  })

const uploadMultipart = (
  client: CdfClient.Service,
  args: UploadArgs & { readonly plan: Extract<Transfer.Plan, { readonly _tag: "Multipart" }> }
): Effect.Effect<ContentUploadResult, CdfError> =>
  Effect.gen(function*() {
    const { plan } = args
    const { record } = yield* FileRecords.createMultipart(client, {
      body: args.body,
      overwrite: args.overwrite,
      parts: plan.parts,
      register: args.created
    })
    const transfer = yield* Transfer.putParts({
      storage: client.storage,
      urls: record.uploadUrls.map((url) => FileRecords.uploadUrlOf(client, url)),
      prepared: args.prepared,
      settings: args.settings,
      onProgress: args.onProgress
    }).pipe(
      FileRecords.withRequestSpan(client, "Files.transfer", {
        attributes: { "cdf.file.id": record.id, "cdf.upload.size": plan.size, "cdf.upload.parts": plan.parts }
      })
    )
    yield* FileRecords.completeMultipart(client, { id: record.id, uploadId: record.uploadId })
    return { file: FileRecords.plainMetadata(record), transfer }
  })
