/**
 * The storage behind upload URLs: `PUT /storage/{project}/files/{key}` (a single upload) and
 * `.../parts/{key}` (a part of a multipart upload). Answers like real storage (XML errors), not like the API.
 *
 * @internal
 */
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Content from "../content.js"
import type { FastHandler, Handler, View } from "../http.js"
import { header, queryValue, storageError, StorageError } from "../http.js"
import type { FileEntry, MultipartSession, State, UploadTarget } from "../state.js"
import { secretEquals } from "../state.js"

/** The largest part of a multipart upload (spec: smaller than 4000 MiB). */
const MAX_PART_BYTES = 4000 * 1024 * 1024

export const contentLengthOf = (view: View): number | undefined => {
  const value = header(view, "content-length")
  const length = value === undefined ? NaN : Number(value)
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined
}

/** 403 as storage answers a URL whose signature is missing or wrong. */
export const authenticationFailed = (message: string) =>
  new StorageError({ status: 403, code: "AuthenticationFailed", message })

/** A PUT that passed the checks made before its body is read. */
interface Admitted {
  readonly target: UploadTarget
  readonly entry: FileEntry
  readonly session: MultipartSession | undefined
  readonly limit: number
}

export const make = (state: State) => {
  /** Records every PUT to a known upload URL (faulted ones too) on its file, before faults apply. */
  const recordPut = (view: View): void => {
    const target = state.targets.get(view.params["key"] ?? "")
    const entry = target === undefined ? undefined : state.files.get(target.fileId)
    if (target === undefined || entry === undefined) return
    const names = Object.keys(view.headers)
    const put = {
      part: target.part,
      status: 0,
      bytes: 0,
      authorization: header(view, "authorization") !== undefined,
      cdfHeaders: names.filter((n) => n.toLowerCase().startsWith("x-cdp-") || n.toLowerCase() === "cdf-version"),
      contentType: header(view, "content-type"),
      contentLength: contentLengthOf(view),
      chunked: (header(view, "transfer-encoding") ?? "").toLowerCase().includes("chunked")
    }
    entry.puts.push(put)
    view.put = put
  }

  const tooLarge = (view: View, limit: number) =>
    view.closeAfter(storageError(413, "RequestBodyTooLarge", `The request body is larger than ${limit} bytes.`))

  /** The checks of a PUT before its body is read (`now`: the clock then); a 413 by Content-Length is an answer. */
  const admit = (
    view: View,
    multipart: boolean,
    now: number
  ): Either.Either<Admitted, StorageError | HttpServerResponse.HttpServerResponse> => {
    const key = view.params["key"] ?? ""
    const signature = queryValue(view, "sig")
    const target = state.targets.get(key)
    const isPart = target?.part !== undefined
    if (
      target === undefined || signature === undefined || isPart !== multipart ||
      view.params["project"] !== state.project
    ) {
      return Either.left(authenticationFailed(
        "Server failed to authenticate the request. Make sure the signature is formed correctly."
      ))
    }
    const entry = state.files.get(target.fileId)
    const contentLength = contentLengthOf(view)
    if (!secretEquals(signature, target.signature)) return Either.left(authenticationFailed("Signature did not match."))
    if (now >= target.expiresAt) {
      return Either.left(authenticationFailed("Signed expiry time has to be after the current time."))
    }
    if (entry === undefined) {
      return Either.left(new StorageError({ status: 404, code: "BlobNotFound", message: "The file no longer exists." }))
    }
    const session = target.session
    if (session !== undefined && session.completion !== undefined) {
      return Either.left(
        new StorageError({ status: 404, code: "NoSuchUpload", message: "The multipart upload was already completed." })
      )
    }
    if (multipart && header(view, "content-type") !== undefined) {
      return Either.left(
        new StorageError({
          status: 400,
          code: "InvalidHeaderValue",
          message: "A part of a multipart upload must not carry Content-Type."
        })
      )
    }
    const limit = multipart ? MAX_PART_BYTES : state.singlePutLimit
    if (contentLength !== undefined && contentLength > limit) return Either.left(tooLarge(view, limit))
    return Either.right({ target, entry, session, limit })
  }

  /**
   * Keeps what a PUT stored (`now`: the clock once its body has been read): the answer, and the content it replaced
   * (to discard).
   */
  const commit = (view: View, admitted: Admitted, result: Content.StoreResult, now: number) => {
    if (result._tag === "TooLarge") return { response: tooLarge(view, admitted.limit), old: undefined }
    const { entry, session, target } = admitted
    let old: Content.StoredContent | undefined
    if (session !== undefined && target.part !== undefined) {
      old = session.received[target.part]
      session.received[target.part] = result.content
    } else {
      old = entry.content
      entry.content = result.content
      entry.arrivedAt = now
    }
    // an empty answer with its length, as cloud storage sends it (without one, Node frames it chunked)
    return { response: HttpServerResponse.empty({ status: 201, headers: { "content-length": "0" } }), old }
  }

  const put = (multipart: boolean): Handler => (ctx) =>
    Effect.gen(function*() {
      const admitted = admit(ctx, multipart, yield* Clock.currentTimeMillis)
      if (Either.isLeft(admitted)) {
        return HttpServerResponse.isServerResponse(admitted.left) ? admitted.left : yield* admitted.left
      }
      const result = yield* Content.store(state.dataDir, { stream: ctx.body, fold: ctx.fold }, admitted.right.limit)
      const { old, response } = commit(ctx, admitted.right, result, yield* Clock.currentTimeMillis)
      yield* Content.discard(old)
      return response
    })

  /** A single PUT on the direct path (content in memory): the same checks, the same store, in the same order. */
  const singleFast: FastHandler = (view, now) => {
    const admitted = admit(view, false, now)
    if (Either.isLeft(admitted)) {
      return HttpServerResponse.isServerResponse(admitted.left) ? Either.right(admitted.left) : Either.left(admitted.left)
    }
    const sink = Content.memorySink(admitted.right.limit)
    return {
      _tag: "Read",
      step: sink.step,
      done: (now) => {
        const { old, response } = commit(view, admitted.right, sink.result(), now)
        Effect.runSync(Content.discard(old))
        return Either.right(response)
      }
    }
  }

  return { recordPut, single: put(false), part: put(true), singleFast }
}
