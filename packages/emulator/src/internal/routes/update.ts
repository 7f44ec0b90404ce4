/**
 * `POST files/update`: `set` / `setNull` on single fields, `set` or `add` / `remove` on metadata, assetIds,
 * securityCategories and labels, by id, externalId or instanceId. All items or none: every item is checked (the
 * record it would give too, against the spec's limits) before any record changes.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import type { Handler } from "../http.js"
import { ApiError, ok, readJson } from "../http.js"
import * as Records from "../records.js"
import * as S from "../schema.js"
import type { Fields, FileEntry, State } from "../state.js"
import type { UpdateItem } from "../updateSchema.js"
import { decodeUpdate } from "../updateSchema.js"

type Patch =
  | { readonly set: unknown }
  | { readonly setNull: boolean }
  | { readonly add?: unknown; readonly remove?: unknown }

const identifierOf = (item: UpdateItem): S.FileIdentifier =>
  "id" in item ? { id: item.id } : "externalId" in item ? { externalId: item.externalId } : { instanceId: item.instanceId }

const labelKey = (label: unknown): unknown =>
  typeof label === "object" && label !== null ? Reflect.get(label, "externalId") : label

/** `add` then `remove` on a list, by `key` (labels by externalId, ids by value); what is already there stays once. */
const patchList = (
  current: unknown,
  add: ReadonlyArray<unknown> | undefined,
  remove: ReadonlyArray<unknown> | undefined,
  key: (u: unknown) => unknown
): Array<unknown> => {
  const list = Array.isArray(current) ? [...current] : []
  const present = new Set(list.map(key))
  for (const item of add ?? []) {
    if (!present.has(key(item))) {
      present.add(key(item))
      list.push(item)
    }
  }
  const removed = new Set((remove ?? []).map(key))
  return list.filter((item) => !removed.has(key(item)))
}

/** The fields after one patch of `field`. */
const applyPatch = (fields: Record<string, unknown>, field: string, patch: Patch): void => {
  if ("set" in patch) {
    fields[field] = patch.set
  } else if ("setNull" in patch) {
    if (patch.setNull) delete fields[field]
  } else if (field === "metadata") {
    const metadata: Record<string, unknown> = { ...(fields["metadata"] as Record<string, unknown> | undefined) }
    for (const [key, value] of Object.entries((patch.add ?? {}) as Record<string, unknown>)) metadata[key] = value
    for (const key of (patch.remove ?? []) as ReadonlyArray<string>) delete metadata[key]
    fields["metadata"] = metadata
  } else if (patch.add !== undefined || patch.remove !== undefined) {
    fields[field] = patchList(
      fields[field],
      patch.add as ReadonlyArray<unknown> | undefined,
      patch.remove as ReadonlyArray<unknown> | undefined,
      field === "labels" ? labelKey : (u) => u
    )
  }
}

/** The new fields of `entry` after `update`, or a 400 naming the item when the result breaks a limit. */
const updatedFields = (
  entry: FileEntry,
  update: Readonly<Record<string, Patch | undefined>>,
  index: number
): Either.Either<Fields, ApiError> => {
  const fields: Record<string, unknown> = { ...entry.fields }
  for (const [field, patch] of Object.entries(update)) {
    if (patch !== undefined) applyPatch(fields, field, patch)
  }
  // assetIds has at least one item when present (spec): removing the last one removes the field
  if (Array.isArray(fields["assetIds"]) && fields["assetIds"].length === 0) delete fields["assetIds"]
  const { instanceId, ...checked } = fields
  const valid = S.validateFields(checked)
  if (Either.isLeft(valid)) {
    const issues = ParseResult.ArrayFormatter.formatErrorSync(valid.left)
      .map((issue) => `items.${index}.update.${issue.path.join(".")}: ${issue.message}`)
      .join("; ")
    return Either.left(new ApiError({ status: 400, message: issues }))
  }
  return Either.right({ ...valid.right, ...(instanceId === undefined ? {} : { instanceId }) })
}

export const make = (state: State): Handler => (ctx) =>
  Effect.gen(function*() {
    const { items } = yield* readJson(ctx, decodeUpdate)
    const identifiers = items.map(identifierOf)
    yield* Records.checkUnique(identifiers)
    const found = yield* Records.findAll(state, identifiers, false)
    const ids = found.map(({ entry }) => entry.id)
    const twice = found.filter(({ entry }, index) => ids.indexOf(entry.id) !== index).map((item) => item.identifier)
    if (twice.length > 0) {
      return yield* new ApiError({
        status: 409,
        message: `The same file more than once: ${twice.map(Records.identifierKey).join(", ")}`,
        extra: { duplicated: twice }
      })
    }
    const changes: Array<{ readonly entry: FileEntry; readonly fields: Fields }> = []
    for (const [index, { entry }] of found.entries()) {
      const update = items[index].update as Readonly<Record<string, Patch | undefined>>
      changes.push({ entry, fields: yield* updatedFields(entry, update, index) })
    }
    // externalIds after the update: none may be held twice
    const holders = new Map(state.byExternalId)
    for (const { entry } of changes) {
      if (entry.fields.externalId !== undefined) holders.delete(entry.fields.externalId)
    }
    for (const { entry, fields } of changes) {
      if (fields.externalId === undefined) continue
      const holder = holders.get(fields.externalId)
      if (holder !== undefined && holder !== entry.id) return yield* Records.duplicateExternalId(fields.externalId)
      holders.set(fields.externalId, entry.id)
    }
    const now = yield* Clock.currentTimeMillis
    for (const { entry, fields } of changes) {
      if (entry.fields.externalId !== undefined) state.byExternalId.delete(entry.fields.externalId)
      entry.fields = fields
      entry.lastUpdatedTime = now
    }
    for (const { entry, fields } of changes) {
      if (fields.externalId !== undefined) state.byExternalId.set(fields.externalId, entry.id)
    }
    return ok({ items: changes.map(({ entry }) => state.renderRecord(entry, now)) })
  })
