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
import { Context, Duration, Effect, Layer, Option, Ref, type Scope } from "effect"
import * as CdfClient from "./CdfClient.js"
import { type CdfError, CdfTimeoutError } from "./CdfError.js"
import * as Content from "./Content.js"
import * as FileMetadata from "./FileMetadata.js"
import * as FilesApi from "./internal/files.js"
import * as Transfer from "./internal/transfer.js"
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

const uploadBytesWith = (client: CdfClient.Service) =>
(
  input: Content.Input,
  options: UploadBytesOptions
): Effect.Effect<FileMetadata.FileMetadata, CdfError> =>
  Effect.gen(function*() {
    const valid = yield* FileMetadata.validateUploadOptions(options)
    const body = FileMetadata.toWireBody(valid)
    const overwrite = valid.overwrite ?? false
    const onProgress = options.onProgress
    return yield* FilesApi.withCleanupOf(client, (created) =>
      Effect.scoped(
        Effect.gen(function*() {
          const prepared = yield* Transfer.prepare(Content.make(input), client.transfer, {
            multipart: options.multipart
          })
          yield* Effect.annotateCurrentSpan({
            "cdf.upload.plan": prepared.plan._tag,
            ...(prepared.plan.size === undefined ? {} : { "cdf.upload.size": prepared.plan.size })
          })
          return yield* prepared.plan._tag === "Single"
            ? uploadSingle(client, { prepared, body, overwrite, created, onProgress })
            : uploadMultipart(client, { prepared, plan: prepared.plan, body, overwrite, created, onProgress })
        })
      ).pipe(withDeadline(client)))
  }).pipe(Effect.withSpan("Files.uploadBytes"))

const uploadSingle = (
  client: CdfClient.Service,
  args: {
    readonly prepared: Transfer.Prepared
    readonly body: FileMetadata.FileMetadataWrite
    readonly overwrite: boolean
    readonly created: Ref.Ref<Option.Option<number>>
    readonly onProgress: OnProgress | undefined
  }
): Effect.Effect<FileMetadata.FileMetadata, CdfError, Scope.Scope> =>
  Effect.gen(function*() {
    const { isNew, record } = yield* FilesApi.createRecord({
      client,
      path: "files",
      urlParams: { overwrite: String(args.overwrite) },
      body: args.body,
      overwrite: args.overwrite,
      response: FileMetadata.UploadFileMetadata,
      resume: (externalId) => FilesApi.uploadLink(client, { externalId })
    })
    if (isNew) yield* Ref.set(args.created, Option.some(record.id))
    yield* Transfer.putSingle({
      storage: client.storage,
      url: FilesApi.uploadUrlOf(client, record.uploadUrl),
      prepared: args.prepared,
      contentType: record.mimeType,
      settings: client.transfer,
      onProgress: args.onProgress
    }).pipe(
      Effect.withSpan("Files.transfer", {
        attributes: {
          "cdf.file.id": record.id,
          ...(args.prepared.plan.size === undefined ? {} : { "cdf.upload.size": args.prepared.plan.size })
        }
      })
    )
    return FilesApi.plainMetadata(record)
  })

const uploadMultipart = (
  client: CdfClient.Service,
  args: {
    readonly prepared: Transfer.Prepared
    readonly plan: Extract<Transfer.Plan, { readonly _tag: "Multipart" }>
    readonly body: FileMetadata.FileMetadataWrite
    readonly overwrite: boolean
    readonly created: Ref.Ref<Option.Option<number>>
    readonly onProgress: OnProgress | undefined
  }
): Effect.Effect<FileMetadata.FileMetadata, CdfError, Scope.Scope> =>
  Effect.gen(function*() {
    const { plan } = args
    const { isNew, record } = yield* FilesApi.createRecord({
      client,
      path: "files/initmultipartupload",
      urlParams: { overwrite: String(args.overwrite), parts: String(plan.parts) },
      body: args.body,
      overwrite: args.overwrite,
      response: FileMetadata.InitMultiPartUploadResponse,
      resume: (externalId) => FilesApi.multiUploadLink(client, { externalId }, plan.parts)
    })
    if (isNew) yield* Ref.set(args.created, Option.some(record.id))
    yield* Transfer.putParts({
      storage: client.storage,
      urls: record.uploadUrls.map((url) => FilesApi.uploadUrlOf(client, url)),
      prepared: args.prepared,
      settings: client.transfer,
      onProgress: args.onProgress
    }).pipe(
      Effect.withSpan("Files.transfer", {
        attributes: { "cdf.file.id": record.id, "cdf.upload.size": plan.size, "cdf.upload.parts": plan.parts }
      })
    )
    yield* FilesApi.completeMultipart(client, { id: record.id, uploadId: record.uploadId })
    return FilesApi.plainMetadata(record)
  })

const retrieveWith = (client: CdfClient.Service) => (file: FileIdentifier) =>
  FileMetadata.validateFileIdentifier(file).pipe(
    Effect.flatMap((identifier) => FilesApi.retrieve(client, identifier)),
    withDeadline(client),
    Effect.withSpan("Files.retrieve")
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
    retrieve: retrieveWith(client)
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
