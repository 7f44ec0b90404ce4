/**
 * The timeouts of a streamed PUT attempt (a stream, or a buffer larger than 1 MiB): the stall timeout counts from
 * the last byte the HTTP client took, the attempt timeout from the start of the attempt, on the Effect clock. And a
 * stream in `bodyMode: "buffer"`, read whole and then timed as a buffer handed over whole is.
 */
import { describe, expect, it } from "@effect/vitest"
import { Emulator } from "@effect-cdf/emulator"
import { Content } from "@effect-cdf/files"
import { Duration, Effect, Fiber, Schedule, Stream, TestClock } from "effect"
import * as Transfer from "../src/internal/transfer.js"
import { bytesOf, createFile, sha256, storage, storagePuts, stored } from "./TransferFixtures.js"

const MiB = 1024 * 1024

const settings = (stall: number, attempt: number, rawStreamBodies = false, bodyMode: "stream" | "buffer" = "stream") =>
  Transfer.makeSettings({
    singlePutThreshold: 64 * MiB,
    retrySchedule: Schedule.stop,
    stallTimeout: Duration.millis(stall),
    attemptTimeout: Duration.millis(attempt),
    rawStreamBodies,
    bodyMode
  })

const upload = (content: Content.Content, s: Transfer.TransferSettings) =>
  Effect.scoped(Effect.gen(function*() {
    const prepared = yield* Transfer.prepare(content, s)
    const file = yield* createFile("w.bin")
    yield* Transfer.putSingle({ storage: yield* storage, url: file.uploadUrl, prepared, contentType: undefined, settings: s })
    return file
  }))

/** `chunks` chunks of 1000 bytes, one every `every` milliseconds (a replayable stream of declared size). */
const paced = (bytes: Uint8Array, every: number) =>
  Content.fromFactory(
    () =>
      Stream.fromIterable(Array.from({ length: bytes.byteLength / 1000 }, (_, i) => bytes.subarray(i * 1000, (i + 1) * 1000)))
        .pipe(Stream.schedule(Schedule.spaced(Duration.millis(every)))),
    { size: bytes.byteLength }
  )

const inMemory = Effect.provide(Emulator.layerInMemory({ minPartSize: 1024 }))

const timeoutOf = (error: { readonly _tag: string }) =>
  error._tag === "CdfTimeoutError" && "kind" in error && "timeoutMillis" in error
    ? [error.kind, error.timeoutMillis]
    : error._tag

describe("the watchdog of a streamed attempt", () => {
  it.effect("a stream that stops moving fails as stalled after the stall timeout", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(4000)
      const content = Content.fromFactory(() => Stream.concat(Stream.make(bytes.subarray(0, 1000)), Stream.never), {
        size: 4000
      })
      const fiber = yield* Effect.fork(upload(content, yield* settings(1000, 60_000)))
      yield* TestClock.adjust("3 seconds")
      expect(timeoutOf(yield* Effect.flip(Fiber.join(fiber)))).toEqual(["stall", 1000])
    }).pipe(inMemory))

  it.effect("bytes that keep moving, slower than the stall timeout, are not a stall", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(6000)
      const fiber = yield* Effect.fork(upload(paced(bytes, 500), yield* settings(1000, 60_000)))
      yield* TestClock.adjust("10 seconds")
      const file = yield* Fiber.join(fiber)
      expect((yield* stored(file.id)).sha256).toBe(sha256(bytes))
    }).pipe(inMemory))

  it.effect("bytes that keep moving still end at the attempt timeout", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(6000)
      const fiber = yield* Effect.fork(upload(paced(bytes, 500), yield* settings(1000, 1800)))
      yield* TestClock.adjust("10 seconds")
      expect(timeoutOf(yield* Effect.flip(Fiber.join(fiber)))).toEqual(["transfer", 1800])
    }).pipe(inMemory))

  for (const raw of [false, true]) {
    it.effect(`a buffer over 1 MiB that storage never takes fails as stalled (${raw ? "web ReadableStream" : "Effect stream"} body)`, () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* emulator.addFault({ route: "storage.put", action: { _tag: "Hang" } })
        const fiber = yield* Effect.fork(upload(Content.make(bytesOf(3 * MiB)), yield* settings(1000, 60_000, raw)))
        yield* TestClock.adjust("3 seconds")
        expect(timeoutOf(yield* Effect.flip(Fiber.join(fiber)))).toEqual(["stall", 1000])
        expect((yield* storagePuts).length).toBe(1)
      }).pipe(inMemory))
  }
})

describe("a stream in bodyMode buffer: read whole, then timed as a buffer is", () => {
  const stream = (bytes: Uint8Array) =>
    Content.fromFactory(() => Stream.make(bytes.subarray(0, 1000), bytes.subarray(1000)), { size: bytes.byteLength })

  it.effect("up to 1 MiB, storage that never answers fails it as stalled", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Hang" } })
      const fiber = yield* Effect.fork(upload(stream(bytesOf(90_000)), yield* settings(1000, 1800, false, "buffer")))
      yield* TestClock.adjust("3 seconds")
      expect(timeoutOf(yield* Effect.flip(Fiber.join(fiber)))).toEqual(["stall", 1000])
    }).pipe(inMemory))

  it.effect("over 1 MiB, only the attempt timeout ends it (nothing can be seen moving in a buffer)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Hang" } })
      const fiber = yield* Effect.fork(upload(stream(bytesOf(2 * MiB)), yield* settings(1000, 1800, false, "buffer")))
      yield* TestClock.adjust("3 seconds")
      expect(timeoutOf(yield* Effect.flip(Fiber.join(fiber)))).toEqual(["transfer", 1800])
    }).pipe(inMemory))
})
