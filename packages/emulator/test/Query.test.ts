import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import { createFile, json, postJson, postOk } from "./utils.js"

const provide = (options?: Emulator.Options) => Effect.provide(Emulator.layerInMemory(options))
const onPort = () => Effect.provide(Layer.merge(Emulator.layerServer(), NodeHttpClient.layerUndici))

const names = (body: Record<string, unknown>) => (body.items as Array<Record<string, unknown>>).map((item) => item.name)

/** Five files at t = 0, 1000, ..., 4000 ms, two of them uploaded. */
const seed = Effect.gen(function*() {
  yield* createFile({
    name: "pump-a.txt",
    externalId: "site/pump-a",
    directory: "/site/pumps",
    mimeType: "text/plain",
    source: "scada",
    metadata: { kind: "pump", area: "north" },
    assetIds: [10, 11],
    dataSetId: 7,
    labels: [{ externalId: "PUMP" }, { externalId: "VERIFIED" }],
    sourceCreatedTime: 100
  }, "a")
  yield* TestClock.adjust("1 second")
  yield* createFile({
    name: "pump-b.txt",
    externalId: "site/pump-b",
    directory: "/site/pumps/old",
    mimeType: "text/plain",
    metadata: { kind: "pump" },
    assetIds: [12],
    labels: [{ externalId: "PUMP" }]
  })
  yield* TestClock.adjust("1 second")
  yield* createFile({ name: "valve.pdf", externalId: "other/valve", directory: "/site/valves", mimeType: "application/pdf" }, "v")
  yield* TestClock.adjust("1 second")
  yield* createFile({ name: "notes", source: "scada", sourceCreatedTime: 5000, dataSetId: 8 })
  yield* TestClock.adjust("1 second")
  yield* createFile({ name: "Pump house plan", externalId: "site/plan" })
})

/** 120 files: a cursor walk at limit 10, the default limit and the largest. */
const walksAllPages = Effect.gen(function*() {
  for (let i = 0; i < 25; i++) yield* createFile({ name: `f${i}`, externalId: `e${i}` })
  const seen: Array<unknown> = []
  let cursor: string | undefined
  let pages = 0
  do {
    const body = yield* postOk("files/list", { limit: 10, ...(cursor === undefined ? {} : { cursor }) })
    seen.push(...names(body))
    cursor = body.nextCursor as string | undefined
    pages++
  } while (cursor !== undefined)
  expect(pages).toBe(3)
  expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `f${i}`))
  // a page that ends exactly at the last match has no nextCursor
  const exact = yield* postOk("files/list", { limit: 25 })
  expect(exact.nextCursor).toBeUndefined()
  // default limit 100, at most 1000
  for (let i = 25; i < 120; i++) yield* createFile({ name: `f${i}` })
  expect(names(yield* postOk("files/list", {})).length).toBe(100)
  expect(names(yield* postOk("files/list", { limit: 1000 })).length).toBe(120)
})

describe("files/list", () => {
  it.effect("each filter selects what it names; conditions combine with AND", () =>
    Effect.gen(function*() {
      yield* seed
      const list = (filter: Record<string, unknown>) => Effect.map(postOk("files/list", { filter }), names)
      expect(yield* list({})).toEqual(["pump-a.txt", "pump-b.txt", "valve.pdf", "notes", "Pump house plan"])
      expect(yield* list({ name: "valve.pdf" })).toEqual(["valve.pdf"])
      expect(yield* list({ directoryPrefix: "/site/pumps" })).toEqual(["pump-a.txt", "pump-b.txt"])
      expect(yield* list({ externalIdPrefix: "site/" })).toEqual(["pump-a.txt", "pump-b.txt", "Pump house plan"])
      expect(yield* list({ mimeType: "text/plain", source: "scada" })).toEqual(["pump-a.txt"])
      expect(yield* list({ uploaded: true })).toEqual(["pump-a.txt", "valve.pdf"])
      expect(yield* list({ uploaded: false })).toEqual(["pump-b.txt", "notes", "Pump house plan"])
      expect(yield* list({ assetIds: [12, 99] })).toEqual(["pump-b.txt"])
      expect(yield* list({ assetSubtreeIds: [{ id: 11 }] })).toEqual(["pump-a.txt"])
      expect(yield* list({ rootAssetIds: [{ id: 12 }] })).toEqual(["pump-b.txt"])
      expect(yield* list({ dataSetIds: [{ id: 7 }, { id: 8 }] })).toEqual(["pump-a.txt", "notes"])
      expect(yield* list({ labels: { containsAny: [{ externalId: "VERIFIED" }, { externalId: "X" }] } }))
        .toEqual(["pump-a.txt"])
      expect(yield* list({ labels: { containsAll: [{ externalId: "PUMP" }] } })).toEqual(["pump-a.txt", "pump-b.txt"])
      expect(yield* list({ metadata: { kind: "pump", area: "north" } })).toEqual(["pump-a.txt"])
      expect(yield* list({ metadata: { kind: "pump" } })).toEqual(["pump-a.txt", "pump-b.txt"])
      expect(yield* list({ createdTime: { min: 1000, max: 3000 } })).toEqual(["pump-b.txt", "valve.pdf", "notes"])
      expect(yield* list({ lastUpdatedTime: { max: 0 } })).toEqual(["pump-a.txt"])
      expect(yield* list({ uploadedTime: { min: 1 } })).toEqual(["valve.pdf"])
      expect(yield* list({ sourceCreatedTime: { min: 0 } })).toEqual(["pump-a.txt", "notes"])
      expect(yield* list({ sourceModifiedTime: { min: 0 } })).toEqual([])
    }).pipe(provide()))

  it.effect("a cursor walks every page once, in id order; the last page has no nextCursor", () =>
    walksAllPages.pipe(provide()))

  it.effect("partitions split the files: together they give each file once", () =>
    Effect.gen(function*() {
      for (let i = 0; i < 10; i++) yield* createFile({ name: `p${i}` })
      const parts = yield* Effect.forEach(["1/3", "2/3", "3/3"], (partition) =>
        Effect.map(postOk("files/list", { partition, limit: 1000 }), names))
      expect(parts.flat().sort()).toEqual(Array.from({ length: 10 }, (_, i) => `p${i}`).sort())
      expect(parts.every((part) => part.length > 0)).toBe(true)
    }).pipe(provide()))

  it.effect("the Python SDK's first partitioned page (cursor: null) is accepted", () =>
    Effect.gen(function*() {
      yield* createFile({ name: "x" })
      const body = yield* postOk("files/list", { filter: {}, limit: 1000, cursor: null, partition: "1/1" })
      expect(names(body)).toEqual(["x"])
    }).pipe(provide()))

  it.effect("400 with the CDF envelope for bad limits, unknown fields, bad cursors and what the emulator cannot model", () =>
    Effect.gen(function*() {
      const errorOf = (body: unknown) =>
        Effect.gen(function*() {
          const response = yield* postJson("files/list", body)
          const answer = yield* json(response)
          return [response.status, (answer.error as { message: string }).message] as const
        })
      const cases: ReadonlyArray<[unknown, string]> = [
        [{ limit: 1001 }, "limit"],
        [{ limit: 0 }, "limit"],
        [{ filter: { nme: "x" } }, "nme"],
        [{ filter: { directoryPrefix: "x".repeat(513) } }, "directoryPrefix"],
        [{ filter: { assetIds: [] } }, "assetIds"],
        [{ filter: { assetIds: [1, 1] } }, "assetIds"],
        [{ filter: { createdTime: { min: -1 } } }, "createdTime"],
        [{ filter: { labels: { containsAny: [] } } }, "labels"],
        [{ cursor: "not-a-cursor" }, "cursor"],
        [{ partition: "4/3" }, "partition"],
        [{ partition: "1/11" }, "partition"],
        [{ filter: { dataSetIds: [{ externalId: "ds" }] } }, "dataSetIds"],
        [{ filter: { assetExternalIds: ["a"] } }, "assetExternalIds"],
        [{ filter: { geoLocation: { relation: "TOUCHES", shape: { type: "Point", coordinates: [1, 2] } } } }, "geoLocation"],
        [{ filter: { geoLocation: { relation: "WITHIN", shape: { type: "MultiPoint", coordinates: [[1, 2]] } } } }, "geoLocation"],
        [{ filter: { geoLocation: { relation: "WITHIN", shape: { type: "Point", coordinates: [1, 2, 3] } } } }, "geoLocation"],
        [{ filter: { geoLocation: { relation: "WITHIN", shape: { type: "Polygon", coordinates: [[[0, 0], [1, 0], [0, 1]]] } } } }, "geoLocation"],
        [{ filter: { geoLocation: { shape: { type: "Point", coordinates: [1, 2] } } } }, "geoLocation"]
      ]
      for (const [body, field] of cases) {
        const [status, message] = yield* errorOf(body)
        expect(status, JSON.stringify(body)).toBe(400)
        expect(message, JSON.stringify(body)).toContain(field)
      }
    }).pipe(provide()))
})

describe("files/byids", () => {
  it.effect("up to 1000 items in request order; ignoreUnknownIds drops the unknown ones; otherwise 400 with missing", () =>
    Effect.gen(function*() {
      for (let i = 0; i < 3; i++) yield* createFile({ name: `b${i}`, externalId: `b${i}` })
      const body = yield* postOk("files/byids", { items: [{ externalId: "b2" }, { id: 1 }, { id: 999 }], ignoreUnknownIds: true })
      expect(names(body)).toEqual(["b2", "b0"])
      const missing = yield* postJson("files/byids", { items: [{ id: 1 }, { externalId: "nope" }] })
      expect(missing.status).toBe(400)
      expect(((yield* json(missing)).error as Record<string, unknown>).missing).toEqual([{ externalId: "nope" }])
      const many = Array.from({ length: 1000 }, (_, i) => ({ id: i + 1 }))
      expect(names(yield* postOk("files/byids", { items: many, ignoreUnknownIds: true })).length).toBe(3)
      expect((yield* postJson("files/byids", { items: [...many, { id: 1001 }] })).status).toBe(400)
    }).pipe(provide()))
})

describe("files/search and files/aggregate", () => {
  it.effect("search ranks names (exact, prefix, substring, words), applies the filter and the limit", () =>
    Effect.gen(function*() {
      yield* seed
      const search = (body: unknown) => Effect.map(postOk("files/search", body), names)
      expect(yield* search({ search: { name: "pump" } })).toEqual(["pump-a.txt", "pump-b.txt", "Pump house plan"])
      // more words in common rank first; one word in common still matches
      expect(yield* search({ search: { name: "house pump" } })).toEqual(["Pump house plan", "pump-a.txt", "pump-b.txt"])
      expect(yield* search({ search: { name: "house" } })).toEqual(["Pump house plan"])
      expect(yield* search({ search: { name: "pump" }, filter: { uploaded: true } })).toEqual(["pump-a.txt"])
      expect(yield* search({ search: { name: "pump" }, limit: 1 })).toEqual(["pump-a.txt"])
      expect(yield* search({ filter: { directoryPrefix: "/site/valves" } })).toEqual(["valve.pdf"])
      // as the Python SDK sends it without a name
      expect((yield* search({ search: { name: null }, filter: null, limit: 100 })).length).toBe(5)
      expect((yield* postJson("files/search", { search: { name: "x", query: "y" } })).status).toBe(400)
    }).pipe(provide()))

  it.effect("aggregate counts what the filter selects", () =>
    Effect.gen(function*() {
      yield* seed
      expect(yield* postOk("files/aggregate", {})).toEqual({ items: [{ count: 5 }] })
      expect(yield* postOk("files/aggregate", { filter: { uploaded: true } })).toEqual({ items: [{ count: 2 }] })
      // as the Python SDK's aggregate_count sends it
      expect(yield* postOk("files/aggregate", { aggregate: "count", filter: { externalIdPrefix: "site/" } }))
        .toEqual({ items: [{ count: 3 }] })
      expect((yield* postJson("files/aggregate", { aggregate: "sum" })).status).toBe(400)
    }).pipe(provide()))
})

describe("list, byids, search and aggregate on a port", () => {
  it.live("a cursor walks every page once over loopback", () => walksAllPages.pipe(onPort()))

  it.live("byids, search and aggregate over loopback", () =>
    Effect.gen(function*() {
      yield* createFile({ name: "pump one", externalId: "p1" }, "1")
      yield* createFile({ name: "valve", externalId: "v1" })
      expect(names(yield* postOk("files/byids", { items: [{ externalId: "v1" }, { id: 1 }] }))).toEqual(["valve", "pump one"])
      expect(names(yield* postOk("files/search", { search: { name: "pump" } }))).toEqual(["pump one"])
      expect(yield* postOk("files/aggregate", { filter: { uploaded: true } })).toEqual({ items: [{ count: 1 }] })
    }).pipe(onPort()))
})
