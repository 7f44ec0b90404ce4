/**
 * The emulator's one HTTP app (an `HttpRouter`), shared by the Node server and the in-memory client.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { identity } from "effect/Function"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import { IncomingMessage } from "node:http"
import { gunzipSync } from "node:zlib"
import type { Fault, RouteName } from "../Emulator.js"
import { Fault as FaultSchema } from "../Emulator.js"
import * as Content from "./content.js"
import * as S from "./schema.js"
import type { FileEntry, MultipartSession, MutableLoggedRequest, State } from "./state.js"
import { addEntry, instanceKey, secretEquals } from "./state.js"

/** The in-memory transport turns a response carrying this header into a dropped connection. */
export const DROP_HEADER = "x-emulator-dropped-connection"

/** The largest JSON request body the API reads. */
const MAX_JSON_BYTES = 10 * 1024 * 1024
/** The largest part of a multipart upload (spec: smaller than 4000 MiB). */
const MAX_PART_BYTES = 4000 * 1024 * 1024

/** The connection is to be dropped (fault) or went away (client). */
class Dropped extends Data.TaggedError("Dropped") {}

/** An API error: answered with the CDF envelope. */
class ApiError extends Data.TaggedError("ApiError")<{
  readonly status: number
  readonly message: string
  readonly extra?: Readonly<Record<string, unknown>>
  readonly headers?: Readonly<Record<string, string>>
}> {}

/** A storage error: answered like the storage behind real upload URLs (XML, not the CDF envelope). */
class StorageError extends Data.TaggedError("StorageError")<{
  readonly status: number
  readonly code: string
  readonly message: string
}> {}

/** An OAuth2 error of the token endpoint (RFC 6749 §5.2). */
class OAuthError extends Data.TaggedError("OAuthError")<{
  readonly status: number
  readonly error: string
  readonly description: string
}> {}

type Kind = "api" | "token" | "storage"

interface Ctx {
  readonly request: HttpServerRequest.HttpServerRequest
  readonly params: Readonly<Record<string, string | undefined>>
  readonly query: Readonly<Record<string, string | ReadonlyArray<string>>>
  /** the request body, with the fault's throttle / reset applied */
  readonly body: Stream.Stream<Uint8Array, Dropped>
  /** set by the storage handler: the PUT record to complete when the response is known */
  put: { status: number; bytes: number } | undefined
  bytesRead: number
}

type Handler = (ctx: Ctx) => Effect.Effect<HttpServerResponse.HttpServerResponse, Dropped | ApiError | StorageError | OAuthError>

const SECRET_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"])

const maskHeaders = (headers: Readonly<Record<string, string>>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    out[name] = SECRET_HEADERS.has(name.toLowerCase()) ? "<redacted>" : value
  }
  return out
}

const xmlEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

const cdfError = (status: number, message: string, extra?: Readonly<Record<string, unknown>>) =>
  HttpServerResponse.unsafeJson({ error: { code: status, message, ...extra } }, { status })

const storageError = (status: number, code: string, message: string) =>
  HttpServerResponse.text(
    `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`,
    { status, contentType: "application/xml" }
  )

const oauthError = (status: number, error: string, description: string) =>
  HttpServerResponse.unsafeJson({ error, error_description: description }, { status })

const errorResponse = (kind: Kind, status: number, message: string) =>
  kind === "storage"
    ? storageError(status, "ServerBusy", message)
    : kind === "token"
    ? oauthError(status, "temporarily_unavailable", message)
    : cdfError(status, message)

const queryValue = (ctx: Ctx, name: string): string | undefined => {
  const value = ctx.query[name]
  return typeof value === "string" ? value : value?.[0]
}

const header = (ctx: Ctx, name: string): string | undefined => ctx.request.headers[name]

/** Reads a (possibly gzip-compressed) JSON body and decodes it strictly: unknown fields are rejected. */
const readJson = <A>(ctx: Ctx, decode: S.JsonDecoder<A>): Effect.Effect<A, Dropped | ApiError> =>
  Effect.gen(function*() {
    let size = 0
    const chunks = yield* ctx.body.pipe(
      Stream.takeWhile((chunk) => (size += chunk.byteLength) <= MAX_JSON_BYTES),
      Stream.runCollect
    )
    if (size > MAX_JSON_BYTES) {
      return yield* new ApiError({ status: 413, message: `Request body larger than ${MAX_JSON_BYTES} bytes` })
    }
    let bytes: Buffer = Buffer.concat(Chunk.toReadonlyArray(chunks))
    const encoding = (header(ctx, "content-encoding") ?? "identity").toLowerCase().trim()
    if (encoding === "gzip") {
      try {
        bytes = gunzipSync(bytes)
      } catch (_) {
        return yield* new ApiError({ status: 400, message: "Content-Encoding is gzip but the body is not valid gzip" })
      }
    } else if (encoding !== "identity" && encoding !== "") {
      return yield* new ApiError({ status: 400, message: `Unsupported Content-Encoding: ${encoding}` })
    }
    const decoded = decode(bytes.toString("utf8"))
    if (Either.isLeft(decoded)) {
      return yield* new ApiError({ status: 400, message: S.formatIssues(decoded.left) })
    }
    return decoded.right
  })

const queryBoolean = (ctx: Ctx, name: string) =>
  Effect.suspend(() => {
    const value = S.parseBoolean(queryValue(ctx, name))
    return value === undefined
      ? Effect.fail(new ApiError({ status: 400, message: `${name}: must be true or false` }))
      : Effect.succeed(value)
  })

const queryParts = (ctx: Ctx) =>
  Effect.suspend(() => {
    const raw = queryValue(ctx, "parts")
    const parts = raw === undefined || !/^\d+$/.test(raw) ? NaN : Number(raw)
    return Number.isInteger(parts) && parts >= 1 && parts <= 250
      ? Effect.succeed(parts)
      : Effect.fail(
        new ApiError({
          status: 400,
          message: raw === undefined ? "parts: required" : "parts: must be an integer between 1 and 250"
        })
      )
  })

/**
 * Throttles a byte stream to `bytesPerSecond` on the Effect clock: each slice waits until the time at which the
 * bytes so far are due (start + bytes / rate), so the average rate holds whatever the chunk sizes and timer
 * granularity.
 */
const throttle = <E>(body: Stream.Stream<Uint8Array, E>, bytesPerSecond: number): Stream.Stream<Uint8Array, E> =>
  Stream.suspend(() => {
    const slice = Math.max(1, Math.floor(bytesPerSecond / 4))
    let start: number | undefined
    let passed = 0
    return body.pipe(
      Stream.mapConcat((chunk) => {
        const pieces: Array<Uint8Array> = []
        for (let offset = 0; offset < chunk.byteLength; offset += slice) {
          pieces.push(chunk.subarray(offset, offset + slice))
        }
        return pieces
      }),
      Stream.tap((piece) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          start ??= now
          passed += piece.byteLength
          const wait = start + (passed * 1000) / bytesPerSecond - now
          return wait >= 1 ? Effect.sleep(Duration.millis(Math.ceil(wait))) : Effect.void
        })
      )
    )
  })

/** Passes the first `bytes` bytes, then fails with `Dropped` (also when the body ends before). */
const resetAfter = (body: Stream.Stream<Uint8Array, Dropped>, bytes: number): Stream.Stream<Uint8Array, Dropped> =>
  Stream.suspend(() => {
    let seen = 0
    return body.pipe(
      Stream.takeWhile(() => seen < bytes),
      Stream.map((chunk) => {
        const part = chunk.subarray(0, bytes - seen)
        seen += part.byteLength
        return part
      }),
      Stream.filter((chunk) => chunk.byteLength > 0),
      Stream.concat(Stream.fail(new Dropped()))
    )
  })

/** Drops the connection: destroys the socket on Node, answers the in-memory transport's marker otherwise. */
const drop = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
  const source = request.source
  if (source instanceof IncomingMessage) {
    return Effect.zipRight(Effect.sync(() => source.socket.destroy()), Effect.never)
  }
  return Effect.succeed(HttpServerResponse.empty({ status: 599, headers: { [DROP_HEADER]: "1" } }))
}

/**
 * After this response: stop reading the request body and close the connection (a 413 must not read the rest of a
 * large body). On Node the socket stops being read once the response is written, gets a FIN, and is destroyed a
 * second later; in memory the client simply stops being pulled.
 */
const closeAfterResponse = (
  request: HttpServerRequest.HttpServerRequest,
  response: HttpServerResponse.HttpServerResponse
): HttpServerResponse.HttpServerResponse => {
  const source = request.source
  if (source instanceof IncomingMessage) {
    const socket = source.socket
    NodeHttpServerRequest.toServerResponse(request).once("finish", () => {
      socket.pause()
      socket.end()
      setTimeout(() => socket.destroy(), 1000).unref()
    })
  }
  return HttpServerResponse.setHeader(response, "connection", "close")
}

const MALFORMED = "{\"items\":[{\"id\":1,\"name\":\"trunc"

export const make = (state: State) => {
  const findFault = (route: RouteName, attempt: number): Fault | undefined =>
    state.faults.find((fault) =>
      fault.route === route && (fault.attempts === undefined || fault.attempts.includes(attempt))
    )

  const checkToken = (ctx: Ctx) =>
    Effect.gen(function*() {
      const authorization = header(ctx, "authorization") ?? ""
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
      if (match === null || !(yield* state.isValidToken(match[1]))) {
        return yield* new ApiError({ status: 401, message: "Unauthorized" })
      }
      if (ctx.params["project"] !== state.project) {
        return yield* new ApiError({
          status: 403,
          message: `Project '${ctx.params["project"] ?? ""}' not found or insufficient access rights`
        })
      }
    })

  /** The shared frame of every route: attempts, request id, log, faults, errors. */
  const route = (name: RouteName, kind: Kind, handler: Handler, prepare?: (ctx: Ctx) => void) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const params = yield* HttpRouter.params
      const query = yield* HttpServerRequest.ParsedSearchParams
      const attempt = (state.attempts.get(name) ?? 0) + 1
      state.attempts.set(name, attempt)
      const requestId = randomUUID()
      const entry: MutableLoggedRequest = {
        route: name,
        method: request.method,
        path: request.url.split("?")[0],
        status: 0,
        attempt,
        requestId,
        headers: maskHeaders(request.headers)
      }
      state.log.push(entry)
      const fault = findFault(name, attempt)
      const action = fault?.action
      // On Node, a handler that stops reading early (413) must not destroy the request: the answer still goes out.
      const source = request.source
      const raw: Stream.Stream<Uint8Array, unknown> = source instanceof IncomingMessage
        ? NodeStream.fromReadable<unknown, Uint8Array>(() => source, identity, { closeOnDone: false })
        : request.stream
      let body: Stream.Stream<Uint8Array, Dropped> = Stream.mapError(raw, () => new Dropped())
      if (action?._tag === "Throttle") body = throttle(body, action.bytesPerSecond)
      if (action?._tag === "ResetAfterBytes") body = resetAfter(body, action.bytes)
      // counted as the handler reads them (with ResetAfterBytes: exactly the bytes read before the drop)
      body = Stream.tap(body, (chunk) => Effect.sync(() => void (ctx.bytesRead += chunk.byteLength)))
      const ctx: Ctx = { request, params, query, body, put: undefined, bytesRead: 0 }
      prepare?.(ctx)

      const guarded: Effect.Effect<HttpServerResponse.HttpServerResponse, Dropped> = Effect.suspend(() =>
        kind === "api" ? Effect.zipRight(checkToken(ctx), handler(ctx)) : handler(ctx)
      ).pipe(
        Effect.catchTags({
          ApiError: (e) =>
            Effect.succeed(
              HttpServerResponse.setHeaders(cdfError(e.status, e.message, e.extra), e.headers ?? {})
            ),
          StorageError: (e) => Effect.succeed(storageError(e.status, e.code, e.message)),
          OAuthError: (e) => Effect.succeed(oauthError(e.status, e.error, e.description))
        })
      )

      const faulted: Effect.Effect<HttpServerResponse.HttpServerResponse, Dropped> = (() => {
        switch (action?._tag) {
          case undefined:
          case "Throttle":
            return guarded
          case "Status": {
            const headers: Record<string, string> = { ...action.headers }
            if (action.retryAfter !== undefined) headers["retry-after"] = action.retryAfter
            return Effect.as(
              Effect.ignore(Stream.runDrain(ctx.body)),
              HttpServerResponse.setHeaders(errorResponse(kind, action.status, "Injected fault"), headers)
            )
          }
          case "Delay":
            return Effect.zipRight(Effect.sleep(Duration.millis(action.millis)), guarded)
          case "Hang":
            return Effect.never
          case "ResetAfterBytes":
            return Effect.zipRight(guarded, Effect.fail(new Dropped()))
          case "MalformedJson":
            return Effect.map(guarded, (response) =>
              HttpServerResponse.text(MALFORMED, {
                status: response.status >= 200 && response.status < 300 ? response.status : 200,
                contentType: "application/json"
              }))
          case "CommitThenFail":
            return Effect.flatMap(guarded, (response) =>
              response.status < 200 || response.status >= 300
                ? Effect.succeed(response)
                : action.mode === "drop"
                ? Effect.fail(new Dropped())
                : Effect.succeed(errorResponse(kind, 503, "Service Unavailable (injected after commit)")))
        }
      })()

      return yield* faulted.pipe(
        Effect.catchAllDefect(() =>
          Effect.succeed(
            kind === "storage"
              ? storageError(500, "InternalError", "The emulator failed")
              : kind === "token"
              ? oauthError(500, "server_error", "The emulator failed")
              : cdfError(500, "The emulator failed")
          )
        ),
        Effect.map((response) => HttpServerResponse.setHeader(response, "x-request-id", requestId)),
        Effect.tap((response) =>
          Effect.sync(() => {
            entry.status = response.status
            if (ctx.put !== undefined) {
              ctx.put.status = response.status
              ctx.put.bytes = ctx.bytesRead
            }
          })
        ),
        Effect.catchTag("Dropped", () =>
          Effect.suspend(() => {
            if (ctx.put !== undefined) ctx.put.bytes = ctx.bytesRead
            return drop(request)
          })),
        Effect.onInterrupt(() =>
          Effect.sync(() => {
            if (ctx.put !== undefined) ctx.put.bytes = ctx.bytesRead
          })
        )
      )
    })

  // ---------------------------------------------------------------------------------------------------------------
  // Files

  const findByIdentifier = (identifier: S.FileIdentifier): FileEntry | undefined => {
    if ("id" in identifier) return state.files.get(identifier.id)
    const id = "externalId" in identifier
      ? state.byExternalId.get(identifier.externalId)
      : state.byInstanceId.get(instanceKey(identifier.instanceId))
    return id === undefined ? undefined : state.files.get(id)
  }

  const identifierKey = (identifier: S.FileIdentifier) => JSON.stringify(identifier)

  const notFound = (missing: ReadonlyArray<S.FileIdentifier>) =>
    new ApiError({
      status: 400,
      message: `Files ids not found: ${missing.map(identifierKey).join(", ")}`,
      extra: { missing }
    })

  /** Creates a record, or overwrites the one with the same externalId: the id, createdTime and content stay. */
  const createOrOverwrite = (fields: S.ExternalFilesMetadata, overwrite: boolean) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const existingId = fields.externalId === undefined ? undefined : state.byExternalId.get(fields.externalId)
      const existing = existingId === undefined ? undefined : state.files.get(existingId)
      if (existing !== undefined) {
        if (!overwrite) {
          return yield* new ApiError({
            status: 409,
            message: `Duplicate external ids: ${fields.externalId}`,
            extra: { duplicated: [{ externalId: fields.externalId }] }
          })
        }
        const assetIds = fields.assetIds ?? existing.fields["assetIds"]
        existing.fields = { ...fields, ...(assetIds === undefined ? {} : { assetIds }) }
        existing.lastUpdatedTime = now
        return existing
      }
      const entry = addEntry(state, fields, now)
      if (fields.externalId !== undefined) state.byExternalId.set(fields.externalId, entry.id)
      return entry
    })

  const render = (entry: FileEntry) => Effect.map(Clock.currentTimeMillis, (now) => state.renderRecord(entry, now))

  const openSession = (entry: FileEntry, parts: number) => {
    const session: MultipartSession = {
      uploadId: randomUUID(),
      fileId: entry.id,
      parts,
      received: Array.from({ length: parts }, () => undefined),
      completion: undefined
    }
    state.sessions.set(session.uploadId, session)
    const uploadUrls = Array.from({ length: parts }, (_, part) => state.newTarget(entry.id, part, session))
    return { uploadId: session.uploadId, uploadUrls }
  }

  const findUploadTarget = (ctx: Ctx) =>
    Effect.gen(function*() {
      const { items } = yield* readJson(ctx, S.decodeUploadIds)
      const identifier = items[0]
      const entry = findByIdentifier(identifier)
      if (entry === undefined) return yield* notFound([identifier])
      return entry
    })

  const filesCreate: Handler = (ctx) =>
    Effect.gen(function*() {
      const overwrite = yield* queryBoolean(ctx, "overwrite")
      const fields = yield* readJson(ctx, S.decodeExternalFilesMetadata)
      const entry = yield* createOrOverwrite(fields, overwrite)
      const uploadUrl = state.newTarget(entry.id, undefined, undefined)
      const record = yield* render(entry)
      return HttpServerResponse.unsafeJson({ uploadUrl, ...record }, { status: 201 })
    })

  const filesUploadLink: Handler = (ctx) =>
    Effect.gen(function*() {
      const entry = yield* findUploadTarget(ctx)
      const uploadUrl = state.newTarget(entry.id, undefined, undefined)
      const record = yield* render(entry)
      return HttpServerResponse.unsafeJson({ items: [{ ...record, uploadUrl }] }, { status: 200 })
    })

  const filesByIds: Handler = (ctx) =>
    Effect.gen(function*() {
      const { ignoreUnknownIds, items } = yield* readJson(ctx, S.decodeByIds)
      const seen = new Set<string>()
      const duplicated = items.filter((item) => {
        const key = identifierKey(item)
        if (seen.has(key)) return true
        seen.add(key)
        return false
      })
      if (duplicated.length > 0) {
        return yield* new ApiError({
          status: 409,
          message: `Duplicate ids: ${duplicated.map(identifierKey).join(", ")}`,
          extra: { duplicated }
        })
      }
      const missing = items.filter((item) => findByIdentifier(item) === undefined)
      if (missing.length > 0 && ignoreUnknownIds !== true) return yield* notFound(missing)
      const now = yield* Clock.currentTimeMillis
      const found = items.flatMap((item) => {
        const entry = findByIdentifier(item)
        return entry === undefined ? [] : [state.renderRecord(entry, now)]
      })
      return HttpServerResponse.unsafeJson({ items: found }, { status: 200 })
    })

  const filesGet: Handler = (ctx) =>
    Effect.gen(function*() {
      const raw = ctx.params["id"] ?? ""
      const id = /^\d+$/.test(raw) ? Number(raw) : NaN
      if (!Number.isSafeInteger(id) || id < 1) {
        return yield* new ApiError({ status: 400, message: `id: must be an integer between 1 and 9007199254740991` })
      }
      const entry = state.files.get(id)
      if (entry === undefined) return yield* notFound([{ id }])
      return HttpServerResponse.unsafeJson(yield* render(entry), { status: 200 })
    })

  const filesDelete: Handler = (ctx) =>
    Effect.gen(function*() {
      const { ignoreUnknownIds, items } = yield* readJson(ctx, S.decodeDeleteIds)
      const missing = items.filter((item) => findByIdentifier(item) === undefined)
      if (missing.length > 0 && ignoreUnknownIds !== true) return yield* notFound(missing)
      for (const item of items) {
        const entry = findByIdentifier(item)
        if (entry === undefined) continue
        state.files.delete(entry.id)
        if (entry.fields.externalId !== undefined) state.byExternalId.delete(entry.fields.externalId)
        for (const [key, id] of state.byInstanceId) if (id === entry.id) state.byInstanceId.delete(key)
        yield* Content.discard(entry.content)
      }
      return HttpServerResponse.unsafeJson({}, { status: 200 })
    })

  const filesInitMultipart: Handler = (ctx) =>
    Effect.gen(function*() {
      const overwrite = yield* queryBoolean(ctx, "overwrite")
      const parts = yield* queryParts(ctx)
      const fields = yield* readJson(ctx, S.decodeExternalFilesMetadata)
      const entry = yield* createOrOverwrite(fields, overwrite)
      const session = openSession(entry, parts)
      const record = yield* render(entry)
      return HttpServerResponse.unsafeJson({ ...record, ...session }, { status: 201 })
    })

  const filesMultiUploadLink: Handler = (ctx) =>
    Effect.gen(function*() {
      const parts = yield* queryParts(ctx)
      const entry = yield* findUploadTarget(ctx)
      const session = openSession(entry, parts)
      const record = yield* render(entry)
      return HttpServerResponse.unsafeJson({ items: [{ ...record, ...session }] }, { status: 200 })
    })

  const filesComplete: Handler = (ctx) =>
    Effect.gen(function*() {
      const body = yield* readJson(ctx, S.decodeComplete)
      const identifier: S.FileIdentifier = "id" in body
        ? { id: body.id }
        : "externalId" in body
        ? { externalId: body.externalId }
        : { instanceId: body.instanceId }
      const entry = findByIdentifier(identifier)
      if (entry === undefined) return yield* notFound([identifier])
      const session = state.sessions.get(body.uploadId)
      if (session === undefined || session.fileId !== entry.id) {
        return yield* new ApiError({ status: 400, message: "uploadId: no such multipart upload for this file" })
      }
      if (session.completion !== undefined) {
        // a repeated (or concurrent) completion: 200 {} once the first one has stored the content
        yield* session.completion
        return HttpServerResponse.unsafeJson({}, { status: 200 })
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
      return HttpServerResponse.unsafeJson({}, { status: 200 })
    })

  // ---------------------------------------------------------------------------------------------------------------
  // Storage

  const contentLengthOf = (ctx: Ctx): number | undefined => {
    const value = header(ctx, "content-length")
    const length = value === undefined ? NaN : Number(value)
    return Number.isSafeInteger(length) && length >= 0 ? length : undefined
  }

  /** Records every PUT to a known upload URL (faulted ones too) on its file, before faults apply. */
  const recordPut = (ctx: Ctx): void => {
    const target = state.targets.get(ctx.params["key"] ?? "")
    const entry = target === undefined ? undefined : state.files.get(target.fileId)
    if (target === undefined || entry === undefined) return
    const names = Object.keys(ctx.request.headers)
    const put = {
      part: target.part,
      status: 0,
      bytes: 0,
      authorization: header(ctx, "authorization") !== undefined,
      cdfHeaders: names.filter((n) => n.toLowerCase().startsWith("x-cdp-") || n.toLowerCase() === "cdf-version"),
      contentType: header(ctx, "content-type"),
      contentLength: contentLengthOf(ctx),
      chunked: (header(ctx, "transfer-encoding") ?? "").toLowerCase().includes("chunked")
    }
    entry.puts.push(put)
    ctx.put = put
  }

  const storagePut = (multipart: boolean): Handler => (ctx) =>
    Effect.gen(function*() {
      const key = ctx.params["key"] ?? ""
      const signature = queryValue(ctx, "sig")
      const target = state.targets.get(key)
      const isPart = target?.part !== undefined
      if (target === undefined || signature === undefined || isPart !== multipart) {
        return yield* new StorageError({
          status: 403,
          code: "AuthenticationFailed",
          message: "Server failed to authenticate the request. Make sure the signature is formed correctly."
        })
      }
      const entry = state.files.get(target.fileId)
      const contentLength = contentLengthOf(ctx)
      if (!secretEquals(signature, target.signature)) {
        return yield* new StorageError({
          status: 403,
          code: "AuthenticationFailed",
          message: "Signature did not match."
        })
      }
      if (entry === undefined) {
        return yield* new StorageError({ status: 404, code: "BlobNotFound", message: "The file no longer exists." })
      }
      const session = target.session
      if (session !== undefined && session.completion !== undefined) {
        return yield* new StorageError({
          status: 404,
          code: "NoSuchUpload",
          message: "The multipart upload was already completed."
        })
      }
      if (multipart && header(ctx, "content-type") !== undefined) {
        return yield* new StorageError({
          status: 400,
          code: "InvalidHeaderValue",
          message: "A part of a multipart upload must not carry Content-Type."
        })
      }
      const limit = multipart ? MAX_PART_BYTES : state.singlePutLimit
      const tooLarge = () =>
        closeAfterResponse(
          ctx.request,
          storageError(413, "RequestBodyTooLarge", `The request body is larger than ${limit} bytes.`)
        )
      if (contentLength !== undefined && contentLength > limit) return tooLarge()
      const result = yield* Content.store(state.dataDir, ctx.body, limit)
      if (result._tag === "TooLarge") return tooLarge()
      if (session !== undefined && target.part !== undefined) {
        const old = session.received[target.part]
        session.received[target.part] = result.content
        yield* Content.discard(old)
      } else {
        const old = entry.content
        entry.content = result.content
        entry.arrivedAt = yield* Clock.currentTimeMillis
        yield* Content.discard(old)
      }
      return HttpServerResponse.empty({ status: 201 })
    })

  // ---------------------------------------------------------------------------------------------------------------
  // Token endpoint (OAuth2 client credentials)

  const token: Handler = (ctx) =>
    Effect.gen(function*() {
      let size = 0
      const chunks = yield* ctx.body.pipe(
        Stream.takeWhile((chunk) => (size += chunk.byteLength) <= 65536),
        Stream.runCollect
      )
      if (size > 65536) {
        return yield* new OAuthError({ status: 413, error: "invalid_request", description: "request too large" })
      }
      const form = Object.fromEntries(
        new URLSearchParams(Buffer.concat(Chunk.toReadonlyArray(chunks)).toString("utf8"))
      )
      const decoded = S.decodeTokenRequest(form)
      if (Either.isLeft(decoded)) {
        return yield* new OAuthError({ status: 400, error: "invalid_request", description: "grant_type is required" })
      }
      const request = decoded.right
      if (request.grant_type !== "client_credentials") {
        return yield* new OAuthError({
          status: 400,
          error: "unsupported_grant_type",
          description: "Only client_credentials is supported"
        })
      }
      let clientId = request.client_id
      let clientSecret = request.client_secret
      const basic = /^Basic\s+(\S+)\s*$/i.exec(header(ctx, "authorization") ?? "")
      if (basic !== null) {
        const decodedBasic = Buffer.from(basic[1], "base64").toString("utf8")
        const colon = decodedBasic.indexOf(":")
        const decodePart = (s: string) => {
          try {
            return decodeURIComponent(s.replace(/\+/g, " "))
          } catch (_) {
            return s
          }
        }
        if (colon !== -1) {
          clientId = decodePart(decodedBasic.slice(0, colon))
          clientSecret = decodePart(decodedBasic.slice(colon + 1))
        }
      }
      if (
        clientId === undefined || clientSecret === undefined || clientId !== state.clientId ||
        !secretEquals(clientSecret, Redacted.value(state.clientSecret))
      ) {
        return yield* new OAuthError({ status: 401, error: "invalid_client", description: "Client authentication failed" })
      }
      const accessToken = yield* state.issueToken(undefined)
      return HttpServerResponse.unsafeJson({
        access_token: Redacted.value(accessToken),
        token_type: "Bearer",
        expires_in: Math.floor(Duration.toSeconds(state.tokenLifetime))
      }, { status: 200, headers: { "cache-control": "no-store" } })
    })

  // ---------------------------------------------------------------------------------------------------------------
  // Control routes (not logged, not faulted)

  const control = HttpRouter.empty.pipe(
    HttpRouter.get("/_emulator/files", Effect.map(state.listFiles, (files) => HttpServerResponse.unsafeJson(files))),
    HttpRouter.get(
      "/_emulator/requests",
      Effect.map(state.listRequests, (requests) => HttpServerResponse.unsafeJson(requests))
    ),
    HttpRouter.get("/_emulator/faults", Effect.sync(() => HttpServerResponse.unsafeJson(state.faults))),
    HttpRouter.post(
      "/_emulator/faults",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const text = yield* Effect.orElseSucceed(request.text, () => "")
        const decoded = Schema.decodeUnknownEither(
          Schema.parseJson(Schema.Union(FaultSchema, Schema.Array(FaultSchema))),
          { errors: "all", onExcessProperty: "error" }
        )(text)
        if (Either.isLeft(decoded)) return cdfError(400, S.formatIssues(decoded.left))
        const faults = Array.isArray(decoded.right) ? decoded.right : [decoded.right]
        for (const fault of faults) yield* state.addFault(fault)
        return HttpServerResponse.unsafeJson(state.faults, { status: 200 })
      })
    ),
    HttpRouter.post(
      "/_emulator/instance-files",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const text = yield* Effect.orElseSucceed(request.text, () => "")
        const decoded = S.decodeInstanceFileOptions(text)
        if (Either.isLeft(decoded)) return cdfError(400, S.formatIssues(decoded.left))
        return HttpServerResponse.unsafeJson(yield* state.createInstanceFile(decoded.right), { status: 201 })
      })
    ),
    HttpRouter.del("/_emulator/faults", Effect.as(state.clearFaults, HttpServerResponse.empty({ status: 204 }))),
    HttpRouter.post("/_emulator/reset", Effect.as(state.reset, HttpServerResponse.empty({ status: 204 })))
  )

  // The router ignores a trailing slash: `files/` (as @cognite/sdk sends it) is the same route as `files`.
  const files = "/api/v1/projects/:project/files" as const
  const router = control.pipe(
    HttpRouter.post(files, route("files.create", "api", filesCreate)),
    HttpRouter.post(`${files}/uploadlink`, route("files.uploadlink", "api", filesUploadLink)),
    HttpRouter.post(`${files}/byids`, route("files.byids", "api", filesByIds)),
    HttpRouter.get(`${files}/:id`, route("files.get", "api", filesGet)),
    HttpRouter.post(`${files}/delete`, route("files.delete", "api", filesDelete)),
    HttpRouter.post(`${files}/initmultipartupload`, route("files.initmultipartupload", "api", filesInitMultipart)),
    HttpRouter.post(`${files}/multiuploadlink`, route("files.multiuploadlink", "api", filesMultiUploadLink)),
    HttpRouter.post(
      `${files}/completemultipartupload`,
      route("files.completemultipartupload", "api", filesComplete)
    ),
    HttpRouter.put("/storage/:project/files/:key", route("storage.put", "storage", storagePut(false), recordPut)),
    HttpRouter.put("/storage/:project/parts/:key", route("storage.put", "storage", storagePut(true), recordPut)),
    HttpRouter.post("/oauth2/token", route("token", "token", token))
  )

  return Effect.map(HttpRouter.toHttpApp(router), (app) =>
    app.pipe(
      Effect.catchTag("RouteNotFound", () =>
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          const requestId = randomUUID()
          const entry: MutableLoggedRequest = {
            route: "unknown",
            method: request.method,
            path: request.url.split("?")[0],
            status: 404,
            attempt: 0,
            requestId,
            headers: maskHeaders(request.headers)
          }
          state.log.push(entry)
          return HttpServerResponse.setHeader(
            cdfError(404, `No route: ${request.method} ${entry.path}`),
            "x-request-id",
            requestId
          )
        }))
    ))
}

export type App = Effect.Effect.Success<ReturnType<typeof make>>
