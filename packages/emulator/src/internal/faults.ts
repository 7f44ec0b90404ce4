/**
 * What faults do to the bytes of a request or an answer: throttling, a reset after some bytes, a flipped byte,
 * and how a connection is dropped on a real socket and in memory.
 *
 * @internal
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { IncomingMessage, type ServerResponse } from "node:http"
import type { FaultAction } from "../Emulator.js"
import { DROP_HEADER, Dropped } from "./http.js"

/** The body of a `MalformedJson` answer: the start of a JSON text, cut. */
export const MALFORMED = "{\"items\":[{\"id\":1,\"name\":\"trunc"

/**
 * Throttles a byte stream to `bytesPerSecond` on the Effect clock: each slice waits until the time at which the
 * bytes so far are due (start + bytes / rate), so the average rate holds whatever the chunk sizes and timer
 * granularity.
 */
export const throttle = <E>(body: Stream.Stream<Uint8Array, E>, bytesPerSecond: number): Stream.Stream<Uint8Array, E> =>
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

/** The first `bytes` bytes of a stream (all of it if shorter). */
const takeBytes = <E>(body: Stream.Stream<Uint8Array, E>, bytes: number): Stream.Stream<Uint8Array, E> =>
  Stream.suspend(() => {
    let seen = 0
    return body.pipe(
      Stream.takeWhile(() => seen < bytes),
      Stream.map((chunk) => {
        const part = chunk.subarray(0, bytes - seen)
        seen += part.byteLength
        return part
      }),
      Stream.filter((chunk) => chunk.byteLength > 0)
    )
  })

/** Passes the first `bytes` bytes, then fails with `Dropped` (also when the body ends before). */
export const resetAfter = (body: Stream.Stream<Uint8Array, Dropped>, bytes: number): Stream.Stream<Uint8Array, Dropped> =>
  Stream.concat(takeBytes(body, bytes), Stream.fail(new Dropped()))

/** Drops the connection: destroys the socket on Node, answers the in-memory transport's marker otherwise. */
export const drop = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
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
export const closeAfterResponse = (
  request: HttpServerRequest.HttpServerRequest,
  response: HttpServerResponse.HttpServerResponse
): HttpServerResponse.HttpServerResponse => {
  const source = request.source
  return source instanceof IncomingMessage
    ? closeAfterNodeResponse(source, NodeHttpServerRequest.toServerResponse(request), response)
    : HttpServerResponse.setHeader(response, "connection", "close")
}

/** `closeAfterResponse` given the Node request and response. */
export const closeAfterNodeResponse = (
  source: IncomingMessage,
  nodeResponse: ServerResponse,
  response: HttpServerResponse.HttpServerResponse
): HttpServerResponse.HttpServerResponse => {
  const socket = source.socket
  nodeResponse.once("finish", () => {
    socket.pause()
    socket.end()
    setTimeout(() => socket.destroy(), 1000).unref()
  })
  return HttpServerResponse.setHeader(response, "connection", "close")
}

/**
 * An answer body cut after `bytes` bytes, then the connection closed mid-body: on Node the socket is ended (what
 * was written is flushed, then FIN) and destroyed a second later, while the answer never completes; in memory the
 * body stream fails, as a reset socket makes the client's body fail.
 */
const cutAfter = (
  request: HttpServerRequest.HttpServerRequest,
  body: Stream.Stream<Uint8Array>,
  bytes: number
): Stream.Stream<Uint8Array> => {
  const source = request.source
  const end: Stream.Stream<Uint8Array> = source instanceof IncomingMessage
    ? Stream.fromEffect(
      Effect.zipRight(
        Effect.sync(() => {
          const socket = source.socket
          socket.end()
          setTimeout(() => socket.destroy(), 1000).unref()
        }),
        Effect.never
      )
    )
    // The web ReadableStream of the in-memory transport drops what is queued when it errors: an empty chunk first
    // waits until the client has read everything before (it is enqueued on the client's next pull), then the error.
    : Stream.concat(Stream.make(new Uint8Array(0)), Stream.die(new Error("connection reset by the emulator")))
  return Stream.concat(takeBytes(body, bytes), end)
}

/** Flips every bit of the byte at absolute `offset` of the content, given that the stream starts at `start`. */
const corrupt = (body: Stream.Stream<Uint8Array>, start: number, offset: number): Stream.Stream<Uint8Array> =>
  Stream.suspend(() => {
    let position = start
    return Stream.map(body, (chunk) => {
      const at = offset - position
      position += chunk.byteLength
      if (at < 0 || at >= chunk.byteLength) return chunk
      const copy = Uint8Array.from(chunk)
      copy[at] = copy[at] ^ 0xff
      return copy
    })
  })

/**
 * The faults of a download applied to the bytes sent (`start`: the offset of the first byte in the content):
 * `Throttle` paces them, `CorruptDownload` flips a byte, `ResetAfterBytes` closes the connection after that many
 * bytes of the answer body.
 */
export const applyToDownload = (
  request: HttpServerRequest.HttpServerRequest,
  action: FaultAction | undefined,
  body: Stream.Stream<Uint8Array>,
  start: number
): Stream.Stream<Uint8Array> => {
  switch (action?._tag) {
    case "Throttle":
      return throttle(body, action.bytesPerSecond)
    case "CorruptDownload":
      return corrupt(body, start, action.offset ?? 0)
    case "ResetAfterBytes":
      return cutAfter(request, body, action.bytes)
    default:
      return body
  }
}
