/**
 * Trace-propagation headers (`b3`, `traceparent`) go to CDF only when `CdfConfig.tracePropagation` asks for them: the
 * official SDKs do not send them, and a cluster's CORS allow-list may refuse them. Never to upload URLs.
 */
import { Emulator } from "@effect-cdf/emulator"
import { Files } from "@effect-cdf/files"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { inMemory } from "./FilesFixtures.js"

const propagationHeaders = Effect.gen(function*() {
  yield* Files.uploadBytes("traced", { name: "t.txt" }).pipe(Effect.withSpan("the caller's span"))
  const requests = yield* Effect.flatMap(Emulator.Emulator, (e) => e.requests)
  const names = (route: string) =>
    requests.filter((r) => r.route === route).flatMap((r) =>
      Object.keys(r.headers).filter((h) => h === "b3" || h === "traceparent")
    )
  return { api: names("files.create"), storage: names("storage.put") }
})

describe("trace propagation to CDF", () => {
  it.effect("off by default, even with traceRequests (a span per request)", () =>
    Effect.gen(function*() {
      expect(yield* propagationHeaders).toEqual({ api: [], storage: [] })
    }).pipe(Effect.provide(inMemory({}, { traceRequests: true }))))

  it.effect("tracePropagation: true sends b3 and traceparent to the API, never to upload URLs", () =>
    Effect.gen(function*() {
      const { api, storage } = yield* propagationHeaders
      expect([...api].sort()).toEqual(["b3", "traceparent"])
      expect(storage).toEqual([])
    }).pipe(Effect.provide(inMemory({}, { tracePropagation: true }))))
})
