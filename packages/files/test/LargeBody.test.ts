/**
 * Buffers larger than 1 MiB over a real loopback port (undici): each PUT's body is handed to the HTTP client slice
 * by slice, with Content-Length, progress while it is sent, and a fresh body for every attempt. A client that cannot
 * send such a body itself (`FetchHttpClient`) gets the same slices as an Effect stream.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Emulator } from "@effect-cdf/emulator"
import { Files, type Progress } from "@effect-cdf/files"
import { Duration, Effect, Schedule } from "effect"
import { createHash } from "node:crypto"
import * as FilesFixtures from "./FilesFixtures.js"
import { bytesOf, expectCancelledWhileSending } from "./TransferFixtures.js"

const MiB = 1024 * 1024

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

/** Files over a real-port emulator and a transport: undici (`NodeTransport.layer`) unless told otherwise. */
const onPort = FilesFixtures.onPort

const retries = {
  transferRetrySchedule: Schedule.spaced("10 millis").pipe(Schedule.intersect(Schedule.recurs(2))),
  maxRetryDelay: Duration.seconds(1)
}

describe("buffers larger than 1 MiB on a real port", () => {
  it.live("one PUT: exactly the bytes, with Content-Length, progress while sending, the caller's buffer intact", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const bytes = bytesOf(24 * MiB + 7)
      const expected = sha256(bytes)
      const seen: Array<Progress.Progress> = []
      const file = yield* Files.uploadBytes(bytes, {
        name: "large-buffer.bin",
        onProgress: (p) => Effect.sync(() => seen.push(p))
      })
      const record = (yield* emulator.files).find((f) => f.id === file.id)
      expect([record?.size, record?.sha256, record?.puts.length]).toEqual([bytes.byteLength, expected, 1])
      expect([record?.puts[0]?.contentLength, record?.puts[0]?.chunked]).toEqual([bytes.byteLength, false])
      // bytes were seen moving before storage answered (not 0, then everything)
      expect(seen.some((p) => p.acknowledged === 0 && p.sent > 0 && p.sent < bytes.byteLength)).toBe(true)
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.sent).toBeGreaterThanOrEqual(seen[i - 1]!.sent)
      expect(seen.at(-1)).toEqual({ sent: bytes.byteLength, acknowledged: bytes.byteLength, total: bytes.byteLength })
      // the views were sent, not transferred: the caller's buffer is untouched
      expect([bytes.byteLength, sha256(bytes)]).toEqual([24 * MiB + 7, expected])
    }).pipe(Effect.provide(onPort({}, {}))))

  it.live("a connection reset mid-body is retried with a fresh body; the stored sha256 matches", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({
        route: "storage.put",
        attempts: [1],
        action: { _tag: "ResetAfterBytes", bytes: 2 * MiB + 3 }
      })
      const bytes = bytesOf(5 * MiB + 1, 7)
      const file = yield* Files.uploadBytes(bytes, { name: "reset-large.bin" })
      const record = (yield* emulator.files).find((f) => f.id === file.id)
      expect([record?.sha256, record?.puts.length]).toEqual([sha256(bytes), 2])
    }).pipe(Effect.provide(onPort({}, retries))))

  it.live("storage that hangs on the first attempt: the attempt ends at the stall timeout and a fresh body is sent", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", attempts: [1], action: { _tag: "Hang" } })
      const bytes = bytesOf(3 * MiB + 11, 5)
      const file = yield* Files.uploadBytes(bytes, { name: "hang-large.bin" })
      const record = (yield* emulator.files).find((f) => f.id === file.id)
      expect([record?.sha256, record?.uploaded]).toEqual([sha256(bytes), true])
      expect((yield* emulator.requests).filter((r) => r.route === "storage.put").length).toBe(2)
    }).pipe(Effect.provide(onPort({}, { ...retries, stallTimeout: "300 millis", transferTimeout: "2 seconds" }))))

  it.live("multipart from a buffer, parts of 3 MiB three at a time: every part with Content-Length, bytes whole", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const bytes = bytesOf(16 * MiB + 11, 3)
      const file = yield* Files.uploadBytes(bytes, { name: "parts.bin" })
      const record = (yield* emulator.files).find((f) => f.id === file.id)
      expect([record?.size, record?.sha256, record?.puts.length]).toEqual([bytes.byteLength, sha256(bytes), 6])
      expect(record?.puts.every((put) => !put.chunked && put.contentLength !== undefined)).toBe(true)
      expect(record?.puts.reduce((n, put) => n + (put.contentLength ?? 0), 0)).toBe(bytes.byteLength)
    }).pipe(
      Effect.provide(onPort({ minPartSize: 1024 }, { partSize: 3 * MiB, singlePutThreshold: 3 * MiB, partConcurrency: 3 }))
    ))

  it.live("interrupting a large PUT while it is sent: nothing arrives afterwards and the record is deleted", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Throttle", bytesPerSecond: 2 * MiB } })
      yield* expectCancelledWhileSending((onProgress) =>
        Files.uploadBytes(bytesOf(8 * MiB), { name: "cancelled-large.bin", onProgress })
      )
    }).pipe(Effect.provide(onPort({}, retries))))

  it.live("FetchHttpClient in the default stream mode: a 3 MiB buffer goes as an Effect stream and is stored whole", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const bytes = bytesOf(3 * MiB + 5, 3)
      const seen: Array<Progress.Progress> = []
      const file = yield* Files.uploadBytes(bytes, {
        name: "fetch-stream.bin",
        onProgress: (p) => Effect.sync(() => seen.push(p))
      })
      const record = (yield* emulator.files).find((f) => f.id === file.id)
      expect([record?.size, record?.sha256, record?.puts.length]).toEqual([bytes.byteLength, sha256(bytes), 1])
      expect(seen.at(-1)).toEqual({ sent: bytes.byteLength, acknowledged: bytes.byteLength, total: bytes.byteLength })
    }).pipe(Effect.provide(onPort({}, {}, FetchHttpClient.layer))))
})
