/**
 * The CDF Files service: `uploadBytes` (the Python SDK's `files.upload_bytes`, as an Effect), and the Files API
 * around an upload: `retrieve`, `retrieveMany`, `list`, `update`, `delete`, `downloadUrl` and `download`.
 *
 * ```ts
 * import { Files } from "@effect-cdf/files"
 *
 * const upload = Files.uploadBytes("hello", { name: "hello.txt", externalId: "greeting", mimeType: "text/plain" })
 * ```
 *
 * The signatures and docs are here; the code is in `internal/` (`filesService.ts` builds the service). The file is
 * over 450 lines because it is only that: one signature, doc and accessor per operation of the service.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, type Redacted, type Schedule, Stream } from "effect"
import * as CdfClient from "./CdfClient.js"
import type { CdfError, CdfTimeoutError } from "./CdfError.js"
import type * as Content from "./Content.js"
import type * as FileMetadata from "./FileMetadata.js"
import * as Deadline from "./internal/deadline.js"
import type * as Download from "./internal/download.js"
import type * as Deletion from "./internal/fileDeletion.js"
import type * as Filter from "./internal/fileFilter.js"
import type * as Queries from "./internal/fileQueries.js"
import * as internal from "./internal/filesService.js"
import type * as Updates from "./internal/fileUpdates.js"
import type * as Types from "./internal/uploadTypes.js"
import type * as Verified from "./internal/verifiedUpload.js"

/**
 * The options of `uploadBytes`: every parameter of the Python SDK's `upload_bytes` (camelCase, times as epoch
 * milliseconds or `Date`), plus what only an Effect upload has (`onProgress`, `multipart`, `checksum`, `verify`:
 * read the file back and compare its sha256 with what was sent, and `resume`: checkpoint a multipart upload and
 * continue it after a restart, see `MultipartCheckpoint`).
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadBytesOptions extends Types.UploadBytesOptions, Verified.VerifyOption {}

/**
 * The options of `uploadContentBytes`: progress, path and checksum (the record's metadata is not changed).
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadContentOptions extends Types.UploadContentOptions {}

/**
 * What `upload` returns: the record (as the create call answered it), the bytes sent and, with
 * `checksum: "sha256"`, the hex sha256 of what was sent.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadResult extends Types.UploadResult {}

/**
 * What one part of a session sent: its size and, with `checksum: "sha256"`, its sha256.
 *
 * @since 0.1.0
 * @category models
 */
export interface PartResult extends Types.PartResult {}

/**
 * A multipart upload in progress (`withMultipartUploadSession`): send each part `0 .. parts - 1` once, in any order,
 * concurrently if you like. Every part but the last must be larger than 5 MiB (the API checks it at completion).
 *
 * @since 0.1.0
 * @category models
 */
export interface MultipartUploadSession extends Types.MultipartUploadSession {}

/**
 * The options of `withMultipartUploadSession`: the record's metadata (as for `uploadBytes`), the number of parts
 * (1 to 250) and the checksum option.
 *
 * @since 0.1.0
 * @category models
 */
export interface MultipartUploadSessionOptions extends Types.MultipartUploadSessionOptions {}

/**
 * Which file `retrieve` reads: exactly one of `{ id }`, `{ externalId }`, `{ instanceId: { space, externalId } }`.
 *
 * @since 0.1.0
 * @category models
 */
export type FileIdentifier = typeof FileMetadata.FileIdentifier.Encoded

/**
 * The options of `retrieveMany`: `ignoreUnknownIds` leaves out the files that do not exist (default: a
 * `CdfApiError` 400 whose `missing` lists them).
 *
 * @since 0.1.0
 * @category models
 */
export interface RetrieveManyOptions extends Queries.RetrieveManyOptions {}

/**
 * The filter of `list` (the API's `FileFilter`): `name`, `directoryPrefix`, `externalIdPrefix`, `mimeType`,
 * `source`, `uploaded`, `metadata` (every pair must match), `assetIds`, `assetExternalIds`, `rootAssetIds`,
 * `assetSubtreeIds`, `dataSetIds` (`{ id }` or `{ externalId }`), `labels` (`{ containsAny }` or `{ containsAll }`),
 * and the inclusive ranges `createdTime`, `lastUpdatedTime`, `uploadedTime`, `sourceCreatedTime`,
 * `sourceModifiedTime` (`{ min?, max? }`, epoch milliseconds or `Date`s), and `geoLocation` (`{ relation, shape }`:
 * `INTERSECTS`, `DISJOINT` or `WITHIN` a GeoJSON Point, LineString, Polygon, MultiLineString or MultiPolygon).
 * Checked before any request: an unknown key or a malformed shape is an `InvalidFileMetadataError`.
 *
 * @since 0.1.0
 * @category models
 */
export interface FileFilter extends Filter.FileFilter {}

/**
 * The options of `list`: `limit`, the most records the stream gives in all (default: every match), and `pageSize`,
 * the records asked for per request (1 to 1000, default 1000).
 *
 * @since 0.1.0
 * @category models
 */
export interface ListOptions extends Filter.ListOptions {}

/**
 * One change of `update`: which file (exactly one of `id`, `externalId`, `instanceId`) and `update`, the API's
 * patch of each field to change: `{ set }` or `{ setNull: true }` for `externalId`, `directory`, `source`,
 * `mimeType`, `dataSetId`, `sourceCreatedTime`, `sourceModifiedTime`, `geoLocation`; `{ set }` or
 * `{ add?, remove? }` for `metadata` (remove by key), `assetIds`, `securityCategories` and `labels`. A file of a
 * Data Modeling instance (by `instanceId`) takes only `externalId`, `metadata`, `assetIds`, `dataSetId`, `labels`
 * and `geoLocation`.
 *
 * @since 0.1.0
 * @category models
 */
export type FileChange = Updates.FileChange

/**
 * Which file `delete` deletes: `{ id }` or `{ externalId }`.
 *
 * @since 0.1.0
 * @category models
 */
export type DeleteIdentifier = Deletion.DeleteIdentifier

/**
 * The options of `delete`: `ignoreUnknownIds` succeeds for files that do not exist (default: a `CdfApiError` 400
 * whose `missing` lists them, and nothing of that request deleted).
 *
 * @since 0.1.0
 * @category models
 */
export interface DeleteOptions extends Deletion.DeleteOptions {}

/**
 * The options of `downloadUrl` and `download`: `extendedExpiration` asks for a link valid for 1 hour instead of
 * 30 seconds.
 *
 * @since 0.1.0
 * @category models
 */
export interface DownloadOptions extends Download.DownloadOptions {}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Creates a file record and uploads `content` to it; returns the record as the create call answered it (so
   * `uploaded` is usually still false: the API sets it eventually).
   *
   * With `verify: true`, once the API marks the file uploaded, downloads it and compares its sha256 with the sha256
   * of what was sent; a mismatch fails with `DownloadError` reason `Mismatch`. A verification that fails deletes
   * the record if this call created it (as any failure after creation does) and says so in `cleanup`; a record
   * the call overwrote is kept. The record returned is then the one read after the acknowledgement.
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
  /**
   * Reads many file records (`files/byids`): every identifier checked first, then 1000 per request, 4 requests at
   * a time; the records in the order of `ids`. With `ignoreUnknownIds`, files that do not exist are left out.
   */
  readonly retrieveMany: (
    ids: ReadonlyArray<FileIdentifier>,
    options?: RetrieveManyOptions
  ) => Effect.Effect<Array<FileMetadata.FileMetadata>, CdfError>
  /**
   * The records matching `filter` (`files/list`), as a stream that asks for the next page (following `nextCursor`)
   * when the consumer needs it. The filter and options are checked before the first request.
   */
  readonly list: (
    filter?: FileFilter,
    options?: ListOptions
  ) => Stream.Stream<FileMetadata.FileMetadata, CdfError>
  /**
   * Changes file records (`files/update`): every change checked first, then 1000 per request, 2 requests at a
   * time; the updated records in the order of `changes`.
   */
  readonly update: (changes: ReadonlyArray<FileChange>) => Effect.Effect<Array<FileMetadata.FileMetadata>, CdfError>
  /**
   * Deletes file records and their content (`files/delete`): every identifier checked first, then 1000 per
   * request, 2 requests at a time.
   */
  readonly delete: (ids: ReadonlyArray<DeleteIdentifier>, options?: DeleteOptions) => Effect.Effect<void, CdfError>
  /**
   * A download URL of one file (`files/downloadlink`). The URL is its own credential: it is `Redacted`, never
   * logged, traced or put in an error; read it with `Redacted.value`. It expires after 30 seconds (1 hour with
   * `extendedExpiration`).
   */
  readonly downloadUrl: (
    file: FileIdentifier,
    options?: DownloadOptions
  ) => Effect.Effect<Redacted.Redacted<string>, CdfError>
  /**
   * The bytes of one file, as a stream: a download link, then a GET of it, with no token sent to storage. A failed
   * GET (transport error, timeout, 408/429/5xx, a body cut short) is retried on the config's
   * `transferRetrySchedule`, resuming from the last byte delivered with `Range: bytes=N-`; an expired link
   * (400/403 from storage) is replaced by a fresh one. Bytes are delivered once each, in order; a failure after the
   * retries is a `DownloadError` (or `CdfTimeoutError`).
   */
  readonly download: (file: FileIdentifier, options?: DownloadOptions) => Stream.Stream<Uint8Array, CdfError>
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
export const withDeadline: (
  client: CdfClient.Service
) => <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CdfTimeoutError, R> = Deadline.withDeadline

/**
 * Builds the service on a `CdfClient`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, CdfClient.CdfClient> = Effect.map(
  CdfClient.CdfClient,
  (client) => Files.of(internal.make(client))
)

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

/**
 * Reads many file records, 1000 per request, in the order of `ids` (see `Service.retrieveMany`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const retrieveMany = (
  ids: ReadonlyArray<FileIdentifier>,
  options?: RetrieveManyOptions
): Effect.Effect<Array<FileMetadata.FileMetadata>, CdfError, Files> =>
  Effect.flatMap(Files, (files) => files.retrieveMany(ids, options))

/**
 * The records matching `filter`, as a stream that follows the API's cursors (see `Service.list`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const list = (
  filter?: FileFilter,
  options?: ListOptions
): Stream.Stream<FileMetadata.FileMetadata, CdfError, Files> =>
  Stream.unwrap(Effect.map(Files, (files) => files.list(filter, options)))

/**
 * Changes file records, 1000 per request (see `Service.update`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const update = (
  changes: ReadonlyArray<FileChange>
): Effect.Effect<Array<FileMetadata.FileMetadata>, CdfError, Files> =>
  Effect.flatMap(Files, (files) => files.update(changes))

/**
 * Deletes file records, 1000 per request (see `Service.delete`).
 *
 * @since 0.1.0
 * @category accessors
 */
const delete_ = (ids: ReadonlyArray<DeleteIdentifier>, options?: DeleteOptions): Effect.Effect<void, CdfError, Files> =>
  Effect.flatMap(Files, (files) => files.delete(ids, options))

export {
  /**
   * Deletes file records, 1000 per request (see `Service.delete`).
   *
   * @since 0.1.0
   * @category accessors
   */
  delete_ as delete
}

/**
 * A download URL of one file, `Redacted` (see `Service.downloadUrl`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const downloadUrl = (
  file: FileIdentifier,
  options?: DownloadOptions
): Effect.Effect<Redacted.Redacted<string>, CdfError, Files> =>
  Effect.flatMap(Files, (files) => files.downloadUrl(file, options))

/**
 * The bytes of one file as a stream that resumes after failures (see `Service.download`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const download = (file: FileIdentifier, options?: DownloadOptions): Stream.Stream<Uint8Array, CdfError, Files> =>
  Stream.unwrap(Effect.map(Files, (files) => files.download(file, options)))
