/**
 * Request bodies of the read routes (`files/list`, `search`, `aggregate`, `downloadlink`), with the spec's limits
 * (cdf-files-openapi.json: FileFilterRequest, FilesSearchFilter, FileFilter, FileLinkIds). Written from the spec
 * alone, like schema.ts.
 *
 * `null` is accepted where a field is optional at the top of these bodies (and for `search.name`): the Python SDK
 * sends `"cursor": null` on the first page of a partitioned list, and `{"search": {"name": null}, "filter": null,
 * "limit": 100}` from `files.search()` without a name or filter.
 *
 * @internal
 */
import * as Schema from "effect/Schema"
import {
  arrayOf,
  chars,
  EpochTimestamp,
  ExternalId,
  FileIdentifier,
  GeoShape,
  InternalId,
  Label,
  Metadata,
  opt,
  strictJson
} from "./schema.js"

/** `opt`, also accepting `null` (read as absent). */
const optNull = <S extends Schema.Schema.Any>(schema: S) => opt(Schema.NullOr(schema))

const uniqueArray = <S extends Schema.Schema.Any>(item: S, min: number, max: number) =>
  arrayOf(item, min, max).pipe(
    Schema.filter((items) =>
      new Set(items.map((item) => JSON.stringify(item))).size === items.length || "items must be unique"
    )
  )

const IdOrExternalId = Schema.Union(
  Schema.Struct({ id: InternalId }),
  Schema.Struct({ externalId: ExternalId })
)

const TimeRange = Schema.Struct({ min: opt(EpochTimestamp), max: opt(EpochTimestamp) })

const LabelFilter = Schema.Union(
  Schema.Struct({ containsAny: arrayOf(Label, 1, 10) }),
  Schema.Struct({ containsAll: arrayOf(Label, 1, 10) })
)

/**
 * GeoLocationFilter: a relation and a shape. The spec's relations are upper case; @cognite/sdk 10 types them in
 * lower case and sends them as given, so both spellings are accepted (read as upper case).
 */
const GeoLocationFilter = Schema.Struct({
  relation: Schema.Literal("INTERSECTS", "DISJOINT", "WITHIN", "intersects", "disjoint", "within"),
  shape: GeoShape
})

/** FileFilter.filter. Asset external ids are accepted here and refused by filter.ts. */
export const FileFilter = Schema.Struct({
  name: opt(chars(256)),
  directoryPrefix: opt(chars(512)),
  mimeType: opt(chars(256)),
  metadata: opt(Metadata),
  assetIds: opt(uniqueArray(InternalId, 1, 100)),
  assetExternalIds: opt(uniqueArray(ExternalId, 1, 100)),
  rootAssetIds: opt(uniqueArray(IdOrExternalId, 1, 100)),
  assetSubtreeIds: opt(uniqueArray(IdOrExternalId, 1, 100)),
  dataSetIds: opt(uniqueArray(IdOrExternalId, 0, 100)),
  source: opt(chars(128)),
  createdTime: opt(TimeRange),
  lastUpdatedTime: opt(TimeRange),
  uploadedTime: opt(TimeRange),
  sourceCreatedTime: opt(TimeRange),
  sourceModifiedTime: opt(TimeRange),
  externalIdPrefix: opt(chars(255)),
  uploaded: opt(Schema.Boolean),
  labels: opt(LabelFilter),
  geoLocation: opt(GeoLocationFilter)
})

export type FileFilter = typeof FileFilter.Type

const Limit = Schema.Number.pipe(
  Schema.filter((n) => Number.isInteger(n) && n >= 1 && n <= 1000 || "must be an integer between 1 and 1000")
)

/** files/list: FileFilterRequest. */
export const ListRequest = Schema.Struct({
  filter: optNull(FileFilter),
  limit: optNull(Limit),
  cursor: optNull(Schema.String),
  partition: optNull(Schema.String)
})

/** files/search: FilesSearchFilter, with the `limit` both SDKs send (the public API documents it). */
export const SearchRequest = Schema.Struct({
  filter: optNull(FileFilter),
  search: optNull(Schema.Struct({ name: optNull(chars(256)) })),
  limit: optNull(Limit)
})

/** files/aggregate: FileFilter; `aggregate: "count"` as the Python SDK's `aggregate_count` sends it. */
export const AggregateRequest = Schema.Struct({
  filter: optNull(FileFilter),
  aggregate: opt(Schema.Literal("count"))
})

/** files/downloadlink: FileLinkIds (1..100 identifiers). */
export const DownloadLinkRequest = Schema.Struct({ items: arrayOf(FileIdentifier, 1, 100) })

export const decodeList = strictJson(ListRequest)
export const decodeSearch = strictJson(SearchRequest)
export const decodeAggregate = strictJson(AggregateRequest)
export const decodeDownloadLink = strictJson(DownloadLinkRequest)
