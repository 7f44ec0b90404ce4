import { describe, expect, it } from "@effect/vitest"
import { Emulator } from "@effect-cdf/emulator"
import { CdfTest, Content, Files, Progress } from "@effect-cdf/files"
import { Chunk, Duration, Effect, Exit, Option, Schedule, Stream } from "effect"
import * as Transfer from "../src/internal/transfer.js"
import * as FilesFixtures from "./FilesFixtures.js"
import { bytesOf, createFile, storage } from "./TransferFixtures.js"

const inMemory = Effect.provide(Emulator.layerInMemory())

const settings = Transfer.makeSettings({
  retrySchedule: Schedule.recurs(2),
  maxRetryDelay: Duration.millis(1),
  progressInterval: Duration.zero
})

const putSingle = (content: Content.Content, onProgress?: Progress.OnProgress) =>
  Effect.scoped(Effect.gen(function*() {
    const s = yield* settings
    const prepared = yield* Transfer.prepare(content, s)
    const file = yield* createFile("p.bin")
    yield* Transfer.putSingle({
      storage: yield* storage,
      url: file.uploadUrl,
      prepared,
      contentType: undefined,
      settings: s,
      onProgress
    })
    return file
  }))

describe("Progress", () => {
  it.effect("Progress.stream: the values as a Stream ending with the upload", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(3 * 1024 * 1024)
      const values = yield* Progress.stream((onProgress) => putSingle(Content.make(bytes), onProgress)).pipe(
        Stream.runCollect,
        Effect.map(Chunk.toArray)
      )
      expect(values.length).toBeGreaterThan(2)
      expect(values.at(-1)).toEqual({ sent: bytes.byteLength, acknowledged: bytes.byteLength, total: bytes.byteLength })
    }).pipe(inMemory))

  it.effect("Progress.stream fails as the upload fails", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Status", status: 403 } })
      const exit = yield* Progress.stream((onProgress) => putSingle(Content.make("x"), onProgress)).pipe(
        Stream.runDrain,
        Effect.exit
      )
      expect(Exit.isFailure(exit) ? Option.map(Exit.causeOption(exit), (c) => c._tag) : "success").toEqual(
        Option.some("Fail")
      )
    }).pipe(inMemory))

  it.effect("uploadBytes: a refused PUT is never reported as acknowledged; a retried one is acknowledged once", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      for (const size of [100_000, 3 * 1024 * 1024]) {
        yield* emulator.reset
        yield* emulator.addFault({ route: "storage.put", action: { _tag: "Status", status: 400 } })
        const refused: Array<Progress.Progress> = []
        const onRefused = (p: Progress.Progress) => Effect.sync(() => refused.push(p))
        const exit = yield* Files.uploadBytes(bytesOf(size), { name: "r.bin", onProgress: onRefused }).pipe(Effect.exit)
        expect(Exit.isFailure(exit)).toBe(true)
        expect(refused.filter((p) => p.acknowledged > 0)).toEqual([])

        yield* emulator.reset
        yield* emulator.addFault({ route: "storage.put", attempts: [1], action: { _tag: "Status", status: 503 } })
        const retried: Array<Progress.Progress> = []
        const onRetried = (p: Progress.Progress) => Effect.sync(() => retried.push(p))
        yield* Files.uploadBytes(bytesOf(size), { name: "r.bin", onProgress: onRetried })
        expect(retried.at(-1)).toEqual({ sent: size, acknowledged: size, total: size })
        expect(retried.every((p) => p.acknowledged === 0 || p.acknowledged === size)).toBe(true)
      }
    }).pipe(Effect.provide(FilesFixtures.inMemory({}, {
      transferRetrySchedule: Schedule.recurs(2),
      maxRetryDelay: Duration.millis(1)
    }))))

  it.effect("uploadBytes multipart: a part is counted as acknowledged only once storage has taken it", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      // Three parts of 32 KiB sent at once; the third PUT to arrive is refused.
      yield* emulator.addFault({ route: "storage.put", attempts: [3], action: { _tag: "Status", status: 400 } })
      const seen: Array<Progress.Progress> = []
      const exit = yield* Files.uploadBytes(bytesOf(96 * 1024), {
        name: "parts.bin",
        onProgress: (p) => Effect.sync(() => seen.push(p))
      }).pipe(Effect.exit)
      expect(Exit.isFailure(exit)).toBe(true)
      expect(seen.length).toBeGreaterThan(0)
      expect(seen.filter((p) => p.acknowledged > 64 * 1024)).toEqual([])
    }).pipe(Effect.provide(FilesFixtures.inMemory({ minPartSize: 16 * 1024 }, {
      singlePutThreshold: 64 * 1024,
      partSize: 32 * 1024,
      transferRetrySchedule: Schedule.recurs(2),
      maxRetryDelay: Duration.millis(1)
    }))))

  it.effect("a failing callback does not fail the upload", () =>
    Effect.gen(function*() {
      const file = yield* putSingle(Content.make(bytesOf(1000)), () => Effect.die("callback bug"))
      const emulator = yield* Emulator.Emulator
      expect((yield* emulator.files).find((f) => f.id === file.id)?.size).toBe(1000)
    }).pipe(inMemory))
})

describe("spans", () => {
  it.effect("transfer spans carry the method, origin and path of upload URLs, never their query", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", attempts: [1], action: { _tag: "Status", status: 503 } })
      const recorder = CdfTest.makeRecorder()
      const file = yield* putSingle(Content.make("abc")).pipe(recorder.provide)
      const query = new URL(file.uploadUrl).search
      expect(query.length).toBeGreaterThan(1)
      const put = recorder.spans.find((s) => s.name === "effect-cdf.files.put")
      expect(put?.attributes.get("url.path")).toBe(new URL(file.uploadUrl).pathname)
      const dump = JSON.stringify(recorder.spans.map((s) => [s.name, [...s.attributes]]))
      expect(dump).not.toContain(query.slice(1))
      expect(dump).not.toContain("?")
    }).pipe(inMemory))
})
