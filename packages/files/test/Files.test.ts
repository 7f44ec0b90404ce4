import { Emulator } from "@effect-cdf/emulator"
import { CdfClient, Files } from "@effect-cdf/files"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Schedule, Schema, TestClock } from "effect"
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

  it.effect("a create refused without ambiguity (400, 429 after retries) does not claim a record may exist", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "files.create", action: { _tag: "Status", status: 400 } })
      const error = yield* Effect.flip(Files.uploadBytes("x", { name: "a" }))
      expect(error._tag).toBe("CdfApiError")
      expect(error.message).not.toContain("cannot identify")
      yield* emulator.clearFaults
      yield* emulator.addFault({ route: "files.create", action: { _tag: "Status", status: 429 } })
      const throttled = yield* Effect.flip(Files.uploadBytes("x", { name: "a" }))
      expect(throttled.message).not.toContain("cannot identify")
    }).pipe(Effect.provide(inMemory({}, noRetries))))

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

  it.effect("a failed PUT after overwriting a record created 1 s earlier by another writer keeps it", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const theirs = yield* Files.uploadBytes("their precious bytes", { name: "theirs.txt", externalId: "shared" })
      yield* TestClock.adjust("1 second")
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Status", status: 500 } })
      const error = yield* Effect.flip(
        Files.uploadBytes("mine", { name: "mine.txt", externalId: "shared", overwrite: true })
      )
      expect(error._tag).toBe("UploadError")
      expect(error.cleanup).toBeUndefined()
      const stored = yield* emulator.files
      expect(stored.map((f) => f.id)).toEqual([theirs.id])
      expect(stored[0].sha256).toBe(sha256("their precious bytes"))
      expect((yield* emulator.requests).filter((r) => r.route === "files.delete")).toEqual([])
    }).pipe(Effect.provide(inMemory({}, noRetries))))

  it.effect("a failed PUT with overwrite on a brand-new record deletes it", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* TestClock.adjust("1 second")
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Status", status: 500 } })
      const error = yield* Effect.flip(Files.uploadBytes("mine", { name: "n.txt", externalId: "new", overwrite: true }))
      expect(error.cleanup?.deleted).toBe(true)
      expect((yield* emulator.files).length).toBe(0)
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

  const fastRetries = { apiRetrySchedule: Schedule.recurs(3) }

  for (const mode of ["status", "drop"] as const) {
    it.effect(`CommitThenFail (${mode}) without externalId: no retry, one record, the error`, () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* emulator.addFault({ route: "files.create", attempts: [1], action: { _tag: "CommitThenFail", mode } })
        const error = yield* Effect.flip(Files.uploadBytes("bytes", { name: "a.txt" }))
        expect(error._tag).toBe(mode === "status" ? "CdfApiError" : "CdfTransportError")
        if (error._tag === "CdfTransportError") expect(error.phase).toBe("request")
        // the caller is told that a record may exist that the call cannot identify
        expect(error.message).toContain("may have created a file record that this call cannot identify")
        expect(String(error)).toContain("cannot identify")
        expect((yield* emulator.files).length).toBe(1)
        expect((yield* emulator.requests).filter((r) => r.route === "files.create").length).toBe(1)
      }).pipe(Effect.provide(inMemory({}, fastRetries))))

    it.effect(`CommitThenFail (${mode}) with externalId: the retry's 409 resumes on our record`, () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* emulator.addFault({ route: "files.create", attempts: [1], action: { _tag: "CommitThenFail", mode } })
        const file = yield* Files.uploadBytes("resumed bytes", {
          name: "a.txt",
          externalId: "ext-1",
          mimeType: "text/plain",
          assetIds: [3, 1, 2],
          labels: ["b", "a"]
        })
        const stored = yield* emulator.files
        expect(stored.length).toBe(1)
        expect(stored[0].id).toBe(file.id)
        expect(stored[0].sha256).toBe(sha256("resumed bytes"))
        expect(stored[0].puts[0].contentType).toBe("text/plain")
        const routes = (yield* emulator.requests).map((r) => `${r.route} ${r.status}`)
        expect(routes.filter((r) => r.startsWith("files.create")).length).toBe(2)
        expect(routes).toContain("files.create 409")
        expect(routes.filter((r) => r.startsWith("files.uploadlink")).length).toBe(1)
      }).pipe(Effect.provide(inMemory({}, fastRetries))))

    it.effect(`CommitThenFail (${mode}) on initmultipartupload with externalId resumes via multiuploadlink`, () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* emulator.addFault({
          route: "files.initmultipartupload",
          attempts: [1],
          action: { _tag: "CommitThenFail", mode }
        })
        const content = new Uint8Array(25).map((_, i) => i)
        const file = yield* Files.uploadBytes(content, { name: "big.bin", externalId: "big" })
        const stored = yield* emulator.files
        expect(stored.length).toBe(1)
        expect(stored[0].id).toBe(file.id)
        expect(stored[0].sha256).toBe(sha256(content))
        expect(stored[0].puts.map((p) => p.part)).toEqual(expect.arrayContaining([0, 1, 2]))
        const routes = (yield* emulator.requests).map((r) => r.route)
        expect(routes.filter((r) => r === "files.multiuploadlink").length).toBe(1)
        expect(routes.filter((r) => r === "files.completemultipartupload").length).toBe(1)
      }).pipe(Effect.provide(inMemory({ minPartSize: 1 }, { ...fastRetries, singlePutThreshold: 10, partSize: 10 }))))
  }

  it.effect("CommitThenFail with externalId and overwrite: the retry overwrites our own record, one record", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "files.create", attempts: [1], action: { _tag: "CommitThenFail", mode: "drop" } })
      const file = yield* Files.uploadBytes("overwritten", { name: "o.txt", externalId: "ow", overwrite: true })
      const stored = yield* emulator.files
      expect(stored.length).toBe(1)
      expect(stored[0].id).toBe(file.id)
      expect(stored[0].sha256).toBe(sha256("overwritten"))
    }).pipe(Effect.provide(inMemory({}, fastRetries))))

  it.effect("a retry's 409 on someone else's record is a CdfApiError, and their record is untouched", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "files.create", attempts: [1], action: { _tag: "Status", status: 503 } })
      const mine = yield* Effect.fork(Files.uploadBytes("mine", { name: "mine.txt", externalId: "contested" }))
      yield* TestClock.adjust("1 millis")
      // attempt 1 failed with 503 (nothing created); another writer creates the externalId before our retry
      const theirs = yield* Files.uploadBytes("theirs", { name: "theirs.txt", externalId: "contested" })
      yield* TestClock.adjust("1 minute")
      const error = yield* Effect.flip(Fiber.join(mine))
      expect(error._tag).toBe("CdfApiError")
      if (error._tag === "CdfApiError") expect(error.status).toBe(409)
      expect(error.cleanup).toBeUndefined()
      const stored = yield* emulator.files
      expect(stored.length).toBe(1)
      expect(stored[0].id).toBe(theirs.id)
      expect(stored[0].sha256).toBe(sha256("theirs"))
      expect((yield* emulator.requests).filter((r) => r.route === "files.uploadlink").length).toBe(0)
    }).pipe(Effect.provide(inMemory())))

  it.effect("a retry's 409 on an identical record that is already uploaded is a CdfApiError", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "files.create", attempts: [1], action: { _tag: "Status", status: 503 } })
      const mine = yield* Effect.fork(Files.uploadBytes("mine", { name: "same.txt", externalId: "same" }))
      yield* TestClock.adjust("1 millis")
      const theirs = yield* Files.uploadBytes("theirs", { name: "same.txt", externalId: "same" })
      expect((yield* emulator.files)[0].uploaded).toBe(true)
      yield* TestClock.adjust("1 minute")
      const error = yield* Effect.flip(Fiber.join(mine))
      expect(error._tag).toBe("CdfApiError")
      if (error._tag === "CdfApiError") expect(error.status).toBe(409)
      const stored = yield* emulator.files
      expect(stored.map((f) => f.id)).toEqual([theirs.id])
      expect(stored[0].sha256).toBe(sha256("theirs"))
      expect((yield* emulator.requests).filter((r) => r.route === "files.uploadlink")).toEqual([])
    }).pipe(Effect.provide(inMemory())))

  it.effect("a retry's 409 on an identical, not uploaded record created > 5 s before our first attempt is a CdfApiError", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const client = yield* CdfClient.CdfClient
      // another writer created the record (no content yet) 10 s ago
      const created = yield* client.request({
        method: "POST",
        path: "files",
        urlParams: { overwrite: "false" },
        body: CdfClient.jsonBody(Schema.Unknown, { name: "same.txt", externalId: "same" }),
        response: Schema.Struct({ id: Schema.Number }),
        retry: "never"
      })
      yield* TestClock.adjust("10 seconds")
      yield* emulator.addFault({ route: "files.create", attempts: [2], action: { _tag: "Status", status: 503 } })
      const mine = yield* Effect.fork(Files.uploadBytes("mine", { name: "same.txt", externalId: "same" }))
      yield* TestClock.adjust("1 minute")
      const error = yield* Effect.flip(Fiber.join(mine))
      expect(error._tag).toBe("CdfApiError")
      if (error._tag === "CdfApiError") expect(error.status).toBe(409)
      const stored = yield* emulator.files
      expect(stored.map((f) => f.id)).toEqual([created.value.id])
      expect(stored[0].uploaded).toBe(false)
      expect(stored[0].puts).toEqual([])
      expect((yield* emulator.requests).filter((r) => r.route === "files.uploadlink")).toEqual([])
    }).pipe(Effect.provide(inMemory())))

  it.effect("a 409 on the first attempt is never resumed", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* Files.uploadBytes("old", { name: "same.txt", externalId: "dup" })
      const error = yield* Effect.flip(Files.uploadBytes("new", { name: "same.txt", externalId: "dup" }))
      expect(error._tag).toBe("CdfApiError")
      expect((yield* emulator.requests).filter((r) => r.route === "files.byids").length).toBe(0)
      expect((yield* emulator.files)[0].sha256).toBe(sha256("old"))
    }).pipe(Effect.provide(inMemory())))

  it.effect("multipart: parts without Content-Type, completed, exact bytes", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const content = new Uint8Array(35).map((_, i) => 255 - i)
      const file = yield* Files.uploadBytes(content, { name: "parts.bin", mimeType: "application/x-test" })
      const stored = yield* emulator.files
      expect(stored.length).toBe(1)
      expect(stored[0].id).toBe(file.id)
      expect(stored[0].uploaded).toBe(true)
      expect(stored[0].sha256).toBe(sha256(content))
      expect(stored[0].puts.length).toBe(4)
      expect(stored[0].puts.every((p) => p.contentType === undefined)).toBe(true)
    }).pipe(Effect.provide(inMemory({ minPartSize: 1 }, { singlePutThreshold: 10, partSize: 10 }))))

  it.effect("multipart: a 2xx completion with a body that is not JSON still completes (the body is ignored)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "files.completemultipartupload", action: { _tag: "MalformedJson" } })
      const content = new Uint8Array(30).fill(9)
      const file = yield* Files.uploadBytes(content, { name: "parts.bin" })
      const stored = yield* emulator.files
      expect(stored.map((f) => f.id)).toEqual([file.id])
      expect(stored[0].uploaded).toBe(true)
      expect(stored[0].sha256).toBe(sha256(content))
      expect((yield* emulator.requests).filter((r) => r.route === "files.delete")).toEqual([])
    }).pipe(Effect.provide(inMemory({ minPartSize: 1 }, { singlePutThreshold: 10, partSize: 10 }))))

  it.effect("cleanup: a 2xx delete with a body that is not JSON counts as deleted", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Status", status: 500 } })
      yield* emulator.addFault({ route: "files.delete", action: { _tag: "MalformedJson" } })
      const error = yield* Effect.flip(Files.uploadBytes("bytes", { name: "a.txt" }))
      expect(error.cleanup?.deleted).toBe(true)
    }).pipe(Effect.provide(inMemory({}, noRetries))))

  it.effect("multipart: a failed completion is an UploadError (Completion) and deletes the new record", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "files.completemultipartupload", action: { _tag: "Status", status: 400 } })
      const error = yield* Effect.flip(Files.uploadBytes(new Uint8Array(30), { name: "parts.bin" }))
      expect(error._tag).toBe("UploadError")
      if (error._tag === "UploadError") {
        expect(error.reason).toBe("Completion")
        expect(error.status).toBe(400)
        expect(error.request?.path).toBe("/api/v1/projects/emulator/files/completemultipartupload")
      }
      expect(error.cleanup?.deleted).toBe(true)
      expect((yield* emulator.files).length).toBe(0)
    }).pipe(Effect.provide(inMemory({ minPartSize: 1 }, { singlePutThreshold: 10, partSize: 10 }))))
})

describe("Files from JavaScript callers", () => {
  const anything = (u: unknown): Files.UploadBytesOptions => u as Files.UploadBytesOptions

  it.effect("null, a number or a string as options fail with InvalidFileMetadataError, before any request", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      for (const options of [null, undefined, 42, "name.txt"]) {
        const error = yield* Effect.flip(Files.uploadBytes("x", anything(options)))
        expect(error._tag).toBe("InvalidFileMetadataError")
        if (error._tag === "InvalidFileMetadataError") expect(error.option).toBe("options")
      }
      const session = yield* Effect.flip(
        Files.withMultipartUploadSession(null as unknown as { name: string; parts: number }, () => Effect.void)
      )
      expect(session._tag).toBe("InvalidFileMetadataError")
      expect((yield* emulator.requests).length).toBe(0)
    }).pipe(Effect.provide(inMemory())))
})
