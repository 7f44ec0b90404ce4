import { describe, expect, it } from "@effect/vitest"
import { Emulator } from "@effect-cdf/emulator"
import { Content, Files } from "@effect-cdf/files"
import { Effect, Exit, Fiber, Schedule, Stream, TestClock } from "effect"
import { inMemory } from "./FilesFixtures.js"
import { bytesOf, sha256 } from "./TransferFixtures.js"

const small = {
  partSize: 4096,
  singlePutThreshold: 8192,
  transferRetrySchedule: Schedule.spaced("10 millis").pipe(Schedule.intersect(Schedule.recurs(3)))
}
const env = (options: Emulator.Options = {}) => Effect.provide(inMemory({ minPartSize: 1024, ...options }, small))

const stored = (id: number) =>
  Effect.flatMap(Emulator.Emulator, (e) => Effect.map(e.files, (files) => files.find((f) => f.id === id)))
const routes = Effect.flatMap(Emulator.Emulator, (e) => Effect.map(e.requests, (rs) => rs.map((r) => r.route)))

describe("Files.upload (checksum)", () => {
  it.effect("returns the bytes sent and, when asked, their sha256, single and multipart", () =>
    Effect.gen(function*() {
      for (const size of [100, 4096 * 3 + 1]) {
        const bytes = bytesOf(size)
        const result = yield* Files.upload(bytes, { name: "c.bin", checksum: "sha256" })
        expect([result.bytes, result.sha256]).toEqual([size, sha256(bytes)])
        expect((yield* stored(result.file.id))?.sha256).toBe(result.sha256)
      }
      const off = yield* Files.upload("abc", { name: "c.bin" })
      expect([off.bytes, off.sha256]).toEqual([3, undefined])
    }).pipe(env()))
})

describe("Files.uploadContentBytes", () => {
  it.effect("uploads to an existing file by external id: uploadlink + PUT, or multiuploadlink + parts + completion", () =>
    Effect.gen(function*() {
      const file = yield* Files.withMultipartUploadSession(
        { name: "empty.bin", externalId: "target", parts: 1 },
        (session) => session.uploadPart(0, "x")
      ).pipe(Effect.zipRight(Files.retrieve({ externalId: "target" })))
      const small = bytesOf(5000)
      const updated = yield* Files.uploadContentBytes(small, { externalId: "target" })
      expect(updated.id).toBe(file.id)
      expect((yield* stored(file.id))?.sha256).toBe(sha256(small))
      const large = bytesOf(4096 * 4 + 3)
      yield* Files.uploadContentBytes(Content.make(new Blob([large])), { externalId: "target" })
      expect((yield* stored(file.id))?.sha256).toBe(sha256(large))
      const seen = yield* routes
      expect(seen.filter((r) => r === "files.uploadlink" || r === "files.multiuploadlink")).toEqual([
        "files.uploadlink",
        "files.multiuploadlink"
      ])
      expect(seen.filter((r) => r === "files.create")).toEqual([])
    }).pipe(env()))

  it.effect("uploads to a Data Modeling file by instanceId: single PUT and multipart, the record found by instanceId", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const instanceId = { space: "my_space", externalId: "report_2026" }
      const target = yield* emulator.createInstanceFile({ instanceId, name: "report.pdf" })
      const small = bytesOf(3000)
      const updated = yield* Files.uploadContentBytes(small, { instanceId })
      expect(updated.id).toBe(target.id)
      expect(updated.instanceId).toEqual(instanceId)
      expect((yield* stored(target.id))?.sha256).toBe(sha256(small))
      const large = bytesOf(4096 * 3 + 17)
      yield* Files.uploadContentBytes(large, { instanceId })
      expect((yield* stored(target.id))?.sha256).toBe(sha256(large))
      const parts = [bytesOf(2048), bytesOf(700)]
      yield* Files.withMultipartUploadContentSession({ instanceId }, { parts: 2 }, (session) =>
        Effect.all([session.uploadPart(1, parts[1]), session.uploadPart(0, parts[0])], { concurrency: 2 }))
      const joined = new Uint8Array(2748)
      joined.set(parts[0], 0)
      joined.set(parts[1], 2048)
      const after = yield* stored(target.id)
      expect(after?.sha256).toBe(sha256(joined))
      expect((yield* emulator.files).length).toBe(1)
      const seen = yield* routes
      expect(seen.filter((r) => r.startsWith("files.") && r !== "files.byids")).toEqual([
        "files.uploadlink",
        "files.multiuploadlink",
        "files.completemultipartupload",
        "files.multiuploadlink",
        "files.completemultipartupload"
      ])
    }).pipe(env()))

  it.effect("an invalid identifier fails before any request", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Files.uploadContentBytes("x", { externalId: "e".repeat(256) }))
      expect(error._tag).toBe("InvalidFileMetadataError")
      expect(yield* routes).toEqual([])
    }).pipe(env()))
})

describe("Files.withMultipartUploadSession", () => {
  it.effect("parts in any order and concurrently; completion after the body; the result of the body is returned", () =>
    Effect.gen(function*() {
      const parts = [bytesOf(2000, 1), bytesOf(2000, 2), bytesOf(700, 3)]
      const result = yield* Files.withMultipartUploadSession({ name: "s.bin", parts: 3 }, (session) =>
        Effect.forEach([2, 0, 1], (i) => session.uploadPart(i, parts[i]!), { concurrency: 3 }).pipe(
          Effect.as(session.file.id)
        ))
      const record = yield* stored(result)
      expect([record?.uploaded, record?.sha256]).toEqual([true, sha256(Buffer.concat(parts))])
      const seen = yield* routes
      expect(seen.indexOf("files.completemultipartupload")).toBe(seen.length - 1)
    }).pipe(env()))

  it.effect("a part sent twice or out of range is a typed error; a missing part fails before completion and deletes the record", () =>
    Effect.gen(function*() {
      const twice = yield* Effect.flip(Files.withMultipartUploadSession({ name: "t.bin", parts: 2 }, (session) =>
        session.uploadPart(0, bytesOf(2000)).pipe(Effect.zipRight(session.uploadPart(0, bytesOf(2000))))))
      expect(twice._tag === "UploadError" ? [twice.reason, twice.part, twice.cleanup?.deleted] : twice._tag).toEqual([
        "Incomplete",
        0,
        true
      ])
      const range = yield* Effect.flip(Files.withMultipartUploadSession({ name: "t.bin", parts: 2 }, (session) =>
        session.uploadPart(2, "x")))
      expect(range._tag === "UploadError" ? [range.reason, range.part] : range._tag).toEqual(["Incomplete", 2])
      const missing = yield* Effect.flip(Files.withMultipartUploadSession({ name: "t.bin", parts: 3 }, (session) =>
        session.uploadPart(1, bytesOf(2000))))
      expect(missing._tag === "UploadError" ? [missing.reason, missing.cleanup?.deleted] : missing._tag).toEqual([
        "Incomplete",
        true
      ])
      expect(missing.message).toContain("0, 2")
      const emulator = yield* Emulator.Emulator
      expect(yield* emulator.files).toEqual([])
      expect((yield* routes).filter((r) => r === "files.completemultipartupload")).toEqual([])
    }).pipe(env()))

  it.effect("a failing body is not completed: its error comes back (with the cleanup noted only on CdfErrors)", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Files.withMultipartUploadSession({ name: "f.bin", parts: 1 }, (session) =>
        session.uploadPart(0, "x").pipe(Effect.zipRight(Effect.fail("mine" as const)))))
      expect(error).toBe("mine")
      const emulator = yield* Emulator.Emulator
      expect(yield* emulator.files).toEqual([])
      expect((yield* routes).filter((r) => r === "files.completemultipartupload")).toEqual([])
    }).pipe(env()))

  it.effect("interrupting the session aborts its parts and deletes the record", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Delay", millis: 10_000 } })
      const fiber = yield* Effect.fork(Files.withMultipartUploadSession({ name: "i.bin", parts: 2 }, (session) =>
        Effect.forEach([0, 1], (i) => session.uploadPart(i, bytesOf(2000)), { concurrency: 2 })))
      yield* TestClock.adjust("1 second")
      yield* Fiber.interrupt(fiber)
      const count = (yield* emulator.requests).length
      yield* TestClock.adjust("1 minute")
      expect((yield* emulator.requests).length).toBe(count)
      expect(yield* emulator.files).toEqual([])
      expect(Exit.isInterrupted(yield* Fiber.await(fiber))).toBe(true)
    }).pipe(env()))

  it.effect("interrupted while initmultipartupload is in flight: waits for its answer, then deletes the record it made", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "files.initmultipartupload", action: { _tag: "Delay", millis: 3000 } })
      const fiber = yield* Effect.fork(Files.withMultipartUploadSession({ name: "d.bin", parts: 1 }, (session) =>
        session.uploadPart(0, "x")))
      yield* TestClock.adjust("1 second")
      const interrupting = yield* Effect.fork(Fiber.interrupt(fiber))
      yield* TestClock.adjust("5 seconds")
      yield* Fiber.join(interrupting)
      const seen = yield* routes
      expect(seen.filter((r) => r === "files.initmultipartupload" || r === "files.delete")).toEqual([
        "files.initmultipartupload",
        "files.delete"
      ])
      expect(seen.filter((r) => r === "storage.put")).toEqual([])
      expect(yield* emulator.files).toEqual([])
    }).pipe(env()))

  it.effect("a content session uploads new content to an existing file and deletes nothing on failure", () =>
    Effect.gen(function*() {
      const created = yield* Files.uploadBytes("old", { name: "c.bin", externalId: "c" })
      const bytes = bytesOf(1500)
      yield* Files.withMultipartUploadContentSession({ externalId: "c" }, { parts: 1 }, (session) =>
        session.uploadPart(0, Stream.make(bytes)))
      expect((yield* stored(created.id))?.sha256).toBe(sha256(bytes))
      const error = yield* Effect.flip(
        Files.withMultipartUploadContentSession({ externalId: "c" }, { parts: 2 }, () => Effect.void)
      )
      expect(error._tag === "UploadError" ? error.reason : error._tag).toBe("Incomplete")
      expect((yield* stored(created.id))?.id).toBe(created.id)
    }).pipe(env()))
})

describe("Files.waitUntilAcknowledged", () => {
  it.effect("polls byids on the schedule until uploaded is true", () =>
    Effect.gen(function*() {
      const file = yield* Files.uploadBytes("x", { name: "w.bin" })
      expect(file.uploaded).toBe(false)
      const fiber = yield* Effect.fork(Files.waitUntilAcknowledged({ id: file.id }, {
        schedule: Schedule.spaced("1 second").pipe(Schedule.intersect(Schedule.recurs(10)))
      }))
      yield* TestClock.adjust("5 seconds")
      const acknowledged = yield* Fiber.join(fiber)
      expect(acknowledged.uploaded).toBe(true)
      const polls = (yield* routes).filter((r) => r === "files.byids").length
      expect(polls).toBeGreaterThanOrEqual(3) // uploaded turns true 3 s after the bytes arrived
      expect(polls).toBeLessThanOrEqual(5)
    }).pipe(env({ uploadedDelay: "3 seconds" })))

  it.effect("gives up with a typed error when the schedule ends first", () =>
    Effect.gen(function*() {
      const file = yield* Files.uploadBytes("x", { name: "w.bin" })
      const fiber = yield* Effect.fork(Files.waitUntilAcknowledged({ id: file.id }, {
        schedule: Schedule.spaced("1 second").pipe(Schedule.intersect(Schedule.recurs(2)))
      }))
      yield* TestClock.adjust("10 seconds")
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error._tag === "CdfTimeoutError" ? [error.kind, error.timeoutMillis] : error._tag).toEqual([
        "deadline",
        2000
      ])
      expect((yield* routes).filter((r) => r === "files.byids").length).toBe(3)
    }).pipe(env({ uploadedDelay: "1 hour" })))
})
