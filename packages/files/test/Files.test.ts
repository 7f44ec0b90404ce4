import { Emulator } from "@effect-cdf/emulator"
import { Files } from "@effect-cdf/files"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schedule, TestClock } from "effect"
import { createHash } from "node:crypto"
import { inMemory } from "./FilesFixtures.js"

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex")
const noRetries = { transferRetrySchedule: Schedule.recurs(0), apiRetrySchedule: Schedule.recurs(0) }

describe("Files.uploadBytes (in memory)", () => {
  it.effect("creates the record, PUTs exactly the bytes with the record's mimeType, returns the metadata", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const text = "hello, wörld ✓"
      const file = yield* Files.uploadBytes(text, {
        name: "hello.txt",
        externalId: "greeting",
        mimeType: "text/plain",
        metadata: { k: "v" },
        sourceCreatedTime: new Date(1_700_000_000_000)
      })
      expect(file.name).toBe("hello.txt")
      expect(file.externalId).toBe("greeting")
      expect(file.metadata).toEqual({ k: "v" })
      expect(file.sourceCreatedTime).toBe(1_700_000_000_000)
      expect("uploadUrl" in file).toBe(false)
      const stored = yield* emulator.files
      expect(stored.length).toBe(1)
      expect(stored[0].id).toBe(file.id)
      expect(stored[0].sha256).toBe(sha256(text))
      expect(stored[0].size).toBe(Buffer.byteLength(text))
      expect(stored[0].puts.length).toBe(1)
      expect(stored[0].puts[0].contentType).toBe("text/plain")
      expect(stored[0].puts[0].contentLength).toBe(Buffer.byteLength(text))
      const create = (yield* emulator.requests).find((r) => r.route === "files.create")
      expect(create?.headers["x-cdp-sdk"]).toMatch(/^EffectCdfFiles:/)
      expect(create?.headers["x-cdp-app"]).toBe("effect-cdf")
      expect(create?.headers["cdf-version"]).toBe("20230101")
      expect(create?.headers["authorization"]).toBeDefined()
    }).pipe(Effect.provide(inMemory())))

  it.effect("sends no Content-Type when the record has no mimeType", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* Files.uploadBytes(new Uint8Array([1, 2, 3]), { name: "raw.bin" })
      const stored = yield* emulator.files
      expect(stored[0].puts[0].contentType).toBeUndefined()
      expect(stored[0].sha256).toBe(sha256(new Uint8Array([1, 2, 3])))
    }).pipe(Effect.provide(inMemory())))

  it.effect("fails with InvalidFileMetadataError before any request", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const error = yield* Effect.flip(Files.uploadBytes("x", { name: "a", directory: "relative/dir" }))
      expect(error._tag).toBe("InvalidFileMetadataError")
      if (error._tag === "InvalidFileMetadataError") expect(error.option).toBe("directory")
      expect((yield* emulator.requests).length).toBe(0)
    }).pipe(Effect.provide(inMemory())))

  it.effect("an existing externalId without overwrite is a CdfApiError 409 and touches nothing", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const first = yield* Files.uploadBytes("one", { name: "a.txt", externalId: "taken" })
      const error = yield* Effect.flip(Files.uploadBytes("two", { name: "a.txt", externalId: "taken" }))
      expect(error._tag).toBe("CdfApiError")
      if (error._tag === "CdfApiError") {
        expect(error.status).toBe(409)
        expect(error.duplicated).toEqual([{ externalId: "taken" }])
        expect(error.requestId).toBeDefined()
        expect(error.cleanup).toBeUndefined()
      }
      const stored = yield* emulator.files
      expect(stored.length).toBe(1)
      expect(stored[0].id).toBe(first.id)
      expect(stored[0].sha256).toBe(sha256("one"))
    }).pipe(Effect.provide(inMemory())))

  it.effect("overwrite replaces the content of the record with the same externalId", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* Files.uploadBytes("one", { name: "a.txt", externalId: "x" })
      yield* Files.uploadBytes("two", { name: "a.txt", externalId: "x", overwrite: true })
      const stored = yield* emulator.files
      expect(stored.length).toBe(1)
      expect(stored[0].sha256).toBe(sha256("two"))
      const create = (yield* emulator.requests).filter((r) => r.route === "files.create")
      expect(create.length).toBe(2)
    }).pipe(Effect.provide(inMemory())))

  it.effect("a failed PUT deletes the record it created and says so", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Status", status: 500 } })
      const error = yield* Effect.flip(Files.uploadBytes("bytes", { name: "a.txt" }))
      expect(error._tag).toBe("UploadError")
      expect(error.cleanup?.deleted).toBe(true)
      expect(error.message).toContain("was deleted")
      expect((yield* emulator.files).length).toBe(0)
      const deletes = (yield* emulator.requests).filter((r) => r.route === "files.delete")
      expect(deletes.length).toBe(1)
    }).pipe(Effect.provide(inMemory({}, noRetries))))

  it.effect("a failed PUT after overwriting an older record does not delete it", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* Files.uploadBytes("one", { name: "a.txt", externalId: "keep" })
      yield* TestClock.adjust("1 minute")
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Status", status: 500 } })
      const error = yield* Effect.flip(Files.uploadBytes("two", { name: "a.txt", externalId: "keep", overwrite: true }))
      expect(error._tag).toBe("UploadError")
      expect(error.cleanup).toBeUndefined()
      expect((yield* emulator.files).length).toBe(1)
    }).pipe(Effect.provide(inMemory({}, noRetries))))

  it.effect("retrieve reads a record by id and by externalId", () =>
    Effect.gen(function*() {
      const file = yield* Files.uploadBytes("x", { name: "r.txt", externalId: "r" })
      const byId = yield* Files.retrieve({ id: file.id })
      const byExternalId = yield* Files.retrieve({ externalId: "r" })
      expect(byId.id).toBe(file.id)
      expect(byExternalId.id).toBe(file.id)
      expect(byId.uploaded).toBe(true)
      const missing = yield* Effect.flip(Files.retrieve({ id: 424242 }))
      expect(missing._tag).toBe("CdfApiError")
      if (missing._tag === "CdfApiError") expect(missing.missing).toEqual([{ id: 424242 }])
    }).pipe(Effect.provide(inMemory())))
})
