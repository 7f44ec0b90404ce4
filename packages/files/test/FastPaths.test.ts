/**
 * The cheaper paths of a small upload: the attempt timeout on the live clock, the record copied without its class
 * constructor, and the create request recorded on the `Files.create` span.
 */
import { Emulator } from "@effect-cdf/emulator"
import { CdfTest, Content, FileMetadata, Files } from "@effect-cdf/files"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Equal, Exit, Fiber, Redacted, Schedule, Stream } from "effect"
import * as FilesApi from "../src/internal/fileRecords.js"
import * as RetryPolicy from "../src/internal/retryPolicy.js"
import * as Transfer from "../src/internal/transfer.js"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { inMemory, onPort } from "./FilesFixtures.js"
import * as FileWire from "../src/internal/fileWire.js"

describe("RetryPolicy.attemptTimeout on the live clock", () => {
  const within = <A, E>(self: Effect.Effect<A, E>) =>
    RetryPolicy.attemptTimeout(self, { duration: Duration.minutes(1), onTimeout: () => "timed out" as const })

  it.live("passes success, failure and defects through", () =>
    Effect.gen(function*() {
      expect(yield* within(Effect.succeed(1))).toBe(1)
      expect(yield* Effect.flip(within(Effect.fail("boom" as const)))).toBe("boom")
      const died = yield* Effect.exit(within(Effect.die("bug")))
      expect(Exit.isFailure(died) && Exit.causeOption(died)._tag === "Some").toBe(true)
      expect(yield* within(Effect.async<number>((resume) => {
        setImmediate(() => resume(Effect.succeed(2)))
      }))).toBe(2)
    }))

  // A timer left behind keeps a Node process alive until it fires: a CLI run ended a whole API timeout after its
  // upload. So the check is the process's own: a Node process that runs attempts which end in each way (with a
  // one-minute timeout each) must exit by itself within seconds. (Counting timers in this process could not tell a
  // timer left behind from one of the test runner's.)
  it.live("an attempt that ends (success, failure or interruption) leaves no timer behind: its process exits at once", () =>
    Effect.gen(function*() {
      const script = `
        import * as RetryPolicy from "./dist/internal/retryPolicy.js"
        import { Duration, Effect, Fiber } from "effect"
        const within = (self) =>
          RetryPolicy.attemptTimeout(self, { duration: Duration.minutes(1), onTimeout: () => "timed out" })
        await Effect.runPromise(Effect.gen(function*() {
          yield* within(Effect.succeed(1))
          yield* Effect.flip(within(Effect.fail("boom")))
          yield* within(Effect.sleep("5 millis"))
          const fiber = yield* Effect.fork(within(Effect.never))
          yield* Effect.sleep("5 millis")
          yield* Fiber.interrupt(fiber)
        }))
        process.stdout.write("attempts ended")
      `
      const started = Date.now()
      const result = yield* Effect.async<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resume) => {
        // killed after 30 s: far under the minute a timer left behind would hold the process, far over a start
        const child = execFile(process.execPath, ["--input-type=module", "-e", script], {
          cwd: fileURLToPath(new URL("..", import.meta.url)),
          timeout: 30_000
        }, (error, stdout, stderr) =>
          resume(Effect.succeed({ code: error === null ? 0 : (error.code as number | null) ?? null, signal: child.signalCode, stdout, stderr })))
        return Effect.sync(() => child.kill("SIGKILL"))
      })
      expect(result.stdout, result.stderr).toBe("attempts ended")
      expect(result.signal, "the process was still alive after 30 s").toBeNull()
      expect(result.code).toBe(0)
      expect(Date.now() - started).toBeLessThan(30_000)
    }), 60_000)

  it.live("past the duration: the work is interrupted (its finalizers run first), then onTimeout is the failure", () =>
    Effect.gen(function*() {
      let finalized = false
      const error = yield* Effect.flip(
        RetryPolicy.attemptTimeout(Effect.never.pipe(Effect.ensuring(Effect.sync(() => (finalized = true)))), {
          duration: Duration.millis(20),
          onTimeout: () => "timed out" as const
        })
      )
      expect(error).toBe("timed out")
      expect(finalized).toBe(true)
    }))

  it.live("an interruption of the caller interrupts the work", () =>
    Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const finalized = yield* Deferred.make<void>()
      const work = Deferred.succeed(started, undefined).pipe(
        Effect.zipRight(Effect.never),
        Effect.ensuring(Deferred.succeed(finalized, undefined))
      )
      const fiber = yield* Effect.fork(within(work))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      expect(yield* Deferred.isDone(finalized)).toBe(true)
    }))
})

describe("plainMetadata", () => {
  it("is the record's FileMetadata fields on a FileMetadata, as the class constructor would make it", () => {
    const metadata = { k: "v" }
    const labels = [{ externalId: "l" }]
    const record = new FileWire.UploadFileMetadata({
      id: 7,
      externalId: "x",
      name: "a.txt",
      mimeType: "text/plain",
      metadata,
      labels,
      uploaded: false,
      createdTime: 1000,
      lastUpdatedTime: 2000,
      uploadUrl: Redacted.make("https://storage/put?sig=secret")
    }, { disableValidation: true })
    const plain = FilesApi.plainMetadata(record)
    const expected = new FileMetadata.FileMetadata({
      id: 7,
      externalId: "x",
      name: "a.txt",
      mimeType: "text/plain",
      metadata,
      labels,
      uploaded: false,
      createdTime: 1000,
      lastUpdatedTime: 2000
    }, { disableValidation: true })
    expect(plain).toBeInstanceOf(FileMetadata.FileMetadata)
    expect(plain).not.toBeInstanceOf(FileWire.UploadFileMetadata)
    expect(Equal.equals(plain, expected)).toBe(true)
    expect(Object.keys(plain).sort()).toEqual(Object.keys(expected).sort())
    expect("uploadUrl" in plain).toBe(false)
    expect(plain.createdAt).toEqual(new Date(1000))
    expect(plain.uploadedAt).toBeUndefined()
  })
})

describe("the create request", () => {
  it.live("is recorded on the Files.create span: its retries are events there, the http.client span is its child", () => {
    const recorder = CdfTest.makeRecorder()
    return Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "files.create", attempts: [1], action: { _tag: "Status", status: 429 } })
      const file = yield* Files.uploadBytes("abc", { name: "a.txt" })
      expect(file.name).toBe("a.txt")
      const create = recorder.spans.find((s) => s.name === "Files.create")
      expect(create?.events.map((e) => e.name)).toEqual(["cdf.retry"])
      expect(create?.events[0]?.attributes).toEqual({ "cdf.retry.attempt": 2, "cdf.retry.reason": "status 429" })
      expect(create?.attributes.get("http.request.method")).toBe("POST")
      expect(recorder.spans.filter((s) => s.name.startsWith("CdfClient POST files"))).toEqual([])
      const posts = recorder.spans.filter((s) => s.name === "http.client POST")
      expect(posts.length).toBe(2)
      // the recorder names span n (from 1, in the order they start) `span-n`
      const createId = create === undefined ? "none" : `span-${recorder.spans.indexOf(create) + 1}`
      for (const post of posts) expect(post.parent).toBe(createId)
    }).pipe(recorder.provide, Effect.provide(onPort({}, { apiRetrySchedule: Schedule.recurs(2), traceRequests: true })))
  })

  it.live("by default: one span for the call and one for the transfer; the create's retry is an event on the call's", () => {
    const recorder = CdfTest.makeRecorder()
    return Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "files.create", attempts: [1], action: { _tag: "Status", status: 429 } })
      yield* Files.uploadBytes("abc", { name: "a.txt" })
      expect(recorder.spans.map((s) => s.name)).toEqual(["Files.uploadBytes", "effect-cdf.files.put"])
      const [call, put] = recorder.spans
      expect(call?.events.map((e) => [e.name, e.attributes?.["cdf.retry.reason"]])).toEqual([["cdf.retry", "status 429"]])
      expect(typeof call?.attributes.get("cdf.file.id")).toBe("number")
      expect(put?.parent).toBe("span-1")
    }).pipe(recorder.provide, Effect.provide(onPort({}, { apiRetrySchedule: Schedule.recurs(2) })))
  })

  it.effect("other requests keep their own CdfClient span", () => {
    const recorder = CdfTest.makeRecorder()
    return Effect.gen(function*() {
      const file = yield* Files.uploadBytes("abc", { name: "b.txt" })
      yield* Files.retrieve({ id: file.id })
      expect(recorder.spans.some((s) => s.name === "CdfClient POST files/byids")).toBe(true)
    }).pipe(recorder.provide, Effect.provide(inMemory({}, { traceRequests: true })))
  })
})

describe("Transfer.prepareInMemory", () => {
  it.effect("plans bytes and strings as prepare does, without a scope; other content is left to prepare", () =>
    Effect.gen(function*() {
      const settings = yield* Transfer.makeSettings({ singlePutThreshold: 10, partSize: 6 * 1024 * 1024 })
      const cases: ReadonlyArray<readonly [Content.Input, boolean | undefined]> = [
        [new Uint8Array(10), undefined],
        [new Uint8Array(11), undefined],
        ["héllo", undefined],
        ["", undefined],
        [new Uint8Array(3), true],
        [new Uint8Array(30), false]
      ]
      for (const [input, multipart] of cases) {
        const content = Content.make(input)
        const fast = Transfer.prepareInMemory(content, settings, { multipart })
        expect(fast).toBeDefined()
        if (fast === undefined) continue
        const expected = yield* Effect.scoped(Transfer.prepare(content, settings, { multipart }))
        expect((yield* fast).plan).toEqual(expected.plan)
      }
      const stream = Content.fromFactory(() => Stream.make(new Uint8Array(3)))
      expect(Transfer.prepareInMemory(stream, settings)).toBeUndefined()
    }))
})
