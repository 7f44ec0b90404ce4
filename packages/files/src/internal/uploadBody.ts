/**
 * Sending one body to an upload URL, one attempt at a time: the body of a content (`bodyOf`, `rangeOf`) and one
 * function per body strategy:
 * - `sendBytes`: a buffer handed over whole (a small one, or any in `buffer` mode): no stream, one timer;
 * - `sendRead`: a small file or Blob read whole on each attempt, then sent as `sendBytes` does;
 * - `sendViews`: a buffer over 1 MiB handed to an HTTP client that reads web `ReadableStream`s itself, view by view;
 * - `sendRange`: a range of a file or a Blob (over 1 MiB in one PUT, or a part) handed to such a client as a web
 *   `ReadableStream` that reads when the client pulls;
 * - `sendStream`: an Effect stream (any other content, or the above for other clients), with the stall watchdog; in
 *   `buffer` mode read whole, then sent by `sendBytes`.
 * `attemptOf` picks one. What every attempt shares (its target, its failure, the request, what its body has moved
 * and the watchdog that reads it) is in `uploadRequest`; retries, errors and the span of a PUT are in `uploadPut`.
 *
 * @internal
 */
import * as HttpBody from "@effect/platform/HttpBody"
import { Clock, Duration, Effect, Runtime, type Scope, Stream } from "effect"
import { collect, type RangeReader, type Source } from "./content.js"
import { exactly } from "./contentValidation.js"
import * as Policy from "./retryPolicy.js"
import type { Hash } from "./sha256.js"
import {
  contentFailure,
  type Failure,
  failedRead,
  Moved,
  noReadFailure,
  nothingHashed,
  putRequest,
  send,
  type Sent,
  type Target,
  timeoutFailure,
  watchdogOf
} from "./uploadRequest.js"

/** A body source for one PUT. @internal */
export type Body =
  | { readonly _tag: "Bytes"; readonly bytes: Uint8Array }
  | {
    readonly _tag: "Read"
    /** The whole content in one read (a small file, a Blob), read again on each attempt. */
    readonly read: () => Effect.Effect<Uint8Array, unknown>
    readonly size: number
  }
  | {
    readonly _tag: "Range"
    /** A range of a file or a Blob, opened again on each attempt, for a client that reads web streams itself. */
    readonly open: () => Effect.Effect<RangeReader, unknown, Scope.Scope>
    /** The same bytes as a stream, for any other client. */
    readonly stream: () => Stream.Stream<Uint8Array, unknown>
    readonly size: number
  }
  | {
    readonly _tag: "Stream"
    /** A stream of the content, read once per attempt. */
    readonly stream: () => Stream.Stream<Uint8Array, unknown>
    readonly size: number | undefined
    /** Whether it cannot be sent again: a one-shot stream that an attempt has read from. */
    readonly spent: () => boolean
  }

/** The body of a content source; a one-shot stream is spent once an attempt has begun reading it. @internal */
export const bodyOf = (source: Source, size: number | undefined): Body => {
  switch (source._tag) {
    case "Bytes":
      return { _tag: "Bytes", bytes: source.bytes }
    case "Ranged":
      return source.readAll !== undefined && source.size <= sliceSize
        ? { _tag: "Read", read: source.readAll, size: source.size }
        : rangeOf(source, 0, source.size)
    case "Factory":
      return replayable(source.make, size)
    case "OneShot": {
      let read = false
      return {
        _tag: "Stream",
        stream: () =>
          Stream.suspend(() => {
            read = true
            return source.stream
          }),
        size,
        spent: () => read
      }
    }
  }
}

/** The bytes `[start, end)` of a ranged source, read again on each attempt. @internal */
export const rangeOf = (source: Extract<Source, { readonly _tag: "Ranged" }>, start: number, end: number): Body => {
  const open = source.open
  return open === undefined
    ? replayable(() => source.slice(start, end), end - start)
    : { _tag: "Range", open: () => open(start, end), stream: () => source.slice(start, end), size: end - start }
}

/** A body read again from its start on each attempt. @internal */
const replayable = (stream: () => Stream.Stream<Uint8Array, unknown>, size: number | undefined): Body => ({
  _tag: "Stream",
  stream,
  size,
  spent: () => false
})

/**
 * Small content that can be read whole (a file, a Blob up to one slice): one read per attempt, then sent as a buffer
 * (`sendBytes`); no stream is built. Content that is no longer its planned size (a file that shrank or grew since
 * it was measured) fails as `Content`, never a short or long upload.
 */
const sendRead = (
  target: Target,
  body: { readonly read: () => Effect.Effect<Uint8Array, unknown>; readonly size: number },
  hash: (() => Hash) | undefined
): Effect.Effect<Sent, Failure> =>
  Effect.flatMap(
    Effect.mapError(body.read(), failedRead),
    (bytes) => {
      if (bytes.byteLength !== body.size) {
        return Effect.fail(contentFailure(
          `reading the content failed: it is ${bytes.byteLength} bytes now, ${body.size} when the upload was planned`
        ))
      }
      const sent = sendBytes(target, bytes)
      if (hash === undefined) return sent
      return Effect.as(sent, { sha256: hashBytes(hash, bytes) })
    }
  )

/** The sha256 of a buffer, in hex. @internal */
export const hashBytes = (make: () => Hash, bytes: Uint8Array): string => {
  const hash = make()
  hash.update(bytes)
  return hash.digestHex()
}

/** Buffers up to this size are handed over whole. @internal */
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
 * A buffer handed over whole: nothing can be seen moving. A large one (bodyMode "buffer") gets only the attempt
 * timeout; a small one (<= 1 MiB) also fails as stalled when no answer comes within the stall timeout: one timer,
 * whichever is shorter. The tracker counts when its methods are called: both calls wait until the attempt runs (and
 * the ack until storage has answered), or a refused PUT would be reported as acknowledged.
 *
 * @internal
 */
const sendBytes = (target: Target, bytes: Uint8Array): Effect.Effect<Sent, Failure> => {
  const { settings, tracker } = target
  const request = putRequest(target, HttpBody.uint8Array(bytes, target.contentType), bytes.byteLength)
  const stallMillis = Duration.toMillis(settings.stallTimeout)
  const attemptMillis = Duration.toMillis(settings.attemptTimeout)
  const stall = bytes.byteLength <= sliceSize && stallMillis < attemptMillis
  const timeout = stall ? timeoutFailure("stall", stallMillis) : timeoutFailure("transfer", attemptMillis)
  return Effect.zipRight(
    Effect.suspend(() => tracker.pulled(target.key, bytes.byteLength)),
    Effect.zipRight(
      Policy.attemptTimeout(send(target, request, noReadFailure), {
        duration: stall ? settings.stallTimeout : settings.attemptTimeout,
        onTimeout: () => timeout
      }),
      Effect.suspend(() => Effect.as(tracker.ack(target.key, bytes.byteLength), nothingHashed))
    )
  )
}

/**
 * A buffer over 1 MiB handed to the HTTP client view by view (`slicedBody`), watched by the stall and attempt
 * deadlines; no Effect stream is built. A fresh body per attempt.
 *
 * @internal
 */
const sendViews = (target: Target, bytes: Uint8Array): Effect.Effect<Sent, Failure> =>
  Effect.clockWith((clock) =>
    Effect.flatMap(Effect.runtime<never>(), (runtime) => {
      const { tracker } = target
      const moved = new Moved(clock.unsafeCurrentTimeMillis())
      const body = slicedBody(bytes, target.contentType, clock, runtime, {
        moved: (now, n) => tracker.pulled(target.key, moved.advance(now, n)),
        observed: tracker.observed
      })
      return Effect.zipRight(
        Effect.raceFirst(
          send(target, putRequest(target, body, bytes.byteLength), noReadFailure),
          watchdogOf(target.settings, moved)
        ),
        Effect.suspend(() => Effect.as(tracker.ack(target.key, bytes.byteLength), nothingHashed))
      )
    })
  )

/**
 * A range of a file or a Blob handed to the HTTP client as a web `ReadableStream` that reads the next chunk when the
 * client asks for it (`highWaterMark` 0): one promise per chunk, no Effect stream and no Node `Readable` in between
 * (measured: docs/benchmarks-history.md, "Files sent by range"). Counted and hashed as it is read, watched by the
 * stall and attempt deadlines as `sendViews` is; the range is opened per attempt and closed when the attempt ends. A
 * read that fails (or a file that ends early) fails the attempt as `Content`, not as a transport failure.
 *
 * @internal
 */
const sendRange = (
  target: Target,
  body: Extract<Body, { readonly _tag: "Range" }>,
  hash: (() => Hash) | undefined
): Effect.Effect<Sent, Failure> =>
  Effect.scoped(Effect.flatMap(Effect.mapError(body.open(), failedRead), (read) =>
    Effect.clockWith((clock) =>
      Effect.flatMap(Effect.runtime<never>(), (runtime) => {
        const { tracker } = target
        const moved = new Moved(clock.unsafeCurrentTimeMillis())
        const hasher = hash?.()
        const stream = new ReadableStream<Uint8Array>({
          pull: (controller) =>
            read().then((chunk) => {
              if (chunk === undefined) return controller.close()
              const total = moved.advance(clock.unsafeCurrentTimeMillis(), chunk.byteLength)
              hasher?.update(chunk)
              const emit = tracker.pulled(target.key, total)
              if (tracker.observed) Runtime.runFork(runtime)(emit)
              controller.enqueue(chunk)
            }, (e: unknown) => {
              moved.failed(e)
              controller.error(e)
            })
        }, { highWaterMark: 0 })
        const request = putRequest(
          target,
          HttpBody.raw(stream, { contentType: target.contentType, contentLength: body.size }),
          body.size
        )
        return Effect.raceFirst(
          send(target, request, () => moved.failure),
          watchdogOf(target.settings, moved)
        ).pipe(
          Effect.zipRight(Effect.suspend(() => {
            if (moved.failure !== undefined) return Effect.fail(failedRead(moved.failure))
            if (moved.bytes !== body.size) {
              return Effect.fail(contentFailure(
                `reading the content failed: it gave ${moved.bytes} bytes, not the planned ${body.size}`
              ))
            }
            return Effect.as(tracker.ack(target.key, body.size), { sha256: hasher?.digestHex() })
          }))
        )
      })
    )))

/**
 * An Effect stream of `size` bytes (when known), counted and hashed as it is pulled, and watched by one fiber that
 * sleeps until the next deadline: no byte pulled for the stall timeout, or the attempt timeout, fails the attempt
 * (whichever comes first; stall wins a tie). In `buffer` mode (or when empty) it is read whole, then sent as a buffer
 * is (`sendBytes`).
 *
 * @internal
 */
const sendStream = (
  target: Target,
  source: Stream.Stream<Uint8Array, unknown>,
  size: number | undefined,
  hash: (() => Hash) | undefined
): Effect.Effect<Sent, Failure> =>
  Effect.gen(function*() {
    const { settings, tracker } = target
    const moved = new Moved(yield* Clock.currentTimeMillis)
    const hasher = hash?.()
    const counted = source.pipe(
      Stream.mapError((e) => moved.failed(e)),
      Stream.tap((chunk) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const total = moved.advance(now, chunk.byteLength)
          hasher?.update(chunk)
          return tracker.pulled(target.key, total)
        })
      )
    )
    if (settings.bodyMode === "buffer" || size === 0) {
      const bytes = yield* collect(counted).pipe(Effect.mapError(failedRead))
      yield* sendBytes(target, bytes)
      return { sha256: hasher?.digestHex() }
    }
    yield* Effect.raceFirst(
      send(target, putRequest(target, HttpBody.stream(counted, target.contentType, size), size), () => moved.failure),
      watchdogOf(settings, moved)
    )
    if (moved.failure !== undefined) return yield* Effect.fail(failedRead(moved.failure))
    yield* tracker.ack(target.key, size ?? moved.bytes)
    return { sha256: hasher?.digestHex() }
  })

/**
 * One attempt at sending `body`, by the strategy that fits it (the five of this module's top comment): a whole read
 * (`sendRead`), a range as a raw web stream or as an Effect stream (`sendRange`, `sendStream`), an Effect stream
 * (`sendStream`), a buffer handed over whole (`sendBytes`: small, or `buffer` mode), as raw views (`sendViews`: large,
 * to a client that reads web streams) or as a stream of views (`sendStream`). `hash` makes the sha256 of what is read
 * (a whole read, a range, a stream); a buffer's is made once by the caller, after its attempts (`uploadPut`'s
 * `putContent`, `uploadParts`' `putParts`).
 *
 * @internal
 */
export const attemptOf = (target: Target, body: Body, hash: (() => Hash) | undefined): Effect.Effect<Sent, Failure> => {
  if (body._tag === "Read") return sendRead(target, body, hash)
  if (body._tag === "Range") {
    return target.settings.rawStreamBodies === true && target.settings.bodyMode !== "buffer"
      ? sendRange(target, body, hash)
      : sendStream(target, Stream.suspend(body.stream).pipe(exactly(body.size)), body.size, hash)
  }
  if (body._tag === "Stream") {
    return sendStream(target, Stream.suspend(body.stream).pipe(exactly(body.size)), body.size, hash)
  }
  const { bytes } = body
  if (target.settings.bodyMode === "buffer" || bytes.byteLength <= sliceSize) return sendBytes(target, bytes)
  if (target.settings.rawStreamBodies === true) return sendViews(target, bytes)
  return sendStream(target, Stream.fromIterable(views(bytes)), bytes.byteLength, undefined)
}
