/**
 * The `filter` of `files/list`, `search` and `aggregate`, applied to rendered records, and the cursors and
 * partitions of `files/list`.
 *
 * The emulator has no assets or data sets: asset and data set filters take internal ids only, an asset is its own
 * root and its own whole subtree, and `assetExternalIds` is refused with a 400. `geoLocation` is evaluated exactly
 * on planar coordinates (geometry.ts); a file without a `geoLocation` matches no relation, `DISJOINT` included.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Geometry from "./geometry.js"
import { ApiError } from "./http.js"
import type { FileFilter } from "./querySchema.js"

type FileRecord = Readonly<Record<string, unknown>>

const unsupported = (field: string, why: string) =>
  new ApiError({ status: 400, message: `filter.${field}: ${why} (not supported by the emulator)` })

const idsOnly = (
  field: string,
  items: ReadonlyArray<{ readonly id: number } | { readonly externalId: string }> | undefined,
  what: string
): Effect.Effect<ReadonlySet<number> | undefined, ApiError> => {
  if (items === undefined) return Effect.succeed(undefined)
  const ids: Array<number> = []
  for (const item of items) {
    if (!("id" in item)) return Effect.fail(unsupported(field, `the emulator has no ${what}: give {id}`))
    ids.push(item.id)
  }
  return Effect.succeed(new Set(ids))
}

const inRange = (value: unknown, range: { readonly min?: number; readonly max?: number } | undefined) =>
  range === undefined ||
  (typeof value === "number" && (range.min === undefined || value >= range.min) &&
    (range.max === undefined || value <= range.max))

const numbers = (value: unknown): ReadonlyArray<number> =>
  Array.isArray(value) ? value.filter((n): n is number => typeof n === "number") : []

const labelsOf = (record: FileRecord): ReadonlySet<string> =>
  new Set(
    (Array.isArray(record["labels"]) ? record["labels"] : []).flatMap((label: unknown) =>
      typeof label === "object" && label !== null && typeof Reflect.get(label, "externalId") === "string"
        ? [String(Reflect.get(label, "externalId"))]
        : []
    )
  )

const stringAt = (record: FileRecord, key: string): string | undefined => {
  const value = record[key]
  return typeof value === "string" ? value : undefined
}

/** The geometry of a record's `geoLocation` (validated when it was written). */
const geometryOf = (record: FileRecord): Geometry.Geometry | undefined => {
  const location = record["geoLocation"]
  const geometry = typeof location === "object" && location !== null ? Reflect.get(location, "geometry") : undefined
  return typeof geometry === "object" && geometry !== null ? geometry as Geometry.Geometry : undefined
}

/** The predicate of a filter (all conditions must hold), or a 400 for what the emulator cannot model. */
export const compile = (
  filter: FileFilter | null | undefined
): Effect.Effect<(record: FileRecord) => boolean, ApiError> =>
  Effect.gen(function*() {
    if (filter === undefined || filter === null) return () => true
    if (filter.assetExternalIds !== undefined) {
      return yield* unsupported("assetExternalIds", "the emulator has no assets: use assetIds")
    }
    const roots = yield* idsOnly("rootAssetIds", filter.rootAssetIds, "assets")
    const subtrees = yield* idsOnly("assetSubtreeIds", filter.assetSubtreeIds, "assets")
    const dataSets = yield* idsOnly("dataSetIds", filter.dataSetIds, "data sets")
    const assetIds = filter.assetIds === undefined ? undefined : new Set(filter.assetIds)
    const metadata = filter.metadata === undefined ? undefined : Object.entries(filter.metadata as Record<string, string>)
    const labels = filter.labels
    const geo = filter.geoLocation
    return (record) => {
      const assets = numbers(record["assetIds"])
      const anyAsset = (set: ReadonlySet<number> | undefined) =>
        set === undefined || assets.some((asset) => set.has(asset))
      const recordMetadata = record["metadata"]
      const directory = stringAt(record, "directory")
      const externalId = stringAt(record, "externalId")
      const dataSetId = record["dataSetId"]
      return (filter.name === undefined || record["name"] === filter.name) &&
        (filter.directoryPrefix === undefined ||
          (directory !== undefined && directory.startsWith(filter.directoryPrefix))) &&
        (filter.externalIdPrefix === undefined ||
          (externalId !== undefined && externalId.startsWith(filter.externalIdPrefix))) &&
        (filter.mimeType === undefined || record["mimeType"] === filter.mimeType) &&
        (filter.source === undefined || record["source"] === filter.source) &&
        (filter.uploaded === undefined || record["uploaded"] === filter.uploaded) &&
        anyAsset(assetIds) && anyAsset(roots) && anyAsset(subtrees) &&
        (dataSets === undefined || (typeof dataSetId === "number" && dataSets.has(dataSetId))) &&
        (metadata === undefined ||
          (typeof recordMetadata === "object" && recordMetadata !== null &&
            metadata.every(([key, value]) => Reflect.get(recordMetadata, key) === value))) &&
        (labels === undefined || (() => {
          const has = labelsOf(record)
          return "containsAny" in labels
            ? labels.containsAny.some((label) => has.has(label.externalId))
            : labels.containsAll.every((label) => has.has(label.externalId))
        })()) &&
        inRange(record["createdTime"], filter.createdTime) &&
        inRange(record["lastUpdatedTime"], filter.lastUpdatedTime) &&
        inRange(record["uploadedTime"], filter.uploadedTime) &&
        inRange(record["sourceCreatedTime"], filter.sourceCreatedTime) &&
        inRange(record["sourceModifiedTime"], filter.sourceModifiedTime) &&
        (geo === undefined || (() => {
          const geometry = geometryOf(record)
          return geometry !== undefined && Geometry.relates(geo.relation.toUpperCase() as Geometry.Relation, geometry, geo.shape)
        })())
    }
  })

/** `partition: "M/N"` (1 <= M <= N <= 10): the records whose id is M-1 modulo N. */
export const partition = (
  value: string | null | undefined
): Effect.Effect<(id: number) => boolean, ApiError> => {
  if (value === undefined || value === null) return Effect.succeed(() => true)
  const match = /^(\d+)\/(\d+)$/.exec(value)
  const m = match === null ? NaN : Number(match[1])
  const n = match === null ? NaN : Number(match[2])
  if (!(m >= 1 && n >= 1 && m <= n && n <= 10)) {
    return Effect.fail(
      new ApiError({ status: 400, message: `partition: must be "M/N" with 1 <= M <= N <= 10, got "${value}"` })
    )
  }
  return Effect.succeed((id: number) => id % n === m - 1)
}

/** A cursor: opaque to clients, here the id after which the next page starts. */
export const encodeCursor = (afterId: number): string =>
  Buffer.from(JSON.stringify({ after: afterId }), "utf8").toString("base64url")

export const decodeCursor = (cursor: string | null | undefined): Effect.Effect<number, ApiError> => {
  if (cursor === undefined || cursor === null) return Effect.succeed(0)
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))
    const after = typeof parsed === "object" && parsed !== null ? Reflect.get(parsed, "after") : undefined
    if (typeof after === "number" && Number.isSafeInteger(after) && after >= 0) return Effect.succeed(after)
  } catch (_) {
    // an invalid cursor: below
  }
  return Effect.fail(new ApiError({ status: 400, message: "cursor: invalid cursor" }))
}
