/**
 * The errors of `@effect-cdf/files`. Every error is a `Schema.TaggedError` carrying what a caller needs to act,
 * and never a secret: no headers, no query string (upload-URL signatures live there), no raw platform error.
 *
 * @since 0.1.0
 */
import { Predicate, Schema } from "effect"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@effect-cdf/files/CdfError")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * The request an error is about: its method, origin and path. Never its query string or headers.
 *
 * @since 0.1.0
 * @category models
 */
export class RequestInfo extends Schema.Class<RequestInfo>("@effect-cdf/files/RequestInfo")({
  method: Schema.String,
  origin: Schema.String,
  path: Schema.String
}) {
  /**
   * Builds the safe description of a request from its method and URL, dropping the query string and hash.
   *
   * @since 0.1.0
   */
  static fromUrl(method: string, url: string | URL): RequestInfo {
    try {
      const parsed = typeof url === "string" ? new URL(url) : url
      return new RequestInfo({ method, origin: parsed.origin, path: parsed.pathname }, { disableValidation: true })
    } catch {
      const raw = String(url)
      const cut = raw.search(/[?#]/)
      return new RequestInfo({ method, origin: "", path: cut === -1 ? raw : raw.slice(0, cut) }, {
        disableValidation: true
      })
    }
  }
}

/**
 * What happened to a file record that a failed or interrupted call had created: whether it was deleted.
 *
 * @since 0.1.0
 * @category models
 */
export class Cleanup extends Schema.Class<Cleanup>("@effect-cdf/files/Cleanup")({
  fileId: Schema.Number,
  deleted: Schema.Boolean,
  /** Why the delete failed, when it did. */
  reason: Schema.optionalWith(Schema.String, { exact: true })
}) {}

const common = {
  message: Schema.String,
  request: Schema.optionalWith(RequestInfo, { exact: true }),
  cleanup: Schema.optionalWith(Cleanup, { exact: true })
}

/**
 * The content is larger than what the chosen upload path can take. Known before any request is sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class FileSizeLimitError extends Schema.TaggedError<FileSizeLimitError>("@effect-cdf/files/FileSizeLimitError")(
  "FileSizeLimitError",
  {
    ...common,
    /** The size of the content in bytes (or the bytes seen so far, for a stream of unknown length). */
    size: Schema.Number,
    /** The largest size the path allows, in bytes. */
    limit: Schema.Number,
    /** The upload path whose limit was broken. */
    path: Schema.Literal("single", "multipart", "stream")
  }
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * An option breaks a limit of the CDF Files API (length, byte size, count, range, absolute directory, geometry shape).
 * Raised before any request is sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidFileMetadataError
  extends Schema.TaggedError<InvalidFileMetadataError>("@effect-cdf/files/InvalidFileMetadataError")(
    "InvalidFileMetadataError",
    {
      ...common,
      /** The option that broke a limit, as a path, e.g. `metadata`, `labels[2].externalId`, `geoLocation.geometry`. */
      option: Schema.String,
      /** The limit that was broken, in words, e.g. `at most 256 UTF-8 bytes`. */
      limit: Schema.String
    }
  )
{
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * The content is not something that can be uploaded: not one of the documented kinds (`null`, a number, a plain
 * object, a detached `ArrayBuffer`, ...), a declared size that is not a non-negative integer, or a chunk of a stream
 * or async iterable that is not bytes. The first two are raised before any request is sent; a chunk is checked when
 * it is read, and the upload stops there: it is never retried, and a record the call created is deleted.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidContentError
  extends Schema.TaggedError<InvalidContentError>("@effect-cdf/files/InvalidContentError")("InvalidContentError", {
    ...common,
    /**
     * `Kind`: not a content kind (or a detached `ArrayBuffer`); `Size`: the declared size is negative, not a number
     * or not an integer; `Chunk`: a chunk of a stream, async iterable or `ReadableStream` is not a `Uint8Array`.
     */
    reason: Schema.Literal("Kind", "Size", "Chunk"),
    /** What the content is, in words, e.g. `null`, `a number`, `a detached ArrayBuffer`, `an async iterable`. */
    content: Schema.String,
    /** `Chunk`: the 0-based index of the chunk that is not bytes. */
    chunk: Schema.optionalWith(Schema.Number, { exact: true }),
    /** `Chunk`: what the chunk is, in words, e.g. `a string`. */
    found: Schema.optionalWith(Schema.String, { exact: true })
  })
{
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * A setting is unusable: a malformed URL, plain `http://` to a non-loopback host without `allowInsecureHttp`,
 * conflicting or missing credentials.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidConfigError extends Schema.TaggedError<InvalidConfigError>("@effect-cdf/files/InvalidConfigError")(
  "InvalidConfigError",
  {
    ...common,
    /** The setting (or settings, comma-separated) at fault, e.g. `baseUrl` or `CDF_TOKEN, IDP_CLIENT_ID`. */
    setting: Schema.String
  }
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * A token could not be had, or the API answered 401 or 403.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthError extends Schema.TaggedError<AuthError>("@effect-cdf/files/AuthError")("AuthError", {
  ...common,
  /** `TokenRequest`: the identity provider refused or failed; `Unauthorized`: 401; `Forbidden`: 403. */
  reason: Schema.Literal("TokenRequest", "Unauthorized", "Forbidden"),
  status: Schema.optionalWith(Schema.Number, { exact: true }),
  /** The OAuth2 error code (`invalid_client`, ...) or the CDF error code. */
  code: Schema.optionalWith(Schema.Union(Schema.String, Schema.Number), { exact: true }),
  requestId: Schema.optionalWith(Schema.String, { exact: true })
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * Any other non-2xx answer from the CDF API, decoded from the CDF error envelope.
 *
 * @since 0.1.0
 * @category errors
 */
export class CdfApiError extends Schema.TaggedError<CdfApiError>("@effect-cdf/files/CdfApiError")("CdfApiError", {
  ...common,
  status: Schema.Number,
  /** `error.code` of the CDF envelope (usually the status). */
  code: Schema.Number,
  requestId: Schema.optionalWith(Schema.String, { exact: true }),
  missing: Schema.optionalWith(Schema.Array(Schema.Unknown), { exact: true }),
  duplicated: Schema.optionalWith(Schema.Array(Schema.Unknown), { exact: true })
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * The bytes did not reach storage: the PUT (or a part, or the completion of a multipart upload) failed after its
 * retries. A 401/403 from storage is an `UploadError`, never a token refresh.
 *
 * @since 0.1.0
 * @category errors
 */
export class UploadError extends Schema.TaggedError<UploadError>("@effect-cdf/files/UploadError")("UploadError", {
  ...common,
  /**
   * `Status`: storage answered non-2xx; `Transport`: the connection failed; `NotReplayable`: one-shot content
   * would have had to be sent again; `Incomplete`: parts missing or sent twice; `Completion`: completing failed;
   * `Content`: reading the content failed.
   */
  reason: Schema.Literal("Status", "Transport", "NotReplayable", "Incomplete", "Completion", "Content"),
  status: Schema.optionalWith(Schema.Number, { exact: true }),
  /** The 0-based part number, for multipart uploads. */
  part: Schema.optionalWith(Schema.Number, { exact: true }),
  /** How many attempts were made. */
  attempts: Schema.optionalWith(Schema.Number, { exact: true }),
  /** `Content`: the code of the read failure, when it had one, e.g. `EACCES`, `EIO`, `ENOENT`. */
  code: Schema.optionalWith(Schema.String, { exact: true })
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * The bytes of a file could not be read back: the GET of its download URL failed after its retries, storage answered
 * a range request with a range that does not continue where the stream stopped, or (`uploadBytes` with
 * `verify: true`) the bytes read back differ from the bytes sent. Carries the origin and path of the download URL,
 * never its query string (the URL's signature).
 *
 * @since 0.1.0
 * @category errors
 */
export class DownloadError extends Schema.TaggedError<DownloadError>("@effect-cdf/files/DownloadError")("DownloadError", {
  ...common,
  /**
   * `Status`: storage answered non-2xx (a 400/403 is retried once with a fresh download link first); `Transport`:
   * the connection failed; `Range`: a resumed GET did not continue at the byte where the stream stopped, or the
   * sizes disagree; `Mismatch`: the sha256 of the bytes read back is not the sha256 of the bytes sent.
   */
  reason: Schema.Literal("Status", "Transport", "Range", "Mismatch"),
  status: Schema.optionalWith(Schema.Number, { exact: true }),
  /** The id of the file, when known. */
  fileId: Schema.optionalWith(Schema.Number, { exact: true }),
  /** How many bytes had been delivered when the download failed. */
  received: Schema.optionalWith(Schema.Number, { exact: true }),
  /** How many GET attempts were made. */
  attempts: Schema.optionalWith(Schema.Number, { exact: true }),
  /** `Mismatch`: the hex sha256 of the bytes sent. */
  expectedSha256: Schema.optionalWith(Schema.String, { exact: true }),
  /** `Mismatch`: the hex sha256 of the bytes read back. */
  actualSha256: Schema.optionalWith(Schema.String, { exact: true })
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * A network failure talking to the API or the identity provider.
 *
 * @since 0.1.0
 * @category errors
 */
export class CdfTransportError extends Schema.TaggedError<CdfTransportError>("@effect-cdf/files/CdfTransportError")(
  "CdfTransportError",
  {
    ...common,
    /** `connect`: the request never reached the server (refused, DNS, connect timeout); `request`: otherwise. */
    phase: Schema.Literal("connect", "request")
  }
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * A deadline passed: one attempt, a transfer, a stalled transfer (no bytes moving), or the overall deadline.
 *
 * @since 0.1.0
 * @category errors
 */
export class CdfTimeoutError extends Schema.TaggedError<CdfTimeoutError>("@effect-cdf/files/CdfTimeoutError")(
  "CdfTimeoutError",
  {
    ...common,
    kind: Schema.Literal("attempt", "transfer", "stall", "deadline"),
    /** The timeout that passed, in milliseconds. */
    timeoutMillis: Schema.Number
  }
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * A response that is not what the API specification says.
 *
 * @since 0.1.0
 * @category errors
 */
export class CdfDecodeError extends Schema.TaggedError<CdfDecodeError>("@effect-cdf/files/CdfDecodeError")(
  "CdfDecodeError",
  {
    ...common,
    status: Schema.optionalWith(Schema.Number, { exact: true }),
    requestId: Schema.optionalWith(Schema.String, { exact: true })
  }
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * Every error of `@effect-cdf/files`.
 *
 * @since 0.1.0
 * @category errors
 */
export type CdfError =
  | FileSizeLimitError
  | InvalidFileMetadataError
  | InvalidContentError
  | InvalidConfigError
  | AuthError
  | CdfApiError
  | UploadError
  | DownloadError
  | CdfTransportError
  | CdfTimeoutError
  | CdfDecodeError

/**
 * The schema of every error, e.g. to send errors across a worker or RPC boundary.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CdfError: Schema.Union<[
  typeof FileSizeLimitError,
  typeof InvalidFileMetadataError,
  typeof InvalidContentError,
  typeof InvalidConfigError,
  typeof AuthError,
  typeof CdfApiError,
  typeof UploadError,
  typeof DownloadError,
  typeof CdfTransportError,
  typeof CdfTimeoutError,
  typeof CdfDecodeError
]> = Schema.Union(
  FileSizeLimitError,
  InvalidFileMetadataError,
  InvalidContentError,
  InvalidConfigError,
  AuthError,
  CdfApiError,
  UploadError,
  DownloadError,
  CdfTransportError,
  CdfTimeoutError,
  CdfDecodeError
)

/**
 * Whether a value is one of the errors of `@effect-cdf/files`.
 *
 * @since 0.1.0
 * @category guards
 */
export const isCdfError = (u: unknown): u is CdfError => Predicate.hasProperty(u, TypeId)

/**
 * Returns a copy of an error that records what happened to the file record the failed call had created.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withCleanup = <E extends CdfError>(error: E, cleanup: Cleanup): E => {
  const copy: E = Object.create(Object.getPrototypeOf(error))
  Object.assign(copy, error, { cleanup })
  if (error.stack !== undefined) copy.stack = error.stack
  const suffix = cleanup.deleted
    ? ` (file ${cleanup.fileId} created by this call was deleted)`
    : ` (file ${cleanup.fileId} created by this call could not be deleted${
      cleanup.reason === undefined ? "" : `: ${cleanup.reason}`
    })`
  Object.defineProperty(copy, "message", { value: error.message + suffix, enumerable: true, writable: true })
  return copy
}
