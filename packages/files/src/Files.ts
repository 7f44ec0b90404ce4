/**
 * The CDF Files service: `uploadBytes` (the Python SDK's `files.upload_bytes`, as an Effect) and `retrieve`.
 *
 * ```ts
 * import { Files } from "@effect-cdf/files"
 *
 * const upload = Files.uploadBytes("hello", { name: "hello.txt", externalId: "greeting", mimeType: "text/plain" })
 * ```
 *
 * @since 0.1.0
 */
import { Context, Duration, Effect, Layer, Option, Ref, type Schedule } from "effect"
import * as CdfClient from "./CdfClient.js"
import { type CdfError, CdfTimeoutError, InvalidFileMetadataError, type UploadError } from "./CdfError.js"
import * as Content from "./Content.js"
import * as FileMetadata from "./FileMetadata.js"
import * as FilesApi from "./internal/fileRecords.js"
import * as Transfer from "./internal/transfer.js"
import * as TransferFiles from "./internal/uploadFlow.js"
import type { OnProgress } from "./Progress.js"

/**
 * The options of `uploadBytes`: every parameter of the Python SDK's `upload_bytes` (camelCase, times as epoch
 * milliseconds or `Date`), plus what only an Effect upload has.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadBytesOptions extends FileMetadata.UploadOptions {
  /** Called as bytes are sent and acknowledged (at most every 100 ms, and once at the end). */
  readonly onProgress?: OnProgress | undefined
  /** Force multipart (true) or a single PUT (false); default: by size, see `CdfConfig.singlePutThreshold`. */
  readonly multipart?: boolean | undefined
  /** `"sha256"`: compute the sha256 of what was sent (returned by `upload`); default off (it costs CPU). */
  readonly checksum?: "sha256" | undefined
}

/**
 * The options of `uploadContentBytes`: progress, path and checksum (the record's metadata is not changed).
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadContentOptions {
  readonly onProgress?: OnProgress | undefined
  readonly multipart?: boolean | undefined
  readonly checksum?: "sha256" | undefined
}

/**
 * What `upload` returns: the record (as the create call answered it), the bytes sent and, with
 * `checksum: "sha256"`, the hex sha256 of what was sent.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadResult {
  readonly file: FileMetadata.FileMetadata
  readonly bytes: number
  readonly sha256: string | undefined
}

/**
 * What one part of a session sent: its size and, with `checksum: "sha256"`, its sha256.
 *
 * @since 0.1.0
 * @category models
 */
export interface PartResult {
  readonly bytes: number
  readonly sha256: string | undefined
}

/**
 * A multipart upload in progress (`withMultipartUploadSession`): send each part `0 .. parts - 1` once, in any order,
 * concurrently if you like. Every part but the last must be larger than 5 MiB (the API checks it at completion).
 *
 * @since 0.1.0
 * @category models
 */
export interface MultipartUploadSession {
  /** The record, as `initmultipartupload` / `multiuploadlink` answered. */
  readonly file: FileMetadata.FileMetadata
  /** How many parts were asked for. */
  readonly parts: number
  /**
   * Sends part `part` (0-based). Fails with `UploadError` reason `Incomplete` for a part out of range or already
   * sent (or being sent); a part whose upload failed may be sent again.
   */
  readonly uploadPart: (
    part: number,
    content: Content.Input,
    options?: { readonly onProgress?: OnProgress | undefined }
  ) => Effect.Effect<PartResult, UploadError | CdfTimeoutError>
}

/**
 * The options of `withMultipartUploadSession`: the record's metadata (as for `uploadBytes`), the number of parts
 * (1 to 250) and the checksum option.
 *
 * @since 0.1.0
 * @category models
 */
export interface MultipartUploadSessionOptions extends FileMetadata.UploadOptions {
  readonly parts: number
  readonly checksum?: "sha256" | undefined
}

/**
 * Which file `retrieve` reads: exactly one of `{ id }`, `{ externalId }`, `{ instanceId: { space, externalId } }`.
 *
 * @since 0.1.0
 * @category models
 */
export type FileIdentifier = typeof FileMetadata.FileIdentifier.Encoded

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Creates a file record and uploads `content` to it; returns the record as the create call answered it (so
   * `uploaded` is usually still false: the API sets it eventually).
   *
   * Options are checked against every limit of the API before any request. Content up to the single-PUT threshold
   * goes in one PUT (with the `Content-Type` of the record's `mimeType`), larger content in parts. A failure or an
   * interruption after the call created a new record deletes that record (best effort) and says so in the error.
   */
  readonly uploadBytes: (
    content: Content.Input,
    options: UploadBytesOptions
  ) => Effect.Effect<FileMetadata.FileMetadata, CdfError>
  /** Reads one file record (`files/byids`). */
  readonly retrieve: (file: FileIdentifier) => Effect.Effect<FileMetadata.FileMetadata, CdfError>
  /** `uploadBytes`, returning also the bytes sent and (with `checksum: "sha256"`) their sha256. */
  readonly upload: (content: Content.Input, options: UploadBytesOptions) => Effect.Effect<UploadResult, CdfError>
  /**
   * Uploads `content` to an existing file, by `{ externalId }` or `{ instanceId }` (the Python SDK's
   * `upload_content_bytes`): `files/uploadlink` and one PUT, or `files/multiuploadlink`, the parts and completion
   * above the single-PUT threshold. Returns the record as the link call answered it.
   */
  readonly uploadContentBytes: (
    content: Content.Input,
    file: FileMetadata.ContentIdentifier,
    options?: UploadContentOptions
  ) => Effect.Effect<FileMetadata.FileMetadata, CdfError>
  /**
   * Creates a record with `initmultipartupload` for `parts` parts and runs `use` with the session; once `use`
   * succeeds, checks every part was sent (else `UploadError` reason `Incomplete`) and completes the upload, as a
   * typed step. If `use` fails or is interrupted, or completion fails, the record is deleted (best effort).
   */
  readonly withMultipartUploadSession: <A, E, R>(
    options: MultipartUploadSessionOptions,
    use: (session: MultipartUploadSession) => Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | CdfError, R>
  /**
   * The same as `withMultipartUploadSession` for new content of an existing file (`multiuploadlink`); nothing is
   * deleted on failure.
   */
  readonly withMultipartUploadContentSession: <A, E, R>(
    file: FileMetadata.ContentIdentifier,
    options: { readonly parts: number; readonly checksum?: "sha256" | undefined },
    use: (session: MultipartUploadSession) => Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | CdfError, R>
  /**
   * Polls `files/byids` on `schedule` (default: from 200 ms growing to 2 s apart, 12 polls) until the file's
   * `uploaded` is true, and returns that record; fails with `CdfTimeoutError` kind `deadline` when the schedule
   * ends first.
   */
  readonly waitUntilAcknowledged: (
    file: FileIdentifier,
    options?: { readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined }
  ) => Effect.Effect<FileMetadata.FileMetadata, CdfError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Files extends Context.Tag("@effect-cdf/files/Files")<Files, Service>() {}

/**
 * Runs `effect` within the client's overall deadline (`CdfConfig.deadline`), if one is set: past it, the work is
 * interrupted and the call fails with `CdfTimeoutError` kind `deadline`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withDeadline = (client: CdfClient.Service) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | CdfTimeoutError, R> =>
  Option.match(client.config.deadline, {
    onNone: () => effect,
    onSome: (deadline) =>
      Effect.timeoutFail(effect, {
        duration: deadline,
        onTimeout: () =>
          new CdfTimeoutError({
            message: `The call did not finish within its deadline of ${Duration.format(deadline)}`,
            kind: "deadline",
            timeoutMillis: Duration.toMillis(deadline)
          })
      })
  })

const uploadWith = (client: CdfClient.Service) =>
(
  input: Content.Input,
  options: UploadBytesOptions
): Effect.Effect<UploadResult, CdfError> =>
  Effect.gen(function*() {
    // Validate first: a JavaScript caller may pass anything (null, a number, an object whose getters throw).
    // Keys the metadata schema does not know (onProgress, multipart, checksum) are ignored by it.
    const valid = yield* FileMetadata.validateUploadOptions(options)
    const { checksum, multipart, onProgress } = options
    const body = FileMetadata.toWireBody(valid)
    const overwrite = valid.overwrite ?? false
    const settings = TransferFiles.settingsFor(client, { checksum })
    return yield* FilesApi.withCleanupOf(client, (created) =>
      Effect.suspend(() => {
        const upload = (prepared: Transfer.Prepared): Effect.Effect<UploadResult, CdfError> =>
          Effect.gen(function*() {
            yield* Effect.annotateCurrentSpan({
              "cdf.upload.plan": prepared.plan._tag,
              ...(prepared.plan.size === undefined ? {} : { "cdf.upload.size": prepared.plan.size })
            })
            const { file, transfer } = yield* prepared.plan._tag === "Single"
              ? uploadSingle(client, { prepared, body, overwrite, created, onProgress, settings })
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

const uploadBytesWith = (client: CdfClient.Service) => {
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
): Effect.Effect<TransferFiles.ContentUploadResult, CdfError> =>
  Effect.gen(function*() {
    const { record } = yield* FilesApi.createRecord({
      client,
      path: "files",
      urlParams: { overwrite: String(args.overwrite) },
      body: args.body,
      overwrite: args.overwrite,
      response: FileMetadata.UploadFileMetadata,
      register: args.created,
      resume: (externalId) => FilesApi.uploadLink(client, { externalId })
    })
    const transfer = yield* Transfer.putSingle({
      storage: client.storage,
      url: FilesApi.uploadUrlOf(client, record.uploadUrl),
      prepared: args.prepared,
      contentType: record.mimeType,
      settings: args.settings,
      onProgress: args.onProgress
    }).pipe(
      Effect.withSpan("Files.transfer", {
        captureStackTrace: false,
        attributes: {
          "cdf.file.id": record.id,
          ...(args.prepared.plan.size === undefined ? {} : { "cdf.upload.size": args.prepared.plan.size })
        }
      })
    )
    return { file: FilesApi.plainMetadata(record), transfer }
  })

const uploadMultipart = (
  client: CdfClient.Service,
  args: UploadArgs & { readonly plan: Extract<Transfer.Plan, { readonly _tag: "Multipart" }> }
): Effect.Effect<TransferFiles.ContentUploadResult, CdfError> =>
  Effect.gen(function*() {
    const { plan } = args
    const { record } = yield* FilesApi.createRecord({
      client,
      path: "files/initmultipartupload",
      urlParams: { overwrite: String(args.overwrite), parts: String(plan.parts) },
      body: args.body,
      overwrite: args.overwrite,
      response: FileMetadata.InitMultiPartUploadResponse,
      register: args.created,
      resume: (externalId) => FilesApi.multiUploadLink(client, { externalId }, plan.parts)
    })
    const transfer = yield* Transfer.putParts({
      storage: client.storage,
      urls: record.uploadUrls.map((url) => FilesApi.uploadUrlOf(client, url)),
      prepared: args.prepared,
      settings: args.settings,
      onProgress: args.onProgress
    }).pipe(
      Effect.withSpan("Files.transfer", {
        captureStackTrace: false,
        attributes: { "cdf.file.id": record.id, "cdf.upload.size": plan.size, "cdf.upload.parts": plan.parts }
      })
    )
    yield* FilesApi.completeMultipart(client, { id: record.id, uploadId: record.uploadId })
    return { file: FilesApi.plainMetadata(record), transfer }
  })

const retrieveWith = (client: CdfClient.Service) => (file: FileIdentifier) =>
  FileMetadata.validateFileIdentifier(file).pipe(
    Effect.flatMap((identifier) => FilesApi.retrieve(client, identifier)),
    withDeadline(client),
    Effect.withSpan("Files.retrieve")
  )

/** Options from a JavaScript caller may be anything: anything but an object fails as an invalid option. */
const anObject = <A>(options: A): Effect.Effect<A, InvalidFileMetadataError> =>
  typeof options === "object" && options !== null
    ? Effect.succeed(options)
    : Effect.fail(
      new InvalidFileMetadataError({
        option: "options",
        limit: "an object",
        message: "Invalid option options: must be an object"
      })
    )

/**
 * Builds the service on a `CdfClient`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, CdfClient.CdfClient> = Effect.gen(function*() {
  const client = yield* CdfClient.CdfClient
  return Files.of({
    uploadBytes: uploadBytesWith(client),
    retrieve: retrieveWith(client),
    upload: uploadWith(client),
    uploadContentBytes: (content, file, options) =>
      TransferFiles.uploadContentBytes(client, content, file, options ?? {}).pipe(
        Effect.map((result) => result.file),
        withDeadline(client)
      ),
    withMultipartUploadSession: (options, use) =>
      Effect.flatMap(anObject(options), (options) => TransferFiles.withMultipartUploadSession(client, options, use)),
    withMultipartUploadContentSession: (file, options, use) =>
      Effect.flatMap(
        anObject(options),
        (options) => TransferFiles.withMultipartUploadContentSession(client, file, options, use)
      ),
    waitUntilAcknowledged: (file, options) => TransferFiles.waitUntilAcknowledged(client, file, options?.schedule)
  })
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Files, never, CdfClient.CdfClient> = Layer.effect(Files, make)

/**
 * Uploads `content` as a new file (see `Service.uploadBytes`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const uploadBytes = (
  content: Content.Input,
  options: UploadBytesOptions
): Effect.Effect<FileMetadata.FileMetadata, CdfError, Files> =>
  Effect.flatMap(Files, (files) => files.uploadBytes(content, options))

/**
 * Reads one file record by id, external id or instance id.
 *
 * @since 0.1.0
 * @category accessors
 */
export const retrieve = (file: FileIdentifier): Effect.Effect<FileMetadata.FileMetadata, CdfError, Files> =>
  Effect.flatMap(Files, (files) => files.retrieve(file))

/**
 * Uploads `content` as a new file and returns the record, the bytes sent and (with `checksum: "sha256"`) their
 * sha256 (see `Service.upload`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const upload = (
  content: Content.Input,
  options: UploadBytesOptions
): Effect.Effect<UploadResult, CdfError, Files> => Effect.flatMap(Files, (files) => files.upload(content, options))

/**
 * Uploads `content` to an existing file by external id or instance id (see `Service.uploadContentBytes`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const uploadContentBytes = (
  content: Content.Input,
  file: FileMetadata.ContentIdentifier,
  options?: UploadContentOptions
): Effect.Effect<FileMetadata.FileMetadata, CdfError, Files> =>
  Effect.flatMap(Files, (files) => files.uploadContentBytes(content, file, options))

/**
 * Runs `use` with a multipart upload session to a new record, completed after `use` succeeds (see
 * `Service.withMultipartUploadSession`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const withMultipartUploadSession = <A, E, R>(
  options: MultipartUploadSessionOptions,
  use: (session: MultipartUploadSession) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | CdfError, R | Files> =>
  Effect.flatMap(Files, (files) => files.withMultipartUploadSession(options, use))

/**
 * Runs `use` with a multipart upload session of new content for an existing file (see
 * `Service.withMultipartUploadContentSession`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const withMultipartUploadContentSession = <A, E, R>(
  file: FileMetadata.ContentIdentifier,
  options: { readonly parts: number; readonly checksum?: "sha256" | undefined },
  use: (session: MultipartUploadSession) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | CdfError, R | Files> =>
  Effect.flatMap(Files, (files) => files.withMultipartUploadContentSession(file, options, use))

/**
 * Polls until the API marks the file uploaded (see `Service.waitUntilAcknowledged`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const waitUntilAcknowledged = (
  file: FileIdentifier,
  options?: { readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined }
): Effect.Effect<FileMetadata.FileMetadata, CdfError, Files> =>
  Effect.flatMap(Files, (files) => files.waitUntilAcknowledged(file, options))
