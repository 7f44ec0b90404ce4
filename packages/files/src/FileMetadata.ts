/**
 * The file records of the CDF Files API: `FileMetadata`, a record as the API answers it, with its GeoJSON geometry.
 * What a caller may send is checked here too: `UploadOptions` with every limit of the API specification
 * (`validateUploadOptions`, before any request leaves the process), and the file identifiers of `FileIdentifier`,
 * re-exported.
 *
 * @since 0.1.0
 */
import { type Effect, Schema } from "effect"
import type { InvalidFileMetadataError } from "./CdfError.js"
import * as Identifier from "./FileIdentifier.js"
import * as Envelope from "./internal/errorEnvelope.js"
import { JsonObject, StringRecord } from "./internal/jsonValues.js"
import * as Validation from "./internal/metadataValidation.js"

// -------------------------------------------------------------------------------------------------------------------
// the record (response side: the server is trusted to keep its own limits)
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
 * A position: `[x, y]` (GeoJSON order: longitude, latitude); the spec's `PointCoordinates`.
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
 * A GeoJSON `Point`: one position.
 *
 * @since 0.1.0
 * @category models
 */
export const Point = Schema.Struct({ type: Schema.Literal("Point"), coordinates: PointCoordinates })

/**
 * @since 0.1.0
 * @category models
 */
export type Point = typeof Point.Type

/**
 * A GeoJSON `LineString`: a line through positions (the API wants at least 2; checked on input only).
 *
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
export type LineString = typeof LineString.Type

/**
 * A GeoJSON `Polygon`: linear rings (closed, at least 4 positions each; checked on input only).
 *
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
export type Polygon = typeof Polygon.Type

/**
 * A GeoJSON `MultiPoint`: positions.
 *
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
export type MultiPoint = typeof MultiPoint.Type

/**
 * A GeoJSON `MultiLineString`: lines.
 *
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
export type MultiLineString = typeof MultiLineString.Type

/**
 * A GeoJSON `MultiPolygon`: polygons.
 *
 * @since 0.1.0
 * @category models
 */
export const MultiPolygon = Schema.Struct({
  type: Schema.Literal("MultiPolygon"),
  coordinates: Schema.Array(Schema.Array(Schema.Array(PointCoordinates)))
})

/**
 * @since 0.1.0
 * @category models
 */
export type MultiPolygon = typeof MultiPolygon.Type

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
  properties: Schema.optionalWith(JsonObject, { exact: true })
}).annotations({ identifier: "GeoLocation" })

/**
 * @since 0.1.0
 * @category models
 */
export type GeoLocation = typeof GeoLocation.Type

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
  instanceId: optional(Identifier.InstanceId),
  name: Schema.String,
  directory: optional(Schema.String),
  source: optional(Schema.String),
  mimeType: optional(Schema.String),
  metadata: optional(StringRecord),
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

// -------------------------------------------------------------------------------------------------------------------
// identifiers (defined in FileIdentifier.ts; re-exported here, where they were first)
// -------------------------------------------------------------------------------------------------------------------

/**
 * The identifier of a Data Modeling node (a `CogniteFile`): its space and external id (see `FileIdentifier`).
 *
 * @since 0.1.0
 * @category models
 */
export const InstanceId = Identifier.InstanceId

/**
 * @since 0.1.0
 * @category models
 */
export interface InstanceId extends Identifier.InstanceId {}

/**
 * Which file: exactly one of `{ id }`, `{ externalId }` or `{ instanceId: { space, externalId } }` (for
 * `retrieve`), with the spec's limits; no other key. Defined in `FileIdentifier`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FileIdentifier = Identifier.FileIdentifier

/**
 * @since 0.1.0
 * @category models
 */
export type FileIdentifier = Identifier.FileIdentifier

/**
 * The file whose content `uploadContentBytes` uploads (`files/uploadlink`): exactly one of `{ externalId }` or
 * `{ instanceId: { space, externalId } }`, with the spec's limits and patterns; no other key. Defined in
 * `FileIdentifier`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ContentIdentifier = Identifier.ContentIdentifier

/**
 * @since 0.1.0
 * @category models
 */
export type ContentIdentifier = Identifier.ContentIdentifier

/**
 * Checks a file identifier (see `FileIdentifier.validateFileIdentifier`).
 *
 * @since 0.1.0
 * @category validation
 */
export const validateFileIdentifier: (input: unknown) => Effect.Effect<FileIdentifier, InvalidFileMetadataError> =
  Identifier.validateFileIdentifier

/**
 * Checks the identifier of `uploadContentBytes` (see `FileIdentifier.validateContentIdentifier`).
 *
 * @since 0.1.0
 * @category validation
 */
export const validateContentIdentifier: (
  input: unknown
) => Effect.Effect<ContentIdentifier, InvalidFileMetadataError> = Identifier.validateContentIdentifier

// -------------------------------------------------------------------------------------------------------------------
// request side: the limits of the spec (the code is in internal/metadataValidation.ts)
// -------------------------------------------------------------------------------------------------------------------

/**
 * The limits of the CDF Files API specification (`ExternalFilesMetadata`), as enforced by `UploadOptions`.
 * String lengths count Unicode code points (what JSON Schema's `maxLength` counts); metadata sizes count UTF-8
 * bytes.
 *
 * @since 0.1.0
 * @category constants
 */
export const Limits: typeof Validation.Limits = Validation.Limits

/**
 * The options of an upload, as the Python SDK's `upload_bytes` takes them (camelCase), checked against every limit
 * of the spec. Decoding gives the normalized options: labels as `{ externalId }`, times as integer milliseconds,
 * `undefined` options dropped. Keys the schema does not know are ignored.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UploadOptions: typeof Validation.UploadOptions = Validation.UploadOptions

/**
 * What a caller passes: `name` and any of the optional options. `labels` may be strings or `{ externalId }`,
 * times epoch milliseconds or `Date`s.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadOptions extends Validation.UploadOptions {}

/**
 * Upload options that passed every limit, normalized (labels as `{ externalId }`, times as milliseconds).
 *
 * @since 0.1.0
 * @category models
 */
export interface ValidUploadOptions extends Validation.ValidUploadOptions {}

/**
 * The JSON body of `POST files` and `POST files/initmultipartupload` (the spec's `ExternalFilesMetadata`), with
 * every limit of the spec.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FileMetadataWrite: typeof Validation.FileMetadataWrite = Validation.FileMetadataWrite

/**
 * @since 0.1.0
 * @category models
 */
export interface FileMetadataWrite extends Validation.FileMetadataWrite {}

/**
 * Checks upload options against every limit of the spec, before any request. Any input (also a wrong type from a
 * JavaScript caller, or an object whose getters throw) gives either the normalized options or an
 * `InvalidFileMetadataError` naming the option (`metadata`, `labels[3].externalId`,
 * `geoLocation.geometry.coordinates[0]`) and the limit in words; it never dies. A key that no upload call takes
 * (a misspelled `nmae`, which JavaScript would let through) is refused, naming the key and the option it is closest
 * to; the options of the call itself (`onProgress`, `multipart`, `checksum`, `verify`, `parts`, `signal`) are known.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateUploadOptions: (input: unknown) => Effect.Effect<ValidUploadOptions, InvalidFileMetadataError> =
  Validation.validateUploadOptions

/**
 * The JSON body for `POST files` / `POST files/initmultipartupload`: keys absent when unset, in the order the
 * Python SDK sends them, labels as `[{ externalId }]`, times as integer milliseconds. `overwrite` is not part of the
 * body: it is the `overwrite` query parameter.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toWireBody: (options: ValidUploadOptions) => FileMetadataWrite = Validation.toWireBody

// -------------------------------------------------------------------------------------------------------------------
// the error body (the code is in internal/errorEnvelope.ts, beside the request code that decodes it)
// -------------------------------------------------------------------------------------------------------------------

/**
 * The body of every CDF error answer: `{ "error": { code, message, missing?, duplicated?, ... } }`. Keys beyond
 * the spec's (`isAutoRetryable`, `notices`, ...) are kept.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ErrorEnvelope: typeof Envelope.ErrorEnvelope = Envelope.ErrorEnvelope

/**
 * @since 0.1.0
 * @category models
 */
export type ErrorEnvelope = Envelope.ErrorEnvelope
