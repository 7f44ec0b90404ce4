/**
 * The options and results of the `Files` operations, declared here so that the code in `internal/` uses them
 * without importing `Files.ts` (which imports that code); `Files.ts` re-declares each one for its users.
 *
 * @internal
 */
import type { Effect } from "effect"
import type { CdfTimeoutError, InvalidContentError, InvalidFileMetadataError, UploadError } from "../CdfError.js"
import type * as Content from "../Content.js"
import type * as FileMetadata from "../FileMetadata.js"
import type { ResumeOptions } from "../MultipartCheckpoint.js"
import type { OnProgress } from "../Progress.js"

/**
 * The options of `uploadBytes`: every parameter of the Python SDK's `upload_bytes` (camelCase, times as epoch
 * milliseconds or `Date`), plus what only an Effect upload has.
 *
 * @internal
 */
export interface UploadBytesOptions extends FileMetadata.UploadOptions {
  /** Called as bytes are sent and acknowledged (at most every 100 ms, and once at the end). */
  readonly onProgress?: OnProgress | undefined
  /** Force multipart (true) or a single PUT (false); default: by size, see `CdfConfig.singlePutThreshold`. */
  readonly multipart?: boolean | undefined
  /** `"sha256"`: compute the sha256 of what was sent (returned by `upload`); default off (it costs CPU). */
  readonly checksum?: "sha256" | undefined
  /**
   * Make a multipart upload resumable across processes (needs `externalId`): `onCheckpoint` gets the
   * `MultipartCheckpoint` of the session and of each acknowledged part; `checkpoint` continues from a stored one.
   * See `MultipartCheckpoint.ResumeOptions`.
   */
  readonly resume?: ResumeOptions | undefined
}

/**
 * The options of `uploadContentBytes`: progress, path and checksum (the record's metadata is not changed).
 *
 * @internal
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
 * @internal
 */
export interface UploadResult {
  readonly file: FileMetadata.FileMetadata
  readonly bytes: number
  readonly sha256: string | undefined
}

/**
 * What one part of a session sent: its size and, with `checksum: "sha256"`, its sha256.
 *
 * @internal
 */
export interface PartResult {
  readonly bytes: number
  readonly sha256: string | undefined
}

/**
 * A multipart upload in progress (`withMultipartUploadSession`): send each part `0 .. parts - 1` once, in any order,
 * concurrently if you like. Every part but the last must be larger than 5 MiB (the API checks it at completion).
 *
 * @internal
 */
export interface MultipartUploadSession {
  /** The record, as `initmultipartupload` / `multiuploadlink` answered. */
  readonly file: FileMetadata.FileMetadata
  /** How many parts were asked for. */
  readonly parts: number
  /**
   * Sends part `part` (0-based). Fails with `UploadError` reason `Incomplete` for a part out of range or already
   * sent (or being sent), and with `InvalidFileMetadataError` for options that are not what they should be (an
   * `onProgress` that is not a function); a part whose upload failed may be sent again.
   */
  readonly uploadPart: (
    part: number,
    content: Content.Input,
    options?: { readonly onProgress?: OnProgress | undefined }
  ) => Effect.Effect<PartResult, UploadError | InvalidContentError | InvalidFileMetadataError | CdfTimeoutError>
}

/**
 * The options of `withMultipartUploadSession`: the record's metadata (as for `uploadBytes`), the number of parts
 * (1 to 250) and the checksum option.
 *
 * @internal
 */
export interface MultipartUploadSessionOptions extends FileMetadata.UploadOptions {
  readonly parts: number
  readonly checksum?: "sha256" | undefined
}
