import * as FileSystem from "@effect/platform/FileSystem"
import { describe, expect, it } from "@effect/vitest"
import { Emulator } from "@effect-cdf/emulator"
import { Content, Files } from "@effect-cdf/files"
import * as NodeFiles from "@effect-cdf/files/NodeFiles"
import { Deferred, Effect, Fiber, Layer, Ref, Schedule, Stream } from "effect"
import { readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { inMemory } from "./FilesFixtures.js"
import { Sha256Factory } from "../src/internal/sha256.js"
import { ContentReadError } from "../src/internal/content.js"
import { Spooler } from "../src/internal/spool.js"
import { spoolThreshold } from "../src/internal/transfer.js"
import { bytesOf, sha256, storagePuts } from "./TransferFixtures.js"

const small = {
  partSize: 4096,
  singlePutThreshold: 8192,
  transferRetrySchedule: Schedule.spaced("10 millis").pipe(Schedule.intersect(Schedule.recurs(3)))
}

const env = (options: Emulator.Options = {}) =>
  Effect.provide(Layer.merge(inMemory({ minPartSize: 1024, ...options }, small), NodeFiles.layer))

/** Writes `bytes` to a new temporary file (removed with the scope). */
const tempFile = (bytes: Uint8Array) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "nodefiles-test-" })
    const path = `${dir}/data.bin`
    yield* fs.writeFile(path, bytes)
    return path
  }).pipe(Effect.orDie)

const spools = () => readdirSync(tmpdir()).filter((name) => name.startsWith("effect-cdf-spool-")).length

const stored = (id: number) =>
  Effect.flatMap(Emulator.Emulator, (e) => Effect.map(e.files, (files) => files.find((f) => f.id === id)))

describe("NodeFiles", () => {
  it.scoped("content: a file is replayable content of known size; a missing file is UploadError Content", () =>
    Effect.gen(function*() {
      const path = yield* tempFile(bytesOf(1234))
      const content = yield* NodeFiles.content(path)
      expect([content.size, content.replayable]).toEqual([1234, true])
      const error = yield* Effect.flip(NodeFiles.content(`${path}.missing`))
      expect([error._tag, error.reason]).toEqual(["UploadError", "Content"])
    }).pipe(Effect.provide(NodeFiles.layer)))

  it.scoped("contentOfSize: a file of a size measured before, uploaded without another stat; a size that no longer holds is UploadError Content", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(3000, 3)
      const path = yield* tempFile(bytes)
      const file = yield* Effect.flatMap(NodeFiles.contentOfSize(path, 3000), (c) => Files.uploadBytes(c, { name: "a.bin" }))
      expect((yield* stored(file.id))?.sha256).toBe(sha256(bytes))
      const stale = yield* Effect.flip(
        Effect.flatMap(NodeFiles.contentOfSize(path, 2999), (c) => Files.uploadBytes(c, { name: "b.bin" }))
      )
      expect(stale._tag === "UploadError" ? stale.reason : stale._tag).toBe("Content")
    }).pipe(env()))

  it.scoped("uploadFile: small file in one PUT, large file in parts, exact bytes", () =>
    Effect.gen(function*() {
      for (const size of [5000, 4096 * 5 + 17]) {
        const bytes = bytesOf(size, size)
        const path = yield* tempFile(bytes)
        const file = yield* NodeFiles.uploadFile(path, { name: "data.bin" })
        const record = yield* stored(file.id)
        expect([record?.sha256, record?.size]).toEqual([sha256(bytes), size])
        expect(record?.puts.length).toBe(size > 8192 ? 6 : 1)
        expect(record?.puts.every((p) => p.contentLength !== undefined && !p.chunked)).toBe(true)
      }
    }).pipe(env()))

  // live clock: file reads are real I/O, the retry schedule is 10 ms
  it.scopedLive("a small file in one PUT is read whole on each attempt: a refused PUT is resent from a new read", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", attempts: [1], action: { _tag: "Status", status: 503 } })
      const path = yield* tempFile(bytesOf(5000, 1))
      const content = yield* NodeFiles.content(path)
      // same size, other bytes: what the retry sends is what the file holds then
      const changed = bytesOf(5000, 2)
      yield* fs.writeFile(path, changed).pipe(Effect.orDie)
      const file = yield* Files.uploadBytes(content, { name: "data.bin", checksum: "sha256" })
      const record = yield* stored(file.id)
      expect([record?.sha256, record?.size]).toEqual([sha256(changed), 5000])
      expect((yield* storagePuts).map((p) => p.status)).toEqual([503, 201])
      // a file that grew after it was measured is no long upload: UploadError Content, naming both sizes
      yield* fs.writeFile(path, bytesOf(6000)).pipe(Effect.orDie)
      const grown = yield* Effect.flip(Files.uploadBytes(content, { name: "grown.bin" }))
      expect(grown._tag === "UploadError" ? [grown.reason, grown.message] : grown._tag).toEqual([
        "Content",
        "reading the content failed: it is 6000 bytes now, 5000 when the upload was planned" +
        ` (file ${file.id + 1} created by this call was deleted)`
      ])
    }).pipe(env()))

  it.scopedLive("uploadFile: a failing part is re-read from the file and resent", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", attempts: [2], action: { _tag: "Status", status: 503 } })
      const bytes = bytesOf(4096 * 3)
      const path = yield* tempFile(bytes)
      const file = yield* NodeFiles.uploadFile(path, { name: "data.bin" })
      expect((yield* stored(file.id))?.sha256).toBe(sha256(bytes))
      expect((yield* storagePuts).map((p) => p.status).filter((s) => s === 503)).toEqual([503])
    }).pipe(env()))

  it.scoped("a one-shot stream of unknown length past one part is spooled, then sent in parts; the spool is removed", () =>
    Effect.gen(function*() {
      const before = spools()
      const bytes = bytesOf(4096 * 4 + 100)
      const stream = Stream.fromIterable([bytes.subarray(0, 3000), bytes.subarray(3000, 9000), bytes.subarray(9000)])
      const file = yield* Files.uploadBytes(stream, { name: "spooled.bin" })
      const record = yield* stored(file.id)
      expect([record?.sha256, record?.puts.length]).toEqual([sha256(bytes), 5])
      expect(spools()).toBe(before)
    }).pipe(env()))
})

describe("spooling and reading back", () => {
  const MiB = 1024 * 1024
  // parts that do not line up with the spooler's 1 MiB writes nor with the 256 KiB reads
  const parts = { partSize: 700 * 1024 + 3, singlePutThreshold: 700 * 1024 + 3 }

  it.scoped("chunks of every size (1 byte, across the spool buffer, larger than it) arrive exactly, in parts", () =>
    Effect.gen(function*() {
      const before = spools()
      const sizes = [1, 100 * 1024, MiB + 5, 2 * MiB, 77, MiB - 77, 3, 300 * 1024]
      const total = sizes.reduce((a, b) => a + b, 0)
      const bytes = bytesOf(total, 7)
      let offset = 0
      const chunks = sizes.map((n) => {
        // a copy, so that no chunk shares a buffer with another
        const chunk = bytes.slice(offset, offset + n)
        offset += n
        return chunk
      })
      const file = yield* Files.uploadBytes(Stream.fromIterable(chunks), { name: "chunks.bin" })
      const record = yield* stored(file.id)
      expect([record?.size, record?.sha256]).toEqual([total, sha256(bytes)])
      expect(record?.puts.length).toBe(Math.ceil(total / parts.partSize))
      expect(record?.puts.every((p) => p.contentLength !== undefined && !p.chunked)).toBe(true)
      expect(spools()).toBe(before)
    }).pipe(Effect.provide(Layer.merge(inMemory({ minPartSize: 1024 }, parts), NodeFiles.layer))))

  it.scoped("the spooler stops at its limit with FileSizeLimitError (path stream), or on a failing stream; no spool is left", () =>
    Effect.gen(function*() {
      const before = spools()
      const spooler = yield* NodeFiles.makeSpooler
      const chunks = [bytesOf(600 * 1024), bytesOf(600 * 1024), bytesOf(600 * 1024)]
      const over = yield* Effect.flip(Effect.scoped(spooler.spool(Stream.fromIterable(chunks), MiB)))
      expect(over._tag === "FileSizeLimitError" ? [over.path, over.limit, over.size] : over._tag).toEqual([
        "stream",
        MiB,
        1200 * 1024
      ])
      const failing = Stream.fromIterable(chunks).pipe(Stream.concat(Stream.fail(new ContentReadError("boom"))))
      const failed = yield* Effect.flip(Effect.scoped(spooler.spool(failing, 10 * MiB)))
      expect(failed._tag === "UploadError" ? failed.reason : failed._tag).toBe("Content")
      const exact = yield* Effect.scoped(spooler.spool(Stream.fromIterable(chunks), 1800 * 1024))
      expect(exact.size).toBe(1800 * 1024)
      expect(spools()).toBe(before)
    }).pipe(Effect.provide(NodeFiles.layer)))

  it.scopedLive("interrupted while spooling, or while its parts are sent: the spool is removed, and so is the record", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const before = spools()
      // 1. while spooling: the stream has passed one part and never ends
      const spooling = yield* Deferred.make<void>()
      const endless = Stream.fromIterable([bytesOf(600 * 1024), bytesOf(600 * 1024)]).pipe(
        Stream.concat(Stream.fromEffect(Deferred.succeed(spooling, undefined)).pipe(Stream.drain)),
        Stream.concat(Stream.never)
      )
      const first = yield* Effect.fork(Files.uploadBytes(endless, { name: "spooling.bin" }))
      yield* Deferred.await(spooling)
      expect(spools()).toBe(before + 1)
      yield* Fiber.interrupt(first)
      expect(spools()).toBe(before)
      expect((yield* emulator.requests).filter((r) => r.route !== "token")).toEqual([])
      // 2. while its parts are sent: storage never answers
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Hang" } })
      const second = yield* Effect.fork(
        Files.uploadBytes(Stream.fromIterable([bytesOf(MiB), bytesOf(MiB)]), { name: "sending.bin" })
      )
      yield* Effect.repeat(emulator.requests, {
        until: (requests) => requests.some((r) => r.route === "storage.put"),
        schedule: Schedule.spaced("5 millis")
      })
      expect(spools()).toBe(before + 1)
      expect((yield* emulator.files).filter((f) => f.name === "sending.bin").length).toBe(1)
      yield* Fiber.interrupt(second)
      expect(spools()).toBe(before)
      expect((yield* emulator.files).filter((f) => f.name === "sending.bin")).toEqual([])
    }).pipe(Effect.provide(Layer.merge(inMemory({ minPartSize: 1024 }, parts), NodeFiles.layer))))

  it.scoped("a file that shrank or went away after its size was taken: UploadError Content, not a short upload", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* tempFile(bytesOf(MiB))
      const content = yield* NodeFiles.content(path)
      yield* fs.truncate(path, 1000).pipe(Effect.orDie)
      const error = yield* Effect.flip(Files.uploadBytes(content, { name: "shrank.bin" }))
      expect(error._tag === "UploadError" ? error.reason : error._tag).toBe("Content")
      yield* fs.remove(path).pipe(Effect.orDie)
      const gone = yield* Effect.flip(Files.uploadBytes(content, { name: "gone.bin" }))
      expect(gone._tag === "UploadError" ? gone.reason : gone._tag).toBe("Content")
    }).pipe(Effect.provide(Layer.merge(inMemory({ minPartSize: 1024 }, parts), NodeFiles.layer))))
})

describe("spooling threshold", () => {
  const MiB = 1024 * 1024
  /** NodeFiles' spooler, counting how often it is used. */
  const countingSpooler = (count: Ref.Ref<number>) =>
    Layer.effect(
      Spooler,
      Effect.map(NodeFiles.makeSpooler, (spooler) => ({
        spool: (stream, limit) => Effect.zipRight(Ref.update(count, (n) => n + 1), spooler.spool(stream, limit))
      }))
    ).pipe(Layer.provide(NodeFiles.layer))

  it.scoped("with a spooler, a one-shot stream is buffered only up to spoolThreshold, even when parts are larger", () =>
    Effect.gen(function*() {
      const count = yield* Ref.make(0)
      const upload = (size: number) => {
        const bytes = bytesOf(size, size)
        const chunks = Array.from({ length: Math.ceil(size / (64 * 1024)) }, (_, i) =>
          bytes.subarray(i * 64 * 1024, (i + 1) * 64 * 1024))
        return Effect.gen(function*() {
          const file = yield* Files.uploadBytes(Stream.fromIterable(chunks), { name: "stream.bin" })
          const record = yield* stored(file.id)
          expect([record?.sha256, record?.puts.length]).toEqual([sha256(bytes), 1])
        }).pipe(
          Effect.provide(Layer.merge(
            inMemory({}, { partSize: 32 * MiB, singlePutThreshold: 64 * MiB }),
            countingSpooler(count)
          ))
        )
      }
      yield* upload(spoolThreshold - 1000) // ends within the threshold: one PUT from memory
      expect(yield* Ref.get(count)).toBe(0)
      yield* upload(spoolThreshold + 1000) // longer: spooled (not buffered up to the 32 MiB part), then one PUT
      expect(yield* Ref.get(count)).toBe(1)
    }))
})

describe("NodeFiles checksum", () => {
  it.scoped("with NodeFiles.layer the checksum comes from node:crypto and matches the stored bytes", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(4096 * 3 + 9)
      for (const content of [bytes, Stream.make(bytes)]) {
        const result = yield* Files.upload(content, { name: "sum.bin", checksum: "sha256" })
        expect([result.sha256, (yield* stored(result.file.id))?.sha256]).toEqual([sha256(bytes), sha256(bytes)])
      }
    }).pipe(env()))

  it.scoped("the hash factory in the context is the one used", () =>
    Effect.gen(function*() {
      const result = yield* Files.upload("abc", { name: "sum.bin", checksum: "sha256" })
      expect(result.sha256).toBe("fake:3")
    }).pipe(
      Effect.provide(Layer.succeed(Sha256Factory, () => {
        let n = 0
        return { update: (d: Uint8Array) => void (n += d.byteLength), digestHex: () => `fake:${n}` }
      })),
      env()
    ))
})

describe("without spooling", () => {
  it.scoped("a one-shot stream of unknown length past one part: FileSizeLimitError before any request", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const stream = Stream.fromIterable([bytesOf(3000), bytesOf(3000)])
      const error = yield* Effect.flip(Files.uploadBytes(stream, { name: "x.bin" }))
      expect(error._tag === "FileSizeLimitError" ? [error.path, error.limit] : error._tag).toEqual(["stream", 4096])
      expect((yield* emulator.requests).filter((r) => r.route !== "token")).toEqual([])
    }).pipe(Effect.provide(inMemory({ minPartSize: 1024 }, small))))

  it.scoped("content beyond 250 x 4000 MiB: FileSizeLimitError before any request", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const huge = Content.fromFactory(() => Stream.empty, { size: 250 * 4000 * 1024 * 1024 + 1 })
      const error = yield* Effect.flip(Files.uploadBytes(huge, { name: "x.bin" }))
      expect(error._tag === "FileSizeLimitError" ? [error.path, error.limit] : error._tag).toEqual([
        "multipart",
        250 * 4000 * 1024 * 1024
      ])
      expect((yield* emulator.requests).filter((r) => r.route !== "token")).toEqual([])
    }).pipe(Effect.provide(inMemory({ minPartSize: 1024 }, small))))
})
