/**
 * The bytes side of an upload: planning (single PUT or multipart), PUTs to upload URLs with retries, timeouts,
 * progress and an optional checksum.
 *
 * @internal
 */
import * as HttpBody from "@effect/platform/HttpBody"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Chunk, Clock, Duration, Effect, FiberSet, Option, Runtime, Schedule, type Scope, Stream } from "effect"
import * as CdfConfig from "../CdfConfig.js"
import { CdfTimeoutError, FileSizeLimitError, RequestInfo, UploadError } from "../CdfError.js"
import type * as Content from "../Content.js"
import type { OnProgress } from "../Progress.js"
import {
  ContentImpl,
  ContentReadError,
  fromBytes,
  isContent,
  type Source,
  streamOf
} from "./content.js"
import { Tracker } from "./progress.js"
import * as Policy from "./retryPolicy.js"
import { type Hash, sha256Factory } from "./sha256.js"
import { Spooler } from "./spool.js"

// ---------------------------------------------------------------------------------------------------------------
// Settings and limits
// ---------------------------------------------------------------------------------------------------------------

/** @internal */
export const MiB = 1024 * 1024

/** The limits of the CDF Files API (reference §2). @internal */
export const limits = {
  /** Single-part upload URLs take up to 5000 MB (spec). */
  singlePut: 5_000_000_000,
  /** Every part but the last must be larger than this (spec). */
  minPartSize: 5 * MiB,
  maxPartSize: 4000 * MiB,
  maxParts: 250,
  /** 250 x 4000 MiB. */
  multipart: 250 * 4000 * MiB
} as const

/** What a client's transfer settings are made of (`makeTransferSettings` adds the retry schedule). @internal */
export interface TransferOptions {
  /** Bytes: one PUT up to here, multipart above. */
  readonly singlePutThreshold: number
  /** Default 50 MiB (Python SDK planning, grows to fit 250 parts). */
  readonly partSize: number
  /** Default 3. */
  readonly partConcurrency: number
  /** Per PUT attempt (default 600 s like the Python SDK). */
  readonly attemptTimeout: Duration.Duration
  /** No bytes moving for this long fails the attempt. */
  readonly stallTimeout: Duration.Duration
  /** The base schedule (how many retries, backoff); made into `retry` by the rules of `retryPolicy`. */
  readonly retrySchedule: Schedule.Schedule<unknown, unknown>
  /** Caps each backoff delay. */
  readonly maxRetryDelay: Duration.Duration
  /** Caps the wait asked for by a `Retry-After`. */
  readonly maxRetryAfter: Duration.Duration
  /** sha256 of what was sent. */
  readonly checksum: boolean
  /** Client-wide limit on concurrent PUTs (created once per CdfClient). */
  readonly transfers: Effect.Semaphore
  /**
   * `stream` (default): bodies are sent as streams with Content-Length (Node clients); `buffer`: every body (a
   * single PUT or a part) is sent from a buffer, for `FetchHttpClient` (browsers, Deno, Bun), which drops
   * Content-Length from streamed bodies.
   */
  readonly bodyMode?: "stream" | "buffer" | undefined
  /**
   * Whether the storage client sends a web `ReadableStream` given as a raw body itself, with backpressure and the
   * Content-Length it is given (undici: `NodeTransport`). When false, a buffer over 1 MiB goes as an Effect stream of
   * the same views (any client that streams bodies).
   */
  readonly rawStreamBodies?: boolean | undefined
  /** Least time between two progress callbacks (default 100 ms). */
  readonly progressInterval?: Duration.Duration | undefined
}

/** @internal */
export interface TransferSettings extends TransferOptions {
  /** The retry schedule of every PUT and part, made once per client from `retrySchedule` and the caps. */
  readonly retry: Schedule.Schedule<unknown, Policy.Classified>
}

/** The settings of a client's transfers, with their retry schedule made once. @internal */
export const makeTransferSettings = (options: TransferOptions): TransferSettings => ({
  ...options,
  retry: Policy.makeSchedule(options.retrySchedule, options)
})

const defaultProgressInterval = Duration.millis(100)

/**
 * Settings from the production defaults (`CdfConfig.defaults`, `CdfConfig.defaultTransferRetrySchedule`) and
 * `overrides`, with a new semaphore of `transfers` permits (default `maxConcurrentTransfers`). As in `CdfConfig`,
 * `maxRetryAfter` defaults to `maxRetryDelay`.
 *
 * @internal
 */
export const makeSettings = (
  overrides?:
    & Partial<Omit<TransferOptions, "transfers">>
    & { readonly transfers?: number | Effect.Semaphore }
): Effect.Effect<TransferSettings> =>
  Effect.gen(function*() {
    const transfers = typeof overrides?.transfers === "object"
      ? overrides.transfers
      : yield* Effect.makeSemaphore(overrides?.transfers ?? CdfConfig.defaults.maxConcurrentTransfers)
    const maxRetryDelay = overrides?.maxRetryDelay ?? CdfConfig.defaults.maxRetryDelay
    return makeTransferSettings({
      singlePutThreshold: CdfConfig.defaults.singlePutThreshold,
      partSize: CdfConfig.defaults.partSize,
      partConcurrency: CdfConfig.defaults.partConcurrency,
      attemptTimeout: CdfConfig.defaults.transferTimeout,
      stallTimeout: CdfConfig.defaults.stallTimeout,
      retrySchedule: CdfConfig.defaultTransferRetrySchedule,
      checksum: false,
      ...overrides,
      maxRetryDelay,
      maxRetryAfter: overrides?.maxRetryAfter ?? maxRetryDelay,
      transfers
    })
  })

// ---------------------------------------------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------------------------------------------

/** @internal */
export type Plan =
  | { readonly _tag: "Single"; readonly size: number | undefined }
  | { readonly _tag: "Multipart"; readonly size: number; readonly partSize: number; readonly parts: number }

/** @internal */
export interface Prepared {
  readonly plan: Plan
  readonly content: Content.Content
}

/** @internal */
export interface TransferResult {
  readonly bytes: number
  readonly sha256: string | undefined
}

/**
 * Part size and count as the Python SDK plans them (`calculate_part_size_and_count`), with `partSize` in place of
 * its 50 MiB default: one part up to `partSize`; otherwise max(partSize, ceil(size / 250)) capped at 4000 MiB.
 *
 * @internal
 */
export const planParts = (
  size: number,
  partSize: number
): Effect.Effect<{ readonly partSize: number; readonly parts: number }, FileSizeLimitError> => {
  if (size > limits.multipart) {
    return Effect.fail(
      new FileSizeLimitError({
        message: `${size} bytes is more than a multipart upload can take (250 parts of at most 4000 MiB)`,
        size,
        limit: limits.multipart,
        path: "multipart"
      })
    )
  }
  if (size <= partSize) return Effect.succeed({ partSize: Math.max(size, 1), parts: 1 })
  const part = Math.min(Math.max(partSize, Math.ceil(size / limits.maxParts)), limits.maxPartSize)
  return Effect.succeed({ partSize: part, parts: Math.ceil(size / part) })
}

const contentError = (message: string) => new UploadError({ message, reason: "Content" })

const sizeOfSource = (source: Source): number | undefined =>
  source._tag === "Bytes" ? source.bytes.byteLength : source._tag === "Ranged" ? source.size : undefined

const implOf = (content: Content.Content): ContentImpl =>
  isContent(content)
    ? content
    : new ContentImpl({ _tag: "OneShot", stream: Stream.fail(new Error("not made by Content.make")) }, undefined)

const planSized = (
  content: ContentImpl,
  size: number,
  settings: TransferSettings,
  multipart: boolean | undefined
): Effect.Effect<Prepared, FileSizeLimitError> => {
  const useMultipart = multipart ?? size > settings.singlePutThreshold
  if (!useMultipart) {
    if (size > limits.singlePut) {
      return Effect.fail(
        new FileSizeLimitError({
          message: `${size} bytes is more than a single PUT can take (${limits.singlePut} bytes)`,
          size,
          limit: limits.singlePut,
          path: "single"
        })
      )
    }
    return Effect.succeed({ plan: { _tag: "Single", size }, content })
  }
  return Effect.map(planParts(size, settings.partSize), ({ partSize, parts }) => ({
    plan: { _tag: "Multipart", size, partSize, parts },
    content
  }))
}

/**
 * How much of a one-shot stream of unknown length is buffered before it is handed to the `Spooler` (when one is
 * provided): a stream that ends within it goes in one PUT from memory, a longer one is spooled.
 *
 * @internal
 */
export const spoolThreshold = 8 * 1024 * 1024

/**
 * Decides the path before any request. A stream of unknown length is read up to one part (`partSize` bytes): if it
 * ends there it is sent from that buffer in one PUT with Content-Length. Past one part: a replayable factory is
 * read once to count its bytes; a one-shot stream is spooled by the `Spooler` in the context (on Node:
 * `NodeFiles.layer`, to a temporary file; then only `spoolThreshold` bytes are buffered first) or fails with `FileSizeLimitError` (path `stream`, limit `partSize`).
 *
 * @internal
 */
export const prepare = (
  content: Content.Content,
  settings: TransferSettings,
  options?: { readonly multipart?: boolean | undefined }
): Effect.Effect<Prepared, FileSizeLimitError | UploadError, Scope.Scope> =>
  Effect.gen(function*() {
    const impl = implOf(content)
    const known = sizeOfSource(impl.source) ?? impl.size
    if (known !== undefined) {
      if (impl.source._tag === "OneShot" && known <= settings.partSize) {
        // A one-shot stream of declared size within one part is read into a buffer first, so a failed PUT can be
        // sent again (from the buffer); the memory bound (one part) holds.
        const bytes = yield* collect(impl.source.stream.pipe(exactly(known))).pipe(
          Effect.mapError((e) =>
            contentError(
              e instanceof ContentReadError && typeof e.cause === "string"
                ? `reading the content failed: ${e.cause}`
                : "reading the content failed"
            )
          )
        )
        return yield* planSized(fromBytes(bytes), known, settings, options?.multipart)
      }
      return yield* planSized(impl, known, settings, options?.multipart)
    }
    // Unknown length: buffer up to one part; a one-shot stream that a Spooler will take only up to
    // `spoolThreshold`, so memory stays low however long the stream is.
    const spooler = yield* Effect.serviceOption(Spooler)
    const limit = Option.isSome(spooler) && impl.source._tag === "OneShot"
      ? Math.min(settings.partSize, spoolThreshold)
      : settings.partSize
    const pull = yield* Stream.toPull(streamOf(impl.source).pipe(Stream.mapError((e) => new ContentReadError(e))))
    const chunks: Array<Uint8Array> = []
    let seen = 0
    let ended = false
    while (!ended && seen <= limit) {
      const next = yield* Effect.either(pull)
      if (next._tag === "Left") {
        if (Option.isNone(next.left)) ended = true
        else return yield* Effect.fail(contentError("reading the content failed"))
      } else {
        for (const chunk of next.right) {
          chunks.push(chunk)
          seen += chunk.byteLength
        }
      }
    }
    if (ended) return yield* planSized(fromBytes(concat(chunks, seen)), seen, settings, options?.multipart)
    if (impl.source._tag === "Factory") {
      // Replayable: count the rest, then read it again part by part.
      const rest = yield* Stream.repeatEffectChunkOption(pull).pipe(
        Stream.runFold(seen, (n, chunk) => n + chunk.byteLength),
        Effect.mapError(() => contentError("reading the content failed"))
      )
      return yield* planSized(new ContentImpl(impl.source, rest), rest, settings, options?.multipart)
    }
    if (Option.isNone(spooler)) {
      return yield* Effect.fail(
        new FileSizeLimitError({
          message: `a one-shot stream of unknown length can be sent only up to one part (${limit} bytes) ` +
            "without spooling: give its size, use Content.fromFactory, or provide NodeFiles.layer",
          size: seen,
          limit,
          path: "stream"
        })
      )
    }
    // The chunks read so far go first, in one chunk, and are let go of as soon as the spooler has taken them (not
    // held until the whole stream is written).
    let head: Chunk.Chunk<Uint8Array> | undefined = Chunk.unsafeFromArray(chunks.splice(0))
    const spooled = yield* spooler.value.spool(
      Stream.repeatEffectChunkOption(Effect.suspend(() => {
        const first = head
        head = undefined
        return first === undefined ? pull : Effect.succeed(first)
      })),
      limits.multipart
    )
    return yield* planSized(spooled.content, spooled.size, settings, options?.multipart)
  })

const concat = (chunks: ReadonlyArray<Uint8Array>, size: number): Uint8Array => {
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}

// ---------------------------------------------------------------------------------------------------------------
// One PUT, retried
// ---------------------------------------------------------------------------------------------------------------

/** Why one attempt failed, classified by the rules of `retryPolicy`. @internal */
type Failure =
  & Policy.Classified
  & (
    | { readonly _tag: "Status"; readonly status: number }
    | { readonly _tag: "Transport" }
    | { readonly _tag: "Timeout"; readonly timeout: "transfer" | "stall"; readonly millis: number }
    | { readonly _tag: "Content"; readonly message: string }
    | { readonly _tag: "NotReplayable" }
  )

const timeoutFailure = (timeout: "transfer" | "stall", millis: number): Failure => ({
  _tag: "Timeout",
  timeout,
  millis,
  kind: "transient",
  retryAfterMillis: undefined
})

const contentFailure = (message: string): Failure => ({
  _tag: "Content",
  message,
  kind: "fatal",
  retryAfterMillis: undefined
})

const notReplayable: Failure = { _tag: "NotReplayable", kind: "fatal", retryAfterMillis: undefined }

/** A PUT is idempotent: every retryable failure is retried. */
const isRetryable = (failure: Failure): boolean => Policy.isRetryable("idempotent", failure)

/** A body source for one PUT. @internal */
type Body =
  | { readonly _tag: "Bytes"; readonly bytes: Uint8Array }
  | {
    readonly _tag: "Stream"
    readonly stream: () => Stream.Stream<Uint8Array, unknown>
    readonly replayable: boolean
    readonly size: number | undefined
  }

const sliceSize = 1024 * 1024

/** A buffer as at most 8 views of at least one slice each (never copied). */
const views = (bytes: Uint8Array): Array<Uint8Array> => {
  const slice = Math.max(sliceSize, Math.ceil(bytes.byteLength / 8))
  const out: Array<Uint8Array> = []
  for (let offset = 0; offset < bytes.byteLength; offset += slice) {
    out.push(bytes.subarray(offset, Math.min(offset + slice, bytes.byteLength)))
  }
  return out
}

/**
 * A buffer larger than one slice as a body that the HTTP client reads itself: at most 8 views (each at least 1 MiB)
 * from a web `ReadableStream` (`HttpBody.raw`, with its Content-Length). undici iterates it and writes each view to
 * the socket with backpressure; the emulator's in-memory client reads it as a `Request` body. No Effect stream or
 * Node `Readable` sits in between, so the body costs a few promises per view, not a fiber step per pull. A view is
 * handed over only when the client asks for it (`highWaterMark` 0), so `moved` reports what the client has taken:
 * progress moves and the stall watchdog is fed while the PUT runs. The views are enqueued, never transferred: the
 * caller's buffer stays intact for a retry. Progress callbacks (effects) run on `runtime`, only when someone
 * observes the tracker.
 */
const slicedBody = (
  bytes: Uint8Array,
  contentType: string,
  clock: Clock.Clock,
  runtime: Runtime.Runtime<never>,
  on: { readonly moved: (now: number, bytes: number) => Effect.Effect<void>; readonly observed: boolean }
): HttpBody.HttpBody => {
  const pending = views(bytes)
  let next = 0
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const view = pending[next++]
      if (view === undefined) return controller.close()
      const emit = on.moved(clock.unsafeCurrentTimeMillis(), view.byteLength)
      if (on.observed) Runtime.runFork(runtime)(emit)
      controller.enqueue(view)
    }
  }, { highWaterMark: 0 })
  return HttpBody.raw(stream, { contentType, contentLength: bytes.byteLength })
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

/** Fails with a `ContentReadError` when a stream of declared size yields another number of bytes. */
const exactly = (size: number | undefined) => <E>(stream: Stream.Stream<Uint8Array, E>) =>
  size === undefined ? stream : Stream.suspend(() => {
    let seen = 0
    return stream.pipe(
      Stream.mapChunksEffect((chunks) => {
        seen += Chunk.reduce(chunks, 0, (n, c) => n + c.byteLength)
        return seen > size
          ? Effect.fail(new ContentReadError(`more than the declared ${size} bytes`))
          : Effect.succeed(chunks)
      }),
      Stream.concat(Stream.suspend(() =>
        seen === size ? Stream.empty : Stream.fail(new ContentReadError(`${seen} bytes, not the declared ${size}`))
      ))
    )
  })

interface PutOne {
  readonly storage: HttpClient.HttpClient
  readonly url: string
  readonly part: number | undefined
  readonly contentType: string | undefined
  readonly body: Body
  readonly settings: TransferSettings
  readonly tracker: Tracker
  /** Hash of what the successful attempt sent (streams only; buffers are hashed by the caller). */
  /** Makes the hash of what the successful attempt sends, when asked. */
  readonly hash: (() => Hash) | undefined
}

const collect = <E>(stream: Stream.Stream<Uint8Array, E>): Effect.Effect<Uint8Array, E> =>
  Stream.runFold(stream, [] as Array<Uint8Array>, (acc, c) => {
    acc.push(c)
    return acc
  }).pipe(Effect.map((chunks) => concat(chunks, chunks.reduce((n, c) => n + c.byteLength, 0))))

/**
 * Reads and drops a storage answer (bounded: an empty 2xx or a short error page), so the connection can be reused.
 * Not `response.stream`: the platform aborts the request's controller when a body stream ends (an AbortSignal and a
 * DOMException with a stack per PUT), and a body stream that fails is logged by Effect with the request (the signed
 * URL) at DEBUG.
 */
const discard = (response: HttpClientResponse.HttpClientResponse) => Effect.ignore(response.arrayBuffer)

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

/** One PUT (a single upload or a part), each attempt with its timeouts, retried on its own. */
const putOne = (args: PutOne): Effect.Effect<{ readonly sha256: string | undefined }, UploadError | CdfTimeoutError> =>
  Effect.gen(function*() {
    const { body, settings, tracker, url } = args
    const key = args.part ?? 0
    const stallMillis = Duration.toMillis(settings.stallTimeout)
    const attemptMillis = Duration.toMillis(settings.attemptTimeout)
    let attempts = 0
    let consumed = false
    let sha256: string | undefined

    const sendRequest = (
      request: HttpClientRequest.HttpClientRequest,
      readFailure: () => ContentReadError | undefined
    ): Effect.Effect<void, Failure> =>
      Effect.flatMap(args.storage.execute(request), (response) => {
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
                ? contentFailure(contentMessage(failure))
                : { _tag: "Transport", kind: Policy.kindOfTransport(error.cause), retryAfterMillis: undefined }
            )
          },
          ResponseError: (): Effect.Effect<never, Failure> =>
            Effect.fail({ _tag: "Transport", kind: "transient", retryAfterMillis: undefined })
        })
      )

    // Nothing can be seen moving while a buffer is handed over whole. A large one (bodyMode "buffer") gets only the
    // attempt timeout; a small one (<= 1 MiB) also fails as stalled when no answer comes within the stall timeout:
    // one timer, whichever is shorter.
    const directAttemptOf = (bytes: Uint8Array): Effect.Effect<void, Failure> => {
      const request = HttpClientRequest.put(url).pipe(
        HttpClientRequest.setBody(HttpBody.uint8Array(bytes, args.contentType ?? "")),
        // setBody leaves out `content-length: 0`; an empty body must still say so.
        HttpClientRequest.setHeader("content-length", String(bytes.byteLength))
      )
      const stall = bytes.byteLength <= sliceSize && stallMillis < attemptMillis
      const timeout: Failure = stall
        ? timeoutFailure("stall", stallMillis)
        : timeoutFailure("transfer", attemptMillis)
      const noReadFailure = () => undefined
      // The tracker counts when its methods are called: both calls wait until the attempt runs (and the ack until
      // storage has answered), or a refused PUT would be reported as acknowledged.
      return Effect.zipRight(
        Effect.suspend(() => tracker.pulled(key, bytes.byteLength)),
        Effect.zipRight(
          Policy.attemptTimeout(sendRequest(request, noReadFailure), {
            duration: stall ? settings.stallTimeout : settings.attemptTimeout,
            onTimeout: () => timeout
          }),
          Effect.suspend(() => tracker.ack(key, bytes.byteLength))
        )
      )
    }

    // A buffer handed over whole (a small one, or any in "buffer" mode): no stream, no clock reads, one timer.
    const direct = body._tag === "Bytes" && (settings.bodyMode === "buffer" || body.bytes.byteLength <= sliceSize)
      ? body.bytes
      : undefined
    const directAttempt = direct === undefined ? undefined : directAttemptOf(direct)

    // A buffer over 1 MiB in "stream" mode: handed to the HTTP client view by view (`slicedBody`), watched by the
    // stall and attempt deadlines; no Effect stream is built. Made per attempt (a fresh body each time).
    const slicedAttemptOf = (bytes: Uint8Array): Effect.Effect<void, Failure> =>
      Effect.clockWith((clock) =>
        Effect.flatMap(Effect.runtime<never>(), (runtime) => {
          const start = clock.unsafeCurrentTimeMillis()
          let lastMoved = start
          let pulled = 0
          const request = HttpClientRequest.put(url).pipe(
            HttpClientRequest.setBody(slicedBody(bytes, args.contentType ?? "", clock, runtime, {
              moved: (now, n) => {
                lastMoved = now
                pulled += n
                return tracker.pulled(key, pulled)
              },
              observed: tracker.observed
            })),
            HttpClientRequest.setHeader("content-length", String(bytes.byteLength))
          )
          return Effect.zipRight(
            Effect.raceFirst(
              sendRequest(request, () => undefined),
              watchdog(start, () => lastMoved, stallMillis, attemptMillis)
            ),
            Effect.suspend(() => tracker.ack(key, bytes.byteLength))
          )
        })
      )
    const slicedAttempt = body._tag === "Bytes" && direct === undefined && body.bytes.byteLength > 0 &&
        settings.rawStreamBodies === true
      ? Effect.suspend(() => slicedAttemptOf(body.bytes))
      : undefined

    // Each attempt runs while holding a permit of the client-wide limit: the timeouts count from when the permit is
    // had, and no body is read (or buffered) before.
    const streamAttempt: Effect.Effect<void, Failure> = Effect.gen(function*() {
      let lastMoved = yield* Clock.currentTimeMillis
      let readFailure: ContentReadError | undefined
      let pulled = 0
      const hasher = args.hash?.()
      const size = body._tag === "Bytes" ? body.bytes.byteLength : body.size
      const source: Stream.Stream<Uint8Array, unknown> = body._tag === "Bytes"
        ? Stream.fromIterable(views(body.bytes))
        : Stream.suspend(() => {
          consumed = true
          return body.stream()
        }).pipe(exactly(body.size))
      const counted = source.pipe(
        Stream.mapError((e) => {
          readFailure = e instanceof ContentReadError ? e : new ContentReadError(e)
          return readFailure
        }),
        Stream.tap((chunk) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => {
            lastMoved = now
            pulled += chunk.byteLength
            hasher?.update(chunk)
            return tracker.pulled(key, pulled)
          })
        )
      )
      const contentType = args.contentType ?? ""
      const httpBody = settings.bodyMode === "buffer" || size === 0
        ? HttpBody.uint8Array(
          yield* collect(counted).pipe(
            Effect.mapError(() => contentFailure("reading the content failed"))
          ),
          contentType
        )
        : HttpBody.stream(counted, contentType, size)
      // An empty content type leaves the header out (HttpClientRequest sets it only when truthy).
      const request = HttpClientRequest.put(url).pipe(
        HttpClientRequest.setBody(httpBody),
        // setBody leaves out `content-length: 0`; an empty body must still say so.
        size === undefined ? (r) => r : HttpClientRequest.setHeader("content-length", String(size))
      )
      const send = sendRequest(request, () => readFailure)
      // A streamed body is watched by one fiber that sleeps until the next deadline: no byte pulled for the stall
      // timeout, or the attempt timeout, fails the attempt (whichever comes first; stall wins a tie). A body collected
      // into a buffer is handed over whole: a large one gets only the attempt timeout, a small one (<= 1 MiB) fails as
      // stalled when no answer comes within the stall timeout.
      const guarded = httpBody._tag !== "Uint8Array"
        ? Effect.raceFirst(send, watchdog(lastMoved, () => lastMoved, stallMillis, attemptMillis))
        : Policy.attemptTimeout(
          (size ?? 0) > sliceSize
            ? send
            : Policy.attemptTimeout(send, {
              duration: settings.stallTimeout,
              onTimeout: () => timeoutFailure("stall", stallMillis)
            }),
          {
            duration: settings.attemptTimeout,
            onTimeout: () => timeoutFailure("transfer", attemptMillis)
          }
        )
      yield* guarded
      if (readFailure !== undefined) {
        return yield* Effect.fail(contentFailure(contentMessage(readFailure)))
      }
      if (hasher !== undefined) sha256 = hasher.digestHex()
      yield* tracker.ack(key, size ?? pulled)
    })

    const attempt: Effect.Effect<void, Failure> = Effect.suspend(() => {
      attempts++
      return body._tag === "Stream" && !body.replayable && consumed
        ? Effect.fail(notReplayable)
        : settings.transfers.withPermits(1)(directAttempt ?? slicedAttempt ?? streamAttempt)
    })

    // Each retry is a `cdf.retry` event on this PUT's span (attempt number and why the previous one failed).
    yield* Policy.retrying(attempt, {
      schedule: settings.retry,
      retryable: isRetryable,
      onRetry: (previous) => Policy.retryEvent(attempts + 1, reasonOf(previous))
    }).pipe(
      Effect.mapError((failure) => toError(failure, url, args.part, attempts))
    )
    return { sha256 }
  }).pipe(
    Effect.withSpan("effect-cdf.files.put", {
      kind: "client",
      captureStackTrace: false,
      attributes: spanAttributes(args.url, args.part)
    })
  )

const contentMessage = (e: ContentReadError): string =>
  typeof e.cause === "string" ? `reading the content failed: ${e.cause}` : "reading the content failed"

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
): UploadError | CdfTimeoutError => {
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
        message: `the connection failed while sending ${where} (${attempts} attempt(s))`,
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
      return new UploadError({ message: failure.message, reason: "Content", request, attempts, ...partField })
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

const bodyOf = (source: Source, size: number | undefined): Body => {
  switch (source._tag) {
    case "Bytes":
      return { _tag: "Bytes", bytes: source.bytes }
    case "Ranged":
      return { _tag: "Stream", stream: () => source.slice(0, source.size), replayable: true, size: source.size }
    case "Factory":
      return { _tag: "Stream", stream: source.make, replayable: true, size }
    case "OneShot":
      return { _tag: "Stream", stream: () => source.stream, replayable: false, size }
  }
}

const intervalOf = (settings: TransferSettings): number =>
  Duration.toMillis(settings.progressInterval ?? defaultProgressInterval)

const hashBytes = (make: () => Hash, bytes: Uint8Array): string => {
  const hash = make()
  hash.update(bytes)
  return hash.digestHex()
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
}): Effect.Effect<TransferResult, UploadError | CdfTimeoutError> =>
  Effect.gen(function*() {
    const content = implOf(args.content)
    const size = sizeOfSource(content.source) ?? content.size
    const tracker = new Tracker(size, args.onProgress, intervalOf(args.settings))
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
      hash: body._tag === "Stream" ? makeHash : undefined
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
}): Effect.Effect<TransferResult, UploadError | CdfTimeoutError> =>
  putContent({ ...args, part: undefined, content: args.prepared.content })

/**
 * The plan of `prepare` for content held in memory (bytes, a string): nothing to read, so no scope is needed;
 * `undefined` for any other content, which goes through `prepare`.
 *
 * @internal
 */
export const prepareInMemory = (
  content: Content.Content,
  settings: TransferSettings,
  options?: { readonly multipart?: boolean | undefined }
): Effect.Effect<Prepared, FileSizeLimitError> | undefined => {
  const impl = implOf(content)
  return impl.source._tag === "Bytes"
    ? planSized(impl, impl.source.bytes.byteLength, settings, options?.multipart)
    : undefined
}

/** One part of a multipart session (never with a Content-Type). @internal */
export const putPart = (args: {
  readonly storage: HttpClient.HttpClient
  readonly url: string
  readonly part: number
  readonly content: Content.Content
  readonly settings: TransferSettings
  readonly onProgress?: OnProgress | undefined
}): Effect.Effect<TransferResult, UploadError | CdfTimeoutError> => putContent({ ...args, contentType: undefined })

// ---------------------------------------------------------------------------------------------------------------
// Multipart
// ---------------------------------------------------------------------------------------------------------------

/**
 * Splits a byte stream into parts of exactly `partSize` bytes (the last may be shorter; an empty stream gives one
 * empty part). A part's buffer is allocated when its first byte arrives.
 *
 * @internal
 */
export const toParts = <E>(stream: Stream.Stream<Uint8Array, E>, partSize: number): Stream.Stream<Uint8Array, E> =>
  Stream.suspend(() => {
    let buffer: Uint8Array | undefined
    let filled = 0
    let emitted = 0
    return stream.pipe(
      Stream.mapConcat((chunk) => {
        const out: Array<Uint8Array> = []
        let offset = 0
        while (offset < chunk.byteLength) {
          buffer ??= new Uint8Array(partSize)
          const n = Math.min(partSize - filled, chunk.byteLength - offset)
          buffer.set(chunk.subarray(offset, offset + n), filled)
          filled += n
          offset += n
          if (filled === partSize) {
            out.push(buffer)
            emitted++
            buffer = undefined
            filled = 0
          }
        }
        return out
      }),
      Stream.concat(Stream.suspend(() => {
        if (buffer !== undefined && filled > 0) return Stream.succeed(buffer.subarray(0, filled))
        return emitted === 0 ? Stream.succeed(new Uint8Array(0)) : Stream.empty
      }))
    )
  })

/**
 * Sends every part of a multipart plan, `partConcurrency` at a time, each retried on its own, without Content-Type.
 * Random-access content (bytes, a Blob, a file) is read part by part from its ranges, so a retry re-reads its
 * range. Other content is read once, in order, into part buffers: at most `partConcurrency + 1` parts are held,
 * and a retry resends from the buffer.
 *
 * @internal
 */
export const putParts = (args: {
  readonly storage: HttpClient.HttpClient
  readonly urls: ReadonlyArray<string>
  readonly prepared: Prepared
  readonly settings: TransferSettings
  readonly onProgress?: OnProgress | undefined
}): Effect.Effect<TransferResult, UploadError | CdfTimeoutError> =>
  Effect.gen(function*() {
    const { settings } = args
    const content = implOf(args.prepared.content)
    const plan = args.prepared.plan
    const size = sizeOfSource(content.source) ?? content.size ?? 0
    const { partSize, parts } = plan._tag === "Multipart" ? plan : { partSize: Math.max(size, 1), parts: 1 }
    if (args.urls.length !== parts) {
      return yield* Effect.fail(
        new UploadError({
          message: `the plan has ${parts} part(s) but ${args.urls.length} upload URL(s) were given`,
          reason: "Incomplete"
        })
      )
    }
    const tracker = new Tracker(size, args.onProgress, intervalOf(settings))
    const concurrency = Math.max(1, settings.partConcurrency)
    const sendPart = (part: number, body: Body) =>
      putOne({
        storage: args.storage,
        url: args.urls[part]!,
        part,
        contentType: undefined,
        body,
        settings,
        tracker,
        hash: undefined
      })
    const source = content.source
    let sha256: string | undefined
    if (source._tag === "Bytes" || (source._tag === "Ranged" && !settings.checksum)) {
      yield* Effect.forEach(
        Array.from({ length: parts }, (_, i) => i),
        (part) => {
          const start = part * partSize
          const end = Math.min(start + partSize, size)
          const body: Body = source._tag === "Bytes"
            ? { _tag: "Bytes", bytes: source.bytes.subarray(start, end) }
            : { _tag: "Stream", stream: () => source.slice(start, end), replayable: true, size: end - start }
          return sendPart(part, body)
        },
        { concurrency, discard: true }
      )
      if (settings.checksum && source._tag === "Bytes") sha256 = hashBytes(yield* sha256Factory, source.bytes)
    } else {
      const hasher = settings.checksum ? (yield* sha256Factory)() : undefined
      let index = 0
      const partsStream = toParts(
        streamOf(source).pipe(
          exactly(size),
          Stream.tap((chunk) => Effect.sync(() => hasher?.update(chunk)))
        ),
        partSize
      ).pipe(Stream.mapError((e) =>
        contentError(
          e instanceof ContentReadError && typeof e.cause === "string"
            ? `reading the content failed: ${e.cause}`
            : "reading the content failed"
        )
      ))
      yield* Effect.scoped(Effect.gen(function*() {
        const running = yield* FiberSet.make<unknown, UploadError | CdfTimeoutError>()
        const permits = yield* Effect.makeSemaphore(concurrency)
        const produce = partsStream.pipe(
          Stream.runForEach((bytes) =>
            Effect.gen(function*() {
              const part = index++
              if (part >= parts) {
                return yield* Effect.fail(contentError(`the content has more than the planned ${parts} parts`))
              }
              yield* permits.take(1)
              yield* FiberSet.run(running, sendPart(part, { _tag: "Bytes", bytes }).pipe(Effect.ensuring(permits.release(1))))
            })
          ),
          Effect.zipRight(permits.take(concurrency))
        )
        yield* Effect.raceFirst(produce, FiberSet.join(running))
      }))
      if (index !== parts) {
        return yield* Effect.fail(contentError(`the content has ${index} part(s), not the planned ${parts}`))
      }
      sha256 = hasher?.digestHex()
    }
    yield* tracker.final
    return { bytes: size, sha256 }
  }).pipe(Effect.withSpan("effect-cdf.files.putParts", {
    attributes: { "cdf.parts": args.urls.length },
    captureStackTrace: false
  }))

