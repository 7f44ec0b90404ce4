/**
 * Input validation: what a caller passes (upload options, identifiers) checked against every limit of the CDF Files
 * API specification before any request, and the request body built from valid options. A failure is an
 * `InvalidFileMetadataError` naming the option at fault and the limit in words.
 *
 * Over 450 lines for a reason: it holds one rule per field of the specification, read side by side with it. Split
 * by field, the limits a reader checks against the specification would be in several places.
 *
 * @internal
 */
import { Effect, Either, Option, type ParseResult, Predicate, Schema } from "effect"
import { InvalidFileMetadataError } from "../CdfError.js"
import { JsonObject, StringRecord } from "./jsonValues.js"
import { firstFault, formatPath } from "./parseFault.js"

const optional = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

/**
 * The size of a string in UTF-8 bytes (a lone surrogate counts as the 3 bytes of U+FFFD, as it is sent).
 *
 * @internal
 */
export const utf8Bytes = (s: string): number => {
  let bytes = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4
        i++
      } else bytes += 3
    } else bytes += 3
  }
  return bytes
}

/**
 * The length of a string in Unicode code points: what JSON Schema's `maxLength` counts.
 *
 * @internal
 */
export const codePoints = (s: string): number => {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) i++
    }
    n++
  }
  return n
}

/**
 * The limits of the CDF Files API specification (`ExternalFilesMetadata`), as enforced by `UploadOptions`.
 * String lengths count Unicode code points (what JSON Schema's `maxLength` counts); metadata sizes count UTF-8
 * bytes.
 *
 * @internal
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

/** @internal */
export const maxChars = (max: number) =>
  Schema.String.pipe(
    Schema.filter((s) => codePoints(s) <= max, { description: `a string of at most ${max} characters` })
  )

/** @internal */
export const ExternalIdString = maxChars(Limits.externalId)
/** @internal */
export const NameString = maxChars(Limits.name)
/** @internal */
export const SourceString = maxChars(Limits.source)
/**
 * A mime type is also the `Content-Type` of the upload's PUT: a line break or another control character (which no
 * header can hold) would make the upload fail after its record was created.
 *
 * @internal
 */
export const MimeTypeString = maxChars(Limits.mimeType).pipe(
  // everything but a tab, a visible ASCII character or one beyond ASCII: the C0 controls and DEL
  Schema.filter((s) => !/[^\t\x20-\x7e\x80-\uffff]/.test(s), {
    description: `a string of at most ${Limits.mimeType} characters, without line breaks or other control characters`
  })
)
/** @internal */
export const DirectoryString = Schema.String.pipe(Schema.filter(
  (s) =>
    codePoints(s) > Limits.directory
      ? `a path of at most ${Limits.directory} characters`
      : s.startsWith("/") || "an absolute unix-style path (starting with \"/\")",
  { description: `an absolute unix-style path of at most ${Limits.directory} characters` }
))

/** @internal */
export const MetadataRecord = StringRecord.pipe(Schema.filter(
  (metadata) => {
    const keys = Object.keys(metadata)
    if (keys.length > Limits.metadataPairs) return `at most ${Limits.metadataPairs} key-value pairs`
    let total = 0
    for (const key of keys) {
      const keyBytes = utf8Bytes(key)
      if (keyBytes > Limits.metadataKeyBytes) return `at most ${Limits.metadataKeyBytes} UTF-8 bytes per key`
      const valueBytes = utf8Bytes(metadata[key])
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

/** @internal */
export const InternalId = Schema.Number.pipe(Schema.filter(
  (n) => Number.isSafeInteger(n) && n >= 1,
  { description: `an integer from 1 to ${Limits.maxId}` }
))

/** @internal */
export const EpochMillis = Schema.Number.pipe(Schema.filter(
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

/** @internal */
export const TimeInput = Schema.Union(EpochMillis, DateMillis).annotations({
  description: "epoch milliseconds (an integer, at least 0) or a Date"
})

/** @internal */
export const AssetIds = Schema.Array(InternalId).pipe(Schema.filter(
  (ids) => ids.length >= 1 && ids.length <= Limits.assetIds,
  { description: `from 1 to ${Limits.assetIds} asset ids` }
))

/** @internal */
export const SecurityCategories = Schema.Array(InternalId).pipe(Schema.filter(
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

const checkLabels = (labels: ReadonlyArray<{ readonly externalId: string }>): Schema.FilterOutput => {
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
/** @internal */
export const Labels = Schema.Array(StrictLabel).pipe(Schema.filter(checkLabels, { description: labelsDescription }))

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

const PointGeometry = Schema.Struct({ type: Schema.Literal("Point"), coordinates: Position })
const LineStringGeometry = Schema.Struct({ type: Schema.Literal("LineString"), coordinates: LineStringPositions })
const PolygonGeometry = Schema.Struct({ type: Schema.Literal("Polygon"), coordinates: PolygonRings })
const MultiLineStringGeometry = Schema.Struct({
  type: Schema.Literal("MultiLineString"),
  coordinates: Schema.Array(LineStringPositions)
})
const MultiPolygonGeometry = Schema.Struct({
  type: Schema.Literal("MultiPolygon"),
  coordinates: Schema.Array(PolygonRings)
})

const StrictGeometry = Schema.Union(
  PointGeometry,
  LineStringGeometry,
  PolygonGeometry,
  Schema.Struct({ type: Schema.Literal("MultiPoint"), coordinates: Schema.Array(Position) }),
  MultiLineStringGeometry,
  MultiPolygonGeometry
).annotations({
  description:
    "a geometry { type, coordinates } of type Point, LineString, Polygon, MultiPoint, MultiLineString or MultiPolygon"
})

/**
 * The `shape` of a `geoLocation` filter (the spec's `GeoLocationFilter`): a geometry of type Point, LineString,
 * Polygon, MultiLineString or MultiPolygon (no MultiPoint).
 *
 * @internal
 */
export const GeoShape = Schema.Union(
  PointGeometry,
  LineStringGeometry,
  PolygonGeometry,
  MultiLineStringGeometry,
  MultiPolygonGeometry
).annotations({
  description: "a geometry { type, coordinates } of type Point, LineString, Polygon, MultiLineString or MultiPolygon"
})

/** @internal */
export const StrictGeoLocation = Schema.Struct({
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
 * `undefined` options dropped. Keys the schema does not know are ignored here (`validateUploadOptions` refuses them).
 *
 * @internal
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
 * @internal
 */
export interface UploadOptions extends Schema.Schema.Encoded<typeof UploadOptions> {}

/**
 * Upload options that passed every limit, normalized (labels as `{ externalId }`, times as milliseconds).
 *
 * @internal
 */
export interface ValidUploadOptions extends Schema.Schema.Type<typeof UploadOptions> {}

/**
 * The JSON body of `POST files` and `POST files/initmultipartupload` (the spec's `ExternalFilesMetadata`), with
 * every limit of the spec.
 *
 * @internal
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
 * @internal
 */
export interface FileMetadataWrite extends Schema.Schema.Type<typeof FileMetadataWrite> {}

const invalid = (option: string, limit: string) =>
  new InvalidFileMetadataError({ option, limit, message: `Invalid option ${option}: must be ${limit}` })

const fromParseError = (root: string) => (error: ParseResult.ParseError): InvalidFileMetadataError => {
  const fault = firstFault(error.issue)
  return invalid(formatPath(fault.path, root), fault.limit)
}

const unreadable = (root: string) => () => invalid(root, "an object whose properties can be read")

/**
 * A validator of `schema`: any input (also a wrong type from a JavaScript caller, or an object whose getters throw)
 * gives either the decoded value or an `InvalidFileMetadataError` naming the path at fault (from `root`) and the
 * limit in words; it never dies.
 *
 * @internal
 */
export const validatorOf = <A, I>(schema: Schema.Schema<A, I>, root: string) => {
  const decode = Schema.decodeUnknownEither(schema)
  const fault = fromParseError(root)
  // the `Either` is the Effect (one operation of the runtime where `Effect.try` then `flatMap` took several): it runs
  // on every upload's options and on every identifier of a batch call
  return (input: unknown): Effect.Effect<A, InvalidFileMetadataError> =>
    Effect.suspend(() => {
      try {
        return Either.mapLeft(decode(input), fault)
      } catch {
        return Either.left(unreadable(root)())
      }
    })
}

/**
 * Checks upload options against every limit of the spec, before any request (see `FileMetadata.validateUploadOptions`).
 *
 * @internal
 */
export const validateUploadOptions = (input: unknown): Effect.Effect<ValidUploadOptions, InvalidFileMetadataError> => {
  const unknown = unknownOption(input)
  return unknown === undefined ? decodeUploadOptions(input) : Effect.fail(unknown)
}

const decodeUploadOptions = validatorOf(UploadOptions, "options")

/**
 * The keys an upload call takes: the metadata of `UploadOptions`, and the options of the call itself (`onProgress`,
 * `multipart`, `checksum`, `verify`, `resume`, `parts` of a multipart session, `signal` of a Promise call).
 */
const knownOptions: ReadonlySet<string> = new Set([
  ...Object.keys(UploadOptions.fields),
  "onProgress",
  "multipart",
  "checksum",
  "verify",
  "resume",
  "parts",
  "signal"
])

/**
 * The error of the first key of `input` that no upload call takes (a misspelled `nmae`, which JavaScript would
 * otherwise ignore), with the known option it is closest to; `undefined` when every key is known, or `input` is not
 * an object or is an array (the schema then says so). Own enumerable keys only; a key whose value is `undefined` counts too.
 */
const unknownOption = (input: unknown): InvalidFileMetadataError | undefined => {
  if (typeof input !== "object" || input === null) return undefined
  let keys: Array<string>
  try {
    // a revoked Proxy throws even on Array.isArray
    if (Array.isArray(input)) return undefined
    keys = Object.keys(input)
  } catch {
    return undefined // an object whose keys cannot be listed fails in the schema as unreadable
  }
  for (const key of keys) {
    if (!knownOptions.has(key)) {
      const near = closest(key)
      const limit = near === undefined ? "a known option" : `a known option (did you mean ${near}?)`
      return new InvalidFileMetadataError({
        option: key,
        limit,
        message: `Invalid option ${key}: not an option of an upload${near === undefined ? "" : `; did you mean ${near}?`}`
      })
    }
  }
  return undefined
}

/** The known option within two edits of `key` (case ignored), if any. */
const closest = (key: string): string | undefined => {
  let best: string | undefined
  let bestDistance = 3
  for (const known of knownOptions) {
    const distance = editDistance(key.toLowerCase(), known.toLowerCase(), bestDistance)
    if (distance < bestDistance) {
      best = known
      bestDistance = distance
    }
  }
  return best
}

/** Levenshtein distance (a transposition counts as two edits), or `cap` once it is sure to be at least `cap`. */
const editDistance = (a: string, b: string, cap: number): number => {
  if (Math.abs(a.length - b.length) >= cap) return cap
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    let rowMin = i
    for (let j = 1; j <= b.length; j++) {
      const value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
      current.push(value)
      if (value < rowMin) rowMin = value
    }
    if (rowMin >= cap) return cap
    previous = current
  }
  return Math.min(previous[b.length]!, cap)
}

/**
 * The JSON body for `POST files` / `POST files/initmultipartupload`: keys absent when unset, in the order the
 * Python SDK sends them, labels as `[{ externalId }]`, times as integer milliseconds. `overwrite` is not part of the
 * body: it is the `overwrite` query parameter.
 *
 * @internal
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

