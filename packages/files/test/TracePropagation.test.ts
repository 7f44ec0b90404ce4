/**
 * Trace-propagation headers (`b3`, `traceparent`) go to the CDF API only when `CdfConfig.tracePropagation` is set
 * (issue 11): never by default, not even with `traceRequests`; never to upload URLs. Real emulator on a loopback port.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Emulator } from "@effect-cdf/emulator"
import { CdfAuth, CdfClient, CdfConfig, Files } from "@effect-cdf/files"
import { Effect, Layer } from "effect"

const onPort = (config: Partial<CdfConfig.Options>) =>
  Layer.unwrapEffect(Effect.map(Emulator.Emulator, (emulator) =>
    Files.layer.pipe(
      Layer.provide(CdfClient.layer),
      Layer.provide(CdfConfig.layer({ baseUrl: emulator.baseUrl, project: emulator.project, ...config })),
      Layer.provide(CdfAuth.layerToken(emulator.token))
    ))).pipe(
      Layer.provideMerge(Layer.orDie(Emulator.layerServer())),
      Layer.provideMerge(NodeHttpClient.layerUndici)
    )

/** Uploads and retrieves a file inside a span; the trace headers each request carried, by route. */
const traceHeadersSent = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  yield* Effect.gen(function*() {
    const file = yield* Files.uploadBytes("traced", { name: "trace.txt" })
    yield* Files.retrieve({ id: file.id })
  }).pipe(Effect.withSpan("user operation"))
  const requests = yield* emulator.requests
  return requests.map((r) => ({
    route: r.route,
    b3: "b3" in r.headers,
    traceparent: "traceparent" in r.headers
  }))
})

const none = (route: string) => ({ route, b3: false, traceparent: false })
const both = (route: string) => ({ route, b3: true, traceparent: true })

describe("trace propagation", () => {
  it.effect("off by default: no b3 or traceparent on any request", () =>
    Effect.gen(function*() {
      expect(yield* traceHeadersSent).toEqual([none("files.create"), none("storage.put"), none("files.byids")])
    }).pipe(Effect.provide(onPort({}))))

  it.effect("off with traceRequests: the platform's spans are recorded, but no headers are sent", () =>
    Effect.gen(function*() {
      expect(yield* traceHeadersSent).toEqual([none("files.create"), none("storage.put"), none("files.byids")])
    }).pipe(Effect.provide(onPort({ traceRequests: true }))))

  it.effect("on: every API request carries b3 and traceparent of the call's trace; upload URLs never do", () =>
    Effect.gen(function*() {
      expect(yield* traceHeadersSent).toEqual([both("files.create"), none("storage.put"), both("files.byids")])
    }).pipe(Effect.provide(onPort({ tracePropagation: true }))))

  it.effect("on with traceRequests: the headers of the platform's request span", () =>
    Effect.gen(function*() {
      expect(yield* traceHeadersSent).toEqual([both("files.create"), none("storage.put"), both("files.byids")])
    }).pipe(Effect.provide(onPort({ tracePropagation: true, traceRequests: true }))))

  it.effect("on: the traceparent names the caller's trace", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const traceId = yield* Files.uploadBytes("traced", { name: "trace.txt" }).pipe(
        Effect.zipRight(Effect.map(Effect.currentSpan, (span) => span.traceId)),
        Effect.withSpan("user operation")
      )
      const create = (yield* emulator.requests).find((r) => r.route === "files.create")
      expect(create?.headers["traceparent"]?.split("-")[1]).toBe(traceId)
    }).pipe(Effect.provide(onPort({ tracePropagation: true }))))
})
