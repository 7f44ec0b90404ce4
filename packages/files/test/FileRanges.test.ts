/**
 * Files sent by range (`uploadBody.sendRange`): through `NodeTransport`, a file over 1 MiB in one PUT, and every part
 * of a file, goes to undici as a web `ReadableStream` read from the file when undici asks for the next chunk. Over a
 * real loopback port, against the emulator: the bytes stored, the headers sent, retries that read the file again,
 * a file that changed or went away, and the file closed after an interruption.
 */
import { Emulator } from "@effect-cdf/emulator"
import { Files, type Progress } from "@effect-cdf/files"
import * as NodeFiles from "@effect-cdf/files/NodeFiles"
import * as NodeTransport from "@effect-cdf/files/NodeTransport"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Schedule } from "effect"
import { mkdtempSync, readdirSync, readlinkSync, rmSync, truncateSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { clientOver } from "./FilesFixtures.js"
import { bytesOf, sha256, storagePuts, stored } from "./TransferFixtures.js"

const MiB = 1024 * 1024

/** Files over `NodeTransport`, with quick retries, against an emulator on a real port with `faults`. */
const onPort = (config: Parameters<typeof clientOver>[0] = {}, faults: ReadonlyArray<Emulator.Fault> = []) =>
  Effect.provide(
    Files.layer.pipe(
      Layer.provideMerge(clientOver({
        transferRetrySchedule: Schedule.spaced("5 millis").pipe(Schedule.intersect(Schedule.recurs(3))),
        ...config
      })),
      Layer.provideMerge(NodeTransport.layer),
      Layer.provideMerge(Layer.orDie(Emulator.layerServer({ minPartSize: 1024, faults })))
    )
  )

/** A file of `bytes` in a new temporary directory, removed with the scope. */
const tempFile = (bytes: Uint8Array) =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "file-ranges-test-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    ),
    (dir) => {
      const path = join(dir, "data.bin")
      writeFileSync(path, bytes)
      return path
    }
  )

/** How many of this process's file descriptors are open on `path` (Linux: /proc/self/fd). */
const openDescriptors = (path: string) =>
  readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path
    } catch {
      return false
    }
  }).length

describe("files sent by range through NodeTransport", () => {
  it.scopedLive("a file over 1 MiB in one PUT: the exact bytes, with Content-Length, progress up to the end", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(3 * MiB + 17, 3)
      const path = yield* tempFile(bytes)
      const seen: Array<number> = []
      const file = yield* NodeFiles.uploadFile(path, {
        name: "range.bin",
        onProgress: (p: Progress.Progress) => Effect.sync(() => void seen.push(p.sent))
      })
      const record = yield* stored(file.id)
      expect(record.sha256).toBe(sha256(bytes))
      expect(record.puts.map((p) => [p.part, p.status, p.bytes, p.contentLength, p.chunked])).toEqual([
        [undefined, 201, bytes.byteLength, bytes.byteLength, false]
      ])
      expect(seen.at(-1)).toBe(bytes.byteLength)
      expect(seen.every((sent, i) => i === 0 || sent >= seen[i - 1]!)).toBe(true)
      expect(openDescriptors(path)).toBe(0)
    }).pipe(onPort()))

  it.scopedLive("parts are ranges of the file; a refused part is read from the file again and resent", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(5 * MiB + 123, 5)
      const path = yield* tempFile(bytes)
      const file = yield* NodeFiles.uploadFile(path, { name: "parts.bin" })
      const record = yield* stored(file.id)
      expect(record.sha256).toBe(sha256(bytes))
      const puts = record.puts
      // six parts, the second PUT refused once and sent again whole
      expect(puts.length).toBe(7)
      expect(puts.filter((p) => p.status === 503).length).toBe(1)
      const accepted = puts.filter((p) => p.status === 201)
      expect(accepted.map((p) => p.part).sort()).toEqual([0, 1, 2, 3, 4, 5])
      expect(accepted.every((p) => !p.chunked && p.bytes === p.contentLength)).toBe(true)
      expect(openDescriptors(path)).toBe(0)
    }).pipe(onPort(
      { partSize: MiB, singlePutThreshold: MiB, partConcurrency: 2 },
      [{ route: "storage.put", attempts: [2], action: { _tag: "Status", status: 503 } }]
    )))

  it.scopedLive("a Blob is sent by range too: one PUT over 1 MiB, and parts, the exact bytes", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(3 * MiB + 1, 15)
      const single = yield* Files.uploadBytes(new Blob([bytes]), { name: "blob.bin" })
      const record = yield* stored(single.id)
      expect([record.sha256, record.puts.map((p) => [p.bytes, p.chunked])]).toEqual([
        sha256(bytes),
        [[bytes.byteLength, false]]
      ])
      const parted = yield* Files.uploadBytes(new Blob([bytes]), { name: "blob-parts.bin", multipart: true })
      expect((yield* stored(parted.id)).sha256).toBe(sha256(bytes))
    }).pipe(onPort({ partSize: MiB })))

  it.scopedLive("checksum: the sha256 of a range is hashed as it is read, and is the file's", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(2 * MiB + 5, 7)
      const path = yield* tempFile(bytes)
      const content = yield* NodeFiles.content(path)
      const result = yield* Files.upload(content, { name: "sum.bin", checksum: "sha256" })
      expect([result.sha256, (yield* stored(result.file.id)).sha256]).toEqual([sha256(bytes), sha256(bytes)])
    }).pipe(onPort()))

  it.scopedLive("a file that shrank after it was measured: UploadError Content, sent once, no record left", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const path = yield* tempFile(bytesOf(3 * MiB, 9))
      const content = yield* NodeFiles.contentOfSize(path, 3 * MiB)
      truncateSync(path, 2 * MiB)
      const error = yield* Effect.flip(Files.uploadBytes(content, { name: "shrank.bin" }))
      expect(error._tag).toBe("UploadError")
      expect(error._tag === "UploadError" && [error.reason, error.message.includes("ended")]).toEqual(["Content", true])
      expect((yield* storagePuts).length).toBe(1)
      expect((yield* emulator.files).filter((f) => f.name === "shrank.bin")).toEqual([])
      expect(openDescriptors(path)).toBe(0)
    }).pipe(onPort()))

  it.scopedLive("a file removed after it was measured: UploadError Content with its code, before any byte is sent", () =>
    Effect.gen(function*() {
      const path = yield* tempFile(bytesOf(3 * MiB, 11))
      const content = yield* NodeFiles.contentOfSize(path, 3 * MiB)
      rmSync(path)
      const error = yield* Effect.flip(Files.uploadBytes(content, { name: "gone.bin" }))
      expect(error._tag === "UploadError" && [error.reason, error.code]).toEqual(["Content", "ENOENT"])
      expect((yield* storagePuts).length).toBe(0)
    }).pipe(onPort()))

  it.scopedLive("interrupted while a range is being sent: the PUT is aborted and the file is closed", () =>
    Effect.gen(function*() {
      const path = yield* tempFile(bytesOf(4 * MiB, 13))
      const moving = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(NodeFiles.uploadFile(path, {
        name: "interrupted.bin",
        onProgress: (p) => p.sent > 0 ? Deferred.succeed(moving, undefined) : Effect.void
      }))
      yield* Deferred.await(moving).pipe(Effect.timeout("10 seconds"))
      expect(openDescriptors(path)).toBe(1)
      yield* Fiber.interrupt(fiber)
      expect(openDescriptors(path)).toBe(0)
      const emulator = yield* Emulator.Emulator
      expect((yield* emulator.files).filter((f) => f.name === "interrupted.bin")).toEqual([])
    }).pipe(onPort(
      {},
      [{ route: "storage.put", action: { _tag: "Throttle", bytesPerSecond: 512 * 1024 } }]
    )))
})
