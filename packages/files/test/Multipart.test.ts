import * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Emulator } from "@effect-cdf/emulator"
import { Content, type Progress } from "@effect-cdf/files"
import { Duration, Effect, Fiber, Schedule, Stream, TestClock } from "effect"
import * as Transfer from "../src/internal/transfer.js"
import { bytesOf, completeMultipart, initMultipart, sha256, storage, storagePuts, stored } from "./TransferFixtures.js"

const settings = (overrides?: Parameters<typeof Transfer.makeSettings>[0]) =>
  Transfer.makeSettings({
    partSize: 4096,
    singlePutThreshold: 4096,
    retrySchedule: Schedule.spaced("10 millis").pipe(Schedule.intersect(Schedule.recurs(3))),
    maxRetryDelay: Duration.seconds(1),
    attemptTimeout: Duration.seconds(5),
    stallTimeout: Duration.seconds(2),
    ...overrides
  })

/** A storage client that records the largest number of PUTs in flight at once. */
const counting = Effect.gen(function*() {
  const base = yield* storage
  const state = { inFlight: 0, max: 0 }
  const client = HttpClient.transformResponse(base, (response) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        state.inFlight++
        state.max = Math.max(state.max, state.inFlight)
      }),
      () => response,
      () => Effect.sync(() => state.inFlight--)
    ))
  return { client, state }
})

/** prepare + initmultipartupload + putParts + completion, as Files does. */
const upload = (
  content: Content.Content,
  options?: {
    readonly settings?: Transfer.TransferSettings
    readonly storage?: HttpClient.HttpClient
    readonly onProgress?: Progress.OnProgress
  }
) =>
  Effect.scoped(Effect.gen(function*() {
    const s = options?.settings ?? (yield* settings())
    const prepared = yield* Transfer.prepare(content, s, { multipart: true })
    const parts = prepared.plan._tag === "Multipart" ? prepared.plan.parts : 1
    const session = yield* initMultipart("big.bin", parts)
    const result = yield* Transfer.putParts({
      storage: options?.storage ?? (yield* storage),
      urls: session.uploadUrls,
      prepared,
      settings: s,
      onProgress: options?.onProgress
    })
    yield* completeMultipart(session.id, session.uploadId)
    return { id: session.id, result, plan: prepared.plan }
  }))

const inMemory = (options?: Emulator.Options) => Effect.provide(Emulator.layerInMemory({ minPartSize: 1024, ...options }))

describe("putParts", () => {
  it.effect("bytes, Blob, declared-size stream and factory: every part once, exact bytes, no Content-Type", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(4096 * 5 + 123)
      const inputs: ReadonlyArray<[string, Content.Content]> = [
        ["bytes", Content.make(bytes)],
        ["Blob", Content.make(new Blob([bytes]))],
        ["stream", Content.make(Stream.make(bytes.subarray(0, 5000), bytes.subarray(5000)), { size: bytes.byteLength })],
        ["factory", Content.fromFactory(() => Stream.make(bytes), { size: bytes.byteLength })]
      ]
      for (const [name, content] of inputs) {
        const { id, plan } = yield* upload(content)
        expect(plan).toEqual({ _tag: "Multipart", size: bytes.byteLength, partSize: 4096, parts: 6 })
        const record = yield* stored(id)
        expect({ name, sha256: record.sha256, uploaded: record.uploaded }).toEqual({
          name,
          sha256: sha256(bytes),
          uploaded: true
        })
        const puts = [...record.puts].sort((a, b) => (a.part ?? 0) - (b.part ?? 0))
        expect(puts.map((p) => [p.part, p.contentLength, p.contentType, p.chunked])).toEqual(
          [0, 1, 2, 3, 4, 5].map((part) => [part, part === 5 ? 123 : 4096, undefined, false])
        )
      }
    }).pipe(inMemory()))

  it.effect("a failing part is retried on its own (from the buffer for one-shot streams)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", attempts: [2, 4], action: { _tag: "Status", status: 503 } })
      const bytes = bytesOf(4096 * 4)
      const fiber = yield* Effect.fork(
        upload(Content.make(Stream.make(bytes), { size: bytes.byteLength }), {
          settings: yield* settings({ partConcurrency: 1 })
        })
      )
      yield* TestClock.adjust("1 second")
      const { id } = yield* Fiber.join(fiber)
      const puts = yield* storagePuts
      expect(puts.map((p) => p.status)).toEqual([201, 503, 201, 503, 201, 201])
      const record = yield* stored(id)
      expect([record.sha256, record.puts.filter((p) => p.status < 300).length]).toEqual([sha256(bytes), 4])
    }).pipe(inMemory()))

  it.effect("a part that keeps failing fails the upload with its part number, and nothing more is sent", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Status", status: 500 } })
      const fiber = yield* Effect.fork(
        upload(Content.make(bytesOf(4096 * 8)), { settings: yield* settings({ partConcurrency: 2 }) })
      )
      yield* TestClock.adjust("1 second")
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error._tag === "UploadError" ? [error.reason, error.status, error.attempts] : error._tag).toEqual([
        "Status",
        500,
        4
      ])
      expect(error._tag === "UploadError" ? error.part : undefined).toBeTypeOf("number")
      const count = (yield* storagePuts).length
      yield* TestClock.adjust("10 seconds")
      expect((yield* storagePuts).length).toBe(count)
      expect(count).toBeLessThanOrEqual(2 * 4)
    }).pipe(inMemory()))

  it.effect("at most partConcurrency parts at once, and the client-wide limit holds across uploads", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Delay", millis: 100 } })
      const { client, state } = yield* counting
      const bytes = bytesOf(4096 * 10)
      const fiber = yield* Effect.fork(
        upload(Content.make(bytes), { storage: client, settings: yield* settings({ partConcurrency: 3 }) })
      )
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(fiber)
      expect(state.max).toBe(3)
      // two uploads sharing settings whose client-wide semaphore has 2 permits
      const shared = yield* settings({ partConcurrency: 3, transfers: 2 })
      const other = yield* counting
      const both = yield* Effect.fork(Effect.all([
        upload(Content.make(bytes), { storage: other.client, settings: shared }),
        upload(Content.make(Stream.make(bytes), { size: bytes.byteLength }), { storage: other.client, settings: shared })
      ], { concurrency: 2 }))
      yield* TestClock.adjust("5 seconds")
      const results = yield* Fiber.join(both)
      expect(other.state.max).toBe(2)
      for (const { id } of results) expect((yield* stored(id)).sha256).toBe(sha256(bytes))
    }).pipe(inMemory()))

  it.effect("interrupting the upload stops it: no request arrives afterwards", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Delay", millis: 1000 } })
      const fiber = yield* Effect.fork(upload(Content.make(bytesOf(4096 * 10))))
      yield* TestClock.adjust("1500 millis")
      const before = (yield* storagePuts).length
      expect(before).toBeGreaterThan(0)
      yield* Fiber.interrupt(fiber)
      yield* TestClock.adjust("30 seconds")
      expect((yield* storagePuts).length).toBe(before)
      expect((yield* emulator.files).every((f) => !f.uploaded)).toBe(true)
    }).pipe(inMemory()))

  it.effect("progress over parts: monotonic, a retried part counted once, ends with sent = acknowledged = size", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", attempts: [3], action: { _tag: "Status", status: 502 } })
      const seen: Array<Progress.Progress> = []
      const bytes = bytesOf(4096 * 6 + 7)
      const fiber = yield* Effect.fork(upload(Content.make(bytes), {
        settings: yield* settings({ progressInterval: Duration.zero }),
        onProgress: (p) => Effect.sync(() => seen.push(p))
      }))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      for (let i = 1; i < seen.length; i++) {
        expect(seen[i]!.sent).toBeGreaterThanOrEqual(seen[i - 1]!.sent)
        expect(seen[i]!.acknowledged).toBeGreaterThanOrEqual(seen[i - 1]!.acknowledged)
        expect(seen[i]!.acknowledged).toBeLessThanOrEqual(seen[i]!.sent)
      }
      expect(seen.at(-1)).toEqual({ sent: bytes.byteLength, acknowledged: bytes.byteLength, total: bytes.byteLength })
    }).pipe(inMemory()))

  it.effect("progress is throttled: at most one value per interval, plus the final one", () =>
    Effect.gen(function*() {
      const seen: Array<Progress.Progress> = []
      const bytes = bytesOf(4096 * 6)
      yield* upload(Content.make(bytes), {
        settings: yield* settings({ progressInterval: Duration.seconds(1) }),
        onProgress: (p) => Effect.sync(() => seen.push(p))
      })
      // the clock does not move: the first value, then the final one
      expect(seen.length).toBe(2)
      expect(seen.at(-1)).toEqual({ sent: bytes.byteLength, acknowledged: bytes.byteLength, total: bytes.byteLength })
    }).pipe(inMemory()))

  it.effect("checksum over parts: the sha256 of the whole content", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(4096 * 3 + 5)
      const s = yield* settings({ checksum: true })
      const a = yield* upload(Content.make(bytes), { settings: s })
      const b = yield* upload(Content.make(new Blob([bytes])), { settings: s })
      const c = yield* upload(Content.make(Stream.make(bytes), { size: bytes.byteLength }), { settings: s })
      expect([a.result.sha256, b.result.sha256, c.result.sha256]).toEqual([sha256(bytes), sha256(bytes), sha256(bytes)])
    }).pipe(inMemory()))

  it.effect("putPart sends one part of a session", () =>
    Effect.gen(function*() {
      const s = yield* settings()
      const session = yield* initMultipart("s.bin", 2)
      const client = yield* storage
      const a = bytesOf(2000, 1)
      const b = bytesOf(1000, 2)
      yield* Transfer.putPart({ storage: client, url: session.uploadUrls[1]!, part: 1, content: Content.make(b), settings: s })
      yield* Transfer.putPart({ storage: client, url: session.uploadUrls[0]!, part: 0, content: Content.make(a), settings: s })
      yield* completeMultipart(session.id, session.uploadId)
      expect((yield* stored(session.id)).sha256).toBe(sha256(Buffer.concat([a, b])))
    }).pipe(inMemory()))
})
