/**
 * The Files API around an upload, in memory against the emulator: retrieveMany, list, update, delete, downloadUrl,
 * download and uploadBytes with verify. Request counts are read from the emulator's request log.
 */
import { Emulator } from "@effect-cdf/emulator"
import { Files } from "@effect-cdf/files"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Schedule, Stream, TestClock } from "effect"
import { createHash } from "node:crypto"
import { inMemory } from "./FilesFixtures.js"

/** The option an `InvalidFileMetadataError` names (and that the error is one). */
const optionOf = (error: { readonly _tag: string }): string => {
  expect(error._tag).toBe("InvalidFileMetadataError")
  return (error as unknown as { readonly option: string }).option
}

const noRetries = { transferRetrySchedule: Schedule.recurs(0), apiRetrySchedule: Schedule.recurs(0) }

/** `n` files made as Data Modeling instances (no upload needed): their ids, in creation order. */
const instanceFiles = (n: number) =>
  Effect.flatMap(Emulator.Emulator, (emulator) =>
    Effect.forEach(Array.from({ length: n }, (_, i) => i), (i) =>
      Effect.map(
        emulator.createInstanceFile({ instanceId: { space: "sp", externalId: `file_${i}` }, name: `f${i}.txt` }),
        (file) => file.id
      )))

const countRoute = (route: string) =>
  Effect.map(Emulator.Emulator, (emulator) => emulator.requests).pipe(
    Effect.flatten,
    Effect.map((requests) => requests.filter((r) => r.route === route).length)
  )

describe("Files.retrieveMany (in memory)", () => {
  it.effect("2500 ids: 3 byids requests of at most 1000, the records in the order asked", () =>
    Effect.gen(function*() {
      const ids = yield* instanceFiles(2500)
      const asked = [...ids].reverse().map((id) => ({ id }))
      const records = yield* Files.retrieveMany(asked)
      expect(records.map((r) => r.id)).toEqual(asked.map((a) => a.id))
      expect(yield* countRoute("files.byids")).toBe(3)
    }).pipe(Effect.provide(inMemory())), 60_000)

  it.effect("mixes id, externalId and instanceId; ignoreUnknownIds leaves out what does not exist", () =>
    Effect.gen(function*() {
      const a = yield* Files.uploadBytes("a", { name: "a.txt", externalId: "a" })
      const [b] = yield* instanceFiles(1)
      const records = yield* Files.retrieveMany(
        [{ instanceId: { space: "sp", externalId: "file_0" } }, { externalId: "nope" }, { id: a.id }, { id: 999_999 }],
        { ignoreUnknownIds: true }
      )
      expect(records.map((r) => r.id)).toEqual([b, a.id])
      const error = yield* Effect.flip(Files.retrieveMany([{ id: a.id }, { externalId: "nope" }]))
      expect(error._tag).toBe("CdfApiError")
      if (error._tag === "CdfApiError") {
        expect(error.status).toBe(400)
        expect(error.missing).toEqual([{ externalId: "nope" }])
      }
    }).pipe(Effect.provide(inMemory())))

  it.effect("no ids: no request; a bad id fails naming it, before any request", () =>
    Effect.gen(function*() {
      expect(yield* Files.retrieveMany([])).toEqual([])
      const error = yield* Effect.flip(Files.retrieveMany([{ id: 1 }, { id: 2 }, { id: 3 }, { id: -4 }]))
      expect(error._tag).toBe("InvalidFileMetadataError")
      expect(optionOf(error)).toBe("ids[3].id")
      const both = yield* Effect.flip(Files.retrieveMany([{ id: 1, externalId: "x" } as never]))
      expect(optionOf(both)).toBe("ids[0]")
      const notArray = yield* Effect.flip(Files.retrieveMany("x" as never))
      expect(optionOf(notArray)).toBe("ids")
      expect((yield* (yield* Emulator.Emulator).requests).length).toBe(0)
    }).pipe(Effect.provide(inMemory())))

  it.effect("a throttled batch is retried (a read)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const [id] = yield* instanceFiles(1)
      yield* emulator.addFault({ route: "files.byids", attempts: [1], action: { _tag: "Status", status: 503 } })
      const records = yield* Files.retrieveMany([{ id: id! }])
      expect(records.map((r) => r.id)).toEqual([id])
      expect(yield* countRoute("files.byids")).toBe(2)
    }).pipe(Effect.provide(inMemory({}, { apiRetrySchedule: Schedule.recurs(2) }))))
})

describe("Files.delete (in memory)", () => {
  it.effect("1500 ids: 2 delete requests; every record is gone", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const ids = yield* instanceFiles(1500)
      yield* Files.delete(ids.map((id) => ({ id })))
      expect(yield* countRoute("files.delete")).toBe(2)
      expect((yield* emulator.files).length).toBe(0)
    }).pipe(Effect.provide(inMemory())), 60_000)

  it.effect("unknown ids: CdfApiError 400 with missing, or nothing with ignoreUnknownIds", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const a = yield* Files.uploadBytes("a", { name: "a.txt", externalId: "a" })
      const error = yield* Effect.flip(Files.delete([{ externalId: "a" }, { id: 424242 }]))
      expect(error._tag).toBe("CdfApiError")
      if (error._tag === "CdfApiError") expect(error.missing).toEqual([{ id: 424242 }])
      expect((yield* emulator.files).map((f) => f.id)).toEqual([a.id])
      yield* Files.delete([{ externalId: "a" }, { id: 424242 }], { ignoreUnknownIds: true })
      expect((yield* emulator.files).length).toBe(0)
    }).pipe(Effect.provide(inMemory({}, noRetries))))

  it.effect("an instanceId is refused before any request", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Files.delete([{ id: 1 }, { instanceId: { space: "s", externalId: "x" } } as never]))
      expect(error._tag).toBe("InvalidFileMetadataError")
      expect(optionOf(error)).toBe("ids[1]")
      expect((yield* (yield* Emulator.Emulator).requests).length).toBe(0)
    }).pipe(Effect.provide(inMemory())))
})

describe("Files.list and Files.update: bad input fails before any request", () => {
  it.effect("a list filter or option that breaks the spec names the field", () =>
    Effect.gen(function*() {
      const fails = (filter: unknown, options?: unknown) =>
        Effect.flip(Stream.runCollect(Files.list(filter as Files.FileFilter, options as Files.ListOptions)))
      const unknownKey = yield* fails({ nmae: "x" })
      expect(unknownKey._tag).toBe("InvalidFileMetadataError")
      expect(optionOf(unknownKey)).toBe("nmae")
      const range = yield* fails({ createdTime: { min: -1 } })
      expect(optionOf(range)).toBe("createdTime.min")
      const labels = yield* fails({ labels: { containsAny: [] } })
      expect(optionOf(labels)).toMatch(/^labels/)
      const page = yield* fails({}, { pageSize: 1001 })
      expect(optionOf(page)).toBe("pageSize")
      const relation = yield* fails({ geoLocation: { relation: "TOUCHES", shape: { type: "Point", coordinates: [1, 2] } } })
      expect(optionOf(relation)).toBe("geoLocation.relation")
      const multiPoint = yield* fails({ geoLocation: { relation: "WITHIN", shape: { type: "MultiPoint", coordinates: [] } } })
      expect(optionOf(multiPoint)).toMatch(/^geoLocation\.shape/)
      const openRing = yield* fails({
        geoLocation: { relation: "WITHIN", shape: { type: "Polygon", coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1]]] } }
      })
      expect(optionOf(openRing)).toMatch(/^geoLocation\.shape/)
      expect((yield* (yield* Emulator.Emulator).requests).length).toBe(0)
    }).pipe(Effect.provide(inMemory())))

  it.effect("an update names the change and the field at fault; by instanceId only the DMS fields", () =>
    Effect.gen(function*() {
      const fails = (changes: unknown) => Effect.flip(Files.update(changes as ReadonlyArray<Files.FileChange>))
      const source = yield* fails([{ id: 1, update: { source: { set: "ok" } } }, { id: 2, update: { source: { set: 5 } } }])
      expect(source._tag).toBe("InvalidFileMetadataError")
      expect(optionOf(source)).toMatch(/^changes\[1\]\.update\.source/)
      const dms = yield* fails([{ instanceId: { space: "s", externalId: "x" }, update: { source: { set: "a" } } }])
      expect(optionOf(dms)).toBe("changes[0].update.source")
      const both = yield* fails([{ id: 1, externalId: "x", update: {} }])
      expect(optionOf(both)).toBe("changes[0]")
      const unknownField = yield* fails([{ id: 1, update: { name: { set: "n" } } }])
      expect(optionOf(unknownField)).toBe("changes[0].update.name")
      const setAndNull = yield* fails([{ id: 1, update: { mimeType: { set: "a", setNull: true } } }])
      expect(optionOf(setAndNull)).toMatch(/^changes\[0\]\.update\.mimeType/)
      expect((yield* (yield* Emulator.Emulator).requests).length).toBe(0)
    }).pipe(Effect.provide(inMemory())))
})

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex")
const bytesOf = (stream: Stream.Stream<Uint8Array, unknown, Files.Files>) =>
  Effect.map(Stream.runCollect(stream), (chunks) => Buffer.concat(Chunk.toArray(chunks)))

describe("Files.list, update, download, verify against the emulator (in memory)", () => {
  it.effect("list follows cursors: 2500 records in 3 requests of 1000; filters and limit", () =>
    Effect.gen(function*() {
      yield* instanceFiles(2500)
      const all = yield* Stream.runCollect(Files.list())
      expect(all.length).toBe(2500)
      expect(new Set(Chunk.toArray(all).map((f) => f.id)).size).toBe(2500)
      expect(yield* countRoute("files.list")).toBe(3)
      yield* Files.uploadBytes("x", { name: "r.csv", directory: "/reports/2026", mimeType: "text/csv" })
      yield* Files.uploadBytes("y", { name: "s.txt", directory: "/reports/2026", mimeType: "text/plain" })
      const csv = yield* Stream.runCollect(Files.list({ directoryPrefix: "/reports", mimeType: "text/csv" }))
      expect(Chunk.toArray(csv).map((f) => f.name)).toEqual(["r.csv"])
      const some = yield* Stream.runCollect(Files.list({}, { limit: 5, pageSize: 2 }))
      expect(some.length).toBe(5)
    }).pipe(Effect.provide(inMemory())), 60_000)

  it.effect("list by geoLocation: the filter reaches the emulator as the spec's GeoLocationFilter", () =>
    Effect.gen(function*() {
      const at = (x: number, y: number) => ({
        type: "Feature" as const,
        geometry: { type: "Point" as const, coordinates: [x, y] }
      })
      yield* Files.uploadBytes("a", { name: "a.txt", geoLocation: at(1, 1) })
      yield* Files.uploadBytes("b", { name: "b.txt", geoLocation: at(20, 20) })
      yield* Files.uploadBytes("c", { name: "c.txt" })
      const box = {
        type: "Polygon" as const,
        coordinates: [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]
      }
      const names = (relation: "INTERSECTS" | "DISJOINT" | "WITHIN") =>
        Effect.map(
          Stream.runCollect(Files.list({ geoLocation: { relation, shape: box } })),
          (files) => Chunk.toArray(files).map((f) => f.name)
        )
      expect(yield* names("WITHIN")).toEqual(["a.txt"])
      expect(yield* names("INTERSECTS")).toEqual(["a.txt"])
      expect(yield* names("DISJOINT")).toEqual(["b.txt"])
      const sent = (yield* (yield* Emulator.Emulator).requests).filter((r) => r.route === "files.list")
      expect(sent.length).toBe(3)
    }).pipe(Effect.provide(inMemory())))

  it.effect("update: set, setNull, add and remove; 1500 changes in 2 requests, records in the order given", () =>
    Effect.gen(function*() {
      const file = yield* Files.uploadBytes("u", {
        name: "u.txt",
        externalId: "u",
        source: "old",
        metadata: { draft: "yes", keep: "1" },
        sourceModifiedTime: 1_700_000_000_000
      })
      const [updated] = yield* Files.update([{
        externalId: "u",
        update: {
          metadata: { add: { reviewed: "yes" }, remove: ["draft"] },
          source: { set: "new" },
          sourceModifiedTime: { setNull: true },
          assetIds: { add: [5, 6] }
        }
      }])
      expect(updated?.id).toBe(file.id)
      expect(updated?.metadata).toEqual({ keep: "1", reviewed: "yes" })
      expect(updated?.source).toBe("new")
      expect(updated?.sourceModifiedTime).toBeUndefined()
      expect(updated?.assetIds).toEqual([5, 6])
      const ids = yield* instanceFiles(1500)
      const changes = [...ids].reverse().map((id) => ({ id, update: { metadata: { add: { n: String(id) } } } }))
      const records = yield* Files.update(changes)
      expect(records.map((r) => r.id)).toEqual(changes.map((c) => c.id))
      expect(records.every((r) => r.metadata?.n === String(r.id))).toBe(true)
      expect(yield* countRoute("files.update")).toBe(3)
    }).pipe(Effect.provide(inMemory())), 60_000)

  it.effect("download gives the stored bytes; a reset mid-body resumes with Range from the byte it stopped at", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const content = new Uint8Array(300_000).map((_, i) => (i * 13) % 256)
      const file = yield* Files.uploadBytes(content, { name: "d.bin", externalId: "d" })
      expect(sha256(yield* bytesOf(Files.download({ id: file.id })))).toBe(sha256(content))
      yield* emulator.addFault({ route: "storage.get", attempts: [2], action: { _tag: "ResetAfterBytes", bytes: 100_000 } })
      const bytes = yield* bytesOf(Files.download({ externalId: "d" }))
      expect(sha256(bytes)).toBe(sha256(content))
      const gets = (yield* emulator.requests).filter((r) => r.route === "storage.get")
      expect(gets.map((g) => g.headers["range"])).toEqual([undefined, undefined, "bytes=100000-"])
      expect(gets.every((g) => g.headers["authorization"] === undefined)).toBe(true)
      const url = yield* Files.downloadUrl({ id: file.id })
      expect(String(url)).not.toContain("http")
    }).pipe(Effect.provide(inMemory({}, { transferRetrySchedule: Schedule.recurs(3) }))))

  it.effect("verify: true catches a stored file corrupted by the emulator's byte flip; the new record is deleted", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const ok = yield* Files.uploadBytes("round trip", { name: "ok.txt", verify: true })
      expect(ok.uploaded).toBe(true)
      yield* emulator.addFault({ route: "storage.get", action: { _tag: "CorruptDownload", offset: 3 } })
      const error = yield* Effect.flip(Files.uploadBytes("round trip", { name: "bad.txt", verify: true }))
      expect(error._tag).toBe("DownloadError")
      if (error._tag !== "DownloadError") return
      expect(error.reason).toBe("Mismatch")
      expect(error.expectedSha256).toBe(sha256("round trip"))
      expect(error.actualSha256).not.toBe(error.expectedSha256)
      expect(error.cleanup?.deleted).toBe(true)
      expect((yield* emulator.files).map((f) => f.name)).toEqual(["ok.txt"])
    }).pipe(Effect.provide(inMemory())))

  it.effect("a link that expired between two attempts (30 s) is replaced by a fresh one; the download completes", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const content = new Uint8Array(200_000).map((_, i) => (i * 17) % 256)
      const file = yield* Files.uploadBytes(content, { name: "e.bin" })
      yield* emulator.addFault({ route: "storage.get", attempts: [1], action: { _tag: "ResetAfterBytes", bytes: 50_000 } })
      const fiber = yield* Effect.fork(bytesOf(Files.download({ id: file.id })))
      // two retry delays: after the reset, and after the 403 of the expired link
      for (let i = 0; i < 12; i++) yield* TestClock.adjust("10 seconds")
      const bytes = yield* Fiber.join(fiber)
      expect(sha256(bytes)).toBe(sha256(content))
      const requests = yield* emulator.requests
      expect(requests.filter((r) => r.route === "files.downloadlink").length).toBe(2)
      const gets = requests.filter((r) => r.route === "storage.get")
      expect(gets.map((g) => g.status)).toEqual([200, 403, 206])
      expect(gets[2]?.headers["range"]).toBe(gets[1]?.headers["range"])
    }).pipe(Effect.provide(inMemory({}, {
      transferRetrySchedule: Schedule.spaced("40 seconds").pipe(Schedule.intersect(Schedule.recurs(3)))
    }))))
})

