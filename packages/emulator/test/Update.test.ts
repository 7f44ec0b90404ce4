import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import { createFile, json, postJson, postOk } from "./utils.js"

const provide = (options?: Emulator.Options) => Effect.provide(Emulator.layerInMemory(options))

const update = (items: ReadonlyArray<unknown>) => postOk("files/update", { items })
const firstItem = (body: Record<string, unknown>) => (body.items as Array<Record<string, unknown>>)[0]

const errorOf = (items: ReadonlyArray<unknown>) =>
  Effect.gen(function*() {
    const response = yield* postJson("files/update", { items })
    const body = yield* json(response)
    return { status: response.status, error: body.error as Record<string, unknown> }
  })

describe("files/update", () => {
  it.effect("set and setNull on every single field; lastUpdatedTime is bumped, createdTime stays", () =>
    Effect.gen(function*() {
      yield* createFile({ name: "a", externalId: "a", source: "old", sourceModifiedTime: 5 })
      yield* TestClock.adjust("5 seconds")
      const geoLocation = { type: "Feature", geometry: { type: "Point", coordinates: [10, 60] } }
      const record = firstItem(
        yield* update([{
          externalId: "a",
          update: {
            externalId: { set: "a2" },
            directory: { set: "/d" },
            source: { setNull: true },
            mimeType: { set: "text/csv" },
            sourceCreatedTime: { set: 1 },
            sourceModifiedTime: { setNull: true },
            dataSetId: { set: 3 },
            geoLocation: { set: geoLocation }
          }
        }])
      )
      expect(record).toMatchObject({
        id: 1,
        externalId: "a2",
        directory: "/d",
        mimeType: "text/csv",
        sourceCreatedTime: 1,
        dataSetId: 3,
        geoLocation,
        createdTime: 0,
        lastUpdatedTime: 5000
      })
      expect(record.source).toBeUndefined()
      expect(record.sourceModifiedTime).toBeUndefined()
      // the old externalId is free again, the new one finds the file
      expect((yield* postJson("files/byids", { items: [{ externalId: "a" }] })).status).toBe(400)
      expect(firstItem(yield* postOk("files/byids", { items: [{ externalId: "a2" }] })).id).toBe(1)
      const cleared = firstItem(yield* update([{ id: 1, update: { externalId: { setNull: true }, geoLocation: { setNull: true } } }]))
      expect(cleared.externalId).toBeUndefined()
      expect(cleared.geoLocation).toBeUndefined()
    }).pipe(provide()))

  it.effect("metadata, assetIds, securityCategories and labels: set, or add and remove", () =>
    Effect.gen(function*() {
      yield* createFile({ name: "m", metadata: { a: "1", b: "2" }, assetIds: [1, 2], labels: [{ externalId: "X" }] })
      const added = firstItem(
        yield* update([{
          id: 1,
          update: {
            metadata: { add: { c: "3", a: "one" }, remove: ["b"] },
            assetIds: { add: [3, 1], remove: [2] },
            securityCategories: { add: [9] },
            labels: { add: [{ externalId: "Y" }, { externalId: "X" }], remove: [{ externalId: "nope" }] }
          }
        }])
      )
      expect(added.metadata).toEqual({ a: "one", c: "3" })
      expect(added.assetIds).toEqual([1, 3])
      expect(added.securityCategories).toEqual([9])
      expect(added.labels).toEqual([{ externalId: "X" }, { externalId: "Y" }])
      const set = firstItem(
        yield* update([{
          id: 1,
          update: {
            metadata: { set: { only: "this" } },
            assetIds: { set: [7] },
            securityCategories: { set: [] },
            labels: { set: [{ externalId: "Z" }] }
          }
        }])
      )
      expect(set.metadata).toEqual({ only: "this" })
      expect(set.assetIds).toEqual([7])
      expect(set.securityCategories).toEqual([])
      expect(set.labels).toEqual([{ externalId: "Z" }])
      const removed = firstItem(yield* update([{ id: 1, update: { assetIds: { remove: [7] }, labels: { remove: [{ externalId: "Z" }] } } }]))
      expect(removed.assetIds).toBeUndefined()
      expect(removed.labels).toEqual([])
    }).pipe(provide()))

  it.effect("by id, externalId and instanceId; 1000 items at most, all or nothing", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* createFile({ name: "one", externalId: "one" })
      yield* createFile({ name: "two" })
      yield* emulator.createInstanceFile({ instanceId: { space: "sp", externalId: "node1" } })
      const body = yield* update([
        { id: 2, update: { source: { set: "s2" } } },
        { externalId: "one", update: { source: { set: "s1" } } },
        { instanceId: { space: "sp", externalId: "node1" }, update: { metadata: { add: { k: "v" } } } }
      ])
      expect((body.items as Array<Record<string, unknown>>).map((item) => [item.id, item.source, item.metadata]))
        .toEqual([[2, "s2", undefined], [1, "s1", undefined], [3, undefined, { k: "v" }]])
      // a file of Data Modeling changes only what DMSFileChange lists
      const dms = yield* errorOf([{ instanceId: { space: "sp", externalId: "node1" }, update: { source: { set: "x" } } }])
      expect(dms.status).toBe(400)
      // one unknown item: 400 with missing, and nothing changed
      const missing = yield* errorOf([{ id: 1, update: { source: { set: "changed" } } }, { id: 99, update: {} }])
      expect(missing.status).toBe(400)
      expect(missing.error.missing).toEqual([{ id: 99 }])
      expect(firstItem(yield* postOk("files/byids", { items: [{ id: 1 }] })).source).toBe("s1")
      const tooMany = yield* errorOf(Array.from({ length: 1001 }, () => ({ id: 1, update: {} })))
      expect(tooMany.status).toBe(400)
      expect(tooMany.error.message).toContain("1000")
    }).pipe(provide()))

  it.effect("an externalId another file holds is 409 with duplicated; so is one set twice in a request", () =>
    Effect.gen(function*() {
      yield* createFile({ name: "a", externalId: "a" })
      yield* createFile({ name: "b", externalId: "b" })
      yield* createFile({ name: "c" })
      const taken = yield* errorOf([{ id: 3, update: { externalId: { set: "a" } } }])
      expect(taken.status).toBe(409)
      expect(taken.error.duplicated).toEqual([{ externalId: "a" }])
      const twice = yield* errorOf([
        { id: 2, update: { externalId: { set: "x" } } },
        { id: 3, update: { externalId: { set: "x" } } }
      ])
      expect(twice.status).toBe(409)
      // a swap inside one request is fine: no externalId is held twice afterwards
      const swapped = yield* update([
        { id: 1, update: { externalId: { set: "b" } } },
        { id: 2, update: { externalId: { set: "a" } } }
      ])
      expect((swapped.items as Array<Record<string, unknown>>).map((item) => item.externalId)).toEqual(["b", "a"])
    }).pipe(provide()))

  it.effect("the spec's limits, on the patch and on the record it gives; set with add is refused", () =>
    Effect.gen(function*() {
      yield* createFile({ name: "l", metadata: { big: "x".repeat(6000) }, labels: [{ externalId: "L0" }] })
      const cases: ReadonlyArray<[unknown, string]> = [
        [{ externalId: { set: "x".repeat(256) } }, "externalId"],
        [{ directory: { set: "relative" } }, "directory"],
        [{ source: { set: "x".repeat(129) } }, "source"],
        [{ mimeType: { set: "x".repeat(257) } }, "mimeType"],
        [{ metadata: { add: { other: "y".repeat(5000) } } }, "metadata"],
        [{ metadata: { set: { k: 1 } } }, "metadata"],
        [{ assetIds: { set: [0] } }, "assetIds"],
        [{ assetIds: { set: [1], add: [2] } }, "assetIds"],
        [{ securityCategories: { add: Array.from({ length: 101 }, (_, i) => i + 1) } }, "securityCategories"],
        [{ labels: { add: Array.from({ length: 10 }, (_, i) => ({ externalId: `N${i}` })) } }, "labels"],
        [{ sourceCreatedTime: { set: -1 } }, "sourceCreatedTime"],
        [{ dataSetId: { set: 1.5 } }, "dataSetId"],
        [{ geoLocation: { set: { type: "Point", coordinates: [1, 2] } } }, "geoLocation"],
        [{ name: { set: "renamed" } }, "name"]
      ]
      for (const [patch, field] of cases) {
        const { error, status } = yield* errorOf([{ id: 1, update: patch }])
        expect(status, JSON.stringify(patch)).toBe(400)
        expect(String(error.message), JSON.stringify(patch)).toContain(field)
      }
    }).pipe(provide()))
})

describe("files/update on a port", () => {
  it.live("add/remove and set over loopback; 409 for a taken externalId", () =>
    Effect.gen(function*() {
      yield* createFile({ name: "a", externalId: "a", metadata: { k: "v" } })
      yield* createFile({ name: "b", externalId: "b" })
      const record = firstItem(
        yield* update([{ externalId: "a", update: { metadata: { add: { k2: "v2" } }, source: { set: "port" } } }])
      )
      expect(record).toMatchObject({ metadata: { k: "v", k2: "v2" }, source: "port" })
      expect((yield* errorOf([{ id: 2, update: { externalId: { set: "a" } } }])).status).toBe(409)
    }).pipe(Effect.provide(Layer.merge(Emulator.layerServer(), NodeHttpClient.layerUndici))))
})
