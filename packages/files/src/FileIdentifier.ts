/**
 * Which file: the three identities of a CDF file (`{ id }`, `{ externalId }`, `{ instanceId: { space, externalId } }`)
 * as `Schema`s with the spec's limits and patterns, and their validation (an `InvalidFileMetadataError` naming the
 * field at fault).
 *
 * @since 0.1.0
 */
import { type Effect, ParseResult, Schema } from "effect"
import type { InvalidFileMetadataError } from "./CdfError.js"
import { ExternalIdString, InternalId, validatorOf } from "./internal/metadataValidation.js"

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

const optional = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

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

/**
 * Checks a file identifier; fails with an `InvalidFileMetadataError` whose `option` is the path of the field at
 * fault (`externalId`, `instanceId.space`), or `file` for the identifier as a whole. Never dies.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateFileIdentifier: (input: unknown) => Effect.Effect<FileIdentifier, InvalidFileMetadataError> =
  validatorOf(FileIdentifier, "file")

/**
 * Checks the identifier of `uploadContentBytes`; fails with an `InvalidFileMetadataError` whose `option` is the
 * path of the field at fault (`externalId`, `instanceId.space`), or `file` for the identifier as a whole. Never dies.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateContentIdentifier: (input: unknown) => Effect.Effect<ContentIdentifier, InvalidFileMetadataError> =
  validatorOf(ContentIdentifier, "file")
