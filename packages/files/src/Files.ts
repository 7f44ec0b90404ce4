/**
 * The CDF Files service: `uploadBytes` (the Python SDK's `files.upload_bytes`, as an Effect) and `retrieve`.
 *
 * ```ts
 * import { Files } from "@effect-cdf/files"
 *
 * const upload = Files.uploadBytes("hello", { name: "hello.txt", externalId: "greeting", mimeType: "text/plain" })
 * ```
 *
 * The signatures and docs are here; the code is in `internal/` (`filesService.ts` builds the service).
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, type Schedule } from "effect"
import * as CdfClient from "./CdfClient.js"
import type { CdfError, CdfTimeoutError } from "./CdfError.js"
import type * as Content from "./Content.js"
import type * as FileMetadata from "./FileMetadata.js"
import * as Deadline from "./internal/deadline.js"
import * as internal from "./internal/filesService.js"
import type * as Types from "./internal/uploadTypes.js"

/**
 * The options of `uploadBytes`: every parameter of the Python SDK's `upload_bytes` (camelCase, times as epoch
 * milliseconds or `Date`), plus what only an Effect upload has.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadBytesOptions extends Types.UploadBytesOptions {}

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
