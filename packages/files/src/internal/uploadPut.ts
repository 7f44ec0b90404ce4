/**
 * One PUT (a single upload or a part): its attempts (`uploadBody`) retried through the rules of `retryPolicy`, each
 * retry a `cdf.retry` event on its span, its failure made into an `UploadError` or `CdfTimeoutError`; and the PUT of
 * a whole content (progress, checksum).
 *
 * @internal
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { Effect } from "effect"
import { CdfTimeoutError, type InvalidContentError, RequestInfo, UploadError } from "../CdfError.js"
import type * as Content from "../Content.js"
import type { OnProgress } from "../Progress.js"
import { Tracker } from "./progress.js"
import * as Policy from "./retryPolicy.js"
import { corsHint } from "./browser.js"
import { type Hash, sha256Factory } from "./sha256.js"
import { progressIntervalOf, type TransferSettings } from "./transferSettings.js"
import { attemptOf, type Body, bodyOf, hashBytes } from "./uploadBody.js"
import { type Failure, notReplayable } from "./uploadRequest.js"
import { implOf, type Prepared, sizeOfSource } from "./uploadPlan.js"

/** What a transfer sent: its bytes, and their sha256 when it was computed. @internal */
export interface TransferResult {
  readonly bytes: number
  readonly sha256: string | undefined
}

/** A PUT is idempotent: every retryable failure is retried. */
const isRetryable = (failure: Failure): boolean => Policy.isRetryable("idempotent", failure)

const reasonOf = (failure: Failure): string => {
  switch (failure._tag) {
    case "Status":
      return `status ${failure.status}`
    case "Transport":
      return "transport"
    case "Timeout":
      return `timeout (${failure.timeout})`
    case "Content":
      return "content"
    case "NotReplayable":
      return "not replayable"
  }
}

/**
 * One PUT (a single upload or a part), each attempt with its timeouts and holding a permit of the client-wide limit
 * (the timeouts count from when the permit is had, and no body is read or buffered before), retried on its own.
 * `hash` makes the hash of what a streamed body sends (a buffer is hashed by the caller).
 *
 * @internal
 */
export const putOne = (args: {
  readonly storage: HttpClient.HttpClient
  readonly url: string
  readonly part: number | undefined
  readonly contentType: string | undefined
  readonly body: Body
  readonly settings: TransferSettings
  readonly tracker: Tracker
  readonly hash: (() => Hash) | undefined
}): Effect.Effect<{ readonly sha256: string | undefined }, UploadError | InvalidContentError | CdfTimeoutError> =>
  // The span is not made the parent of what runs inside (`Effect.withSpan` would provide it, an uninterruptible
  // region of its own on every PUT): nothing inside makes a span, and the retries are events on it by reference.
  Effect.useSpan("effect-cdf.files.put", {
    kind: "client",
    captureStackTrace: false,
    attributes: spanAttributes(args.url, args.part)
  }, (span) =>
    Effect.suspend(() => {
      const { body, settings } = args
      const target = {
        storage: args.storage,
        url: args.url,
        contentType: args.contentType ?? "",
        settings,
        tracker: args.tracker,
        key: args.part ?? 0
      }
      // How many attempts this run made (one fiber runs them one after another).
      let attempts = 0
      const attempt = Effect.suspend(() => {
        attempts++
        return body._tag === "Stream" && body.spent()
          ? Effect.fail(notReplayable)
          : settings.transfers.withPermits(1)(attemptOf(target, body, args.hash))
      })
      return Policy.retrying(attempt, {
        schedule: settings.retry,
        retryable: isRetryable,
        onRetry: (previous) => Policy.retryEvent(attempts + 1, reasonOf(previous), span)
      }).pipe(
        Effect.catchAll((failure) => Effect.fail(toError(failure, args.url, args.part, attempts)))
      )
    }))

const spanAttributes = (url: string, part: number | undefined): Record<string, unknown> => {
  // origin and path only (never the query, which holds the signature); RequestInfo.fromUrl's fallback otherwise
  let origin: string
  let path: string
  try {
    const parsed = new URL(url)
    origin = parsed.origin
    path = parsed.pathname
  } catch {
    const info = RequestInfo.fromUrl("PUT", url)
    origin = info.origin
    path = info.path
  }
  return {
    "http.request.method": "PUT",
    "url.origin": origin,
    "url.path": path,
    ...(part === undefined ? {} : { "cdf.part": part })
  }
}

const toError = (
  failure: Failure,
  url: string,
  part: number | undefined,
  attempts: number
): UploadError | InvalidContentError | CdfTimeoutError => {
  const request = RequestInfo.fromUrl("PUT", url)
  const where = part === undefined ? "the upload" : `part ${part}`
  const partField = part === undefined ? {} : { part }
  switch (failure._tag) {
    case "Status":
      return new UploadError({
        message: `storage answered ${failure.status} to ${where} after ${attempts} attempt(s)`,
        reason: "Status",
        status: failure.status,
        request,
        attempts,
        ...partField
      })
    case "Transport":
      return new UploadError({
        message: failure.kind === "fatal"
          ? `the HTTP client refused to send ${where}, so nothing was sent (a header it cannot hold, such as a ` +
            `mime type with a line break?)`
          : `the connection failed while sending ${where} (${attempts} attempt(s))${
            failure.kind === "opaque" ? corsHint(request.origin) : ""
          }`,
        reason: "Transport",
        request,
        attempts,
        ...partField
      })
    case "Timeout":
      return new CdfTimeoutError({
        message: failure.timeout === "stall"
          ? `no bytes moved for ${failure.millis} ms while sending ${where} (${attempts} attempt(s))`
          : `an attempt to send ${where} took more than ${failure.millis} ms (${attempts} attempt(s))`,
        kind: failure.timeout,
        timeoutMillis: failure.millis,
        request
      })
    case "Content":
      return failure.invalid ?? new UploadError({
        message: failure.message,
        reason: "Content",
        request,
        attempts,
        ...partField,
        ...(failure.code === undefined ? {} : { code: failure.code })
      })
    case "NotReplayable":
      return new UploadError({
        message: `${where} failed and would have to be sent again, but its content is a one-shot stream ` +
          "(use bytes, a Blob, a file or Content.fromFactory to allow retries)",
        reason: "NotReplayable",
        request,
        attempts: attempts - 1,
        ...partField
      })
  }
}


/** One PUT of `content` (a whole upload, or one part of a session): progress, checksum, retries. */
const putContent = (args: {
  readonly storage: HttpClient.HttpClient
  readonly url: string
  readonly part: number | undefined
  readonly content: Content.Content
  readonly contentType: string | undefined
  readonly settings: TransferSettings
  readonly onProgress?: OnProgress | undefined
}): Effect.Effect<TransferResult, UploadError | InvalidContentError | CdfTimeoutError> =>
  Effect.gen(function*() {
    const content = implOf(args.content)
    if (content.invalid !== undefined) return yield* Effect.fail(content.invalid)
    const size = sizeOfSource(content.source) ?? content.size
    const tracker = new Tracker(size, args.onProgress, progressIntervalOf(args.settings))
    const body = bodyOf(content.source, size)
    const makeHash = args.settings.checksum ? yield* sha256Factory : undefined
    const result = yield* putOne({
      storage: args.storage,
      url: args.url,
      part: args.part,
      contentType: args.contentType,
      body,
      settings: args.settings,
      tracker,
      hash: makeHash
    })
    yield* tracker.final
    const sha256 = makeHash === undefined
      ? undefined
      : body._tag === "Bytes"
      ? hashBytes(makeHash, body.bytes)
      : result.sha256
    return { bytes: size ?? 0, sha256 }
  })

/** One PUT of the whole content. @internal */
export const putSingle = (args: {
  readonly storage: HttpClient.HttpClient
  readonly url: string
  readonly prepared: Prepared
  readonly contentType: string | undefined
  readonly settings: TransferSettings
  readonly onProgress?: OnProgress | undefined
}): Effect.Effect<TransferResult, UploadError | InvalidContentError | CdfTimeoutError> =>
  putContent({ ...args, part: undefined, content: args.prepared.content })

/** One part of a multipart session (never with a Content-Type). @internal */
export const putPart = (args: {
  readonly storage: HttpClient.HttpClient
  readonly url: string
  readonly part: number
  readonly content: Content.Content
  readonly settings: TransferSettings
  readonly onProgress?: OnProgress | undefined
}): Effect.Effect<TransferResult, UploadError | InvalidContentError | CdfTimeoutError> => putContent({ ...args, contentType: undefined })
