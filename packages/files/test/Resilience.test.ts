import { Emulator } from "@effect-cdf/emulator"
import { Files } from "@effect-cdf/files"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Option, Runtime, Schedule, TestClock } from "effect"
import { inMemory } from "./FilesFixtures.js"

const attemptsOf = (route: Emulator.RouteName) =>
  Effect.flatMap(Emulator.Emulator, (e) => Effect.map(e.requests, (rs) => rs.filter((r) => r.route === route).length))

describe("Resilience (in memory, TestClock)", () => {
  it.effect("Retry-After in seconds is honoured, capped at maxRetryDelay (default 30 s)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({
        route: "files.byids",
        attempts: [1],
        action: { _tag: "Status", status: 429, retryAfter: "120" }
      })
      const fiber = yield* Effect.fork(Effect.either(Files.retrieve({ id: 1 })))
      yield* TestClock.adjust("29 seconds")
      expect(yield* attemptsOf("files.byids")).toBe(1)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      expect(yield* attemptsOf("files.byids")).toBe(2)
    }).pipe(Effect.provide(inMemory())))

  it.effect("Retry-After as an HTTP date on a 503 is honoured", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({
        route: "files.byids",
        attempts: [1],
        action: { _tag: "Status", status: 503, retryAfter: new Date(10_000).toUTCString() }
      })
      const fiber = yield* Effect.fork(Effect.either(Files.retrieve({ id: 1 })))
      yield* TestClock.adjust("9 seconds")
      expect(yield* attemptsOf("files.byids")).toBe(1)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      expect(yield* attemptsOf("files.byids")).toBe(2)
    }).pipe(Effect.provide(inMemory())))

  it.effect("a smaller maxRetryDelay caps Retry-After", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({
        route: "files.create",
        attempts: [1],
        action: { _tag: "Status", status: 429, retryAfter: "3600" }
      })
      const fiber = yield* Effect.fork(Files.uploadBytes("x", { name: "a" }))
      yield* TestClock.adjust("1999 millis")
      expect(yield* attemptsOf("files.create")).toBe(1)
      yield* TestClock.adjust("1 millis")
      const file = yield* Fiber.join(fiber)
      expect(file.name).toBe("a")
      expect(yield* attemptsOf("files.create")).toBe(2)
    }).pipe(Effect.provide(inMemory({}, { maxRetryDelay: "2 seconds" }))))

  it.effect("a short backoff (maxRetryDelay 1 s) with maxRetryAfter 20 s honours a 10 s Retry-After", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({
        route: "files.byids",
        attempts: [1, 2],
        action: { _tag: "Status", status: 429, retryAfter: "10" }
      })
      yield* emulator.addFault({ route: "files.byids", attempts: [3], action: { _tag: "Status", status: 503 } })
      const fiber = yield* Effect.fork(Effect.either(Files.retrieve({ id: 1 })))
      yield* TestClock.adjust("9999 millis")
      expect(yield* attemptsOf("files.byids")).toBe(1)
      yield* TestClock.adjust("1 millis")
      expect(yield* attemptsOf("files.byids")).toBe(2)
      yield* TestClock.adjust("10 seconds")
      expect(yield* attemptsOf("files.byids")).toBe(3)
      // a 503 without Retry-After waits for the backoff, capped at 1 s
      yield* TestClock.adjust("1 second")
      expect(yield* attemptsOf("files.byids")).toBe(4)
      yield* Fiber.join(fiber)
    }).pipe(Effect.provide(inMemory({}, {
      maxRetryDelay: "1 second",
      maxRetryAfter: "20 seconds",
      apiRetrySchedule: Schedule.spaced("1 minute").pipe(Schedule.intersect(Schedule.recurs(5)))
    }))))

  it.effect("a Retry-After longer than maxRetryAfter is waited for only maxRetryAfter", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({
        route: "files.byids",
        attempts: [1],
        action: { _tag: "Status", status: 503, retryAfter: "3600" }
      })
      const fiber = yield* Effect.fork(Effect.either(Files.retrieve({ id: 1 })))
      yield* TestClock.adjust("19999 millis")
      expect(yield* attemptsOf("files.byids")).toBe(1)
      yield* TestClock.adjust("1 millis")
      yield* Fiber.join(fiber)
      expect(yield* attemptsOf("files.byids")).toBe(2)
    }).pipe(Effect.provide(inMemory({}, { maxRetryDelay: "1 second", maxRetryAfter: "20 seconds" }))))

  it.effect("the retry schedule is overridable through CdfConfig", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "files.byids", action: { _tag: "Status", status: 503 } })
      const fiber = yield* Effect.fork(Files.retrieve({ id: 1 }))
      yield* TestClock.adjust("1999 millis")
      expect(yield* attemptsOf("files.byids")).toBe(1)
      yield* TestClock.adjust("1 millis")
      expect(yield* attemptsOf("files.byids")).toBe(2)
      yield* TestClock.adjust("2 seconds")
      expect(yield* attemptsOf("files.byids")).toBe(3)
      yield* TestClock.adjust("1 hour")
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error._tag).toBe("CdfApiError")
      expect(yield* attemptsOf("files.byids")).toBe(3)
    }).pipe(Effect.provide(inMemory({}, {
      apiRetrySchedule: Schedule.spaced("2 seconds").pipe(Schedule.intersect(Schedule.recurs(2)))
    }))))

  it.effect("an attempt that gets no answer times out after apiTimeout and is retried", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const file = yield* Files.uploadBytes("x", { name: "a" })
      yield* emulator.addFault({ route: "files.byids", attempts: [1], action: { _tag: "Hang" } })
      const fiber = yield* Effect.fork(Files.retrieve({ id: file.id }))
      yield* TestClock.adjust("4999 millis")
      expect(yield* attemptsOf("files.byids")).toBe(1)
      yield* TestClock.adjust("1 minute")
      expect((yield* Fiber.join(fiber)).id).toBe(file.id)
      expect(yield* attemptsOf("files.byids")).toBe(2)
    }).pipe(Effect.provide(inMemory({}, { apiTimeout: "5 seconds" }))))

  it.effect("when every attempt times out: CdfTimeoutError kind attempt", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "files.byids", action: { _tag: "Hang" } })
      const fiber = yield* Effect.fork(Files.retrieve({ id: 1 }))
      yield* TestClock.adjust("1 minute")
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error._tag).toBe("CdfTimeoutError")
      if (error._tag === "CdfTimeoutError") {
        expect(error.kind).toBe("attempt")
        expect(error.timeoutMillis).toBe(5000)
      }
      expect(yield* attemptsOf("files.byids")).toBe(2)
    }).pipe(Effect.provide(inMemory({}, { apiTimeout: "5 seconds", apiRetrySchedule: Schedule.recurs(1) }))))

  it.effect("a POST files without externalId that times out is not retried", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "files.create", attempts: [1], action: { _tag: "Hang" } })
      const fiber = yield* Effect.fork(Files.uploadBytes("x", { name: "a" }))
      yield* TestClock.adjust("1 minute")
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error._tag).toBe("CdfTimeoutError")
      expect(yield* attemptsOf("files.create")).toBe(1)
    }).pipe(Effect.provide(inMemory({}, { apiTimeout: "5 seconds" }))))

  it.effect("the overall deadline fails the call with kind deadline and deletes the record it created", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Hang" } })
      const fiber = yield* Effect.fork(Files.uploadBytes("x", { name: "a" }))
      yield* TestClock.adjust("2999 millis")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 millis")
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error._tag).toBe("CdfTimeoutError")
      if (error._tag === "CdfTimeoutError") {
        expect(error.kind).toBe("deadline")
        expect(error.timeoutMillis).toBe(3000)
      }
      expect(error.cleanup?.deleted).toBe(true)
      expect((yield* emulator.files).length).toBe(0)
    }).pipe(Effect.provide(inMemory({}, { deadline: "3 seconds" }))))

  it.effect("interrupting an upload deletes the record it created", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Hang" } })
      const fiber = yield* Effect.fork(Files.uploadBytes("x", { name: "a" }))
      yield* TestClock.adjust("1 second")
      expect((yield* emulator.files).length).toBe(1)
      yield* Fiber.interrupt(fiber)
      expect((yield* emulator.files).length).toBe(0)
      expect(yield* attemptsOf("files.delete")).toBe(1)
    }).pipe(Effect.provide(inMemory())))
})

describe("Effect.runPromise, as a user runs it", () => {
  it.live("the rejection is a FiberFailure; Cause.squash and runPromiseExit give the typed error back", () =>
    Effect.gen(function*() {
      const program = Effect.gen(function*() {
        yield* Files.uploadBytes("first", { name: "a.txt", externalId: "same" })
        return yield* Files.uploadBytes("second", { name: "a.txt", externalId: "same" })
      }).pipe(Effect.provide(inMemory()))

      const rejection = yield* Effect.promise(() => Effect.runPromise(program).then(() => undefined, (e: unknown) => e))
      expect(Runtime.isFiberFailure(rejection)).toBe(true)
      if (!Runtime.isFiberFailure(rejection)) return
      const squashed = Cause.squash(rejection[Runtime.FiberFailureCauseId])
      expect(squashed).toMatchObject({ _tag: "CdfApiError", status: 409 })

      const exit = yield* Effect.promise(() => Effect.runPromiseExit(program))
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) {
        const failure = Cause.failureOption(exit.cause)
        expect(Option.map(failure, (e) => e._tag)).toEqual(Option.some("CdfApiError"))
      }
    }))
})

describe("Interruption while the create is in flight", () => {
  it.effect("waits for the create to answer, then deletes the record it made", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "files.create", action: { _tag: "Delay", millis: 3000 } })
      const upload = yield* Effect.fork(Files.uploadBytes("x", { name: "a" }))
      yield* TestClock.adjust("1 second")
      const interrupting = yield* Effect.fork(Fiber.interrupt(upload))
      yield* TestClock.adjust("5 seconds")
      yield* Fiber.join(interrupting)
      expect(yield* attemptsOf("files.create")).toBe(1)
      expect(yield* attemptsOf("files.delete")).toBe(1)
      expect((yield* emulator.files).length).toBe(0)
      expect(yield* attemptsOf("storage.put")).toBe(0)
    }).pipe(Effect.provide(inMemory())))
})
