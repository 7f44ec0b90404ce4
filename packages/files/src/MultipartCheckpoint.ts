/**
 * Resumable multipart uploads: the `MultipartCheckpoint` of an upload in flight (its record, its multipart session
 * and the parts storage has acknowledged), plain JSON data that a caller stores wherever it keeps state (a file, a
 * database row, a workflow's activity result), and the `resume` option of `Files.uploadBytes` /
 * `NodeFiles.uploadFile` that hands checkpoints out and continues from one in a later process.
 *
 * ```ts
 * const upload = (path: string, saved: MultipartCheckpoint.MultipartCheckpoint | undefined) =>
 *   NodeFiles.uploadFile(path, {
 *     name: "survey.las",
 *     externalId: "survey/2026/survey.las",
 *     resume: { checkpoint: saved, onCheckpoint: (checkpoint) => save(MultipartCheckpoint.toJson(checkpoint)) }
 *   })
 * ```
 *
 * A checkpoint holds the session's upload URLs, which are credentials (anyone holding one can write that part until
 * it expires): keep stored checkpoints where you would keep a token, and delete them when the upload is done.
 *
 * @since 0.1.0
 */
import { type Effect, type ParseResult, Schema } from "effect"

const Int = (min: number, max: number, description: string) =>
  Schema.Number.pipe(Schema.filter((n) => Number.isSafeInteger(n) && n >= min && n <= max, { description }))

/**
 * The state of a multipart upload in flight, JSON-serialisable as it is (`JSON.stringify` /
 * `MultipartCheckpoint.fromJson`):
 * - `version`: 1;
 * - `fileId`, `externalId`: the record the session belongs to;
 * - `uploadId`: the multipart session (what `completemultipartupload` takes);
 * - `size`, `partSize`, `parts`: the content's size and the part plan (every part `partSize` bytes but the last);
 * - `uploadUrls`: one upload URL per part (credentials: see the module's note);
 * - `acknowledged`: the 0-based parts storage has acknowledged, ascending.
 *
 * @since 0.1.0
 * @category models
 */
export const MultipartCheckpoint = Schema.Struct({
  version: Schema.Literal(1),
  fileId: Int(1, Number.MAX_SAFE_INTEGER, "a file id: a positive integer"),
  externalId: Schema.String.pipe(Schema.minLength(1)),
  uploadId: Schema.String.pipe(Schema.minLength(1)),
  size: Int(0, Number.MAX_SAFE_INTEGER, "a size in bytes: an integer of at least 0"),
  partSize: Int(1, Number.MAX_SAFE_INTEGER, "a part size in bytes: a positive integer"),
  parts: Int(1, 250, "a part count from 1 to 250"),
  uploadUrls: Schema.Array(Schema.String.pipe(Schema.minLength(1))),
  acknowledged: Schema.Array(Int(0, 249, "a 0-based part number"))
}).pipe(
  Schema.filter((c) =>
    c.uploadUrls.length !== c.parts
      ? `${c.uploadUrls.length} upload URL(s) for ${c.parts} part(s)`
      : c.acknowledged.some((part, i) => part >= c.parts || (i > 0 && part <= c.acknowledged[i - 1]!))
      ? "acknowledged: ascending, unique part numbers below parts"
      : Math.ceil(c.size / c.partSize) > c.parts || (c.parts - 1) * c.partSize >= Math.max(c.size, 1)
      ? `a part plan of ${c.parts} part(s) of ${c.partSize} bytes does not fit ${c.size} bytes`
      : true
  ),
  Schema.annotations({ identifier: "MultipartCheckpoint" })
)

/**
 * @since 0.1.0
 * @category models
 */
export interface MultipartCheckpoint extends Schema.Schema.Type<typeof MultipartCheckpoint> {}

/**
 * The `resume` option of `Files.uploadBytes` and `NodeFiles.uploadFile` (which needs an `externalId`):
 * - `onCheckpoint` is called, in order, when the upload goes multipart: once the session exists (nothing
 *   acknowledged yet) and after each part storage acknowledges. Store what it is given; the upload waits for it.
 * - `checkpoint`: a checkpoint stored by an earlier run. When it names the same external id and the content has the
 *   same size and part plan, no new session is made and its acknowledged parts are not sent again: the other parts
 *   go to its URLs and the upload is completed. When it does not match, or storage refuses its URLs (400, 403, 404
 *   or 410 for a part: expired or unknown) or its session is gone at completion, the file starts again cleanly with
 *   a new multipart session under the same external id (overwriting the checkpoint's own record, never adding a
 *   second one); `onCheckpoint` then gets the new session's checkpoints.
 *
 * Once a checkpoint has been handed out, the call never deletes its record, even when it fails: resume it, or
 * delete it (`Files.delete`). A content small enough for one PUT makes no checkpoint.
 *
 * @since 0.1.0
 * @category models
 */
export interface ResumeOptions {
  readonly checkpoint?: MultipartCheckpoint | undefined
  readonly onCheckpoint: (checkpoint: MultipartCheckpoint) => Effect.Effect<void>
}

/**
 * Decodes a checkpoint from anything (e.g. what `JSON.parse` gave back).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode: (input: unknown) => Effect.Effect<MultipartCheckpoint, ParseResult.ParseError> = Schema
  .decodeUnknown(MultipartCheckpoint)

/**
 * Decodes a checkpoint from its JSON text.
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromJson: (json: string) => Effect.Effect<MultipartCheckpoint, ParseResult.ParseError> = Schema
  .decodeUnknown(Schema.parseJson(MultipartCheckpoint))

/**
 * The JSON text of a checkpoint.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toJson = (checkpoint: MultipartCheckpoint): string => JSON.stringify(checkpoint)
