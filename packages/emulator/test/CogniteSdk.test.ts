import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { makeSdkClient } from "./sdk.js"
import { sha256 } from "./utils.js"

/** A CogniteClient for the emulator provided, with its start token. */
const connect = Effect.flatMap(Emulator.Emulator, (emulator) =>
  Effect.promise(() =>
    makeSdkClient({ baseUrl: emulator.baseUrl, project: emulator.project, token: Redacted.value(emulator.token) })
  ))

describe("the official @cognite/sdk against the emulator", () => {
  it.live("files.upload with string and Buffer content stores the right sha256", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const sdk = yield* connect
      const text = "hello from @cognite/sdk ✓"
      const buffer = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 256))
      const first = yield* Effect.promise(() =>
        sdk.files.upload({ name: "text.txt", externalId: "sdk-text", mimeType: "text/plain" }, text)
      )
      const second = yield* Effect.promise(() =>
        sdk.files.upload({ name: "bytes.bin", externalId: "sdk-bytes" }, buffer, false, true)
      )
      expect(first.externalId).toBe("sdk-text")
      expect(second.uploaded).toBe(true)
      const files = yield* emulator.files
      expect(files.map((f) => [f.externalId, f.sha256])).toEqual([
        ["sdk-text", sha256(text)],
        ["sdk-bytes", sha256(buffer)]
      ])
      // @cognite/sdk sends its token to same-origin upload URLs: accepted, recorded
      expect(files.every((f) => f.puts.length === 1 && f.puts[0].authorization)).toBe(true)
      const creates = (yield* emulator.requests).filter((r) => r.route === "files.create")
      expect(creates.map((r) => r.path)).toEqual([
        `/api/v1/projects/${emulator.project}/files/`,
        `/api/v1/projects/${emulator.project}/files/`
      ])
      expect(creates.every((r) => r.headers["authorization"] === "<redacted>")).toBe(true)
    }).pipe(Effect.provide(Emulator.layerServer())))
})

describe("the official @cognite/sdk reads, changes, downloads and deletes files on the emulator", () => {
  it.live("files.list (filter, autopaging), retrieve, update, getDownloadUrls + GET, search, aggregate, delete", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const sdk = yield* connect
      const content = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 31) % 256))
      yield* Effect.promise(() => sdk.files.upload({ name: "pump report.bin", externalId: "pump" }, content, false, true))
      for (let i = 0; i < 12; i++) {
        yield* Effect.promise(() => sdk.files.upload({ name: `log-${i}.txt`, externalId: `log-${i}`, mimeType: "text/plain" }))
      }
      // list with a filter, 5 per page: autopaging follows the cursors
      const logs = yield* Effect.promise(() =>
        sdk.files.list({ filter: { mimeType: "text/plain" }, limit: 5 }).autoPagingToArray({ limit: 100 })
      )
      expect(logs.map((file) => file.externalId)).toEqual(Array.from({ length: 12 }, (_, i) => `log-${i}`))
      const firstPage = yield* Effect.promise(() => sdk.files.list({ filter: { externalIdPrefix: "log-" }, limit: 5 }))
      expect(firstPage.items.length).toBe(5)
      expect(firstPage.nextCursor).toBeTypeOf("string")

      const [pump] = yield* Effect.promise(() => sdk.files.retrieve([{ externalId: "pump" }]))
      expect(pump.uploaded).toBe(true)
      const some = yield* Effect.promise(() =>
        sdk.files.retrieve([{ externalId: "log-3" }, { externalId: "nope" }], { ignoreUnknownIds: true })
      )
      expect(some.map((file) => file.externalId)).toEqual(["log-3"])

      const [updated] = yield* Effect.promise(() =>
        sdk.files.update([{
          id: pump.id,
          update: {
            source: { set: "sdk" },
            metadata: { add: { kind: "pump" } },
            labels: { add: [{ externalId: "PUMP" }] }
          }
        }])
      )
      expect(updated.source).toBe("sdk")
      expect(updated.metadata).toEqual({ kind: "pump" })
      expect(updated.labels).toEqual([{ externalId: "PUMP" }])
      expect(updated.lastUpdatedTime).toBeInstanceOf(Date)

      const [link] = yield* Effect.promise(() => sdk.files.getDownloadUrls([{ externalId: "pump" }]))
      expect(link.downloadUrl.startsWith(emulator.storageUrl)).toBe(true)
      const downloaded = yield* Effect.promise(() => fetch(link.downloadUrl).then((r) => r.arrayBuffer()))
      expect(sha256(new Uint8Array(downloaded))).toBe(sha256(content))

      const found = yield* Effect.promise(() => sdk.files.search({ search: { name: "pump" } }))
      expect(found.map((file) => file.externalId)).toEqual(["pump"])
      const [{ count }] = yield* Effect.promise(() => sdk.files.aggregate({ filter: { uploaded: false } }))
      expect(count).toBe(12)

      yield* Effect.promise(() => sdk.files.delete([{ externalId: "pump" }, { externalId: "log-0" }]))
      const [{ count: left }] = yield* Effect.promise(() => sdk.files.aggregate({}))
      expect(left).toBe(11)
      const routes = new Set((yield* emulator.requests).map((request) => `${request.route} ${request.status}`))
      expect([...routes].filter((route) => !route.endsWith(" 200") && !route.endsWith(" 201"))).toEqual([])
    }).pipe(Effect.provide(Emulator.layerServer({ storageOrigin: "separate" }))))
})

describe("the official @cognite/sdk filters files by geoLocation on the emulator", () => {
  it.live("files.list and files.aggregate with { geoLocation: { relation, shape } }", () =>
    Effect.gen(function*() {
      const sdk = yield* connect
      const at = (coordinates: [number, number]) => ({
        type: "Feature" as const,
        geometry: { type: "Point" as const, coordinates }
      })
      yield* Effect.promise(() => sdk.files.upload({ name: "oslo.txt", geoLocation: at([10.75, 59.91]) }))
      yield* Effect.promise(() => sdk.files.upload({ name: "bergen.txt", geoLocation: at([5.32, 60.39]) }))
      yield* Effect.promise(() => sdk.files.upload({ name: "nowhere.txt" }))
      const eastern = {
        type: "Polygon" as const,
        coordinates: [[[8, 58], [13, 58], [13, 62], [8, 62], [8, 58]]]
      }
      const within = yield* Effect.promise(() =>
        sdk.files.list({ filter: { geoLocation: { relation: "within", shape: eastern } } }).autoPagingToArray()
      )
      expect(within.map((file) => file.name)).toEqual(["oslo.txt"])
      const disjoint = yield* Effect.promise(() =>
        sdk.files.list({ filter: { geoLocation: { relation: "disjoint", shape: eastern } } }).autoPagingToArray()
      )
      expect(disjoint.map((file) => file.name)).toEqual(["bergen.txt"])
      const [{ count }] = yield* Effect.promise(() =>
        sdk.files.aggregate({
          filter: { geoLocation: { relation: "intersects", shape: { type: "Point", coordinates: [5.32, 60.39] } } }
        })
      )
      expect(count).toBe(1)
    }).pipe(Effect.provide(Emulator.layerServer())))
})
