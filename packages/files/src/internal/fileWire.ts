/**
 * The wire shapes of the Files endpoints: the `{ "items": [...] }` envelope, the answers of the create and
 * upload-link calls (the record plus its `Redacted` upload URL(s)), in the variants the real API and the spec give,
 * and the small request bodies of the record calls. Upload options and their request body are in
 * `metadataValidation.ts`.
 *
 * @internal
 */
import { Schema } from "effect"
import { FileMetadata } from "../FileMetadata.js"

/**
 * The answer of `POST files` (and, per item, of `files/uploadlink`): the record plus the URL to PUT the content to.
 * The URL is its own credential (its query string holds the signature), so it is kept `Redacted`: it never shows
 * in logs or `toString`; read it with `Redacted.value`.
 *
 * @internal
 */
export class UploadFileMetadata extends FileMetadata.extend<UploadFileMetadata>("@effect-cdf/files/UploadFileMetadata")({
  uploadUrl: Schema.Redacted(Schema.String)
}) {}

/**
 * The answer of `files/initmultipartupload` (and, per item, of `files/multiuploadlink`): the record, the upload
 * id for `files/completemultipartupload`, and one upload URL per part, in part order (each `Redacted`).
 *
 * @internal
 */
export class MultiPartUploadFileMetadata
  extends FileMetadata.extend<MultiPartUploadFileMetadata>("@effect-cdf/files/MultiPartUploadFileMetadata")({
    uploadId: Schema.String,
    uploadUrls: Schema.Array(Schema.Redacted(Schema.String))
  })
{}

/**
 * The `{ "items": [...] }` wrapper of list answers and request bodies.
 *
 * @internal
 */
export const Items = <S extends Schema.Schema.Any>(item: S): Schema.Struct<{ items: Schema.Array$<S> }> =>
  Schema.Struct({ items: Schema.Array(item) })

/**
 * The answer of `files/byids`.
 *
 * @internal
 */
export const FileMetadataItems = Items(FileMetadata)

const singleItem = <A, I>(item: Schema.Schema<A, I>) =>
  Schema.transform(Schema.Struct({ items: Schema.Tuple(item) }), Schema.typeSchema(item), {
    strict: true,
    decode: ({ items }) => items[0],
    encode: (a) => ({ items: [a] as const })
  })

/**
 * The answer of `files/uploadlink`: the real API wraps the one record in `items` (recorded, status 200); the
 * spec says a flat object (201). Both are accepted and give the record.
 *
 * @internal
 */
export const UploadLinkResponse = Schema.Union(singleItem(UploadFileMetadata), UploadFileMetadata)

/**
 * The answer of `files/initmultipartupload`: both SDKs read a flat object from the real API, the spec says an
 * `items` wrapper. Both are accepted and give the record.
 *
 * @internal
 */
export const InitMultiPartUploadResponse = Schema.Union(MultiPartUploadFileMetadata, singleItem(MultiPartUploadFileMetadata))

/**
 * The answer of `files/multiuploadlink`: `{ "items": [record] }` (spec and SDKs agree); a flat object is accepted
 * too. Gives the record.
 *
 * @internal
 */
export const MultiUploadLinkResponse = Schema.Union(singleItem(MultiPartUploadFileMetadata), MultiPartUploadFileMetadata)

/**
 * A request body of one or more items whose schema was checked where they were built (`files/byids`,
 * `files/uploadlink`, `files/delete`, ...).
 *
 * @internal
 */
export const UnknownItems = Items(Schema.Unknown)

/**
 * The body of `POST files` / `files/initmultipartupload`, validated and built by `metadataValidation.ts` and sent
 * as is.
 *
 * @internal
 */
export const WireJson = Schema.Unknown

/**
 * The body of `files/completemultipartupload`.
 *
 * @internal
 */
export const CompleteMultipartUploadBody = Schema.Struct({ id: Schema.Number, uploadId: Schema.String })

/**
 * The answer of `files/list`: a page of records and, when there may be more, the cursor of the next page.
 *
 * @internal
 */
export const FileMetadataPage = Schema.Struct({
  items: Schema.Array(FileMetadata),
  nextCursor: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true })
})

/**
 * One item of the answer of `files/downloadlink`: the download URL (its own credential, so `Redacted`) and the
 * identifier it was asked for.
 *
 * @internal
 */
export const DownloadLink = Schema.Struct({
  downloadUrl: Schema.Redacted(Schema.String),
  id: Schema.optionalWith(Schema.Number, { exact: true }),
  externalId: Schema.optionalWith(Schema.String, { exact: true }),
  instanceId: Schema.optionalWith(Schema.Struct({ space: Schema.String, externalId: Schema.String }), { exact: true })
})

/**
 * The answer of `files/downloadlink`.
 *
 * @internal
 */
export const DownloadLinks = Items(DownloadLink)

/**
 * The body of `files/byids` and `files/delete`: checked items and the `ignoreUnknownIds` flag.
 *
 * @internal
 */
export const ItemsIgnoringUnknown = Schema.Struct({
  items: Schema.Array(Schema.Unknown),
  ignoreUnknownIds: Schema.Boolean
})
