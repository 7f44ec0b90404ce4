/**
 * The file records of the CDF Files API: what the API answers (`FileMetadata` and the shapes of each endpoint's
 * response), and what a caller may send (`UploadOptions`, checked against every limit of the API specification
 * before any request leaves the process).
 *
 * @since 0.1.0
 */
import { Array as Arr, Effect, Either, Option, ParseResult, Predicate, Schema, SchemaAST } from "effect"
import { InvalidFileMetadataError } from "./CdfError.js"
import * as internal from "./internal/metadataValidation.js"

const fromFault = (ast: SchemaAST.AST, u: unknown, fault: internal.JsonFault): ParseResult.ParseIssue => {
  const leaf = new ParseResult.Type(ast, u, fault.limit)
  return Arr.isNonEmptyReadonlyArray(fault.path) ? new ParseResult.Pointer(fault.path, u, leaf) : leaf
}

const copying = <A>(copy: (u: unknown) => Either.Either<A, internal.JsonFault>) => () =>
(
  u: unknown,
  _: SchemaAST.ParseOptions,
  ast: SchemaAST.Declaration
): Effect.Effect<A, ParseResult.ParseIssue> =>
  Either.match(copy(u), {
    onRight: ParseResult.succeed,
    onLeft: (fault) => ParseResult.fail(fromFault(ast, u, fault))
  })

/** A record of strings, copied (keys like `__proto__` stay ordinary keys, unlike with `Schema.Record`). */
const StringRecord = Schema.declare(
  [],
  { decode: copying(internal.copyStringRecord), encode: copying(internal.copyStringRecord) },
  {
    description: "an object of string values",
    arbitrary: () => (fc) => fc.dictionary(fc.string(), fc.string())
  }
)

/** A JSON object, deep-copied (plain objects, arrays, strings, finite numbers, booleans, null; no cycles). */
const JsonObject = Schema.declare(
  [],
  { decode: copying(internal.copyJsonObject), encode: copying(internal.copyJsonObject) },
  {
    description: "a JSON object",
    arbitrary: () => (fc) => fc.dictionary(fc.string(), fc.jsonValue())
  }
)

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
  properties: Schema.optionalWith(JsonObject, { exact: true })
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

// -------------------------------------------------------------------------------------------------------------------
// request side: the limits of the spec
// -------------------------------------------------------------------------------------------------------------------

/**
 * The limits of the CDF Files API specification (`ExternalFilesMetadata`), as enforced by `UploadOptions`.
 * String lengths count Unicode code points (what JSON Schema's `maxLength` counts); metadata sizes count UTF-8
 * bytes.
 *
 * @since 0.1.0
 * @category constants
 */
export const Limits = {
  name: 256,
  externalId: 255,
  directory: 512,
  source: 128,
  mimeType: 256,
  metadataKeyBytes: 128,
  metadataValueBytes: 10240,
  metadataPairs: 256,
  /** Keys and values together. */
  metadataTotalBytes: 10240,
  assetIds: 1000,
  securityCategories: 100,
  labels: 10,
  /** The largest id (`assetIds`, `dataSetId`, `securityCategories`, `id`): 2^53 - 1. */
  maxId: 9007199254740991
} as const

const maxChars = (max: number) =>
  Schema.String.pipe(
    Schema.filter((s) => internal.codePoints(s) <= max, { description: `a string of at most ${max} characters` })
  )

const ExternalIdString = maxChars(Limits.externalId)
const NameString = maxChars(Limits.name)
const SourceString = maxChars(Limits.source)
const MimeTypeString = maxChars(Limits.mimeType)
const DirectoryString = Schema.String.pipe(Schema.filter(
  (s) =>
    internal.codePoints(s) > Limits.directory
      ? `a path of at most ${Limits.directory} characters`
      : s.startsWith("/") || "an absolute unix-style path (starting with \"/\")",
  { description: `an absolute unix-style path of at most ${Limits.directory} characters` }
))

const MetadataRecord = StringRecord.pipe(Schema.filter(
  (metadata) => {
    const keys = Object.keys(metadata)
    if (keys.length > Limits.metadataPairs) return `at most ${Limits.metadataPairs} key-value pairs`
    let total = 0
    for (const key of keys) {
      const keyBytes = internal.utf8Bytes(key)
      if (keyBytes > Limits.metadataKeyBytes) return `at most ${Limits.metadataKeyBytes} UTF-8 bytes per key`
      const valueBytes = internal.utf8Bytes(metadata[key])
      if (valueBytes > Limits.metadataValueBytes) {
        return { path: [key], message: `at most ${Limits.metadataValueBytes} UTF-8 bytes` }
      }
      total += keyBytes + valueBytes
    }
    return total <= Limits.metadataTotalBytes ||
      `at most ${Limits.metadataTotalBytes} UTF-8 bytes in all keys and values together`
  },
  { description: "string keys and values within the metadata limits" }
))

const InternalId = Schema.Number.pipe(Schema.filter(
  (n) => Number.isSafeInteger(n) && n >= 1,
  { description: `an integer from 1 to ${Limits.maxId}` }
))

const EpochMillis = Schema.Number.pipe(Schema.filter(
  (n) => Number.isSafeInteger(n) && n >= 0,
  { description: "an integer number of milliseconds since the epoch, at least 0" }
))

const DateMillis = Schema.transform(
  Schema.DateFromSelf.pipe(Schema.filter((d) => {
    const t = d.getTime()
    return Number.isSafeInteger(t) && t >= 0
  }, { description: "a valid Date, not before 1970-01-01T00:00:00Z" })),
  Schema.typeSchema(EpochMillis),
  { strict: true, decode: (d) => d.getTime(), encode: (ms) => new Date(ms) }
)

const TimeInput = Schema.Union(EpochMillis, DateMillis).annotations({
  description: "epoch milliseconds (an integer, at least 0) or a Date"
})

const AssetIds = Schema.Array(InternalId).pipe(Schema.filter(
  (ids) => ids.length >= 1 && ids.length <= Limits.assetIds,
  { description: `from 1 to ${Limits.assetIds} asset ids` }
))

const SecurityCategories = Schema.Array(InternalId).pipe(Schema.filter(
  (ids) => ids.length <= Limits.securityCategories,
  { description: `at most ${Limits.securityCategories} security categories` }
))

const StrictLabel = Schema.Struct({ externalId: ExternalIdString })

const LabelFromString = Schema.transform(ExternalIdString, Schema.typeSchema(StrictLabel), {
  strict: true,
  decode: (externalId) => ({ externalId }),
  encode: (label) => label.externalId
})

const LabelInput = Schema.Union(LabelFromString, StrictLabel).annotations({
  description: "a label: a string, or { externalId: string }"
})

const checkLabels = (labels: ReadonlyArray<Label>): Schema.FilterOutput => {
  if (labels.length > Limits.labels) return `at most ${Limits.labels} labels`
  const seen = new Set<string>()
  for (let i = 0; i < labels.length; i++) {
    if (seen.has(labels[i].externalId)) return { path: [i], message: "unique (this label appears twice)" }
    seen.add(labels[i].externalId)
  }
  return true
}

const labelsDescription = `at most ${Limits.labels} unique labels`
const LabelsInput = Schema.Array(LabelInput).pipe(Schema.filter(checkLabels, { description: labelsDescription }))
const Labels = Schema.Array(StrictLabel).pipe(Schema.filter(checkLabels, { description: labelsDescription }))

const Position = Schema.Array(Schema.Number).pipe(Schema.filter(
  (p) => p.length === 2 && Number.isFinite(p[0]) && Number.isFinite(p[1]),
  { description: "a position: exactly 2 finite numbers" }
))

const LineStringPositions = Schema.Array(Position).pipe(Schema.filter(
  (line) => line.length >= 2,
  { description: "a line string: at least 2 positions" }
))

const samePosition = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => a[0] === b[0] && a[1] === b[1]

const LinearRing = Schema.Array(Position).pipe(Schema.filter(
  (ring) =>
    ring.length < 4
      ? "a linear ring of at least 4 positions"
      : samePosition(ring[0], ring[ring.length - 1]) || "a closed linear ring (the last position equal to the first)",
  { description: "a closed linear ring of at least 4 positions" }
))

const PolygonRings = Schema.Array(LinearRing).pipe(Schema.filter(
  (rings) => rings.length >= 1,
  { description: "a polygon: at least 1 linear ring" }
))

const StrictGeometry = Schema.Union(
  Schema.Struct({ type: Schema.Literal("Point"), coordinates: Position }),
  Schema.Struct({ type: Schema.Literal("LineString"), coordinates: LineStringPositions }),
  Schema.Struct({ type: Schema.Literal("Polygon"), coordinates: PolygonRings }),
  Schema.Struct({ type: Schema.Literal("MultiPoint"), coordinates: Schema.Array(Position) }),
  Schema.Struct({ type: Schema.Literal("MultiLineString"), coordinates: Schema.Array(LineStringPositions) }),
  Schema.Struct({ type: Schema.Literal("MultiPolygon"), coordinates: Schema.Array(PolygonRings) })
).annotations({
  description:
    "a geometry { type, coordinates } of type Point, LineString, Polygon, MultiPoint, MultiLineString or MultiPolygon"
})

const StrictGeoLocation = Schema.Struct({
  type: Schema.Literal("Feature"),
  geometry: StrictGeometry,
  properties: Schema.optionalWith(JsonObject, { exact: true })
})

/** An optional option: absent or `undefined` in the input, absent in the output. */
const opt = <A, I, R>(schema: Schema.Schema<A, I, R>) =>
  Schema.optionalToOptional(Schema.UndefinedOr(schema), Schema.typeSchema(schema), {
    decode: Option.filter(Predicate.isNotUndefined),
    encode: (o) => o
  })

/**
 * The options of an upload, as the Python SDK's `upload_bytes` takes them (camelCase), checked against every limit
 * of the spec. Decoding gives the normalized options: labels as `{ externalId }`, times as integer milliseconds,
 * `undefined` options dropped. Keys the schema does not know are ignored.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UploadOptions = Schema.Struct({
  externalId: opt(ExternalIdString),
  name: NameString,
  directory: opt(DirectoryString),
  source: opt(SourceString),
  mimeType: opt(MimeTypeString),
  metadata: opt(MetadataRecord),
  assetIds: opt(AssetIds),
  dataSetId: opt(InternalId),
  labels: opt(LabelsInput),
  geoLocation: opt(StrictGeoLocation),
  sourceCreatedTime: opt(TimeInput),
  sourceModifiedTime: opt(TimeInput),
  securityCategories: opt(SecurityCategories),
  /** Replace the record with the same `externalId` (sent as the `overwrite` query parameter, not in the body). */
  overwrite: opt(Schema.Boolean)
}).annotations({ identifier: "UploadOptions", description: "an object of upload options" })

/**
 * What a caller passes: `name` and any of the optional options. `labels` may be strings or `{ externalId }`,
 * times epoch milliseconds or `Date`s.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadOptions extends Schema.Schema.Encoded<typeof UploadOptions> {}

/**
 * Upload options that passed every limit, normalized (labels as `{ externalId }`, times as milliseconds).
 *
 * @since 0.1.0
 * @category models
 */
export interface ValidUploadOptions extends Schema.Schema.Type<typeof UploadOptions> {}

/**
 * The JSON body of `POST files` and `POST files/initmultipartupload` (the spec's `ExternalFilesMetadata`), with
 * every limit of the spec.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FileMetadataWrite = Schema.Struct({
  externalId: optional(ExternalIdString),
  name: NameString,
  directory: optional(DirectoryString),
  source: optional(SourceString),
  mimeType: optional(MimeTypeString),
  metadata: optional(MetadataRecord),
  assetIds: optional(AssetIds),
  dataSetId: optional(InternalId),
  labels: optional(Labels),
  geoLocation: optional(StrictGeoLocation),
  sourceCreatedTime: optional(EpochMillis),
  sourceModifiedTime: optional(EpochMillis),
  securityCategories: optional(SecurityCategories)
}).annotations({ identifier: "ExternalFilesMetadata" })

/**
 * @since 0.1.0
 * @category models
 */
export interface FileMetadataWrite extends Schema.Schema.Type<typeof FileMetadataWrite> {}

const invalid = (option: string, limit: string) =>
  new InvalidFileMetadataError({ option, limit, message: `Invalid option ${option}: must be ${limit}` })

const fromParseError = (root: string) => (error: ParseResult.ParseError): InvalidFileMetadataError => {
  const fault = internal.firstFault(error.issue)
  return invalid(internal.formatPath(fault.path, root), fault.limit)
}

const unreadable = (root: string) => () => invalid(root, "an object whose properties can be read")

const decodeUploadOptions = Schema.decodeUnknownEither(UploadOptions)

/**
 * Checks upload options against every limit of the spec, before any request. Any input (also a wrong type from a
 * JavaScript caller, or an object whose getters throw) gives either the normalized options or an
 * `InvalidFileMetadataError` naming the option (`metadata`, `labels[3].externalId`,
 * `geoLocation.geometry.coordinates[0]`) and the limit in words; it never dies.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateUploadOptions = (input: unknown): Effect.Effect<ValidUploadOptions, InvalidFileMetadataError> =>
  Effect.try({ try: () => decodeUploadOptions(input), catch: unreadable("options") }).pipe(
    Effect.flatMap(Either.mapLeft(fromParseError("options")))
  )

/**
 * The JSON body for `POST files` / `POST files/initmultipartupload`: keys absent when unset, in the order the
 * Python SDK sends them, labels as `[{ externalId }]`, times as integer milliseconds. `overwrite` is not part of the
 * body: it is the `overwrite` query parameter.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toWireBody = (options: ValidUploadOptions): FileMetadataWrite => ({
  ...(options.externalId !== undefined ? { externalId: options.externalId } : {}),
  name: options.name,
  ...(options.directory !== undefined ? { directory: options.directory } : {}),
  ...(options.source !== undefined ? { source: options.source } : {}),
  ...(options.mimeType !== undefined ? { mimeType: options.mimeType } : {}),
  ...(options.metadata !== undefined ? { metadata: { ...options.metadata } } : {}),
  ...(options.assetIds !== undefined ? { assetIds: [...options.assetIds] } : {}),
  ...(options.dataSetId !== undefined ? { dataSetId: options.dataSetId } : {}),
  ...(options.labels !== undefined
    ? { labels: options.labels.map((label) => ({ externalId: label.externalId })) }
    : {}),
  ...(options.geoLocation !== undefined ? { geoLocation: options.geoLocation } : {}),
  ...(options.sourceCreatedTime !== undefined ? { sourceCreatedTime: options.sourceCreatedTime } : {}),
  ...(options.sourceModifiedTime !== undefined ? { sourceModifiedTime: options.sourceModifiedTime } : {}),
  ...(options.securityCategories !== undefined ? { securityCategories: [...options.securityCategories] } : {})
})

// -------------------------------------------------------------------------------------------------------------------
// identifiers
// -------------------------------------------------------------------------------------------------------------------

const StrictInstanceId = Schema.Struct({
  space: Schema.String.pipe(Schema.filter(
    (s) => /^[a-zA-Z][a-zA-Z0-9_-]{0,41}[a-zA-Z0-9]?$/.test(s),
    { description: "a space: 1 to 43 characters, a letter first, then letters, digits, _ or -" }
  )),
  externalId: Schema.String.pipe(Schema.filter(
    (s) => /^[a-zA-Z]([a-zA-Z0-9_]{0,253}[a-zA-Z0-9])?$/.test(s),
    { description: "an instance external id: 1 to 255 characters, a letter first, then letters, digits or _" }
  ))
})

const ById = Schema.Struct({ id: InternalId })
const ByExternalId = Schema.Struct({ externalId: ExternalIdString })
const ByInstanceId = Schema.Struct({ instanceId: StrictInstanceId })

/** Exactly one key, no other key; then the member of the union that key names. */
const exactlyOne = <F extends object, FI, A, I>(
  from: Schema.Schema<F, FI>,
  to: Schema.Schema<A, I>,
  pick: (input: F) => A | undefined,
  widen: (a: A) => F,
  description: string
) =>
  Schema.transformOrFail(
    from.annotations({ parseOptions: { onExcessProperty: "error" } }).pipe(
      Schema.filter((input) => Object.keys(input).length === 1, { description })
    ),
    Schema.typeSchema(to),
    {
      strict: true,
      decode: (input, _, ast) => {
        const picked = pick(input)
        return picked === undefined
          ? ParseResult.fail(new ParseResult.Type(ast, input, description))
          : ParseResult.succeed(picked)
      },
      encode: (a) => ParseResult.succeed(widen(a))
    }
  ).annotations({ description })

const identifierFields = {
  id: optional(InternalId),
  externalId: optional(ExternalIdString),
  instanceId: optional(StrictInstanceId)
}

const fileIdentifierWords = "exactly one of { id }, { externalId } or { instanceId: { space, externalId } }"

/**
 * Which file: exactly one of `{ id }`, `{ externalId }` or `{ instanceId: { space, externalId } }` (for
 * `retrieve`), with the spec's limits; no other key.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FileIdentifier = exactlyOne(
  Schema.Struct(identifierFields),
  Schema.Union(ById, ByExternalId, ByInstanceId),
  (input) =>
    input.id !== undefined
      ? { id: input.id }
      : input.externalId !== undefined
      ? { externalId: input.externalId }
      : input.instanceId !== undefined
      ? { instanceId: input.instanceId }
      : undefined,
  (identifier) => identifier,
  fileIdentifierWords
).annotations({ identifier: "FileIdentifier" })

/**
 * @since 0.1.0
 * @category models
 */
export type FileIdentifier = typeof FileIdentifier.Type

const contentIdentifierWords = "exactly one of { externalId } or { instanceId: { space, externalId } }"

/**
 * The file whose content `uploadContentBytes` uploads (`files/uploadlink`): exactly one of `{ externalId }` or
 * `{ instanceId: { space, externalId } }`, with the spec's limits and patterns; no other key.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ContentIdentifier = exactlyOne(
  Schema.Struct({ externalId: identifierFields.externalId, instanceId: identifierFields.instanceId }),
  Schema.Union(ByExternalId, ByInstanceId),
  (input) =>
    input.externalId !== undefined
      ? { externalId: input.externalId }
      : input.instanceId !== undefined
      ? { instanceId: input.instanceId }
      : undefined,
  (identifier) => identifier,
  contentIdentifierWords
).annotations({ identifier: "ContentIdentifier" })

/**
 * @since 0.1.0
 * @category models
 */
export type ContentIdentifier = typeof ContentIdentifier.Type

const decodeFileIdentifier = Schema.decodeUnknownEither(FileIdentifier)
const decodeContentIdentifier = Schema.decodeUnknownEither(ContentIdentifier)

/**
 * Checks a file identifier; fails with an `InvalidFileMetadataError` whose `option` is the path of the field at
 * fault (`externalId`, `instanceId.space`), or `file` for the identifier as a whole. Never dies.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateFileIdentifier = (input: unknown): Effect.Effect<FileIdentifier, InvalidFileMetadataError> =>
  Effect.try({ try: () => decodeFileIdentifier(input), catch: unreadable("file") }).pipe(
    Effect.flatMap(Either.mapLeft(fromParseError("file")))
  )

/**
 * Checks the identifier of `uploadContentBytes`; fails with an `InvalidFileMetadataError` whose `option` is the
 * path of the field at fault (`externalId`, `instanceId.space`), or `file` for the identifier as a whole. Never dies.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateContentIdentifier = (
  input: unknown
): Effect.Effect<ContentIdentifier, InvalidFileMetadataError> =>
  Effect.try({ try: () => decodeContentIdentifier(input), catch: unreadable("file") }).pipe(
    Effect.flatMap(Either.mapLeft(fromParseError("file")))
  )
