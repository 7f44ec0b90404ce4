/**
 * The Files API around an upload on a real loopback port (undici, live clock, millisecond schedules): the same
 * calls as FilesApi.test.ts, through the Effect API and the Promise client.
 */
import { Emulator } from "@effect-cdf/emulator"
import { CdfTest, Files } from "@effect-cdf/files"
import { makeFilesClient } from "@effect-cdf/files/NodeFilesClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted, Schedule, Stream } from "effect"
import { createHash } from "node:crypto"
import { onPort } from "./FilesFixtures.js"

const millis = {
  apiRetrySchedule: Schedule.exponential("5 millis").pipe(Schedule.intersect(Schedule.recurs(3))),
  transferRetrySchedule: Schedule.exponential("5 millis").pipe(Schedule.intersect(Schedule.recurs(3))),
  maxRetryDelay: "50 millis" as const
}

const routeCount = (route: string) =>
  Effect.flatMap(Emulator.Emulator, (emulator) =>
    Effect.map(emulator.requests, (requests) => requests.filter((r) => r.route === route).length))

/** A Promise client (undici) on the emulator of the test, disposed with the test's scope. */
const promiseClient = Effect.flatMap(Emulator.Emulator, (emulator) =>
  Effect.acquireRelease(
    Effect.sync(() =>
      makeFilesClient({ baseUrl: emulator.baseUrl, project: emulator.project, token: Redacted.value(emulator.token) })
    ),
    (client) => Effect.promise(() => client.dispose())
  ))

describe("Files API on a real port", () => {
  it.live("retrieveMany of 1200 files: 2 byids requests, order kept; delete of them: 2 delete requests", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const ids = yield* Effect.forEach(Array.from({ length: 1200 }, (_, i) => i), (i) =>
        Effect.map(emulator.createInstanceFile({ instanceId: { space: "sp", externalId: `n_${i}` } }), (f) => f.id))
      const asked = [...ids].reverse().map((id) => ({ id }))
      const records = yield* Files.retrieveMany(asked)
      expect(records.map((r) => r.id)).toEqual(asked.map((a) => a.id))
      expect(yield* routeCount("files.byids")).toBe(2)
      yield* Files.delete(asked)
      expect(yield* routeCount("files.delete")).toBe(2)
      expect((yield* emulator.files).length).toBe(0)
    }).pipe(Effect.provide(onPort({}, millis))), 60_000)

  it.live("the Promise client: retrieveMany and delete", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const client = yield* promiseClient
      const file = yield* Effect.promise(() => client.uploadBytes("p", { name: "p.txt", externalId: "promise-p" }))
      const found = yield* Effect.promise(() =>
        client.retrieveMany([{ externalId: "promise-p" }, { externalId: "promise-none" }], { ignoreUnknownIds: true }))
      expect(found.map((f) => f.id)).toEqual([file.id])
      yield* Effect.promise(() => client.delete([{ id: file.id }]))
      expect((yield* emulator.files).length).toBe(0)
      const rejected = yield* Effect.promise(() => client.retrieveMany([{ id: file.id }]).then(() => undefined, (e) => e))
      expect(rejected?._tag).toBe("CdfApiError")
    }).pipe(Effect.scoped, Effect.provide(onPort({}, millis))), 60_000)

  it.live("a download that is reset mid-body resumes with Range; the whole stream's sha256 is the stored one", () => {
    const recorder = CdfTest.makeRecorder()
    return Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const content = new Uint8Array(2 * 1024 * 1024).map((_, i) => (i * 31) % 256)
      const file = yield* Files.uploadBytes(content, { name: "big.bin" })
      const stored = (yield* emulator.files).find((f) => f.id === file.id)
      yield* emulator.addFault({ route: "storage.get", attempts: [1], action: { _tag: "ResetAfterBytes", bytes: 700_000 } })
      const hash = createHash("sha256")
      let total = 0
      yield* Files.download({ id: file.id }).pipe(Stream.runForEach((chunk) =>
        Effect.sync(() => {
          hash.update(chunk)
          total += chunk.byteLength
        })
      ))
      expect(total).toBe(content.byteLength)
      expect(hash.digest("hex")).toBe(stored?.sha256)
      const gets = (yield* emulator.requests).filter((r) => r.route === "storage.get")
      expect(gets.length).toBe(2)
      expect(gets[0]?.headers["range"]).toBeUndefined()
      expect(gets[1]?.headers["range"]).toMatch(/^bytes=\d+-$/)
      const resumedAt = Number(/^bytes=(\d+)-$/.exec(gets[1]?.headers["range"] ?? "")?.[1])
      expect(resumedAt).toBeGreaterThan(0)
      expect(resumedAt).toBeLessThanOrEqual(700_000)
      expect(gets[1]?.status).toBe(206)
      // spans and logs at every level: no download URL signature, no token
      expect(recorder.dump()).not.toMatch(/sig=|exp=|Bearer/)
      expect(recorder.dump()).not.toContain(Redacted.value(emulator.token))
    }).pipe(Effect.provide(onPort({}, millis)), recorder.provide)
  }, 60_000)

  it.live("list pages through 2100 records (3 requests); update and verify: true with a corrupted download", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* Effect.forEach(Array.from({ length: 2100 }, (_, i) => i), (i) =>
        emulator.createInstanceFile({ instanceId: { space: "sp", externalId: `l_${i}` } }))
      const listed = yield* Stream.runCollect(Files.list({}, { pageSize: 1000 }))
      expect(listed.length).toBe(2100)
      expect(yield* routeCount("files.list")).toBe(3)
      const file = yield* Files.uploadBytes("checked", { name: "c.txt", externalId: "c", verify: true })
      const [updated] = yield* Files.update([{ id: file.id, update: { metadata: { set: { k: "v" } }, mimeType: { set: "text/plain" } } }])
      expect(updated?.metadata).toEqual({ k: "v" })
      expect(updated?.mimeType).toBe("text/plain")
      yield* emulator.addFault({ route: "storage.get", action: { _tag: "CorruptDownload" } })
      const error = yield* Effect.flip(Files.uploadBytes("checked", { name: "bad.txt", externalId: "bad", verify: true }))
      expect(error._tag).toBe("DownloadError")
      if (error._tag === "DownloadError") expect(error.reason).toBe("Mismatch")
      expect(error.cleanup?.deleted).toBe(true)
      const left = yield* Files.retrieveMany([{ externalId: "bad" }, { externalId: "c" }], { ignoreUnknownIds: true })
      expect(left.map((f) => f.externalId)).toEqual(["c"])
    }).pipe(Effect.provide(onPort({}, millis))), 60_000)

  it.live("the Promise client: list, update, downloadUrl and download", () =>
    Effect.gen(function*() {
      const client = yield* promiseClient
      const file = yield* Effect.promise(() => client.uploadBytes("promise bytes", { name: "pb.txt", directory: "/p" }))
      const listed = yield* Effect.promise(() => client.list({ directoryPrefix: "/p" }))
      expect(listed.map((f) => f.id)).toEqual([file.id])
      const [updated] = yield* Effect.promise(() => client.update([{ id: file.id, update: { source: { set: "promise" } } }]))
      expect(updated?.source).toBe("promise")
      const url = yield* Effect.promise(() => client.downloadUrl({ id: file.id }))
      expect(String(url)).not.toContain("http")
      const bytes = yield* Effect.promise(() => client.download({ id: file.id }))
      expect(new TextDecoder().decode(bytes)).toBe("promise bytes")
    }).pipe(Effect.scoped, Effect.provide(onPort({}, millis))), 60_000)
})

