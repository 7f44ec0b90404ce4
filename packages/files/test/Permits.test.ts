import { describe, expect, it } from "@effect/vitest"
import { Permits } from "@effect-cdf/files"
import { Deferred, Effect, FastCheck as fc, Fiber, FiberId } from "effect"

/** Lets every forked fiber run until it blocks. */
const settle = Effect.repeatN(Effect.yieldNow(), 20)

describe("Permits", () => {
  it.effect("hands permits out first in, first out", () =>
    Effect.gen(function*() {
      const permits = yield* Permits.make(1)
      const gate = yield* Deferred.make<void>()
      const order: Array<number> = []
      const holder = yield* Effect.fork(permits.withPermits(1)(Deferred.await(gate)))
      yield* settle
      const waiters = yield* Effect.forEach(
        Array.from({ length: 10 }, (_, i) => i),
        (i) => Effect.fork(permits.withPermits(1)(Effect.sync(() => order.push(i)))).pipe(Effect.zipLeft(settle))
      )
      expect(permits.waiting).toBe(10)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holder)
      yield* Effect.forEach(waiters, Fiber.join)
      expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      expect(permits.free).toBe(1)
    }))

  it.effect("a large request is not overtaken by later, smaller ones", () =>
    Effect.gen(function*() {
      const permits = yield* Permits.make(10)
      const gate = yield* Deferred.make<void>()
      const order: Array<string> = []
      const holder = yield* Effect.fork(permits.withPermits(8)(Deferred.await(gate)))
      yield* settle
      const large = yield* Effect.fork(permits.withPermits(5)(Effect.sync(() => order.push("large"))))
      yield* settle
      const small = yield* Effect.fork(permits.withPermits(1)(Effect.sync(() => order.push("small"))))
      yield* settle
      // 2 permits are free, enough for the small request, but it waits behind the large one
      expect(order).toEqual([])
      expect(permits.free).toBe(2)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holder)
      yield* Fiber.join(large)
      yield* Fiber.join(small)
      expect(order).toEqual(["large", "small"])
      expect(permits.free).toBe(10)
    }))

  it.effect("an interrupted waiter leaves the line and takes nothing", () =>
    Effect.gen(function*() {
      const permits = yield* Permits.make(2)
      const gate = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(permits.withPermits(2)(Deferred.await(gate)))
      yield* settle
      const first = yield* Effect.fork(permits.withPermits(2)(Effect.void))
      const second = yield* Effect.fork(permits.withPermits(1)(Effect.succeed("second")))
      yield* settle
      expect(permits.waiting).toBe(2)
      yield* Fiber.interrupt(first)
      expect(permits.waiting).toBe(1)
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(second)).toBe("second")
      yield* Fiber.join(holder)
      expect(permits.free).toBe(2)
    }))

  it.effect("gives the permits back when the effect fails or is interrupted while holding them", () =>
    Effect.gen(function*() {
      const permits = yield* Permits.make(3)
      const failed = yield* Effect.flip(permits.withPermits(2)(Effect.fail("boom")))
      expect(failed).toBe("boom")
      const holding = yield* Effect.fork(permits.withPermits(3)(Effect.never))
      yield* settle
      expect(permits.free).toBe(0)
      yield* Fiber.interrupt(holding)
      expect(permits.free).toBe(3)
      yield* Effect.scoped(Effect.zipRight(permits.withPermitsScoped(2), Effect.sync(() => expect(permits.free).toBe(1))))
      expect(permits.free).toBe(3)
    }))

  it.effect("a request for more than the total takes them all instead of waiting forever", () =>
    Effect.gen(function*() {
      const permits = yield* Permits.make(4)
      const seen = yield* permits.withPermits(100)(Effect.sync(() => permits.free))
      expect(seen).toBe(0)
      expect(permits.free).toBe(4)
    }))

  it.effect("4000 fibers on 16 permits: never more than 16 at once, every one served", () =>
    // Effect.Semaphore wakes every waiter on each release: this many waiters ran out of a 4 GB heap
    Effect.gen(function*() {
      const permits = yield* Permits.make(16)
      let running = 0
      let most = 0
      let done = 0
      yield* Effect.forEach(
        Array.from({ length: 4000 }),
        () =>
          permits.withPermits(1)(Effect.gen(function*() {
            running++
            most = Math.max(most, running)
            yield* Effect.yieldNow()
            running--
            done++
          })),
        { concurrency: "unbounded", discard: true }
      )
      expect(done).toBe(4000)
      expect(most).toBe(16)
      expect(permits.free).toBe(16)
      expect(permits.waiting).toBe(0)
    }))

  it.effect.prop(
    "whatever waiters are interrupted, every permit comes back",
    [fc.array(fc.record({ n: fc.integer({ min: 1, max: 5 }), interrupt: fc.boolean() }), { minLength: 1, maxLength: 40 })],
    ([requests]) =>
      Effect.gen(function*() {
        const permits = yield* Permits.make(5)
        const gate = yield* Deferred.make<void>()
        const fibers = yield* Effect.forEach(requests, ({ n }) =>
          Effect.fork(permits.withPermits(n)(Deferred.await(gate))))
        yield* settle
        yield* Effect.forEach(
          fibers.filter((_, i) => requests[i]!.interrupt),
          (fiber) => Fiber.interruptAsFork(fiber, FiberId.none)
        )
        yield* Deferred.succeed(gate, undefined)
        yield* Effect.forEach(fibers, Fiber.await)
        expect(permits.free).toBe(5)
        expect(permits.waiting).toBe(0)
      })
  )
})
