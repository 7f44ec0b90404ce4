/**
 * The one retry and timeout policy: the same classification for an API call and a PUT, the caps of backoff and
 * `Retry-After` as separate settings, and the attempt timeout on `TestClock`.
 */
import { Emulator } from "@effect-cdf/emulator"
import { Files } from "@effect-cdf/files"
import * as Headers from "@effect/platform/Headers"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Clock, Duration, Effect, Fiber, Option, Schedule, TestClock } from "effect"
import * as RetryPolicy from "../src/internal/retryPolicy.js"
import { inMemory } from "./FilesFixtures.js"

const attemptsOf = (route: Emulator.RouteName) =>
  Effect.flatMap(Emulator.Emulator, (e) => Effect.map(e.requests, (rs) => rs.filter((r) => r.route === route).length))

/**
 * The delays of the retries a schedule gives for these failures, one after another (no time passes). Give more
 * failures than it retries: `Schedule.run` also outputs the step at which it stops, which is left out here.
 */
const delaysOf = (
  schedule: Schedule.Schedule<unknown, RetryPolicy.Classified>,
  failures: ReadonlyArray<RetryPolicy.Classified>
) =>
  Effect.map(
    Schedule.run(Schedule.delays(schedule), 0, failures),
    (ds) => Chunk.toArray(ds).map(Duration.toMillis).slice(0, -1)
  )

const failure = (
  kind: RetryPolicy.FailureKind,
  retryAfterMillis: number | undefined = undefined
): RetryPolicy.Classified => ({ kind, retryAfterMillis })

describe("RetryPolicy.makeSchedule", () => {
  it.effect("caps backoff at maxRetryDelay and Retry-After at maxRetryAfter, each on its own", () =>
    Effect.gen(function*() {
      const schedule = RetryPolicy.makeSchedule(Schedule.spaced("10 seconds").pipe(Schedule.intersect(Schedule.recurs(4))), {
        maxRetryDelay: Duration.seconds(1),
        maxRetryAfter: Duration.seconds(20)
      })
      const delays = yield* delaysOf(schedule, [
        failure("transient"),
        failure("throttle", 10_000),
        failure("throttle", 60_000),
        failure("transient", 200),
        failure("transient")
      ])
      expect(delays).toEqual([1000, 10_000, 20_000, 1000])
    }))

  it.effect("stops after maxConnectRetries connect-phase failures, whatever the base schedule allows", () =>
    Effect.gen(function*() {
      const schedule = RetryPolicy.makeSchedule(Schedule.recurs(10), {
        maxRetryDelay: Duration.seconds(1),
        maxRetryAfter: Duration.seconds(1)
      })
      const connects = Array.from({ length: 6 }, () => failure("connect"))
      expect((yield* delaysOf(schedule, connects)).length).toBe(RetryPolicy.maxConnectRetries)
      // other failures do not count against the connect bound
      const mixed = [failure("transient"), failure("transient"), ...connects]
      expect((yield* delaysOf(schedule, mixed)).length).toBe(2 + RetryPolicy.maxConnectRetries)
      // opaque failures (a browser's bare fetch TypeError) count with connect-phase ones
      const opaque = [failure("opaque"), failure("connect"), failure("opaque"), failure("opaque"), failure("opaque")]
      expect((yield* delaysOf(schedule, opaque)).length).toBe(RetryPolicy.maxConnectRetries)
    }))
})

describe("RetryPolicy classification", () => {
  it("Retry-After as seconds or an HTTP date, only on 429 and 503", () => {
    const now = Date.parse("2026-11-24T00:00:00Z")
    const date = Headers.fromInput({ "retry-after": "Tue, 24 Nov 2026 00:00:05 GMT" })
    expect(RetryPolicy.retryAfterOf(429, Headers.fromInput({ "retry-after": "1.5" }), now)).toBe(1500)
    expect(RetryPolicy.retryAfterOf(503, date, now)).toBe(5000)
    expect(RetryPolicy.retryAfterOf(500, date, now)).toBeUndefined()
    expect(RetryPolicy.retryAfterOf(429, Headers.fromInput({ "retry-after": "soon" }), now)).toBeUndefined()
  })

  it("a 401 is a token refresh only from the API; from storage or the identity provider it is final", () => {
    const none = Headers.empty
    expect(RetryPolicy.kindOfStatus(401, none, "api")).toBe("unauthorized")
    expect(RetryPolicy.kindOfStatus(401, none, "storage")).toBe("fatal")
    expect(RetryPolicy.kindOfStatus(401, none, "token")).toBe("fatal")
    expect(RetryPolicy.kindOfStatus(403, none, "api")).toBe("fatal")
    expect(RetryPolicy.kindOfStatus(403, none, "storage")).toBe("fatal")
  })

  it("only 429 and connect-phase failures are retried for a non-idempotent request (an opaque one may have landed)", () => {
    const kinds: ReadonlyArray<RetryPolicy.FailureKind> = [
      "throttle",
      "connect",
      "opaque",
      "transient",
      "unauthorized",
      "fatal"
    ]
    expect(kinds.filter((k) => RetryPolicy.isRetryable("nonIdempotent", failure(k)))).toEqual(["throttle", "connect"])
    expect(kinds.filter((k) => RetryPolicy.isRetryable("idempotent", failure(k)))).toEqual([
      "throttle",
      "connect",
      "opaque",
      "transient"
    ])
    expect(kinds.filter((k) => RetryPolicy.isRetryable("never", failure(k)))).toEqual([])
  })
})

/**
 * Adds `fault` (made at the current time) for the next attempt of `route`, runs `run`, and tells when (ms after the
 * faulted attempt) the next attempt of `route` was made; `undefined` if none within 5 s.
 */
const retriedAfter = <A, E>(
  route: Emulator.RouteName,
  fault: (now: number) => Emulator.FaultAction,
  run: Effect.Effect<A, E, Files.Files>
) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const before = yield* attemptsOf(route)
    yield* emulator.addFault({ route, attempts: [before + 1], action: fault(yield* Clock.currentTimeMillis) })
    const fiber = yield* Effect.fork(Effect.either(run))
    let at: number | undefined
    for (let t = 0; t <= 5000 && at === undefined; t += 100) {
      if ((yield* attemptsOf(route)) >= before + 2) at = t
      else yield* TestClock.adjust("100 millis")
    }
    yield* TestClock.adjust("1 minute")
    yield* Fiber.join(fiber)
    return at
  })

const faults: ReadonlyArray<readonly [string, (now: number) => Emulator.FaultAction, number | undefined]> = [
  ["429 with Retry-After in seconds", () => ({ _tag: "Status", status: 429, retryAfter: "3" }), 3000],
  [
    "503 with Retry-After as an HTTP date",
    (now) => ({ _tag: "Status", status: 503, retryAfter: new Date(now + 2000).toUTCString() }),
    2000
  ],
  ["500 (backoff)", () => ({ _tag: "Status", status: 500 }), 100],
  [
    "409 marked cdf-is-auto-retryable",
    () => ({ _tag: "Status", status: 409, headers: { "cdf-is-auto-retryable": "true" } }),
    100
  ],
  ["500 with a Retry-After (honoured on 429 and 503 only)", () => ({ _tag: "Status", status: 500, retryAfter: "3" }), 100],
  ["400 (never retried)", () => ({ _tag: "Status", status: 400 }), undefined]
]

describe("the same classification for an API call and a PUT", () => {
  const schedule = Schedule.spaced("100 millis").pipe(Schedule.intersect(Schedule.recurs(2)))
  for (const [name, fault, expected] of faults) {
    it.effect(name, () =>
      Effect.gen(function*() {
        const file = yield* Files.uploadBytes("x", { name: "a" })
        const api = yield* retriedAfter("files.byids", fault, Files.retrieve({ id: file.id }))
        const put = yield* retriedAfter("storage.put", fault, Files.uploadBytes("y", { name: "b" }))
        expect({ api, put }).toEqual({ api: expected, put: expected })
      }).pipe(Effect.provide(inMemory({}, { apiRetrySchedule: schedule, transferRetrySchedule: schedule }))))
  }
})

describe("RetryPolicy.attemptTimeout on TestClock", () => {
  const within = <A, E>(self: Effect.Effect<A, E>) =>
    RetryPolicy.attemptTimeout(self, { duration: Duration.seconds(5), onTimeout: () => "timed out" as const })

  it.effect("fails with onTimeout at the duration on the test clock, after interrupting the work", () =>
    Effect.gen(function*() {
      let finalized = false
      const fiber = yield* Effect.fork(within(Effect.never.pipe(Effect.ensuring(Effect.sync(() => (finalized = true))))))
      yield* TestClock.adjust("4999 millis")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 millis")
      expect(yield* Effect.flip(Fiber.join(fiber))).toBe("timed out")
      expect(finalized).toBe(true)
    }))

  it.effect("passes the work's result through when it ends first", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(within(Effect.as(Effect.sleep("4 seconds"), 1)))
      yield* TestClock.adjust("4 seconds")
      expect(yield* Fiber.join(fiber)).toBe(1)
      const failed = yield* Effect.fork(within(Effect.zipRight(Effect.sleep("1 second"), Effect.fail("boom" as const))))
      yield* TestClock.adjust("10 seconds")
      expect(yield* Effect.flip(Fiber.join(failed))).toBe("boom")
    }))
})

describe("RetryPolicy.attemptTimeout: attempts in flight together on TestClock (one shared sleeper)", () => {
  const within = <A, E>(self: Effect.Effect<A, E>, seconds: number) =>
    RetryPolicy.attemptTimeout(self, { duration: Duration.seconds(seconds), onTimeout: () => `timed out ${seconds}` })

  it.effect("each attempt times out at its own deadline, whatever ended or started around it", () =>
    Effect.gen(function*() {
      const late = yield* Effect.fork(within(Effect.never, 10))
      yield* TestClock.adjust("1 second")
      const early = yield* Effect.fork(within(Effect.never, 3))
      const done = yield* Effect.fork(within(Effect.as(Effect.sleep("1 second"), "done"), 5))
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(done)).toBe("done")
      yield* TestClock.adjust("1999 millis")
      expect(Option.isNone(yield* Fiber.poll(early))).toBe(true)
      yield* TestClock.adjust("1 millis")
      expect(yield* Effect.flip(Fiber.join(early))).toBe("timed out 3")
      yield* TestClock.adjust("5999 millis")
      expect(Option.isNone(yield* Fiber.poll(late))).toBe(true)
      const after = yield* Effect.fork(within(Effect.as(Effect.sleep("2 seconds"), "after"), 4))
      yield* TestClock.adjust("1 millis")
      expect(yield* Effect.flip(Fiber.join(late))).toBe("timed out 10")
      yield* TestClock.adjust("2 seconds")
      expect(yield* Fiber.join(after)).toBe("after")
    }))

  it.effect("attempts one after another (the sleeper of an ended one still armed): each times out at its own deadline", () =>
    Effect.gen(function*() {
      // a sequence of requests keeps the idle sleeper for the next attempt: a later deadline waits for it to wake,
      // an earlier one re-arms it
      // an attempt that never ends is still running 1 ms before its deadline, and times out at it
      const timesOutAt = (seconds: number) =>
        Effect.gen(function*() {
          const attempt = yield* Effect.fork(within(Effect.never, seconds))
          yield* TestClock.adjust(`${seconds * 1000 - 1} millis`)
          expect(Option.isNone(yield* Fiber.poll(attempt))).toBe(true)
          yield* TestClock.adjust("1 millis")
          expect(yield* Effect.flip(Fiber.join(attempt))).toBe(`timed out ${seconds}`)
        })
      expect(yield* within(Effect.succeed("first"), 2)).toBe("first")
      yield* timesOutAt(5)
      expect(yield* within(Effect.succeed("second"), 60)).toBe("second")
      yield* timesOutAt(1)
    }))

  it.effect("an interrupted caller with interruptGrace: the work is given the grace to end, then interrupted", () =>
    Effect.gen(function*() {
      let ended = 0
      const work = (seconds: number) =>
        Effect.sleep(Duration.seconds(seconds)).pipe(Effect.zipRight(Effect.sync(() => ended++)))
      const graced = (seconds: number) =>
        RetryPolicy.attemptTimeout(work(seconds), {
          duration: Duration.seconds(60),
          onTimeout: () => "timed out",
          interruptGrace: Duration.seconds(10)
        })
      const quick = yield* Effect.fork(graced(3))
      const slow = yield* Effect.fork(graced(30))
      yield* TestClock.adjust("1 second")
      const interrupting = yield* Effect.fork(Fiber.interruptAll([quick, slow]))
      yield* TestClock.adjust("15 seconds")
      yield* Fiber.join(interrupting)
      // the quick work ended within its grace; the slow one was interrupted when the grace ran out
      expect(ended).toBe(1)
      yield* TestClock.adjust("30 seconds")
      expect(ended).toBe(1)
    }))
})
