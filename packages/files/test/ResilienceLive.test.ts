import { Emulator } from "@effect-cdf/emulator"
import { CdfAuth, CdfClient, CdfConfig, Files } from "@effect-cdf/files"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Layer, Redacted, Schedule, Stream } from "effect"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as http from "node:http"
import { createHash } from "node:crypto"
import * as net from "node:net"
import { onPort } from "./FilesFixtures.js"

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex")
const millis = {
  apiRetrySchedule: Schedule.exponential("5 millis").pipe(Schedule.intersect(Schedule.recurs(3))),
  transferRetrySchedule: Schedule.exponential("5 millis").pipe(Schedule.intersect(Schedule.recurs(3))),
  maxRetryDelay: "50 millis" as const
}

describe("Resilience on a real port (undici, live clock)", () => {
  it.live("interrupting a PUT through CdfClient.storage closes its socket", () =>
    Effect.gen(function*() {
      const arrived = yield* Deferred.make<void>()
      const closed = yield* Deferred.make<void>()
      const server = http.createServer((req) => {
        req.resume() // read what comes, never answer: the socket closes only if the client closes it
        Deferred.unsafeDone(arrived, Exit.void)
        req.socket.on("close", () => Deferred.unsafeDone(closed, Exit.void))
      })
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => {
          server.listen(0, "127.0.0.1", () => resume(Effect.void))
        }),
        () =>
          Effect.async<void>((resume) => {
            server.closeAllConnections()
            server.close(() => resume(Effect.void))
          })
      )
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      const client = yield* CdfClient.CdfClient
      const body = Stream.repeatValue(new Uint8Array(64 * 1024)).pipe(Stream.take(200))
      const fiber = yield* Effect.fork(client.storage.execute(
        HttpClientRequest.put(`http://127.0.0.1:${port}/upload?sig=x`).pipe(
          HttpClientRequest.bodyStream(body, { contentLength: 200 * 64 * 1024 })
        )
      ))
      yield* Deferred.await(arrived)
      yield* Fiber.interrupt(fiber)
      yield* Deferred.await(closed).pipe(Effect.timeout("10 seconds"))
      expect(yield* Deferred.isDone(closed)).toBe(true)
    }).pipe(Effect.scoped, Effect.provide(onPort({}, millis))))

  it.live("a connection reset mid-PUT is retried from the bytes; the stored sha256 matches", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", attempts: [1], action: { _tag: "ResetAfterBytes", bytes: 1000 } })
      const content = new Uint8Array(50_000).map((_, i) => i % 251)
      const file = yield* Files.uploadBytes(content, { name: "reset.bin" })
      const stored = yield* emulator.files
      expect(stored[0].id).toBe(file.id)
      expect(stored[0].sha256).toBe(sha256(content))
      expect(stored[0].puts.length).toBe(2)
    }).pipe(Effect.provide(onPort({}, millis))))

  for (const mode of ["status", "drop"] as const) {
    it.live(`CommitThenFail (${mode}) over a socket: with externalId one record and the upload completes`, () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* emulator.addFault({ route: "files.create", attempts: [1], action: { _tag: "CommitThenFail", mode } })
        const file = yield* Files.uploadBytes("over the wire", { name: "w.txt", externalId: `wire-${mode}` })
        const stored = yield* emulator.files
        expect(stored.length).toBe(1)
        expect(stored[0].id).toBe(file.id)
        expect(stored[0].sha256).toBe(sha256("over the wire"))
      }).pipe(Effect.provide(onPort({}, millis))))

    it.live(`CommitThenFail (${mode}) over a socket: without externalId one record and an error`, () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* emulator.addFault({ route: "files.create", attempts: [1], action: { _tag: "CommitThenFail", mode } })
        const error = yield* Effect.flip(Files.uploadBytes("x", { name: "w.txt" }))
        expect(error._tag).toBe(mode === "status" ? "CdfApiError" : "CdfTransportError")
        if (error._tag === "CdfTransportError") expect(error.phase).toBe("request")
        expect(error.message).toContain("cannot identify")
        expect((yield* emulator.files).length).toBe(1)
        expect((yield* emulator.requests).filter((r) => r.route === "files.create").length).toBe(1)
      }).pipe(Effect.provide(onPort({}, millis))))
  }

  it.live("a refused connection is a connect-phase CdfTransportError, retried along the schedule", () =>
    Effect.gen(function*() {
      // a port that was free a moment ago: nothing listens there
      const port = yield* Effect.async<number>((resume) => {
        const server = net.createServer()
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          const free = typeof address === "object" && address !== null ? address.port : 0
          server.close(() => resume(Effect.succeed(free)))
        })
      })
      const layer = Files.layer.pipe(
        Layer.provide(CdfClient.layer),
        Layer.provide(CdfConfig.layer({ baseUrl: `http://127.0.0.1:${port}`, project: "p", ...millis })),
        Layer.provide(CdfAuth.layerToken(Redacted.make("token"))),
        Layer.provide(NodeHttpClient.layerUndici)
      )
      const error = yield* Effect.flip(Files.uploadBytes("x", { name: "a" }).pipe(Effect.provide(layer)))
      expect(error._tag).toBe("CdfTransportError")
      if (error._tag === "CdfTransportError") {
        expect(error.phase).toBe("connect")
        expect(error.message).toContain("ECONNREFUSED")
        expect(error.request?.origin).toBe(`http://127.0.0.1:${port}`)
      }
    }))
})
