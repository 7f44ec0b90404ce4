/**
 * `Files.update`: changes to file records (`files/update`), each by `id`, `externalId` or `instanceId`, with `set`,
 * `setNull`, `add` and `remove` on the updatable fields (the spec's `FileChange`; a file made through Data Modeling
 * takes the smaller `DMSFileChange`). Every change is checked before any request, then sent 1000 per request.
 *
 * @internal
 */
import { Effect, Schema } from "effect"
import type * as CdfClient from "../CdfClient.js"
import * as ApiClient from "./apiClient.js"
import { type CdfError, InvalidFileMetadataError } from "../CdfError.js"
import type * as Identifier from "../FileIdentifier.js"
import type * as FileMetadata from "../FileMetadata.js"
import { batchConcurrency, validateEach } from "./batches.js"
import { recordsInBatches, validateIdentifier } from "./fileQueries.js"
import * as FileWire from "./fileWire.js"
import * as Validation from "./metadataValidation.js"

const opt = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

const strict = { parseOptions: { onExcessProperty: "error" } } as const

const SetNull = Schema.Struct({ setNull: Schema.Literal(true) })

/** `{ set: value }` or `{ setNull: true }`. */
const single = <A, I>(value: Schema.Schema<A, I>) =>
  Schema.Union(Schema.Struct({ set: value }), SetNull).annotations({ description: "{ set: value } or { setNull: true }" })

/** `{ set: ids }` or `{ add?: ids, remove?: ids }`. */
const idArray = (max: number, what: string) => {
  const ids = Schema.Array(Validation.InternalId).pipe(Schema.filter(
    (items) => items.length <= max && new Set(items).size === items.length,
    { description: `at most ${max} unique ${what}` }
  ))
  return Schema.Union(Schema.Struct({ set: ids }), Schema.Struct({ add: opt(ids), remove: opt(ids) }))
    .annotations({ description: "{ set: [...] } or { add?: [...], remove?: [...] }" })
}

const MetadataPatch = Schema.Union(
  Schema.Struct({ set: Validation.MetadataRecord }),
  Schema.Struct({ add: opt(Validation.MetadataRecord), remove: opt(Schema.Array(Schema.String)) })
).annotations({ description: "{ set: {...} } or { add?: {...}, remove?: [keys] }" })

const LabelsPatch = Schema.Union(
  Schema.Struct({ set: Validation.Labels }),
  Schema.Struct({ add: opt(Validation.Labels), remove: opt(Validation.Labels) })
).annotations({ description: "{ set: [{ externalId }] } or { add?: [...], remove?: [...] }" })

const dmsFields = {
  externalId: opt(single(Validation.ExternalIdString)),
  metadata: opt(MetadataPatch),
  assetIds: opt(idArray(Validation.Limits.assetIds, "asset ids")),
  dataSetId: opt(single(Validation.InternalId)),
  labels: opt(LabelsPatch),
  geoLocation: opt(single(Validation.StrictGeoLocation))
}

/**
 * What may change in a file record found by `id` or `externalId` (the spec's `FileChange.update`). No other key.
 *
 * @internal
 */
export const FileUpdate = Schema.Struct({
  ...dmsFields,
  directory: opt(single(Validation.DirectoryString)),
  source: opt(single(Validation.SourceString)),
  mimeType: opt(single(Validation.MimeTypeString)),
  sourceCreatedTime: opt(single(Validation.TimeInput)),
  sourceModifiedTime: opt(single(Validation.TimeInput)),
  securityCategories: opt(idArray(Validation.Limits.securityCategories, "security categories"))
}).annotations({ identifier: "FileUpdate", ...strict })

/**
 * What may change in a file record found by `instanceId` (the spec's `DMSFileChange.update`): the other fields
 * belong to the Data Modeling node. No other key.
 *
 * @internal
 */
export const DmsFileUpdate = Schema.Struct(dmsFields).annotations({ identifier: "DmsFileUpdate", ...strict })

/**
 * One change as a caller writes it: which file (exactly one of `id`, `externalId`, `instanceId`) and `update`.
 *
 * @internal
 */
export type FileChange = typeof Identifier.FileIdentifier.Encoded & {
  readonly update: Schema.Schema.Encoded<typeof FileUpdate>
}

const validateUpdate = Validation.validatorOf(FileUpdate, "update")
const validateDmsUpdate = Validation.validatorOf(DmsFileUpdate, "update")

const invalid = (option: string, limit: string) =>
  new InvalidFileMetadataError({ option, limit, message: `Invalid option ${option}: must be ${limit}` })

const prefixed = (prefix: string) => (error: InvalidFileMetadataError) =>
  invalid(error.option === "update" ? prefix : `${prefix}.${error.option}`, error.limit)

/** Checks one change: the identifier, then the update the identifier allows. @internal */
export const validateChange = (input: unknown): Effect.Effect<Record<string, unknown>, InvalidFileMetadataError> =>
  Effect.gen(function*() {
    const parts = yield* Effect.try({
      try: () => {
        if (typeof input !== "object" || input === null) return undefined
        const { update, ...identity } = input as Record<string, unknown>
        return { update, identity }
      },
      catch: () => invalid("", "an object whose properties can be read")
    })
    if (parts === undefined) return yield* invalid("", "an object { id | externalId | instanceId, update }")
    const identifier = yield* validateIdentifier(parts.identity)
    const update = yield* ("instanceId" in identifier ? validateDmsUpdate : validateUpdate)(parts.update).pipe(
      Effect.mapError(prefixed("update"))
    )
    return { ...identifier, update }
  })

/**
 * `files/update` for any number of changes: each checked first, then 1000 per request, 2 requests at a time; the
 * updated records in the order of `changes`. Retried as an idempotent request: applying the same `set`, `setNull`,
 * `add` or `remove` twice leaves the record as applying it once does.
 *
 * @internal
 */
export const update = (
  client: CdfClient.Service,
  changes: ReadonlyArray<FileChange>
): Effect.Effect<Array<FileMetadata.FileMetadata>, CdfError> =>
  Effect.gen(function*() {
    const valid = yield* validateEach(changes, "changes", validateChange)
    yield* Effect.annotateCurrentSpan({ "cdf.items": valid.length })
    return yield* recordsInBatches(client, {
      path: "files/update",
      items: valid,
      concurrency: batchConcurrency.write,
      body: (batch) => ApiClient.jsonBody(FileWire.UnknownItems, { items: batch }),
      span: "Files.updateBatch"
    })
  }).pipe(Effect.withSpan("Files.update"))
