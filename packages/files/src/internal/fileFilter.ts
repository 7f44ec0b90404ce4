/**
 * The filter of `files/list` (the spec's `FileFilter`), as a `Schema` with the spec's limits, and the paging
 * options of `Files.list`. Checked before any request: an unknown key, a wrong type or a broken limit is an
 * `InvalidFileMetadataError` naming the filter field (`createdTime.min`).
 *
 * @internal
 */
import { Schema } from "effect"
import type { InvalidFileMetadataError } from "../CdfError.js"
import type { Effect } from "effect"
import * as Validation from "./metadataValidation.js"

const opt = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

const between = <S extends Schema.Schema.Any>(schema: S, min: number, max: number, what: string) =>
  Schema.Array(schema).pipe(Schema.filter(
    (items) => items.length >= min && items.length <= max,
    { description: `from ${min} to ${max} ${what}` }
  ))

/** `{ min?, max? }`, inclusive, in epoch milliseconds (or `Date`s). */
const TimeRange = Schema.Struct({ min: opt(Validation.TimeInput), max: opt(Validation.TimeInput) })

/** `{ id }` or `{ externalId }` (assets and data sets). */
const IdEither = Schema.Union(
  Schema.Struct({ id: Validation.InternalId }),
  Schema.Struct({ externalId: Validation.ExternalIdString })
).annotations({ description: "{ id } or { externalId }" })

const Label = Schema.Struct({ externalId: Validation.ExternalIdString })

const LabelFilter = Schema.Union(
  Schema.Struct({ containsAny: between(Label, 1, 10, "labels") }),
  Schema.Struct({ containsAll: between(Label, 1, 10, "labels") })
).annotations({ description: "{ containsAny: [{ externalId }] } or { containsAll: [{ externalId }] }" })

/**
 * `{ relation, shape }` (the spec's `GeoLocationFilter`): the files whose `geoLocation` geometry `INTERSECTS`,
 * is `DISJOINT` from, or lies `WITHIN` the GeoJSON `shape`.
 *
 * @internal
 */
export const GeoLocationFilter = Schema.Struct({
  relation: Schema.Literal("INTERSECTS", "DISJOINT", "WITHIN"),
  shape: Validation.GeoShape
}).annotations({
  description: "{ relation: INTERSECTS | DISJOINT | WITHIN, shape: a GeoJSON geometry }",
  parseOptions: { onExcessProperty: "error" }
})

/**
 * The filter of `files/list`, every field of the spec's `FileFilter`: exact matches (`name`, `mimeType`, `source`,
 * `uploaded`, `metadata` pairs), prefixes (`directoryPrefix`, `externalIdPrefix`), ids (`assetIds`,
 * `assetExternalIds`, `rootAssetIds`, `assetSubtreeIds`, `dataSetIds`), `labels`, inclusive time ranges and
 * `geoLocation`. No other key.
 *
 * @internal
 */
export const FileFilter = Schema.Struct({
  name: opt(Validation.NameString),
  directoryPrefix: opt(Validation.maxChars(Validation.Limits.directory)),
  externalIdPrefix: opt(Validation.ExternalIdString),
  mimeType: opt(Validation.MimeTypeString),
  source: opt(Validation.SourceString),
  uploaded: opt(Schema.Boolean),
  metadata: opt(Validation.MetadataRecord),
  assetIds: opt(between(Validation.InternalId, 1, 100, "asset ids")),
  assetExternalIds: opt(between(Validation.ExternalIdString, 1, 100, "asset external ids")),
  rootAssetIds: opt(between(IdEither, 1, 100, "root assets")),
  assetSubtreeIds: opt(between(IdEither, 1, 100, "subtree roots")),
  dataSetIds: opt(between(IdEither, 0, 100, "data sets")),
  labels: opt(LabelFilter),
  createdTime: opt(TimeRange),
  lastUpdatedTime: opt(TimeRange),
  uploadedTime: opt(TimeRange),
  sourceCreatedTime: opt(TimeRange),
  sourceModifiedTime: opt(TimeRange),
  geoLocation: opt(GeoLocationFilter)
}).annotations({
  identifier: "FileFilter",
  description: "a files/list filter",
  parseOptions: { onExcessProperty: "error" }
})

/**
 * A filter as a caller writes it (times may be `Date`s).
 *
 * @internal
 */
export interface FileFilter extends Schema.Schema.Encoded<typeof FileFilter> {}

/**
 * The options of `Files.list`: `limit`, the most records the stream gives in all (default: every match), and
 * `pageSize`, the records asked for per request (1 to 1000, default 1000).
 *
 * @internal
 */
export const ListOptions = Schema.Struct({
  limit: opt(Schema.Number.pipe(Schema.filter(
    (n) => Number.isSafeInteger(n) && n >= 0,
    { description: "an integer of at least 0" }
  ))),
  pageSize: opt(Schema.Number.pipe(Schema.filter(
    (n) => Number.isSafeInteger(n) && n >= 1 && n <= 1000,
    { description: "an integer from 1 to 1000" }
  )))
}).annotations({ parseOptions: { onExcessProperty: "error" } })

/**
 * The options of `Files.list`.
 *
 * @internal
 */
export interface ListOptions extends Schema.Schema.Encoded<typeof ListOptions> {}

/** Checks a filter (the option is the field at fault, or `filter`). @internal */
export const validateFilter: (input: unknown) => Effect.Effect<typeof FileFilter.Type, InvalidFileMetadataError> =
  Validation.validatorOf(FileFilter, "filter")

/** Checks the paging options of `Files.list`. @internal */
export const validateListOptions: (input: unknown) => Effect.Effect<typeof ListOptions.Type, InvalidFileMetadataError> =
  Validation.validatorOf(ListOptions, "options")
