import { describe, expect, it } from "@effect/vitest"
import { Content } from "@effect-cdf/files"
import { Chunk, Effect, FastCheck, Stream } from "effect"
import * as RetryPolicy from "../src/internal/retryPolicy.js"
import * as Transfer from "../src/internal/transfer.js"

const MiB = 1024 * 1024
const GiB = 1024 * MiB

describe("planning", () => {
  it.effect("part size and count as the Python SDK plans them (50 MiB, growing to fit 250 parts)", () =>
    Effect.gen(function*() {
      const table: ReadonlyArray<[number, number]> = [
        [0, 1],
        [100 * MiB, 2],
        [GiB, 21],
        [10 * GiB, 205],
        [100 * GiB, 250],
        [900 * GiB, 250],
        [250 * 4000 * MiB, 250]
      ]
      for (const [size, parts] of table) {
        const plan = yield* Transfer.planParts(size, 50 * MiB)
        expect([size, plan.parts]).toEqual([size, parts])
        expect(plan.partSize).toBeLessThanOrEqual(4000 * MiB)
        expect(plan.partSize * plan.parts).toBeGreaterThanOrEqual(size)
        if (plan.parts > 1) expect(plan.partSize).toBeGreaterThanOrEqual(50 * MiB)
      }
      const error = yield* Effect.flip(Transfer.planParts(250 * 4000 * MiB + 1, 50 * MiB))
      expect([error._tag, error.path, error.limit]).toEqual(["FileSizeLimitError", "multipart", 250 * 4000 * MiB])
    }))

  it.scoped("prepare picks the path before any request", () =>
    Effect.gen(function*() {
      const settings = yield* Transfer.makeSettings({ partSize: 1000, singlePutThreshold: 5000 })
      const plan = (content: Content.Content, multipart?: boolean) =>
        Effect.map(Transfer.prepare(content, settings, { multipart }), (p) => p.plan)
      expect(yield* plan(Content.make(new Uint8Array(5000)))).toEqual({ _tag: "Single", size: 5000 })
      expect(yield* plan(Content.make(new Uint8Array(5001)))).toEqual({
        _tag: "Multipart",
        size: 5001,
        partSize: 1000,
        parts: 6
      })
      expect(yield* plan(Content.make("x"), true)).toEqual({ _tag: "Multipart", size: 1, partSize: 1, parts: 1 })
      // unknown length within one part: buffered, one PUT with its size
      const buffered = yield* Transfer.prepare(Content.make(Stream.make(new Uint8Array(600), new Uint8Array(400))), settings)
      expect([buffered.plan, buffered.content.size, buffered.content.replayable]).toEqual([
        { _tag: "Single", size: 1000 },
        1000,
        true
      ])
      // a factory of unknown length beyond one part is counted, then planned
      const factory = Content.fromFactory(() => Stream.range(1, 30).pipe(Stream.map(() => new Uint8Array(250))))
      expect(yield* plan(factory)).toEqual({ _tag: "Multipart", size: 7500, partSize: 1000, parts: 8 })
      // a one-shot stream of unknown length beyond one part, with no spooler: FileSizeLimitError
      const once = Content.make(Stream.range(1, 30).pipe(Stream.map(() => new Uint8Array(250)), Stream.rechunk(1)))
      const error = yield* Effect.flip(plan(once))
      expect(error._tag === "FileSizeLimitError" ? [error.path, error.limit, error.size] : error._tag).toEqual([
        "stream",
        1000,
        1250
      ])
      // forced single beyond the single-PUT limit
      const huge = Content.fromFactory(() => Stream.empty, { size: 5_000_000_001 })
      const single = yield* Effect.flip(plan(huge, false))
      expect(single._tag === "FileSizeLimitError" ? [single.path, single.limit] : single._tag).toEqual([
        "single",
        5_000_000_000
      ])
      const tooBig = yield* Effect.flip(plan(Content.fromFactory(() => Stream.empty, { size: 250 * 4000 * MiB + 1 })))
      expect(tooBig._tag === "FileSizeLimitError" ? tooBig.path : tooBig._tag).toBe("multipart")
    }))

  it.effect("a failing stream fails prepare with reason Content", () =>
    Effect.scoped(Effect.gen(function*() {
      const settings = yield* Transfer.makeSettings({ partSize: 1000 })
      const error = yield* Effect.flip(Transfer.prepare(Content.make(Stream.fail("disk on fire")), settings))
      expect(error._tag === "UploadError" ? error.reason : error._tag).toBe("Content")
    })))

  it("Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2026-11-24T00:00:00Z")
    expect(RetryPolicy.parseRetryAfter("2", now)).toBe(2000)
    expect(RetryPolicy.parseRetryAfter("Tue, 24 Nov 2026 00:00:05 GMT", now)).toBe(5000)
    expect(RetryPolicy.parseRetryAfter("soon", now)).toBeUndefined()
    expect(RetryPolicy.parseRetryAfter(undefined, now)).toBeUndefined()
  })

  it.effect.prop(
    "toParts: any chunking gives parts of exactly partSize (the last shorter), together the same bytes",
    [FastCheck.array(FastCheck.integer({ min: 0, max: 300 }), { maxLength: 20 }), FastCheck.integer({ min: 1, max: 120 })],
    ([lengths, partSize]) =>
      Effect.gen(function*() {
        let next = 0
        const chunks = lengths.map((n) => Uint8Array.from({ length: n }, () => next++ & 0xff))
        const total = next
        const parts = Chunk.toArray(yield* Stream.runCollect(Transfer.toParts(Stream.fromIterable(chunks), partSize)))
        expect(parts.length).toBe(Math.max(1, Math.ceil(total / partSize)))
        parts.slice(0, -1).forEach((part) => expect(part.byteLength).toBe(partSize))
        expect(Buffer.concat(parts)).toEqual(Buffer.concat(chunks))
      })
  )

  it.effect.prop(
    "planParts: 1 to 250 parts of at most 4000 MiB that cover the size, none empty",
    [FastCheck.integer({ min: 0, max: 250 * 4000 * MiB }), FastCheck.constantFrom(5 * MiB, 50 * MiB, 64 * MiB)],
    ([size, partSize]) =>
      Effect.gen(function*() {
        const plan = yield* Transfer.planParts(size, partSize)
        expect(plan.parts).toBeGreaterThanOrEqual(1)
        expect(plan.parts).toBeLessThanOrEqual(250)
        expect(plan.partSize).toBeLessThanOrEqual(4000 * MiB)
        expect(plan.partSize * plan.parts).toBeGreaterThanOrEqual(size)
        if (plan.parts > 1) {
          expect(plan.partSize).toBeGreaterThanOrEqual(partSize)
          expect((plan.parts - 1) * plan.partSize).toBeLessThan(size)
        }
      })
  )
})
