/**
 * Request bodies of the CDF Files API, with the limits of the spec (cdf-files-openapi.json, reference §3).
 * Written from the spec alone: nothing here is shared with the client.
 */
import type * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

const MAX_ID = 9007199254740991

const utf8Bytes = (s: string) => Buffer.byteLength(s, "utf8")
const codePoints = (s: string) => [...s].length

/** A string of at most `max` characters (JSON Schema maxLength counts code points). */
export const chars = (max: number, min = 0) =>
  Schema.String.pipe(
    Schema.filter((s) => {
      const n = codePoints(s)
      if (n > max) return `must be at most ${max} characters, got ${n}`
      if (n < min) return `must be at least ${min} characters`
      return true
    })
  )

export const InternalId = Schema.Number.pipe(
  Schema.filter((n) => Number.isInteger(n) && n >= 1 && n <= MAX_ID || `must be an integer between 1 and ${MAX_ID}`)
)

export const EpochTimestamp = Schema.Number.pipe(
  Schema.filter((n) => Number.isInteger(n) && n >= 0 || "must be an integer number of milliseconds >= 0")
)

export const arrayOf = <S extends Schema.Schema.Any>(item: S, min: number, max: number) =>
  Schema.Array(item).pipe(
    Schema.filter((items) => {
      if (items.length < min) return `must have at least ${min} item(s), got ${items.length}`
      if (items.length > max) return `must have at most ${max} items, got ${items.length}`
      return true
    })
  )

export const ExternalId = chars(255)

const isPlainObject = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * string -> string metadata with the spec's byte limits. Checked on the object as parsed (not through
 * `Schema.Record`, which drops a `__proto__` key): what is stored is exactly what was sent.
 */
export const Metadata = Schema.Unknown.pipe(
  Schema.filter((metadata) => {
    if (!isPlainObject(metadata)) return "must be an object of string values"
    const entries = Object.entries(metadata)
    if (entries.length > 256) return `must have at most 256 key-value pairs, got ${entries.length}`
    let total = 0
    for (const [key, value] of entries) {
      if (typeof value !== "string") return `value of "${key.slice(0, 40)}" must be a string`
      const k = utf8Bytes(key)
      const v = utf8Bytes(value)
      if (k > 128) return `key "${key.slice(0, 40)}" is ${k} bytes in UTF-8, at most 128 allowed`
      if (v > 10240) return `value of "${key.slice(0, 40)}" is ${v} bytes in UTF-8, at most 10240 allowed`
      total += k + v
    }
    if (total > 10240) return `total size is ${total} bytes in UTF-8, at most 10240 allowed`
    return true
  })
)

export const Label = Schema.Struct({ externalId: chars(255) })

export const Labels = arrayOf(Label, 0, 10).pipe(
  Schema.filter((labels) =>
    new Set(labels.map((label) => label.externalId)).size === labels.length || "labels must be unique"
  )
)

const Position = Schema.Array(Schema.Number).pipe(
  Schema.filter((p) => p.length === 2 || `a position must have exactly 2 numbers, got ${p.length}`)
)
const LineStringCoordinates = arrayOf(Position, 2, Number.MAX_SAFE_INTEGER)
const samePosition = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => a[0] === b[0] && a[1] === b[1]
const LinearRing = Schema.Array(Position).pipe(
  Schema.filter((ring) => {
    if (ring.length < 4) return `a linear ring needs at least 4 positions, got ${ring.length}`
    if (!samePosition(ring[0], ring[ring.length - 1])) return "a linear ring must be closed (first position = last)"
    return true
  })
)
const PolygonCoordinates = arrayOf(LinearRing, 1, Number.MAX_SAFE_INTEGER)

const PointGeometry = Schema.Struct({ type: Schema.Literal("Point"), coordinates: Position })
const LineStringGeometry = Schema.Struct({ type: Schema.Literal("LineString"), coordinates: LineStringCoordinates })
const PolygonGeometry = Schema.Struct({ type: Schema.Literal("Polygon"), coordinates: PolygonCoordinates })
const MultiLineStringGeometry = Schema.Struct({
  type: Schema.Literal("MultiLineString"),
  coordinates: Schema.Array(LineStringCoordinates)
})
const MultiPolygonGeometry = Schema.Struct({
  type: Schema.Literal("MultiPolygon"),
  coordinates: Schema.Array(PolygonCoordinates)
})

const Geometry = Schema.Union(
  PointGeometry,
  LineStringGeometry,
  PolygonGeometry,
  Schema.Struct({ type: Schema.Literal("MultiPoint"), coordinates: Schema.Array(Position) }),
  MultiLineStringGeometry,
  MultiPolygonGeometry
)

/** The `shape` of a `geoLocation` filter (GeoLocationFilter): the geometries but MultiPoint. */
export const GeoShape = Schema.Union(
  PointGeometry,
  LineStringGeometry,
  PolygonGeometry,
  MultiLineStringGeometry,
  MultiPolygonGeometry
)

export const GeoLocation = Schema.Struct({
  type: Schema.Literal("Feature"),
  geometry: Geometry,
  properties: Schema.optionalWith(
    Schema.Unknown.pipe(Schema.filter((u) => isPlainObject(u) || "must be an object")),
    { exact: true }
  )
})

export const opt = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })

/** ExternalFilesMetadata: the body of POST files and files/initmultipartupload. */
export const ExternalFilesMetadata = Schema.Struct({
  externalId: opt(ExternalId),
  name: chars(256),
  directory: opt(
    chars(512).pipe(Schema.filter((d) => d.startsWith("/") || "must be an absolute, unix-style path (start with /)"))
  ),
  source: opt(chars(128)),
  mimeType: opt(chars(256)),
  metadata: opt(Metadata),
  assetIds: opt(arrayOf(InternalId, 1, 1000)),
  dataSetId: opt(InternalId),
  labels: opt(Labels),
  geoLocation: opt(GeoLocation),
  sourceCreatedTime: opt(EpochTimestamp),
  sourceModifiedTime: opt(EpochTimestamp),
  securityCategories: opt(arrayOf(InternalId, 0, 100))
})

export type ExternalFilesMetadata = typeof ExternalFilesMetadata.Type

export const InstanceId = Schema.Struct({
  space: Schema.String.pipe(
    Schema.pattern(/^[a-zA-Z][a-zA-Z0-9_-]{0,41}[a-zA-Z0-9]?$/, { message: () => "invalid instance space" })
  ),
  externalId: Schema.String.pipe(
    Schema.pattern(/^[a-zA-Z]([a-zA-Z0-9_]{0,253}[a-zA-Z0-9])?$/, { message: () => "invalid instance externalId" })
  )
})

export const ById = Schema.Struct({ id: InternalId })
export const ByExternalId = Schema.Struct({ externalId: ExternalId })
export const ByInstanceId = Schema.Struct({ instanceId: InstanceId })

export const FileIdentifier = Schema.Union(ById, ByExternalId, ByInstanceId)
export type FileIdentifier = typeof FileIdentifier.Type

/** files/uploadlink and files/multiuploadlink: exactly one externalId or instanceId. */
export const UploadIds = Schema.Struct({ items: arrayOf(Schema.Union(ByExternalId, ByInstanceId), 1, 1) })

/** files/byids. */
export const ByIds = Schema.Struct({
  items: arrayOf(FileIdentifier, 1, 1000),
  ignoreUnknownIds: opt(Schema.Boolean)
})

/** files/delete. */
export const DeleteIds = Schema.Struct({
  items: arrayOf(Schema.Union(ById, ByExternalId), 1, 1000),
  ignoreUnknownIds: opt(Schema.Boolean)
})

/** files/completemultipartupload. */
export const Complete = Schema.Union(
  Schema.Struct({ id: InternalId, uploadId: Schema.String }),
  Schema.Struct({ externalId: ExternalId, uploadId: Schema.String }),
  Schema.Struct({ instanceId: InstanceId, uploadId: Schema.String })
)

/** OAuth2 token request (form fields). */
export const TokenRequest = Schema.Struct({
  grant_type: Schema.String,
  client_id: opt(Schema.String),
  client_secret: opt(Schema.String),
  scope: opt(Schema.String),
  audience: opt(Schema.String)
})

/** Decodes a JSON text strictly: unknown fields rejected, every violation reported. */
export type JsonDecoder<A> = (text: string) => Either.Either<A, ParseResult.ParseError>

export const strictJson = <A, I>(schema: Schema.Schema<A, I>): JsonDecoder<A> =>
  Schema.decodeUnknownEither(Schema.parseJson(schema), { errors: "all", onExcessProperty: "error" })

// built once: building a decoder per request costs more than the decoding
export const decodeExternalFilesMetadata = strictJson(ExternalFilesMetadata)
export const decodeUploadIds = strictJson(UploadIds)
export const decodeByIds = strictJson(ByIds)
export const decodeDeleteIds = strictJson(DeleteIds)
export const decodeComplete = strictJson(Complete)

/** The control route creating a file as Data Modeling would (a CogniteFile node). */
export const decodeInstanceFileOptions = strictJson(Schema.Struct({
  instanceId: InstanceId,
  name: opt(chars(256)),
  mimeType: opt(chars(256)),
  directory: opt(chars(512))
}))

export const decodeTokenRequest = Schema.decodeUnknownEither(TokenRequest)

/** A boolean query parameter in any case ("true", "True", "TRUE"). */
export const parseBoolean = (value: string | undefined): boolean | undefined => {
  if (value === undefined || value === "") return false
  const lower = value.toLowerCase()
  if (lower === "true") return true
  if (lower === "false") return false
  return undefined
}

/** One line per violation: `field.path: message`. */
export const formatIssues = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => `${issue.path.length === 0 ? "body" : issue.path.join(".")}: ${issue.message}`)
    .join("; ")

/** Checks a whole record's fields (as after an update) against ExternalFilesMetadata. */
export const validateFields = Schema.decodeUnknownEither(ExternalFilesMetadata, {
  errors: "all",
  onExcessProperty: "error"
})
