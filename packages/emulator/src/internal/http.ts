/**
 * The request context, error types and answer shapes shared by every route of the emulator: the CDF error
 * envelope (API), storage XML (upload and download URLs) and OAuth2 errors (token endpoint).
 *
 * @internal
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { identity } from "effect/Function"
import * as Stream from "effect/Stream"
import { isUtf8 } from "node:buffer"
import { IncomingMessage } from "node:http"
import { gunzipSync } from "node:zlib"
import type { FaultAction } from "../Emulator.js"
import * as S from "./schema.js"

/** The in-memory transport turns a response carrying this header into a dropped connection. */
export const DROP_HEADER = "x-emulator-dropped-connection"

/** The largest JSON request body the API reads: as sent, and again once gzip is inflated. */
export const MAX_JSON_BYTES = 10 * 1024 * 1024

/** The deepest nesting of arrays and objects a JSON request body may have. */
export const MAX_JSON_DEPTH = 100

/** The connection is to be dropped (fault) or went away (client). */
export class Dropped extends Data.TaggedError("Dropped") {}

/** An API error: answered with the CDF envelope. */
export class ApiError extends Data.TaggedError("ApiError")<{
  readonly status: number
  readonly message: string
  readonly extra?: Readonly<Record<string, unknown>>
  readonly headers?: Readonly<Record<string, string>>
}> {}

/** A storage error: answered like the storage behind real upload and download URLs (XML, not the CDF envelope). */
export class StorageError extends Data.TaggedError("StorageError")<{
  readonly status: number
  readonly code: string
  readonly message: string
}> {}

/** An OAuth2 error of the token endpoint (RFC 6749 §5.2). */
export class OAuthError extends Data.TaggedError("OAuthError")<{
  readonly status: number
  readonly error: string
  readonly description: string
}> {}

/** Which kind of server a route plays: the CDF API, the OAuth2 token endpoint, or the storage behind URLs. */
export type Kind = "api" | "token" | "storage"

/**
 * What the synchronous parts of a handler see of a request: the same on the Effect path (`Ctx`) and on the direct
 * Node path of the hot routes (fastPath.ts).
 */
export interface View {
  readonly params: Readonly<Record<string, string | undefined>>
  readonly query: Readonly<Record<string, string | ReadonlyArray<string>>>
  readonly headers: Readonly<Record<string, string | undefined>>
  /** After this answer, stop reading the request body and close the connection (a 413). */
  readonly closeAfter: (response: HttpServerResponse.HttpServerResponse) => HttpServerResponse.HttpServerResponse
  /** set by the storage handler: the PUT record to complete when the response is known */
  put: { status: number; bytes: number } | undefined
  bytesRead: number
}

export interface Ctx extends View {
  readonly request: HttpServerRequest.HttpServerRequest
  /** the request body, with the fault's throttle / reset applied */
  readonly body: Stream.Stream<Uint8Array, Dropped>
  /**
   * The same body, chunk by chunk to `step` until it answers false or the body ends: the fast way to read it (on
   * Node with no fault on the body, straight from the request's events, without a stream).
   */
  readonly fold: (step: (chunk: Uint8Array) => boolean) => Effect.Effect<void, Dropped>
  /** the fault matched for this request, if any (download routes apply it to what they send) */
  readonly action: FaultAction | undefined
}

/** What a handler fails with: answered by the frame, shaped like the server the route plays. */
export type Failure = ApiError | StorageError | OAuthError

export type Handler = (
  ctx: Ctx
) => Effect.Effect<HttpServerResponse.HttpServerResponse, Dropped | Failure>

/** A synchronous answer: a response, or a failure the frame answers. */
export type Answer = Either.Either<HttpServerResponse.HttpServerResponse, Failure>

/** A handler's reading of the body on the direct path: chunks to `step` until false or the end, then `done`. */
export interface Reader {
  readonly _tag: "Read"
  readonly step: (chunk: Uint8Array) => boolean
  /** `now`: the clock once the body has been read */
  readonly done: (now: number) => Answer
}

/**
 * The same handler on the direct Node path of the hot routes (fastPath.ts): synchronous, built from the same
 * functions as its Effect form, no fault applying (a request a fault matches goes the Effect way).
 */
export type FastHandler = (view: View, now: number) => Answer | Reader

const xmlEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

export const cdfError = (status: number, message: string, extra?: Readonly<Record<string, unknown>>) =>
  HttpServerResponse.unsafeJson({ error: { code: status, message, ...extra } }, { status })

export const storageError = (status: number, code: string, message: string) =>
  HttpServerResponse.text(
    `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`,
    { status, contentType: "application/xml" }
  )

export const oauthError = (status: number, error: string, description: string) =>
  HttpServerResponse.unsafeJson({ error, error_description: description }, { status })

/** An injected error status, shaped like the route's server answers it. */
export const errorResponse = (kind: Kind, status: number, message: string) =>
  kind === "storage"
    ? storageError(status, "ServerBusy", message)
    : kind === "token"
    ? oauthError(status, "temporarily_unavailable", message)
    : cdfError(status, message)

export const queryValue = (view: View, name: string): string | undefined => {
  const value = view.query[name]
  return typeof value === "string" ? value : value?.[0]
}

export const header = (view: View, name: string): string | undefined => view.headers[name]

/**
 * The request body's bytes as they arrive. On Node, a handler that stops reading early (413) must not destroy the
 * request: the answer still goes out.
 */
export const rawBody = (request: HttpServerRequest.HttpServerRequest): Stream.Stream<Uint8Array, unknown> => {
  const source = request.source
  return source instanceof IncomingMessage
    ? NodeStream.fromReadable<unknown, Uint8Array>(() => source, identity, { closeOnDone: false })
    : request.stream
}

/** Feeds a stream's chunks to `step` until it answers false or the stream ends. */
export const foldStream = <E>(
  body: Stream.Stream<Uint8Array, E>,
  step: (chunk: Uint8Array) => boolean
): Effect.Effect<void, E> => Effect.asVoid(Stream.runFoldWhile(body, true, identity, (_, chunk) => step(chunk)))

/**
 * Feeds the chunks of a Node request to `step` as they arrive, until it answers false (the request is paused there,
 * not destroyed: the answer still goes out) or the body ends. A request that errors or closes before its end is
 * `Dropped`.
 */
export const foldIncoming = (
  source: IncomingMessage,
  step: (chunk: Uint8Array) => boolean
): Effect.Effect<void, Dropped> =>
  Effect.async<void, Dropped>((resume) => {
    if (source.readableEnded) return resume(Effect.void)
    const cleanup = () => {
      source.off("data", onData)
      source.off("end", onEnd)
      source.off("error", onError)
      source.off("close", onClose)
    }
    const onData = (chunk: Buffer) => {
      if (!step(chunk)) {
        cleanup()
        source.pause()
        resume(Effect.void)
      }
    }
    const onEnd = () => {
      cleanup()
      resume(Effect.void)
    }
    const onError = () => {
      cleanup()
      resume(Effect.fail(new Dropped()))
    }
    const onClose = () => {
      if (!source.complete) onError()
    }
    source.on("data", onData)
    source.on("end", onEnd)
    source.on("error", onError)
    source.on("close", onClose)
    return Effect.sync(cleanup)
  })

/**
 * Collects a body of at most `limit` bytes, chunk by chunk (`step` answers false once it is larger); `result`: the
 * bytes, or `undefined` when it was larger.
 */
export const collect = (limit: number) => {
  const chunks: Array<Uint8Array> = []
  let size = 0
  return {
    step: (chunk: Uint8Array): boolean => {
      size += chunk.byteLength
      if (size > limit) return false
      chunks.push(chunk)
      return true
    },
    result: (): Buffer | undefined =>
      size > limit ? undefined : chunks.length === 1 ? Buffer.from(chunks[0]) : Buffer.concat(chunks)
  }
}

/** Reads a body of at most `limit` bytes through its `fold`; `undefined` when it is larger (it stops there). */
export const readAll = <E>(
  fold: (step: (chunk: Uint8Array) => boolean) => Effect.Effect<void, E>,
  limit: number
): Effect.Effect<Buffer | undefined, E> =>
  Effect.suspend(() => {
    const body = collect(limit)
    return Effect.map(fold(body.step), body.result)
  })

/** Reads a body of at most `limit` bytes; `undefined` when it is larger. */
export const readBytes = (ctx: Ctx, limit: number): Effect.Effect<Buffer | undefined, Dropped> =>
  readAll(ctx.fold, limit)

/** Whether arrays and objects nest deeper than `max` in a JSON text (strings skipped; the parser checks the rest). */
const nestsDeeperThan = (bytes: Uint8Array, max: number): boolean => {
  let depth = 0
  let inString = false
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]
    if (inString) {
      if (byte === 0x5c) i++
      else if (byte === 0x22) inString = false
    } else if (byte === 0x22) {
      inString = true
    } else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > max) return true
    } else if (byte === 0x5d || byte === 0x7d) {
      depth--
    }
  }
  return false
}

/** A RangeError of zlib whose output passed `maxOutputLength`. */
const isOutputTooLarge = (error: unknown) =>
  error instanceof RangeError && (error as { readonly code?: unknown }).code === "ERR_BUFFER_TOO_LARGE"

/**
 * Decodes the bytes of a JSON request body: gzip inflated to at most `MAX_JSON_BYTES` (it stops there: 413), then
 * strictly UTF-8, nested at most `MAX_JSON_DEPTH` deep, and the schema's decoder (unknown fields rejected).
 */
export const decodeJsonBytes = <A>(
  read: Buffer,
  contentEncoding: string | undefined,
  decode: S.JsonDecoder<A>
): Either.Either<A, ApiError> => {
  let bytes = read
  const encoding = (contentEncoding ?? "identity").toLowerCase().trim()
  if (encoding === "gzip") {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_JSON_BYTES })
    } catch (error) {
      return Either.left(
        isOutputTooLarge(error)
          ? new ApiError({ status: 413, message: `Request body larger than ${MAX_JSON_BYTES} bytes once decompressed` })
          : new ApiError({ status: 400, message: "Content-Encoding is gzip but the body is not valid gzip" })
      )
    }
  } else if (encoding !== "identity" && encoding !== "") {
    return Either.left(new ApiError({ status: 400, message: `Unsupported Content-Encoding: ${encoding}` }))
  }
  if (!isUtf8(bytes)) return Either.left(new ApiError({ status: 400, message: "Request body is not valid UTF-8" }))
  if (nestsDeeperThan(bytes, MAX_JSON_DEPTH)) {
    return Either.left(
      new ApiError({ status: 400, message: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` })
    )
  }
  return Either.mapLeft(
    decode(bytes.toString("utf8")),
    (error) => new ApiError({ status: 400, message: S.formatIssues(error) })
  )
}

/** A JSON body as read (`undefined`: larger than `MAX_JSON_BYTES`, 413), decoded (`decodeJsonBytes`). */
const decodeJsonBody = <A>(view: View, read: Buffer | undefined, decode: S.JsonDecoder<A>): Either.Either<A, ApiError> =>
  read === undefined
    ? Either.left(new ApiError({ status: 413, message: `Request body larger than ${MAX_JSON_BYTES} bytes` }))
    : decodeJsonBytes(read, header(view, "content-encoding"), decode)

/** Reads a (possibly gzip-compressed) JSON body of at most `MAX_JSON_BYTES` and decodes it (`decodeJsonBytes`). */
export const readJson = <A>(ctx: Ctx, decode: S.JsonDecoder<A>): Effect.Effect<A, Dropped | ApiError> =>
  Effect.flatMap(readBytes(ctx, MAX_JSON_BYTES), (read) => decodeJsonBody(ctx, read, decode))

/** `readJson` on the direct path: the decoded body goes to `then`. */
export const readJsonThen = <A>(
  view: View,
  decode: S.JsonDecoder<A>,
  then: (value: A, now: number) => Answer
): Reader => {
  const body = collect(MAX_JSON_BYTES)
  return {
    _tag: "Read",
    step: body.step,
    done: (now) => Either.flatMap(decodeJsonBody(view, body.result(), decode), (value) => then(value, now))
  }
}

/** A boolean query parameter ("true" or "false", any case; absent: false). */
export const queryBooleanOf = (view: View, name: string): Either.Either<boolean, ApiError> => {
  const value = S.parseBoolean(queryValue(view, name))
  return value === undefined
    ? Either.left(new ApiError({ status: 400, message: `${name}: must be true or false` }))
    : Either.right(value)
}

export const queryBoolean = (ctx: Ctx, name: string) => Effect.suspend(() => queryBooleanOf(ctx, name))

export const queryParts = (ctx: Ctx) =>
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

/** An API answer of JSON. */
export const ok = (body: unknown, status = 200) => HttpServerResponse.unsafeJson(body, { status })
