/**
 * The file records of the CDF Files API: what the API answers (`FileMetadata` and the shapes of each endpoint's
 * response), and what a caller may send (`UploadOptions`, checked against every limit of the API specification
 * before any request leaves the process).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

// -------------------------------------------------------------------------------------------------------------------
// support types (response side: types only, the server is trusted to keep its own limits)
// -------------------------------------------------------------------------------------------------------------------

/**
 * A label of a file: the external id of a label definition.
 *
 * @since 0.1.0
 * @category models
 */
export const Label = Schema.Struct({ externalId: Schema.String }).annotations({ identifier: "Label" })

/**
 * @since 0.1.0
 * @category models
 */
export interface Label extends Schema.Schema.Type<typeof Label> {}

/**
 * A point: `[x, y]` (GeoJSON order: longitude, latitude).
 *
 * @since 0.1.0
 * @category models
 */
export const PointCoordinates = Schema.Tuple(Schema.Number, Schema.Number)

/**
 * @since 0.1.0
 * @category models
 */
export type PointCoordinates = typeof PointCoordinates.Type

/**
 * @since 0.1.0
 * @category models
 */
export const Point = Schema.Struct({ type: Schema.Literal("Point"), coordinates: PointCoordinates })

/**
 * @since 0.1.0
 * @category models
 */
export const LineString = Schema.Struct({
  type: Schema.Literal("LineString"),
  coordinates: Schema.Array(PointCoordinates)
})

/**
 * @since 0.1.0
 * @category models
 */
export const Polygon = Schema.Struct({
  type: Schema.Literal("Polygon"),
  coordinates: Schema.Array(Schema.Array(PointCoordinates))
})

/**
 * @since 0.1.0
 * @category models
 */
export const MultiPoint = Schema.Struct({
  type: Schema.Literal("MultiPoint"),
  coordinates: Schema.Array(PointCoordinates)
})

/**
 * @since 0.1.0
 * @category models
 */
export const MultiLineString = Schema.Struct({
  type: Schema.Literal("MultiLineString"),
  coordinates: Schema.Array(Schema.Array(PointCoordinates))
})

/**
 * @since 0.1.0
 * @category models
 */
export const MultiPolygon = Schema.Struct({
  type: Schema.Literal("MultiPolygon"),
  coordinates: Schema.Array(Schema.Array(Schema.Array(PointCoordinates)))
})

/**
 * The geometry of a `GeoLocation`: one of the six GeoJSON geometries the API supports.
 *
 * @since 0.1.0
 * @category models
 */
export const Geometry = Schema.Union(Point, LineString, Polygon, MultiPoint, MultiLineString, MultiPolygon)
  .annotations({ identifier: "Geometry" })

/**
 * @since 0.1.0
 * @category models
 */
export type Geometry = typeof Geometry.Type

/**
 * The geographic metadata of a file: a GeoJSON `Feature`.
 *
 * @since 0.1.0
 * @category models
 */
export const GeoLocation = Schema.Struct({
  type: Schema.Literal("Feature"),
  geometry: Geometry,
  properties: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.Unknown }), { exact: true })
}).annotations({ identifier: "GeoLocation" })

/**
 * @since 0.1.0
 * @category models
 */
export type GeoLocation = typeof GeoLocation.Type

/**
 * The identifier of a Data Modeling node (a `CogniteFile`): its space and external id.
 *
 * @since 0.1.0
 * @category models
 */
export const InstanceId = Schema.Struct({ space: Schema.String, externalId: Schema.String })
  .annotations({ identifier: "InstanceId" })

/**
 * @since 0.1.0
 * @category models
 */
export interface InstanceId extends Schema.Schema.Type<typeof InstanceId> {}

// -------------------------------------------------------------------------------------------------------------------
// FileMetadata (response)
// -------------------------------------------------------------------------------------------------------------------

const optional = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

const toDate = (ms: number | undefined): Date | undefined => ms === undefined ? undefined : new Date(ms)

/**
 * A file record as the API returns it (the spec's `FilesMetadata`). Times are kept as the wire's epoch
 * milliseconds (`createdTime`, ...) and are also available as `Date`s (`createdAt`, ...). Fields the server did
 * not send are absent; fields this version does not know are ignored.
 *
 * @since 0.1.0
 * @category models
 */
export class FileMetadata extends Schema.Class<FileMetadata>("@effect-cdf/files/FileMetadata")({
  id: Schema.Number,
  externalId: optional(Schema.String),
  instanceId: optional(InstanceId),
  name: Schema.String,
  directory: optional(Schema.String),
  source: optional(Schema.String),
  mimeType: optional(Schema.String),
  metadata: optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  assetIds: optional(Schema.Array(Schema.Number)),
  dataSetId: optional(Schema.Number),
  labels: optional(Schema.Array(Label)),
  geoLocation: optional(GeoLocation),
  securityCategories: optional(Schema.Array(Schema.Number)),
  sourceCreatedTime: optional(Schema.Number),
  sourceModifiedTime: optional(Schema.Number),
  /** Whether the content has been uploaded. Set by the API, eventually, after the upload. */
  uploaded: Schema.Boolean,
  uploadedTime: optional(Schema.Number),
  createdTime: Schema.Number,
  lastUpdatedTime: Schema.Number
}) {
  /**
   * `createdTime` as a `Date`.
   *
   * @since 0.1.0
   */
  get createdAt(): Date {
    return new Date(this.createdTime)
  }

  /**
   * `lastUpdatedTime` as a `Date`.
   *
   * @since 0.1.0
   */
  get lastUpdatedAt(): Date {
    return new Date(this.lastUpdatedTime)
  }

  /**
   * `uploadedTime` as a `Date`, when the API sent it.
   *
   * @since 0.1.0
   */
  get uploadedAt(): Date | undefined {
    return toDate(this.uploadedTime)
  }

  /**
   * `sourceCreatedTime` as a `Date`, when set.
   *
   * @since 0.1.0
   */
  get sourceCreatedAt(): Date | undefined {
    return toDate(this.sourceCreatedTime)
  }

  /**
   * `sourceModifiedTime` as a `Date`, when set.
   *
   * @since 0.1.0
   */
  get sourceModifiedAt(): Date | undefined {
    return toDate(this.sourceModifiedTime)
  }
}

/**
 * The answer of `POST files` (and, per item, of `files/uploadlink`): the record plus the URL to PUT the content to.
 * The URL is its own credential (its query string holds the signature), so it is kept `Redacted`: it never shows
 * in logs or `toString`; read it with `Redacted.value`.
 *
 * @since 0.1.0
 * @category models
 */
export class UploadFileMetadata extends FileMetadata.extend<UploadFileMetadata>("@effect-cdf/files/UploadFileMetadata")({
  uploadUrl: Schema.Redacted(Schema.String)
}) {}

/**
 * The answer of `files/initmultipartupload` (and, per item, of `files/multiuploadlink`): the record, the upload
 * id for `files/completemultipartupload`, and one upload URL per part, in part order (each `Redacted`).
 *
 * @since 0.1.0
 * @category models
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
 * @since 0.1.0
 * @category schemas
 */
export const Items = <S extends Schema.Schema.Any>(item: S): Schema.Struct<{ items: Schema.Array$<S> }> =>
  Schema.Struct({ items: Schema.Array(item) })

/**
 * The answer of `files/byids`.
 *
 * @since 0.1.0
 * @category schemas
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
 * @since 0.1.0
 * @category schemas
 */
export const UploadLinkResponse = Schema.Union(singleItem(UploadFileMetadata), UploadFileMetadata)

/**
 * The answer of `files/initmultipartupload`: both SDKs read a flat object from the real API, the spec says an
 * `items` wrapper. Both are accepted and give the record.
 *
 * @since 0.1.0
 * @category schemas
 */
export const InitMultiPartUploadResponse = Schema.Union(MultiPartUploadFileMetadata, singleItem(MultiPartUploadFileMetadata))

/**
 * The answer of `files/multiuploadlink`: `{ "items": [record] }` (spec and SDKs agree); a flat object is accepted
 * too. Gives the record.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MultiUploadLinkResponse = Schema.Union(singleItem(MultiPartUploadFileMetadata), MultiPartUploadFileMetadata)

/**
 * The body of every CDF error answer: `{ "error": { code, message, missing?, duplicated?, ... } }`. Keys beyond
 * the spec's (`isAutoRetryable`, `notices`, ...) are kept.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ErrorEnvelope = Schema.Struct({
  error: Schema.Struct(
    {
      code: Schema.Number,
      message: Schema.String,
      missing: optional(Schema.Array(Schema.Unknown)),
      duplicated: optional(Schema.Array(Schema.Unknown))
    },
    Schema.Record({ key: Schema.String, value: Schema.Unknown })
  )
}).annotations({ identifier: "ErrorEnvelope" })

/**
 * @since 0.1.0
 * @category models
 */
export type ErrorEnvelope = typeof ErrorEnvelope.Type
