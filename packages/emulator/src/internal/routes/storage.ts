/**
 * The storage behind upload URLs: `PUT /storage/{project}/files/{key}` (a single upload) and
 * `.../parts/{key}` (a part of a multipart upload). Answers like real storage (XML errors), not like the API.
 *
 * @internal
 */
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Content from "../content.js"
import { closeAfterResponse } from "../faults.js"
import type { Ctx, Handler } from "../http.js"
import { header, queryValue, storageError, StorageError } from "../http.js"
import type { State } from "../state.js"
import { secretEquals } from "../state.js"

/** The largest part of a multipart upload (spec: smaller than 4000 MiB). */
const MAX_PART_BYTES = 4000 * 1024 * 1024

export const contentLengthOf = (ctx: Ctx): number | undefined => {
  const value = header(ctx, "content-length")
  const length = value === undefined ? NaN : Number(value)
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined
}

/** 403 as storage answers a URL whose signature is missing or wrong. */
export const authenticationFailed = (message: string) =>
  new StorageError({ status: 403, code: "AuthenticationFailed", message })

export const make = (state: State) => {
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

  const put = (multipart: boolean): Handler => (ctx) =>
    Effect.gen(function*() {
      const key = ctx.params["key"] ?? ""
      const signature = queryValue(ctx, "sig")
      const target = state.targets.get(key)
      const isPart = target?.part !== undefined
      if (
        target === undefined || signature === undefined || isPart !== multipart ||
        ctx.params["project"] !== state.project
      ) {
        return yield* authenticationFailed(
          "Server failed to authenticate the request. Make sure the signature is formed correctly."
        )
      }
      const entry = state.files.get(target.fileId)
      const contentLength = contentLengthOf(ctx)
      if (!secretEquals(signature, target.signature)) return yield* authenticationFailed("Signature did not match.")
      if ((yield* Clock.currentTimeMillis) >= target.expiresAt) {
        return yield* authenticationFailed("Signed expiry time has to be after the current time.")
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

  return { recordPut, single: put(false), part: put(true) }
}
