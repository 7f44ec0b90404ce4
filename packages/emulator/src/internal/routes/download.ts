/**
 * Downloads: `POST files/downloadlink` (the API) hands out signed, expiring URLs; `GET
 * /storage/{project}/download/{key}?exp=&sig=` (storage) answers the stored bytes, streamed, with `Range`
 * (one range: `bytes=a-b`, `bytes=a-`, `bytes=-n`). Storage answers like real storage: XML errors, 403 for a
 * link that is unknown, tampered with or expired, 404 for a file deleted since.
 *
 * @internal
 */
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Content from "../content.js"
import { applyToDownload } from "../faults.js"
import type { Handler } from "../http.js"
import { ApiError, header, ok, queryBoolean, queryValue, readJson, storageError, StorageError } from "../http.js"
import * as Q from "../querySchema.js"
import * as Records from "../records.js"
import type { State } from "../state.js"
import { secretEquals } from "../state.js"
import { authenticationFailed } from "./storage.js"

/** Lifetime of a download link (spec: 30 seconds, or 1 hour with `extendedExpiration=true`). */
const LINK_MILLIS = 30_000
const EXTENDED_LINK_MILLIS = 60 * 60_000

type ByteRange =
  | { readonly _tag: "Full" }
  | { readonly _tag: "Partial"; readonly start: number; readonly end: number }
  | { readonly _tag: "Unsatisfiable" }

/**
 * One range of `Range: bytes=...` against `size` bytes. Anything but one well-formed byte range (several ranges,
 * another unit, `a-b` with b < a) is ignored and the whole content is sent, as RFC 9110 allows (and S3 does).
 */
export const parseRange = (value: string | undefined, size: number): ByteRange => {
  const match = value === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(value.trim())
  if (match === null || (match[1] === "" && match[2] === "")) return { _tag: "Full" }
  if (match[1] === "") {
    const suffix = Number(match[2])
    if (suffix === 0 || size === 0) return { _tag: "Unsatisfiable" }
    return { _tag: "Partial", start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(match[1])
  const last = match[2] === "" ? Infinity : Number(match[2])
  if (last < start) return { _tag: "Full" }
  if (start >= size) return { _tag: "Unsatisfiable" }
  return { _tag: "Partial", start, end: Math.min(last, size - 1) }
}

export const make = (state: State) => {
  const downloadLink: Handler = (ctx) =>
    Effect.gen(function*() {
      const extended = yield* queryBoolean(ctx, "extendedExpiration")
      const { items } = yield* readJson(ctx, Q.decodeDownloadLink)
      yield* Records.checkUnique(items)
      const found = yield* Records.findAll(state, items, false)
      const now = yield* Clock.currentTimeMillis
      const notUploaded = found.filter(({ entry }) => entry.content === undefined || !state.isUploaded(entry, now))
      if (notUploaded.length > 0) {
        return yield* new ApiError({
          status: 400,
          message: `Files not uploaded: ${notUploaded.map(({ identifier }) => Records.identifierKey(identifier)).join(", ")}`
        })
      }
      const expiresAt = now + (extended ? EXTENDED_LINK_MILLIS : LINK_MILLIS)
      return ok({
        items: found.map(({ entry, identifier }) => ({
          ...identifier,
          downloadUrl: state.newDownloadLink(entry.id, expiresAt)
        }))
      })
    })

  const get: Handler = (ctx) =>
    Effect.gen(function*() {
      const link = state.downloads.get(ctx.params["key"] ?? "")
      const signature = queryValue(ctx, "sig")
      if (link === undefined || signature === undefined || ctx.params["project"] !== state.project) {
        return yield* authenticationFailed(
          "Server failed to authenticate the request. Make sure the signature is formed correctly."
        )
      }
      if (!secretEquals(signature, link.signature) || queryValue(ctx, "exp") !== String(link.expiresAt)) {
        return yield* authenticationFailed("Signature did not match.")
      }
      if ((yield* Clock.currentTimeMillis) >= link.expiresAt) {
        return yield* authenticationFailed("Signed expiry time has to be after the current time.")
      }
      const entry = state.files.get(link.fileId)
      const content = entry?.content
      if (entry === undefined || content === undefined) {
        return yield* new StorageError({ status: 404, code: "BlobNotFound", message: "The file no longer exists." })
      }
      const size = content.size
      const headers = { "accept-ranges": "bytes", etag: `"${content.sha256}"` }
      const mimeType = entry.fields["mimeType"]
      const contentType = typeof mimeType === "string" ? mimeType : "application/octet-stream"
      const range = parseRange(header(ctx, "range"), size)
      if (range._tag === "Unsatisfiable") {
        return HttpServerResponse.setHeaders(
          storageError(416, "InvalidRange", "The range specified is invalid for the current size of the resource."),
          { ...headers, "content-range": `bytes */${size}` }
        )
      }
      const [start, end] = range._tag === "Full" ? [0, size - 1] : [range.start, range.end]
      const body = applyToDownload(ctx.request, ctx.action, Content.read(content, start, end), start)
      return HttpServerResponse.stream(body, {
        status: range._tag === "Full" ? 200 : 206,
        contentType,
        contentLength: end - start + 1,
        headers: range._tag === "Full" ? headers : { ...headers, "content-range": `bytes ${start}-${end}/${size}` }
      })
    })

  return { downloadLink, get }
}
