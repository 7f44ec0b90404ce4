/**
 * A storage answer whose body breaks (status sent, then the socket destroyed mid-body) on a real port: the signed
 * upload URL must not reach the logs (at every level), the spans or the error.
 */
import { describe, expect, it } from "@effect/vitest"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { CdfTest, Content } from "@effect-cdf/files"
import { Cause, Duration, Effect, Exit, Schedule } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Transfer from "../src/internal/transfer.js"

const signature = "SECRETSIG0123456789"

/** A raw node:http storage answering every PUT with `status`, content-length 100, 10 bytes, then a reset. */
const brokenStorage = (status: number) =>
  Effect.acquireRelease(
    Effect.async<Http.Server>((resume) => {
      const server = Http.createServer((request, response) => {
        request.resume()
        request.on("end", () => {
          response.writeHead(status, { "content-length": "100" })
          response.write("0123456789")
          setTimeout(() => response.socket?.destroy(), 10)
        })
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

const putTo = (status: number) =>
  Effect.gen(function*() {
    const server = yield* brokenStorage(status)
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/upload/1?sig=${signature}`
    const settings = yield* Transfer.makeSettings({
      retrySchedule: Schedule.spaced("5 millis").pipe(Schedule.intersect(Schedule.recurs(1))),
      attemptTimeout: Duration.seconds(5),
      stallTimeout: Duration.seconds(5)
    })
    const recorder = CdfTest.makeRecorder()
    const prepared = yield* Transfer.prepare(Content.make("hello"), settings)
    const exit = yield* Effect.exit(
      Effect.gen(function*() {
        // as CdfClient hands it out: the platform tracer (which records url.full) off for upload URLs
        const storage = (yield* HttpClient.HttpClient).pipe(
          HttpClient.withTracerDisabledWhen(() => true),
          HttpClient.withTracerPropagation(false)
        )
        return yield* Transfer.putSingle({ storage, url, prepared, contentType: undefined, settings })
      }).pipe(Effect.provide(NodeHttpClient.layerUndici), recorder.provide)
    )
    // anything logged by a fiber left behind would come shortly after
    yield* Effect.sleep("100 millis")
    return { exit, recorder }
  })

describe("a storage answer whose body breaks (real port)", () => {
  it.live("a 201 with a broken body: no signature in logs, spans or error", () =>
    Effect.gen(function*() {
      const { exit, recorder } = yield* Effect.scoped(putTo(201))
      const error = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
      expect(recorder.dump() + error).not.toContain(signature)
      expect(recorder.spans.some((s) => s.name === "effect-cdf.files.put")).toBe(true)
    }))

  it.live("a 503 with a broken body, retried: fails typed, no signature in logs, spans or error", () =>
    Effect.gen(function*() {
      const { exit, recorder } = yield* Effect.scoped(putTo(503))
      expect(Exit.isFailure(exit)).toBe(true)
      const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : undefined
      expect(failure?._tag === "Some" ? failure.value._tag : "none").toBe("UploadError")
      const error = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
      expect(recorder.dump() + error).not.toContain(signature)
    }))
})
