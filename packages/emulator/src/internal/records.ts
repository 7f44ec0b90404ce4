/**
 * File records by identifier: lookup, the CDF errors for unknown and repeated identifiers, create-or-overwrite,
 * removal and rendering.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Content from "./content.js"
import { ApiError } from "./http.js"
import type * as S from "./schema.js"
import type { FileEntry, State } from "./state.js"
import { addEntry, instanceKey } from "./state.js"

export const find = (state: State, identifier: S.FileIdentifier): FileEntry | undefined => {
  if ("id" in identifier) return state.files.get(identifier.id)
  const id = "externalId" in identifier
    ? state.byExternalId.get(identifier.externalId)
    : state.byInstanceId.get(instanceKey(identifier.instanceId))
  return id === undefined ? undefined : state.files.get(id)
}

export const identifierKey = (identifier: S.FileIdentifier) => JSON.stringify(identifier)

/** 400 with `missing`, as real CDF answers unknown ids. */
export const notFound = (missing: ReadonlyArray<S.FileIdentifier>) =>
  new ApiError({
    status: 400,
    message: `Files ids not found: ${missing.map(identifierKey).join(", ")}`,
    extra: { missing }
  })

/** 409 with `duplicated` when the same identifier appears twice in one request. */
export const checkUnique = (items: ReadonlyArray<S.FileIdentifier>): Effect.Effect<void, ApiError> => {
  const seen = new Set<string>()
  const duplicated = items.filter((item) => {
    const key = identifierKey(item)
    if (seen.has(key)) return true
    seen.add(key)
    return false
  })
  return duplicated.length === 0 ? Effect.void : Effect.fail(
    new ApiError({
      status: 409,
      message: `Duplicate ids: ${duplicated.map(identifierKey).join(", ")}`,
      extra: { duplicated }
    })
  )
}

/** The records of `items`, in order; unknown ones fail with `missing` unless `ignoreUnknownIds`. */
export const findAll = (
  state: State,
  items: ReadonlyArray<S.FileIdentifier>,
  ignoreUnknownIds: boolean
): Effect.Effect<ReadonlyArray<{ readonly identifier: S.FileIdentifier; readonly entry: FileEntry }>, ApiError> => {
  const found = items.map((identifier) => ({ identifier, entry: find(state, identifier) }))
  const missing = found.filter((item) => item.entry === undefined).map((item) => item.identifier)
  if (missing.length > 0 && !ignoreUnknownIds) return Effect.fail(notFound(missing))
  return Effect.succeed(found.flatMap(({ entry, identifier }) => entry === undefined ? [] : [{ identifier, entry }]))
}

/** 409 for an externalId another record holds. */
export const duplicateExternalId = (externalId: string) =>
  new ApiError({
    status: 409,
    message: `Duplicate external ids: ${externalId}`,
    extra: { duplicated: [{ externalId }] }
  })

/**
 * Creates a record at `now`, or overwrites the one with the same externalId: the id, createdTime and content stay.
 */
export const createOrOverwriteAt = (
  state: State,
  fields: S.ExternalFilesMetadata,
  overwrite: boolean,
  now: number
): Either.Either<FileEntry, ApiError> => {
  const existingId = fields.externalId === undefined ? undefined : state.byExternalId.get(fields.externalId)
  const existing = existingId === undefined ? undefined : state.files.get(existingId)
  if (existing !== undefined) {
    if (!overwrite) return Either.left(duplicateExternalId(existing.fields.externalId ?? ""))
    const assetIds = fields.assetIds ?? existing.fields["assetIds"]
    existing.fields = { ...fields, ...(assetIds === undefined ? {} : { assetIds }) }
    existing.lastUpdatedTime = now
    return Either.right(existing)
  }
  const entry = addEntry(state, fields, now)
  if (fields.externalId !== undefined) state.byExternalId.set(fields.externalId, entry.id)
  return Either.right(entry)
}

/** `createOrOverwriteAt` the current time. */
export const createOrOverwrite = (state: State, fields: S.ExternalFilesMetadata, overwrite: boolean) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => createOrOverwriteAt(state, fields, overwrite, now))

/** Removes a record, its identifiers and its content. */
export const remove = (state: State, entry: FileEntry): Effect.Effect<void> =>
  Effect.suspend(() => {
    state.files.delete(entry.id)
    if (entry.fields.externalId !== undefined) state.byExternalId.delete(entry.fields.externalId)
    for (const [key, id] of state.byInstanceId) if (id === entry.id) state.byInstanceId.delete(key)
    return Content.discard(entry.content)
  })

/** The record as the API answers it, now. */
export const render = (state: State, entry: FileEntry) =>
  Effect.map(Clock.currentTimeMillis, (now) => state.renderRecord(entry, now))
