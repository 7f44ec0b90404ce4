import { describe, expect, it } from "@effect/vitest"
import { Emulator } from "@effect-cdf/emulator"
import { CdfTest, Content, type Progress } from "@effect-cdf/files"
import { Duration, Effect, Fiber, Schedule, Stream, TestClock } from "effect"
import * as Transfer from "../src/internal/transfer.js"
import { bytesOf, createFile, sha256, storage, storagePuts, stored } from "./TransferFixtures.js"

const settings = (overrides?: Parameters<typeof Transfer.makeSettings>[0]) =>
  Transfer.makeSettings({
    partSize: 64 * 1024,
    singlePutThreshold: 256 * 1024,
    retrySchedule: Schedule.spaced("10 millis").pipe(Schedule.intersect(Schedule.recurs(3))),
    maxRetryDelay: Duration.seconds(1),
    attemptTimeout: Duration.seconds(5),
    stallTimeout: Duration.seconds(2),
    ...overrides
  })

/** prepare + putSingle to a new record, as Files.uploadBytes does. */
const upload = (
  content: Content.Content,
  options?: {
    readonly contentType?: string
    readonly settings?: Transfer.TransferSettings
    readonly onProgress?: Progress.OnProgress
  }
) =>
  Effect.scoped(Effect.gen(function*() {
    const s = options?.settings ?? (yield* settings())
    const prepared = yield* Transfer.prepare(content, s)
    const file = yield* createFile("f.bin", options?.contentType)
    const result = yield* Transfer.putSingle({
      storage: yield* storage,
      url: file.uploadUrl,
      prepared,
      contentType: options?.contentType,
      settings: s,
      onProgress: options?.onProgress
    })
    return { file, result, plan: prepared.plan }
  }))

const inMemory = (options?: Emulator.Options) => Effect.provide(Emulator.layerInMemory({ minPartSize: 1024, ...options }))

describe("putSingle", () => {
  it.effect("every content kind is stored as exactly its bytes, with Content-Length", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(150_000)
      const pooled = Buffer.from("pooled") // a view into Node's shared 8 KiB pool
      const cases: ReadonlyArray<[string, Content.Input, Uint8Array]> = [
        ["string", "hé ✓", new TextEncoder().encode("hé ✓")],
        ["Uint8Array view", bytes.subarray(1000, 9000), bytes.subarray(1000, 9000)],
        ["pooled Buffer", pooled, new Uint8Array(Buffer.from("pooled"))],
        ["ArrayBuffer", bytes.slice(0, 5000).buffer, bytes.subarray(0, 5000)],
        ["Blob", new Blob([bytes]), bytes],
        ["Stream (unknown length)", Stream.make(bytes.subarray(0, 1), bytes.subarray(1, 40_000)), bytes.subarray(0, 40_000)],
        ["AsyncIterable", (async function*() {
          yield bytes.subarray(0, 3)
          yield bytes.subarray(3, 30_000)
        })(), bytes.subarray(0, 30_000)],
        ["ReadableStream", new Blob([bytes.subarray(0, 20_000)]).stream(), bytes.subarray(0, 20_000)],
        ["empty", new Uint8Array(0), new Uint8Array(0)]
      ]
      for (const [name, input, expected] of cases) {
        const { file, result } = yield* upload(Content.make(input))
        const record = yield* stored(file.id)
        expect({ name, sha256: record.sha256, size: record.size, bytes: result.bytes }).toEqual({
          name,
          sha256: sha256(expected),
          size: expected.byteLength,
          bytes: expected.byteLength
        })
        expect(record.puts.map((p) => [p.contentLength, p.chunked, p.authorization, p.cdfHeaders.length])).toEqual([
          [expected.byteLength, false, false, 0]
        ])
      }
      // a stream with a declared size and a factory are sent without buffering, with Content-Length
      const declared = yield* upload(Content.make(Stream.make(bytes), { size: bytes.byteLength }))
      const factory = yield* upload(Content.fromFactory(() => Stream.make(bytes), { size: bytes.byteLength }))
      for (const { file } of [declared, factory]) {
        const record = yield* stored(file.id)
        expect([record.sha256, record.puts[0]?.contentLength]).toEqual([sha256(bytes), bytes.byteLength])
      }
    }).pipe(inMemory()))

  it.effect("Content-Type only as given", () =>
    Effect.gen(function*() {
      const typed = yield* upload(Content.make("x"), { contentType: "text/plain" })
      const untyped = yield* upload(Content.make("x"))
      expect((yield* stored(typed.file.id)).puts[0]?.contentType).toBe("text/plain")
      expect((yield* stored(untyped.file.id)).puts[0]?.contentType).toBeUndefined()
    }).pipe(inMemory()))

  it.effect("a 503 is retried on the schedule and the bytes arrive", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", attempts: [1, 2], action: { _tag: "Status", status: 503 } })
      const fiber = yield* Effect.fork(upload(Content.make(bytesOf(1000))))
      yield* TestClock.adjust("1 second")
      const { file } = yield* Fiber.join(fiber)
      const record = yield* stored(file.id)
      expect((yield* storagePuts).map((p) => p.status)).toEqual([503, 503, 201])
      expect(record.sha256).toBe(sha256(bytesOf(1000)))
    }).pipe(inMemory()))

  it.effect("each PUT retry is a cdf.retry event (attempt, reason, no URL) on the effect-cdf.files.put span", () =>
    Effect.gen(function*() {
      const recorder = CdfTest.makeRecorder()
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", attempts: [1, 2], action: { _tag: "Status", status: 503 } })
      const fiber = yield* Effect.fork(recorder.provide(upload(Content.make(bytesOf(1000)))))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      const puts = recorder.spans.filter((s) => s.name === "effect-cdf.files.put")
      expect(puts.map((s) => s.events)).toEqual([[
        { name: "cdf.retry", attributes: { "cdf.retry.attempt": 2, "cdf.retry.reason": "status 503" } },
        { name: "cdf.retry", attributes: { "cdf.retry.attempt": 3, "cdf.retry.reason": "status 503" } }
      ]])
      expect(recorder.dump()).not.toContain("sig=")
    }).pipe(inMemory()))

  it.effect("Retry-After is honoured, capped at maxRetryDelay", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({
        route: "storage.put",
        attempts: [1],
        action: { _tag: "Status", status: 429, retryAfter: "3600" }
      })
      const fiber = yield* Effect.fork(upload(Content.make("abc")))
      yield* TestClock.adjust("900 millis")
      expect((yield* storagePuts).length).toBe(1)
      yield* TestClock.adjust("200 millis") // past the 1 s cap, far before the hour asked
      yield* Fiber.join(fiber)
      expect((yield* storagePuts).map((r) => r.status)).toEqual([429, 201])
    }).pipe(inMemory()))

  it.effect("401/403 from storage is an UploadError at once, with no query in the error", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Status", status: 403 } })
      const error = yield* Effect.flip(upload(Content.make("abc")))
      expect(error._tag).toBe("UploadError")
      if (error._tag !== "UploadError") return
      expect([error.reason, error.status, error.attempts]).toEqual(["Status", 403, 1])
      expect(error.request?.method).toBe("PUT")
      expect(JSON.stringify(error)).not.toContain("?")
      expect(error.message).not.toContain("?")
      expect((yield* storagePuts).length).toBe(1)
    }).pipe(inMemory()))

  it.effect("a one-shot stream is never resent: NotReplayable, never a 0-byte success", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", attempts: [1], action: { _tag: "Status", status: 503 } })
      const bytes = bytesOf(100_000)
      const fiber = yield* Effect.fork(upload(Content.make(Stream.make(bytes), { size: bytes.byteLength })))
      yield* TestClock.adjust("1 second")
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error._tag === "UploadError" ? [error.reason, error.attempts] : error._tag).toEqual(["NotReplayable", 1])
      const puts = yield* storagePuts
      expect(puts.map((p) => p.status)).toEqual([503])
      expect((yield* emulator.files).every((f) => !f.uploaded)).toBe(true)
    }).pipe(inMemory()))

  it.effect("a one-shot stream of unknown length within one part is resent from its buffer", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", attempts: [1], action: { _tag: "Status", status: 503 } })
      const bytes = bytesOf(60_000)
      const fiber = yield* Effect.fork(upload(Content.make(Stream.make(bytes.subarray(0, 10), bytes.subarray(10)))))
      yield* TestClock.adjust("1 second")
      const { file } = yield* Fiber.join(fiber)
      const record = yield* stored(file.id)
      expect((yield* storagePuts).map((p) => p.status)).toEqual([503, 201])
      // the resend carries the whole buffer again, never an empty body
      expect(record.puts.at(-1)).toMatchObject({ bytes: 60_000, contentLength: 60_000 })
      expect(record.puts.every((p) => p.contentLength === 60_000 && p.bytes !== 0)).toBe(true)
      expect(record.sha256).toBe(sha256(bytes))
    }).pipe(inMemory()))

  it.effect("a one-shot stream of declared size within one part is buffered first, so it is resent whole", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", attempts: [1], action: { _tag: "Status", status: 503 } })
      const bytes = bytesOf(50_000)
      const fiber = yield* Effect.fork(upload(Content.make(Stream.make(bytes), { size: 50_000 })))
      yield* TestClock.adjust("1 second")
      const { file } = yield* Fiber.join(fiber)
      expect((yield* storagePuts).map((p) => p.status)).toEqual([503, 201])
      expect((yield* stored(file.id)).sha256).toBe(sha256(bytes))
    }).pipe(inMemory()))

  it.effect("a stream yielding another size than declared fails with reason Content", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(upload(Content.make(Stream.make(bytesOf(10)), { size: 20 })))
      expect(error._tag === "UploadError" ? error.reason : error._tag).toBe("Content")
    }).pipe(inMemory()))

  it.effect("an attempt that never gets an answer times out and is retried; the last error is a CdfTimeoutError", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Hang" } })
      const s = yield* settings({
        attemptTimeout: Duration.seconds(1),
        stallTimeout: Duration.seconds(30),
        retrySchedule: Schedule.spaced("10 millis").pipe(Schedule.intersect(Schedule.recurs(1)))
      })
      const fiber = yield* Effect.fork(upload(Content.make("abc"), { settings: s }))
      yield* TestClock.adjust("3 seconds")
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error._tag === "CdfTimeoutError" ? [error.kind, error.timeoutMillis] : error._tag).toEqual(["transfer", 1000])
      expect((yield* storagePuts).length).toBe(2)
    }).pipe(inMemory()))

  it.effect("no bytes moving for the stall timeout fails the attempt", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Hang" } })
      const s = yield* settings({
        attemptTimeout: Duration.seconds(60),
        stallTimeout: Duration.seconds(1),
        retrySchedule: Schedule.stop
      })
      const fiber = yield* Effect.fork(upload(Content.make("abc"), { settings: s }))
      yield* TestClock.adjust("2 seconds")
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error._tag === "CdfTimeoutError" ? error.kind : error._tag).toBe("stall")
    }).pipe(inMemory()))

  it.effect("progress never decreases, counts a resend once and ends at the size", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", attempts: [1], action: { _tag: "Status", status: 500 } })
      const seen: Array<Progress.Progress> = []
      const bytes = bytesOf(3 * 1024 * 1024 + 5)
      const s = yield* settings({ progressInterval: Duration.zero })
      const fiber = yield* Effect.fork(
        upload(Content.make(bytes), { settings: s, onProgress: (p) => Effect.sync(() => seen.push(p)) })
      )
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      // movement while the PUT runs (1 MiB at a time), not 0 then 100%
      expect(seen.filter((p) => p.acknowledged === 0).map((p) => p.sent)).toEqual([1, 2, 3, 3 * 1024 * 1024 + 5].map((n) => n < 100 ? n * 1024 * 1024 : n))
      for (let i = 1; i < seen.length; i++) {
        expect(seen[i]!.sent).toBeGreaterThanOrEqual(seen[i - 1]!.sent)
        expect(seen[i]!.acknowledged).toBeGreaterThanOrEqual(seen[i - 1]!.acknowledged)
      }
      expect(seen.every((p) => p.sent <= bytes.byteLength && p.total === bytes.byteLength)).toBe(true)
      expect(seen.at(-1)).toEqual({ sent: bytes.byteLength, acknowledged: bytes.byteLength, total: bytes.byteLength })
    }).pipe(inMemory()))

  it.effect("checksum: the sha256 of what was sent, only when asked", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(70_000)
      const s = yield* settings({ checksum: true })
      const fromBytes = yield* upload(Content.make(bytes), { settings: s })
      const fromStream = yield* upload(Content.fromFactory(() => Stream.make(bytes), { size: 70_000 }), { settings: s })
      const off = yield* upload(Content.make(bytes))
      expect([fromBytes.result.sha256, fromStream.result.sha256, off.result.sha256]).toEqual([
        sha256(bytes),
        sha256(bytes),
        undefined
      ])
    }).pipe(inMemory()))

  it.effect("bodyMode buffer (for FetchHttpClient): every body sent from a buffer, with Content-Length", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(90_000)
      const s = yield* settings({ bodyMode: "buffer" })
      for (const content of [Content.make(bytes), Content.fromFactory(() => Stream.make(bytes), { size: 90_000 })]) {
        const { file } = yield* upload(content, { settings: s })
        const record = yield* stored(file.id)
        expect([record.sha256, record.puts[0]?.contentLength, record.puts[0]?.chunked]).toEqual([
          sha256(bytes),
          90_000,
          false
        ])
      }
    }).pipe(inMemory()))

  it.effect("waiting for a permit of the client-wide limit counts toward neither the stall nor the attempt timeout", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Delay", millis: 900 } })
      const s = yield* settings({
        transfers: 1,
        stallTimeout: Duration.seconds(1),
        attemptTimeout: Duration.millis(1500),
        retrySchedule: Schedule.stop
      })
      const bytes = bytesOf(100_000)
      const content = Content.fromFactory(() => Stream.make(bytes), { size: bytes.byteLength })
      const fiber = yield* Effect.fork(
        Effect.all([upload(content, { settings: s }), upload(content, { settings: s }), upload(content, { settings: s })], {
          concurrency: 3
        })
      )
      yield* TestClock.adjust("5 seconds")
      const results = yield* Fiber.join(fiber)
      for (const { file } of results) expect((yield* stored(file.id)).sha256).toBe(sha256(bytes))
    }).pipe(inMemory()))
})
