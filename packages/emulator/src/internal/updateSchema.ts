/**
 * The body of `files/update` (spec: DataFileChange, FileChange, DMSFileChange and the patch shapes): `set` or
 * `setNull` on single values, `set` or `add`/`remove` on collections (never both). What each patch may hold is
 * checked here; what the record becomes is checked again, as a whole, by routes/update.ts.
 *
 * @internal
 */
import * as Schema from "effect/Schema"
import {
  chars,
  EpochTimestamp,
  ExternalId,
  GeoLocation,
  InstanceId,
  InternalId,
  Label,
  Labels,
  Metadata,
  opt,
  strictJson
} from "./schema.js"

const SetNull = Schema.Struct({ setNull: Schema.Boolean })

const single = <S extends Schema.Schema.Any>(schema: S) => Schema.Union(Schema.Struct({ set: schema }), SetNull)

const collection = <S extends Schema.Schema.Any, A extends Schema.Schema.Any, R extends Schema.Schema.Any>(
  set: S,
  add: A,
  remove: R
) => Schema.Union(Schema.Struct({ set }), Schema.Struct({ add: opt(add), remove: opt(remove) }))

const Directory = chars(512).pipe(
  Schema.filter((d) => d.startsWith("/") || "must be an absolute, unix-style path (start with /)")
)

const Ids = (max: number) => Schema.Array(InternalId).pipe(
  Schema.filter((ids) => ids.length <= max || `must have at most ${max} items, got ${ids.length}`),
  Schema.filter((ids) => new Set(ids).size === ids.length || "items must be unique")
)

const MetadataPatch = collection(Metadata, Metadata, Schema.Array(Schema.String))
const IdsPatch = (max: number) => collection(Ids(max), Ids(max), Ids(max))
const LabelsPatch = collection(Labels, Labels, Labels)

/** The fields a file of Data Modeling (by instanceId) may change (DMSFileChange). */
const DmsChange = {
  externalId: opt(single(ExternalId)),
  metadata: opt(MetadataPatch),
  assetIds: opt(IdsPatch(1000)),
  dataSetId: opt(single(InternalId)),
  labels: opt(LabelsPatch),
  geoLocation: opt(single(GeoLocation))
}

/** FileChange: every updatable field. */
const Change = {
  ...DmsChange,
  directory: opt(single(Directory)),
  source: opt(single(chars(128))),
  mimeType: opt(single(chars(256))),
  sourceCreatedTime: opt(single(EpochTimestamp)),
  sourceModifiedTime: opt(single(EpochTimestamp)),
  securityCategories: opt(IdsPatch(100))
}

const Update = Schema.Struct(Change)

export const UpdateItem = Schema.Union(
  Schema.Struct({ id: InternalId, update: Update }),
  Schema.Struct({ externalId: ExternalId, update: Update }),
  Schema.Struct({ instanceId: InstanceId, update: Schema.Struct(DmsChange) })
)

export type UpdateItem = typeof UpdateItem.Type

/** A label (the unit of a labels patch). */
export type Label = typeof Label.Type

export const UpdateRequest = Schema.Struct({
  items: Schema.Array(UpdateItem).pipe(
    Schema.filter((items) =>
      items.length >= 1 && items.length <= 1000 || `must have between 1 and 1000 items, got ${items.length}`
    )
  )
})

export const decodeUpdate = strictJson(UpdateRequest)
