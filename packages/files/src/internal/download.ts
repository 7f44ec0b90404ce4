/**
 * Reading a file's bytes: `files/downloadlink` (the download URL, a secret kept `Redacted`) and the GET of that URL
 * as a `Stream` that survives failures: each retry (on the config's transfer retry schedule) resumes from the last
 * byte delivered with `Range: bytes=N-`, checks the `206` and its `Content-Range`, skips the bytes already
 * delivered when storage answers `200` to a range request, and asks for a fresh link when storage refuses an
 * expired one (`400`/`403`).
 *
 * @internal
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Clock, Duration, Effect, Option, Redacted, Schedule, Stream } from "effect"
import type * as CdfClient from "../CdfClient.js"
import * as ApiClient from "./apiClient.js"
import { type CdfError, CdfTimeoutError, DownloadError, RequestInfo } from "../CdfError.js"
import * as Identifier from "../FileIdentifier.js"
import { corsHint } from "./browser.js"
import { streamWithinDeadline, withDeadline } from "./deadline.js"
import * as FileWire from "./fileWire.js"
import * as Policy from "./retryPolicy.js"

/** The options of `downloadUrl` and `download`. @internal */
export interface DownloadOptions {
  /** Ask for a link valid for 1 hour instead of 30 seconds (`extendedExpiration=true`). */
  readonly extendedExpiration?: boolean | undefined
}

/** `files/downloadlink` for one checked identifier: the URL, `Redacted`. @internal */
export const downloadLink = (
  client: CdfClient.Service,
  identifier: Identifier.FileIdentifier,
  options: DownloadOptions = {}
): Effect.Effect<Redacted.Redacted<string>, CdfError> =>
  client.request({
    method: "POST",
    path: "files/downloadlink",
    urlParams: options.extendedExpiration === true ? { extendedExpiration: "true" } : undefined,
    body: ApiClient.jsonBody(FileWire.UnknownItems, { items: [identifier] }),
    response: FileWire.DownloadLinks,
    retry: "idempotent"
  }).pipe(
    Effect.flatMap((answer) =>
      Option.match(Option.fromNullable(answer.value.items[0]), {
        onNone: () => Effect.dieMessage("files/downloadlink answered 2xx without the requested item"),
        onSome: (item) => Effect.succeed(item.downloadUrl)
      })
    ),
    Effect.withSpan("Files.downloadLink")
  )

/**
 * `Files.downloadUrl`: the identifier checked, then `files/downloadlink`; the URL resolved against the base URL
 * when it has no origin, and kept `Redacted`.
 *
 * @internal
 */
export const downloadUrl = (
  client: CdfClient.Service,
  file: typeof Identifier.FileIdentifier.Encoded,
  options: DownloadOptions = {}
): Effect.Effect<Redacted.Redacted<string>, CdfError> =>
  Identifier.validateFileIdentifier(file).pipe(
    Effect.flatMap((identifier) => downloadLink(client, identifier, options)),
    Effect.map((url) => Redacted.make(client.resolveUploadUrl(Redacted.value(url)))),
    withDeadline(client),
    Effect.withSpan("Files.downloadUrl")
  )

/** Why one GET attempt failed. */
type Failure =
  | { readonly _tag: "Api"; readonly error: CdfError }
  | {
    readonly _tag: "Status"
    readonly status: number
    /** As the retry policy classifies the answer of storage. */
    readonly kind: Policy.FailureKind
    readonly retryAfterMillis: number | undefined
  }
  | { readonly _tag: "Expired"; readonly status: number }
  | {
    readonly _tag: "Transport"
    /** `opaque` in a browser for a bare fetch failure (a CORS refusal looks so), else `transient` or `connect`. */
    readonly kind: Policy.FailureKind
  }
  | { readonly _tag: "Timeout"; readonly kind: "transfer" | "stall"; readonly millis: number }
  | { readonly _tag: "Range"; readonly message: string }

/** A download is a read: every failure the retry policy calls retryable is retried, and an expired link too. */
const classified = (failure: Failure): Policy.Classified => {
  switch (failure._tag) {
    case "Status":
      return {
        kind: failure.kind,
        retryAfterMillis: failure.retryAfterMillis
      }
    case "Transport":
      return { kind: failure.kind, retryAfterMillis: undefined }
    case "Timeout":
    case "Expired":
      return { kind: "transient", retryAfterMillis: undefined }
    default:
      return { kind: "fatal", retryAfterMillis: undefined }
  }
}

const isRetryable = (failure: Failure): boolean => Policy.isRetryable("idempotent", classified(failure))

const reasonOf = (failure: Failure): string => {
  switch (failure._tag) {
    case "Status":
      return `status ${failure.status}`
    case "Expired":
      return `status ${failure.status} (expired link)`
    case "Timeout":
      return `timeout (${failure.kind})`
    default:
      return failure._tag.toLowerCase()
  }
}

/** `Content-Range: bytes start-end/total` (total may be `*`). */
const contentRange = (value: string | undefined) => {
  const match = value === undefined ? null : /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(value.trim())
  if (match === null) return undefined
  return { start: Number(match[1]), total: match[3] === "*" ? undefined : Number(match[3]) }
}

const unsatisfiedTotal = (value: string | undefined): number | undefined => {
  const match = value === undefined ? null : /^bytes\s+\*\/(\d+)$/i.exec(value.trim())
  return match === null ? undefined : Number(match[1])
}

const numberHeader = (value: string | undefined): number | undefined =>
  value !== undefined && /^\d+$/.test(value.trim()) ? Number(value) : undefined

/** Reads and drops an error answer of storage, so the connection can be reused. */
const discard = (response: HttpClientResponse.HttpClientResponse) => Effect.ignore(response.arrayBuffer)

/**
 * Closes a body that will not be read (a refused range; a file that changed while it was read, whose body may be
 * large): its stream is opened and ended after at most one chunk, which destroys it and its connection. Storage's
 * client has no garbage-collector safety net for bodies left unread (`untracedClient.ts`).
 */
const release = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.ignore(Stream.runDrain(Stream.take(response.stream, 1)))


/** What one download has delivered so far, across its attempts. */
interface State {
  received: number
  total: number | undefined
  url: string | undefined
  attempts: number
  lastUrl: string | undefined
}

const toError = (failure: Failure, state: State, fileId: number | undefined): CdfError => {
  const request = state.lastUrl === undefined ? {} : { request: RequestInfo.fromUrl("GET", state.lastUrl) }
  const common = {
    ...request,
    attempts: state.attempts,
    received: state.received,
    ...(fileId === undefined ? {} : { fileId })
  }
  switch (failure._tag) {
    case "Api":
      return failure.error
    case "Status":
    case "Expired":
      return new DownloadError({
        message: `storage answered ${failure.status} to the download after ${state.attempts} attempt(s), ` +
          `${state.received} byte(s) received`,
        reason: "Status",
        status: failure.status,
        ...common
      })
    case "Transport":
      return new DownloadError({
        message: `the connection failed while downloading (${state.attempts} attempt(s), ${state.received} byte(s) ` +
          `received)${failure.kind === "opaque" && request.request !== undefined ? corsHint(request.request.origin) : ""}`,
        reason: "Transport",
        ...common
      })
    case "Range":
      return new DownloadError({ message: failure.message, reason: "Range", ...common })
    case "Timeout":
      return new CdfTimeoutError({
        message: failure.kind === "stall"
          ? `no bytes moved for ${failure.millis} ms while downloading (${state.attempts} attempt(s))`
          : `an attempt to download took more than ${failure.millis} ms (${state.attempts} attempt(s))`,
        kind: failure.kind,
        timeoutMillis: failure.millis,
        ...request
      })
  }
}

/** Drops the first `skip` bytes of a stream (a `200` answered to a range request). */
const dropBytes = (skip: number) => <E>(stream: Stream.Stream<Uint8Array, E>): Stream.Stream<Uint8Array, E> => {
  if (skip === 0) return stream
  let left = skip
  return stream.pipe(
    Stream.map((chunk) => {
      if (left === 0) return chunk
      if (chunk.byteLength <= left) {
        left -= chunk.byteLength
        return chunk.subarray(chunk.byteLength)
      }
      const rest = chunk.subarray(left)
      left = 0
      return rest
    }),
    Stream.filter((chunk) => chunk.byteLength > 0)
  )
}

const retryEvent = (attempt: number, failure: Failure, offset: number): Effect.Effect<void> =>
  Policy.spanEvent("cdf.retry", {
    "cdf.retry.attempt": attempt,
    "cdf.retry.reason": reasonOf(failure),
    "cdf.download.offset": offset
  })

/**
 * `Files.download`: the bytes of one file as a stream. The first GET asks for the whole file; after a failure
 * (transport error, timeout, 408/429/5xx, a body cut short) the next asks for `Range: bytes=N-`, N the bytes
 * already delivered, and continues the stream where it stopped. A 400/403 from storage means the link expired: a
 * fresh one is asked for (once per failure: a fresh link refused again is the error). Bytes are never delivered
 * twice, and the stream fails rather than deliver bytes of another range or another version of the file. Each GET
 * holds a permit of the client-wide transfer limit (`maxConcurrentTransfers`, shared with the PUTs of uploads)
 * from the request until its body ends or fails; a retry waits for a permit again.
 *
 * @internal
 */
export const download = (
  client: CdfClient.Service,
  file: typeof Identifier.FileIdentifier.Encoded,
  options: DownloadOptions = {}
): Stream.Stream<Uint8Array, CdfError> =>
  Stream.unwrap(Effect.gen(function*() {
    const identifier = yield* Identifier.validateFileIdentifier(file)
    const fileId = "id" in identifier ? identifier.id : undefined
    const settings = client.transfer
    const stallMillis = Duration.toMillis(settings.stallTimeout)
    const attemptMillis = Duration.toMillis(settings.attemptTimeout)
    const state: State = { received: 0, total: undefined, url: undefined, attempts: 0, lastUrl: undefined }

    const link: Effect.Effect<string, Failure> = Effect.suspend(() =>
      state.url !== undefined ? Effect.succeed(state.url) : downloadLink(client, identifier, options).pipe(
        Effect.map((url) => client.resolveUploadUrl(Redacted.value(url))),
        Effect.tap((url) =>
          Effect.sync(() => {
            state.url = url
          })
        ),
        Effect.mapError((error): Failure => ({ _tag: "Api", error }))
      )
    )

    /** The answer's status and headers checked against what was delivered; gives the bytes to skip. */
    const check = (
      response: HttpClientResponse.HttpClientResponse,
      fresh: boolean
    ): Effect.Effect<number | "done", Failure> => {
      const { headers, status } = response
      const offset = state.received
      if (status === 200) {
        const length = numberHeader(headers["content-length"])
        if (state.total !== undefined && length !== undefined && length !== state.total) {
          return Effect.fail({ _tag: "Range", message: `the file changed while it was read (${length} bytes, not ${state.total})` })
        }
        state.total ??= length
        return Effect.succeed(offset)
      }
      if (status === 206) {
        const range = contentRange(headers["content-range"])
        if (range === undefined || range.start !== offset) {
          return Effect.fail({
            _tag: "Range",
            message: `storage answered a range request for bytes ${offset}- with ` +
              (range === undefined ? "no valid Content-Range" : `bytes from ${range.start}`)
          })
        }
        if (state.total !== undefined && range.total !== undefined && range.total !== state.total) {
          return Effect.fail({ _tag: "Range", message: `the file changed while it was read (${range.total} bytes, not ${state.total})` })
        }
        state.total ??= range.total
        return Effect.succeed(0)
      }
      if (status === 416 && offset > 0) {
        const total = unsatisfiedTotal(headers["content-range"]) ?? state.total
        return total === offset
          ? Effect.succeed("done" as const)
          : Effect.fail({ _tag: "Range", message: `storage refused the range bytes=${offset}- (${total ?? "unknown"} bytes)` })
      }
      return Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const failure: Failure = (status === 400 || status === 403) && !fresh
          ? { _tag: "Expired", status }
          : {
            _tag: "Status",
            status,
            ...Policy.classifyStatus(status, headers, now, "storage")
          }
        if (failure._tag === "Expired") state.url = undefined
        return Effect.zipRight(discard(response), Effect.fail(failure))
      })
    }

    const attempt: Stream.Stream<Uint8Array, Failure> = Stream.unwrapScoped(Effect.gen(function*() {
      if (state.total !== undefined && state.received >= state.total && state.attempts > 0) return Stream.empty
      state.attempts++
      const fresh = state.url === undefined
      const url = yield* link
      // a permit of the client-wide transfer limit, held from the GET until this attempt's body ends or fails
      yield* settings.transfers.withPermitsScoped(1)
      state.lastUrl = url
      const offset = state.received
      const request = offset > 0
        ? HttpClientRequest.get(url).pipe(HttpClientRequest.setHeader("range", `bytes=${offset}-`))
        : HttpClientRequest.get(url)
      const response = yield* client.storage.execute(request).pipe(
        Effect.mapError((error): Failure => ({
          _tag: "Transport",
          kind: error._tag === "RequestError" && error.reason === "Transport"
            ? Policy.kindOfTransport(error.cause)
            : "transient"
        })),
        Effect.timeoutFail({
          duration: settings.stallTimeout,
          onTimeout: (): Failure => ({ _tag: "Timeout", kind: "stall", millis: stallMillis })
        })
      )
      const skip = yield* check(response, fresh).pipe(
        Effect.tapError((failure) => failure._tag === "Range" ? release(response) : Effect.void)
      )
      if (skip === "done") {
        yield* discard(response)
        return Stream.empty
      }
      const body = response.stream.pipe(
        Stream.mapError((): Failure => ({ _tag: "Transport", kind: "transient" })),
        dropBytes(skip),
        Stream.timeoutFail((): Failure => ({ _tag: "Timeout", kind: "stall", millis: stallMillis }), settings.stallTimeout),
        Stream.tap((chunk) =>
          Effect.sync(() => {
            state.received += chunk.byteLength
          })
        ),
        Stream.concat(Stream.suspend(() =>
          state.total === undefined || state.received === state.total
            ? Stream.empty
            : state.received < state.total
            ? Stream.fail<Failure>({ _tag: "Transport", kind: "transient" })
            : Stream.fail<Failure>({ _tag: "Range", message: `more than the ${state.total} bytes announced` })
        ))
      )
      return Stream.interruptWhen(
        body,
        Effect.zipRight(
          Effect.sleep(settings.attemptTimeout),
          Effect.fail<Failure>({ _tag: "Timeout", kind: "transfer", millis: attemptMillis })
        )
      )
    }))

    // the retry policy's schedule (backoff capped at maxRetryDelay, Retry-After up to maxRetryAfter), read per failure
    const schedule = Policy.makeSchedule(settings.retrySchedule, settings).pipe(
      Schedule.mapInput(classified),
      Schedule.whileInput(isRetryable),
      Schedule.tapInput((failure: Failure) => retryEvent(state.attempts + 1, failure, state.received))
    )

    return attempt.pipe(
      Stream.retry(schedule),
      Stream.mapError((failure) => toError(failure, state, fileId))
    )
  })).pipe(
    streamWithinDeadline(client),
    Stream.withSpan("Files.download", { captureStackTrace: false })
  )
