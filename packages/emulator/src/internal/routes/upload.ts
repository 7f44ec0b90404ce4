/**
 * The upload routes of the API: `POST files`, `uploadlink`, `initmultipartupload`, `multiuploadlink` and
 * `completemultipartupload` (the bytes themselves go to storage: routes/storage.ts).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { randomUUID } from "node:crypto"
import * as Content from "../content.js"
import type { Answer, Ctx, FastHandler, Handler } from "../http.js"
import { ApiError, ok, queryBoolean, queryBooleanOf, queryParts, readJson, readJsonThen } from "../http.js"
import * as Records from "../records.js"
import * as S from "../schema.js"
import type { FileEntry, MultipartSession, State } from "../state.js"

export const make = (state: State) => {
  const openSession = (entry: FileEntry, parts: number, now: number) => {
    const session: MultipartSession = {
      uploadId: randomUUID(),
      fileId: entry.id,
      parts,
      received: Array.from({ length: parts }, () => undefined),
      completion: undefined
    }
    state.sessions.set(session.uploadId, session)
    const uploadUrls = Array.from({ length: parts }, (_, part) => state.newTarget(entry.id, part, session, now))
    return { uploadId: session.uploadId, uploadUrls }
  }

  const findUploadTarget = (ctx: Ctx) =>
    Effect.gen(function*() {
      const { items } = yield* readJson(ctx, S.decodeUploadIds)
      const identifier = items[0]
      const entry = Records.find(state, identifier)
      if (entry === undefined) return yield* Records.notFound([identifier])
      return entry
    })

  /** `POST files` once its query and body are read: the record and its upload URL. */
  const created = (overwrite: boolean, fields: S.ExternalFilesMetadata, now: number): Answer =>
    Either.map(Records.createOrOverwriteAt(state, fields, overwrite, now), (entry) => {
      const uploadUrl = state.newTarget(entry.id, undefined, undefined, now)
      return ok({ uploadUrl, ...state.renderRecord(entry, now) }, 201)
    })

  const create: Handler = (ctx) =>
    Effect.gen(function*() {
      const overwrite = yield* queryBoolean(ctx, "overwrite")
      const fields = yield* readJson(ctx, S.decodeExternalFilesMetadata)
      return yield* created(overwrite, fields, yield* Clock.currentTimeMillis)
    })

  /** `create` on the direct path: the same steps, in the same order. */
  const createFast: FastHandler = (view) => {
    const overwrite = queryBooleanOf(view, "overwrite")
    return Either.isLeft(overwrite)
      ? Either.left(overwrite.left)
      : readJsonThen(view, S.decodeExternalFilesMetadata, (fields, now) => created(overwrite.right, fields, now))
  }

  const uploadLink: Handler = (ctx) =>
    Effect.gen(function*() {
      const entry = yield* findUploadTarget(ctx)
      const uploadUrl = state.newTarget(entry.id, undefined, undefined, yield* Clock.currentTimeMillis)
      const record = yield* Records.render(state, entry)
      return ok({ items: [{ ...record, uploadUrl }] })
    })

  const initMultipart: Handler = (ctx) =>
    Effect.gen(function*() {
      const overwrite = yield* queryBoolean(ctx, "overwrite")
      const parts = yield* queryParts(ctx)
      const fields = yield* readJson(ctx, S.decodeExternalFilesMetadata)
      const entry = yield* Records.createOrOverwrite(state, fields, overwrite)
      const session = openSession(entry, parts, yield* Clock.currentTimeMillis)
      const record = yield* Records.render(state, entry)
      return ok({ ...record, ...session }, 201)
    })

  const multiUploadLink: Handler = (ctx) =>
    Effect.gen(function*() {
      const parts = yield* queryParts(ctx)
      const entry = yield* findUploadTarget(ctx)
      const session = openSession(entry, parts, yield* Clock.currentTimeMillis)
      const record = yield* Records.render(state, entry)
      return ok({ items: [{ ...record, ...session }] })
    })

  const complete: Handler = (ctx) =>
    Effect.gen(function*() {
      const body = yield* readJson(ctx, S.decodeComplete)
      const identifier: S.FileIdentifier = "id" in body
        ? { id: body.id }
        : "externalId" in body
        ? { externalId: body.externalId }
        : { instanceId: body.instanceId }
      const entry = Records.find(state, identifier)
      if (entry === undefined) return yield* Records.notFound([identifier])
      const session = state.sessions.get(body.uploadId)
      if (session === undefined || session.fileId !== entry.id) {
        return yield* new ApiError({ status: 400, message: "uploadId: no such multipart upload for this file" })
      }
      if (session.completion !== undefined) {
        // a repeated (or concurrent) completion: 200 {} once the first one has stored the content
        yield* session.completion
        return ok({})
      }
      const received = session.received.flatMap((content, part) => content === undefined ? [] : [part])
      const count = received.length === 0 ? 0 : received[received.length - 1] + 1
      const holes = Array.from({ length: count }, (_, part) => part).filter((part) =>
        session.received[part] === undefined
      )
      if (holes.length > 0 || count === 0) {
        return yield* new ApiError({
          status: 400,
          message: `Missing parts: ${(count === 0 ? [0] : holes).join(", ")} (0-based) of ${session.parts}`
        })
      }
      if (count < session.parts && !state.allowFewerParts) {
        const missing = Array.from({ length: session.parts - count }, (_, i) => count + i)
        return yield* new ApiError({
          status: 400,
          message: `Missing parts: ${missing.join(", ")} (0-based) of ${session.parts}`
        })
      }
      const parts = session.received.slice(0, count).flatMap((content) => content === undefined ? [] : [content])
      const small = parts.findIndex((part, index) => index < parts.length - 1 && part.size < state.minPartSize)
      if (small !== -1) {
        return yield* new ApiError({
          status: 400,
          message: `Part ${small} (0-based) is ${
            parts[small].size
          } bytes: every part but the last must be at least ${state.minPartSize} bytes`
        })
      }
      // set before any other fiber can run (no yield in between): a concurrent completion awaits this one
      const completion = Effect.runSync(Effect.cached(Effect.gen(function*() {
        const content = yield* Content.concat(parts)
        const old = entry.content
        entry.content = content
        entry.arrivedAt = yield* Clock.currentTimeMillis
        yield* Content.discard(old)
      })))
      session.completion = completion
      yield* completion
      return ok({})
    })

  return { create, createFast, uploadLink, initMultipart, multiUploadLink, complete }
}
