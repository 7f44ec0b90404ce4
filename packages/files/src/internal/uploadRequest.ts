/**
 * One attempt's request to an upload URL, whatever its body: where it goes and what counts it (`Target`), how it
 * fails (`Failure`, classified by the rules of `retryPolicy`), the PUT with its Content-Length, the answer read and
 * dropped, and the watchdog of a body that is seen moving (stall and attempt deadlines). The body strategies that use
 * them are in `uploadBody`.
 *
 * @internal
 */
import type * as HttpBody from "@effect/platform/HttpBody"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Clock, Duration, Effect } from "effect"
import type { InvalidContentError } from "../CdfError.js"
import { ContentReadError } from "./content.js"
import { readFailureOf } from "./contentValidation.js"
import type { Tracker } from "./progress.js"
import * as Policy from "./retryPolicy.js"
import type { TransferSettings } from "./transferSettings.js"

/** Why one attempt failed, classified by the rules of `retryPolicy`. @internal */
export type Failure =
  & Policy.Classified
  & (
    | { readonly _tag: "Status"; readonly status: number }
    | { readonly _tag: "Transport" }
    | { readonly _tag: "Timeout"; readonly timeout: "transfer" | "stall"; readonly millis: number }
    | {
      readonly _tag: "Content"
      readonly message: string
      /** The code of a system error that failed the read (`EACCES`, `EIO`). */
      readonly code?: string | undefined
      /** The content itself is invalid (a chunk that is not bytes): the outcome is this error. */
      readonly invalid?: InvalidContentError | undefined
    }
    | { readonly _tag: "NotReplayable" }
  )

/** An attempt that passed its stall or attempt timeout: retried. @internal */
export const timeoutFailure = (timeout: "transfer" | "stall", millis: number): Failure => ({
  _tag: "Timeout",
  timeout,
  millis,
  kind: "transient",
  retryAfterMillis: undefined
})

/** Content that is not what was planned (its size changed): never retried. @internal */
export const contentFailure = (message: string): Failure => ({
  _tag: "Content",
  message,
  kind: "fatal",
  retryAfterMillis: undefined
})

/** The failure of a read of the content: never retried; its message, code, or the content's own error kept. @internal */
export const failedRead = (e: unknown): Failure => {
  const { code, invalid, message } = readFailureOf(e)
  return { _tag: "Content", message, code, invalid, kind: "fatal", retryAfterMillis: undefined }
}

/** The failure of a retry that would have to read a one-shot stream again. @internal */
export const notReplayable: Failure = { _tag: "NotReplayable", kind: "fatal", retryAfterMillis: undefined }

/** Where one PUT goes and what counts it: shared by every attempt. @internal */
export interface Target {
  readonly storage: HttpClient.HttpClient
  readonly url: string
  /** An empty content type leaves the header out (HttpClientRequest sets it only when truthy). */
  readonly contentType: string
  readonly settings: TransferSettings
  readonly tracker: Tracker
  /** The key of this PUT in the tracker (the part number, 0 for a single PUT). */
  readonly key: number
}

/** What a successful attempt sent: the sha256 of a stream, when asked. @internal */
export interface Sent {
  readonly sha256: string | undefined
}

/** What an attempt that hashes nothing sent. @internal */
export const nothingHashed: Sent = { sha256: undefined }

/**
 * What one attempt's body has moved: written as the HTTP client takes the body (`advance`) or as reading it fails
 * (`failed`); read by the attempt's watchdog (`watchdogOf`: when it last moved), by `send` (a transport error caused
 * by the content is `Content`) and at the attempt's end (were all the bytes read?). One per attempt.
 *
 * @internal
 */
export class Moved {
  /** When the body last moved (the attempt's start until it does), in the `Clock`'s milliseconds. */
  at: number
  /** The bytes taken so far. */
  bytes = 0
  /** Why reading the body failed, if it did. */
  failure: ContentReadError | undefined = undefined
  constructor(readonly start: number) {
    this.at = start
  }
  /** `n` more bytes taken at `now`; gives the total so far. */
  advance(now: number, n: number): number {
    this.at = now
    this.bytes += n
    return this.bytes
  }
  /** Records why reading failed (as a `ContentReadError`) and gives it. */
  failed(cause: unknown): ContentReadError {
    this.failure = cause instanceof ContentReadError ? cause : new ContentReadError(cause)
    return this.failure
  }
}

/**
 * Fails an attempt that started at `start` when nothing moved for `stallMillis` (`lastMoved` is read when it wakes)
 * or when it has run for `attemptMillis`. It sleeps until the earlier of the two deadlines and looks again, so a
 * long transfer costs one timer per stall period, not a check every second.
 */
const watchdog = (
  start: number,
  lastMoved: () => number,
  stallMillis: number,
  attemptMillis: number
): Effect.Effect<never, Failure> =>
  Effect.flatMap(Clock.currentTimeMillis, (now): Effect.Effect<never, Failure> => {
    const stallAt = lastMoved() + stallMillis
    const attemptAt = start + attemptMillis
    if (now >= stallAt) return Effect.fail(timeoutFailure("stall", stallMillis))
    if (now >= attemptAt) return Effect.fail(timeoutFailure("transfer", attemptMillis))
    return Effect.zipRight(
      Effect.sleep(Duration.millis(Math.min(stallAt, attemptAt) - now)),
      watchdog(start, lastMoved, stallMillis, attemptMillis)
    )
  })

/** The watchdog of an attempt whose body moves as `moved` says, by the transfer settings. @internal */
export const watchdogOf = (settings: TransferSettings, moved: Moved): Effect.Effect<never, Failure> =>
  watchdog(
    moved.start,
    () => moved.at,
    Duration.toMillis(settings.stallTimeout),
    Duration.toMillis(settings.attemptTimeout)
  )

/**
 * Reads and drops a storage answer (bounded: an empty 2xx or a short error page), so the connection can be reused.
 * Not `response.stream`: the platform aborts the request's controller when a body stream ends (an AbortSignal and a
 * DOMException with a stack per PUT), and a body stream that fails is logged by Effect with the request (the signed
 * URL) at DEBUG.
 */
const discard = (response: HttpClientResponse.HttpClientResponse) => Effect.ignore(response.arrayBuffer)

/** A PUT of `body` (set with its Content-Length: setBody leaves out `content-length: 0`). @internal */
export const putRequest = (target: Target, body: HttpBody.HttpBody, size: number | undefined) =>
  HttpClientRequest.put(target.url).pipe(
    HttpClientRequest.setBody(body),
    size === undefined ? (r) => r : HttpClientRequest.setHeader("content-length", String(size))
  )

/** Sends one request and classifies its failure; a transport error caused by the content is `Content`. @internal */
export const send = (
  target: Target,
  request: HttpClientRequest.HttpClientRequest,
  readFailure: () => ContentReadError | undefined
): Effect.Effect<void, Failure> =>
  Effect.flatMap(target.storage.execute(request), (response) => {
    if (response.status >= 200 && response.status < 300) return discard(response)
    return Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.zipRight(
        discard(response),
        Effect.fail<Failure>({
          _tag: "Status",
          status: response.status,
          ...Policy.classifyStatus(response.status, response.headers, now, "storage")
        })
      ))
  }).pipe(
    Effect.catchTags({
      RequestError: (error): Effect.Effect<never, Failure> => {
        const failure = readFailure()
        return Effect.fail(
          failure !== undefined
            ? failedRead(failure)
            : { _tag: "Transport", kind: Policy.kindOfTransport(error.cause), retryAfterMillis: undefined }
        )
      },
      ResponseError: (): Effect.Effect<never, Failure> =>
        Effect.fail({ _tag: "Transport", kind: "transient", retryAfterMillis: undefined })
    })
  )

/** For a body that no read can fail (a buffer). @internal */
export const noReadFailure = () => undefined
