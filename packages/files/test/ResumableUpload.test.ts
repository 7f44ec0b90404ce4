/**
 * Resumable multipart uploads (`resume`), on a real loopback port (undici, live clock): an upload stopped after k
 * acknowledged parts is continued from its last checkpoint by a NEW client layer, as after a process restart; the
 * emulator's inspection shows which parts were PUT and how often. Expired upload URLs (the emulator's
 * `uploadUrlLifetime`) and a checkpoint that no longer fits the content restart the file cleanly under the same
 * external id: one record, the exact bytes.
 */
import { Emulator } from "@effect-cdf/emulator"
import { Files, MultipartCheckpoint } from "@effect-cdf/files"
import * as NodeFiles from "@effect-cdf/files/NodeFiles"
import * as NodeTransport from "@effect-cdf/files/NodeTransport"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Option, Ref, Schedule } from "effect"
import { createHash } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { clientOver } from "./FilesFixtures.js"

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex")
const partSize = 64 * 1024
const bytesOf = (size: number, seed: number) => new Uint8Array(size).map((_, i) => (i * seed + (i >> 11)) % 256)

/** A fresh Files stack (its own CdfClient and undici agent) over the emulator of the test: a "new process". */
const freshClient = Files.layer.pipe(
  Layer.provideMerge(clientOver({
    partSize,
    singlePutThreshold: partSize,
    partConcurrency: 1,
    apiRetrySchedule: Schedule.exponential("5 millis").pipe(Schedule.intersect(Schedule.recurs(3))),
    transferRetrySchedule: Schedule.exponential("5 millis").pipe(Schedule.intersect(Schedule.recurs(3))),
    maxRetryDelay: "50 millis"
  })),
  Layer.provide(NodeTransport.layer)
)

const server = (options: Emulator.ServerOptions = {}) =>
  Effect.provide(Layer.orDie(Emulator.layerServer({ minPartSize: 1024, ...options })))

/**
 * Run 1 in its own client: uploads with `resume`, stores every checkpoint, and is stopped (interrupted, as by a
 * kill) once `k` parts are acknowledged: the k-th checkpoint never returns, so no later part starts.
 */
const interruptedAfter = (content: Uint8Array | string, externalId: string, k: number) =>
  Effect.gen(function*() {
    const saved = yield* Ref.make<ReadonlyArray<string>>([])
    const reached = yield* Deferred.make<void>()
    const upload = (options: Files.UploadBytesOptions) =>
      typeof content === "string" ? NodeFiles.uploadFile(content, options) : Files.uploadBytes(content, options)
    const fiber = yield* upload({
      name: `${externalId}.bin`,
      externalId,
      resume: {
        onCheckpoint: (checkpoint) =>
          Effect.zipRight(
            Ref.update(saved, (all) => [...all, MultipartCheckpoint.toJson(checkpoint)]),
            checkpoint.acknowledged.length === k ? Effect.zipRight(Deferred.succeed(reached, void 0), Effect.never) : Effect.void
          )
      }
    }).pipe(Effect.fork)
    yield* Deferred.await(reached)
    yield* Fiber.interrupt(fiber)
    return yield* Ref.get(saved)
  }).pipe(Effect.provide(freshClient), Effect.provide(NodeFileSystem.layer))

/** Run 2 in a new client: continues from the stored JSON; gives the record and the checkpoints it handed out. */
const resumedFrom = (content: Uint8Array | string, externalId: string, json: string) =>
  Effect.gen(function*() {
    const checkpoint = yield* MultipartCheckpoint.fromJson(json)
    const later = yield* Ref.make<ReadonlyArray<MultipartCheckpoint.MultipartCheckpoint>>([])
    const options: Files.UploadBytesOptions = {
      name: `${externalId}.bin`,
      externalId,
      resume: { checkpoint, onCheckpoint: (c) => Ref.update(later, (all) => [...all, c]) }
    }
    const file = yield* typeof content === "string"
      ? NodeFiles.uploadFile(content, options)
      : Files.uploadBytes(content, options)
    return { file, checkpoint, later: yield* Ref.get(later) }
  }).pipe(Effect.provide(freshClient), Effect.provide(NodeFileSystem.layer))

const storedAs = (externalId: string) =>
  Effect.map(Effect.flatMap(Emulator.Emulator, (emulator) => emulator.files), (files) =>
    files.filter((file) => file.externalId === externalId))

const putsPerPart = (puts: ReadonlyArray<Emulator.PutRecord>, parts: number) =>
  Array.from({ length: parts }, (_, part) => puts.filter((put) => put.part === part && put.status === 201).length)

describe("resumable multipart uploads across client restarts (real port)", () => {
  it.live("stopped after 4 of 10 parts, resumed by a new client: parts 0-3 PUT once, the rest sent, one record", () =>
    Effect.gen(function*() {
      const content = bytesOf(10 * partSize - 1000, 7)
      const saved = yield* interruptedAfter(content, "resume/a", 4)
      // the session's checkpoint, then one per acknowledged part
      expect(saved.length).toBe(5)
      const last = yield* MultipartCheckpoint.fromJson(saved[4]!)
      expect(last).toMatchObject({ externalId: "resume/a", parts: 10, partSize, size: content.byteLength })
      expect(last.acknowledged).toEqual([0, 1, 2, 3])
      // the interrupted call kept the record: its checkpoint is out
      expect((yield* storedAs("resume/a")).length).toBe(1)

      const { checkpoint, file, later } = yield* resumedFrom(content, "resume/a", saved[4]!)
      expect(file.id).toBe(checkpoint.fileId)
      expect(later.map((c) => c.acknowledged.length)).toEqual([5, 6, 7, 8, 9, 10])
      expect(later.every((c) => c.uploadId === checkpoint.uploadId)).toBe(true)
      const [stored] = yield* storedAs("resume/a")
      expect(stored?.sha256).toBe(sha256(content))
      expect(stored?.uploaded).toBe(true)
      expect(putsPerPart(stored?.puts ?? [], 10)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1])
      expect((yield* storedAs("resume/a")).length).toBe(1)
      const sessions = (yield* (yield* Emulator.Emulator).requests).filter((r) => r.route === "files.initmultipartupload")
      expect(sessions.length).toBe(1)
    }).pipe(server()), 60_000)

  it.live("NodeFiles.uploadFile: a file on disk stopped after 3 of 5 parts, resumed: no acknowledged part re-sent", () =>
    Effect.gen(function*() {
      const content = bytesOf(5 * partSize - 3, 13)
      const dir = mkdtempSync(join(tmpdir(), "resume-"))
      const path = join(dir, "survey.las")
      writeFileSync(path, content)
      const saved = yield* interruptedAfter(path, "resume/file", 3)
      const { later } = yield* resumedFrom(path, "resume/file", saved[saved.length - 1]!)
      expect(later.map((c) => c.acknowledged.length)).toEqual([4, 5])
      const [stored] = yield* storedAs("resume/file")
      expect(stored?.sha256).toBe(sha256(content))
      expect(putsPerPart(stored?.puts ?? [], 5)).toEqual([1, 1, 1, 1, 1])
      rmSync(dir, { recursive: true, force: true })
    }).pipe(server()), 60_000)

  it.live("stopped after its last part, before completion: the resume only completes (no PUT)", () =>
    Effect.gen(function*() {
      const content = bytesOf(3 * partSize, 17)
      const saved = yield* interruptedAfter(content, "resume/e", 3)
      const { later } = yield* resumedFrom(content, "resume/e", saved[saved.length - 1]!)
      expect(later).toEqual([])
      const [stored] = yield* storedAs("resume/e")
      expect(stored?.sha256).toBe(sha256(content))
      expect(putsPerPart(stored?.puts ?? [], 3)).toEqual([1, 1, 1])
    }).pipe(server()), 60_000)

  it.live("URLs expired between the runs: storage answers 403, the file restarts with a new session, one record", () =>
    Effect.gen(function*() {
      const content = bytesOf(6 * partSize + 17, 11)
      const saved = yield* interruptedAfter(content, "resume/b", 2)
      yield* Effect.sleep("1600 millis")
      const { checkpoint, file, later } = yield* resumedFrom(content, "resume/b", saved[saved.length - 1]!)
      // the checkpoint's own record, overwritten by a new session (never a second record, never a 409)
      expect(file.id).toBe(checkpoint.fileId)
      expect(later[0]?.uploadId).not.toBe(checkpoint.uploadId)
      expect(later[0]?.acknowledged).toEqual([])
      expect(later[later.length - 1]?.acknowledged).toEqual([0, 1, 2, 3, 4, 5, 6])
      const stored = yield* storedAs("resume/b")
      expect(stored.length).toBe(1)
      expect(stored[0]?.sha256).toBe(sha256(content))
      expect(stored[0]?.uploaded).toBe(true)
      // the refused PUT: storage's 403 for the first part tried with an expired URL
      expect(stored[0]?.puts.filter((put) => put.status === 403).map((put) => put.part)).toEqual([2])
      const sessions = (yield* (yield* Emulator.Emulator).requests).filter((r) => r.route === "files.initmultipartupload")
      expect(sessions.map((r) => r.status)).toEqual([201, 201])
    }).pipe(server({ uploadUrlLifetime: "1500 millis" })), 60_000)

  it.live("a checkpoint of other content (another size) starts again over its own record: one record, exact bytes", () =>
    Effect.gen(function*() {
      const before = bytesOf(5 * partSize, 3)
      const saved = yield* interruptedAfter(before, "resume/c", 1)
      const after = bytesOf(7 * partSize + 5, 5)
      const { checkpoint, file, later } = yield* resumedFrom(after, "resume/c", saved[saved.length - 1]!)
      expect(file.id).toBe(checkpoint.fileId)
      expect(later[0]).toMatchObject({ parts: 8, size: after.byteLength, acknowledged: [] })
      const stored = yield* storedAs("resume/c")
      expect(stored.length).toBe(1)
      expect(stored[0]?.sha256).toBe(sha256(after))
    }).pipe(server()), 60_000)

  it.live("another writer's record under the external id is not overwritten without overwrite: true (409)", () =>
    Effect.gen(function*() {
      const content = bytesOf(3 * partSize, 9)
      const saved = yield* interruptedAfter(content, "resume/d", 1)
      // the checkpoint's record is deleted and someone else creates a file under the same external id
      const checkpoint = yield* MultipartCheckpoint.fromJson(saved[saved.length - 1]!)
      yield* Effect.provide(Files.delete([{ id: checkpoint.fileId }]), freshClient)
      yield* Effect.provide(Files.uploadBytes("theirs", { name: "theirs.txt", externalId: "resume/d" }), freshClient)
      const error = yield* Effect.flip(resumedFrom(content, "resume/d", saved[saved.length - 1]!))
      expect(error._tag).toBe("CdfApiError")
      const stored = yield* storedAs("resume/d")
      expect(stored.map((f) => f.name)).toEqual(["theirs.txt"])
    }).pipe(server()), 60_000)
})

describe("resume: the option and the checkpoint", () => {
  it.live("needs an externalId and a function; a malformed checkpoint is refused before any request", () =>
    Effect.gen(function*() {
      const fails = (options: unknown) =>
        Effect.flip(Files.uploadBytes(bytesOf(3 * partSize, 1), options as Files.UploadBytesOptions))
      const noId = yield* fails({ name: "x", resume: { onCheckpoint: () => Effect.void } })
      expect(noId).toMatchObject({ _tag: "InvalidFileMetadataError", option: "resume" })
      const noFn = yield* fails({ name: "x", externalId: "x", resume: {} })
      expect(noFn).toMatchObject({ _tag: "InvalidFileMetadataError", option: "resume.onCheckpoint" })
      const bad = yield* fails({
        name: "x",
        externalId: "x",
        resume: { checkpoint: { version: 1, parts: 2 }, onCheckpoint: () => Effect.void }
      })
      expect(bad).toMatchObject({ _tag: "InvalidFileMetadataError", option: "resume.checkpoint" })
      expect((yield* (yield* Emulator.Emulator).requests).length).toBe(0)
    }).pipe(Effect.provide(freshClient), server()))

  it.effect("JSON round trip; the schema refuses a plan that does not fit or acknowledgements out of order", () =>
    Effect.gen(function*() {
      const checkpoint: MultipartCheckpoint.MultipartCheckpoint = {
        version: 1,
        fileId: 12,
        externalId: "a/b",
        uploadId: "u-1",
        size: 10,
        partSize: 4,
        parts: 3,
        uploadUrls: ["http://s/0?sig=a", "http://s/1?sig=b", "http://s/2?sig=c"],
        acknowledged: [0, 2]
      }
      expect(yield* MultipartCheckpoint.fromJson(MultipartCheckpoint.toJson(checkpoint))).toEqual(checkpoint)
      const refused = (change: Partial<MultipartCheckpoint.MultipartCheckpoint>) =>
        Effect.map(Effect.option(MultipartCheckpoint.decode({ ...checkpoint, ...change })), Option.isNone)
      expect(yield* refused({ parts: 4, uploadUrls: [...checkpoint.uploadUrls, "http://s/3"] })).toBe(true)
      expect(yield* refused({ acknowledged: [2, 0] })).toBe(true)
      expect(yield* refused({ acknowledged: [3] })).toBe(true)
      expect(yield* refused({ uploadUrls: checkpoint.uploadUrls.slice(1) })).toBe(true)
      expect(yield* refused({})).toBe(false)
    }))
})
