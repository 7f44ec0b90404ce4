/**
 * A job's limits (`internal/runtime.ts`): at most `concurrency` files in flight, and at most `bytesInFlight` bytes of
 * them, whatever the mix of sizes. Each file permit carries a share of the budget, so a small file takes one permit.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc } from "effect"
import { makeLimits, withLimits } from "../src/internal/runtime.js"

describe("a job's limits on files and bytes in flight", () => {
  it.effect.prop(
    "files of any sizes, all started at once: never more than the files or the bytes allowed in flight",
    [
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 1_000_000 }),
      fc.array(fc.integer({ min: 0, max: 2_000_000 }), { minLength: 1, maxLength: 40 })
    ],
    ([concurrency, budget, sizes]) =>
      Effect.gen(function*() {
        const limits = yield* makeLimits(concurrency, budget)
        // the most one file can hold: its share and the rest of the budget, all of it while no other file runs
        const most = budget - (concurrency - 1) * limits.share
        let files = 0
        let bytes = 0
        let peakFiles = 0
        let peakBytes = 0
        let done = 0
        yield* Effect.forEach(sizes, (size) =>
          withLimits(limits, size)(Effect.gen(function*() {
            files++
            bytes += Math.min(size, most)
            peakFiles = Math.max(peakFiles, files)
            peakBytes = Math.max(peakBytes, bytes)
            // hold the permits while the other fibers run and try to take theirs
            for (let i = 0; i < 3; i++) yield* Effect.yieldNow()
            files--
            bytes -= Math.min(size, most)
            done++
          })), { concurrency: "unbounded", discard: true })
        expect(done).toBe(sizes.length)
        expect(peakFiles).toBeLessThanOrEqual(concurrency)
        expect(peakBytes).toBeLessThanOrEqual(budget)
        expect(limits.files.free).toBe(concurrency)
        expect(limits.bytes.free).toBe(limits.bytes.total)
      }),
    { fastCheck: { numRuns: 200 } }
  )

  it.effect("small files take only a file permit: 8 files of 4 KiB run at once under a 256 MiB budget", () =>
    Effect.gen(function*() {
      const limits = yield* makeLimits(8, 256 * 1024 * 1024)
      expect(limits.share).toBe(16 * 1024 * 1024)
      let peak = 0
      let files = 0
      yield* Effect.forEach(Array.from({ length: 32 }, () => 4096), (size) =>
        withLimits(limits, size)(Effect.gen(function*() {
          files++
          peak = Math.max(peak, files)
          // no file touches the bytes of the budget that files past their share take
          expect(limits.bytes.free).toBe(limits.bytes.total)
          yield* Effect.yieldNow()
          files--
        })), { concurrency: "unbounded", discard: true })
      expect(peak).toBe(8)
    }))

  it.effect("a file larger than the budget runs beside small files only, never beside another large one", () =>
    Effect.gen(function*() {
      const limits = yield* makeLimits(4, 1000)
      const running: Array<number> = []
      const seen: Array<ReadonlyArray<number>> = []
      yield* Effect.forEach([5000, 5000, 100, 100, 100], (size) =>
        withLimits(limits, size)(Effect.gen(function*() {
          running.push(size)
          seen.push([...running])
          yield* Effect.yieldNow()
          yield* Effect.yieldNow()
          running.splice(running.indexOf(size), 1)
        })), { concurrency: "unbounded", discard: true })
      expect(seen.every((now) => now.filter((size) => size === 5000).length <= 1)).toBe(true)
      expect(seen.some((now) => now.includes(5000) && now.includes(100))).toBe(true)
    }))
})
