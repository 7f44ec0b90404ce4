/**
 * The test helpers users get: `CdfTest` (recorder of spans and logs, runners for Promise-style test runners) and
 * `CdfTestEmulator` (the Files stack on the in-memory emulator).
 */
import { Emulator } from "@effect-cdf/emulator"
import { CdfError, CdfTest, Files } from "@effect-cdf/files"
import * as CdfTestEmulator from "@effect-cdf/files/CdfTestEmulator"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Either, Exit, Redacted, Runtime, Schedule } from "effect"
import { createHash } from "node:crypto"
import { emulatorClientCredentials } from "./FilesFixtures.js"

const sha256 = (data: string) => createHash("sha256").update(data).digest("hex")

describe("CdfTest.makeRecorder", () => {
  it.effect("records spans with their parent, attributes, events and end status, and log lines with annotations", () => {
    const recorder = CdfTest.makeRecorder()
    return Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* Effect.annotateCurrentSpan("answer", 42)
        const span = yield* Effect.currentSpan
        span.event("tick", 0n, { n: 1 })
        yield* Effect.logWarning("careful", "now").pipe(Effect.annotateLogs("file", "a.txt"))
        yield* Effect.fail("boom").pipe(Effect.withSpan("inner"), Effect.ignore)
      }).pipe(Effect.withSpan("outer"))
      yield* Effect.logDebug("quiet").pipe(Effect.annotateLogs("n", 1))
      yield* Effect.logError("broken", Cause.fail("cause-text"))
      const [outer, inner] = recorder.spans
      expect(recorder.spans.map((s) => s.name)).toEqual(["outer", "inner"])
      expect(outer).toMatchObject({ spanId: "span-1", parent: undefined, ended: true })
      expect(outer?.events[0]).toEqual({ name: "tick", attributes: { n: 1 } })
      expect(outer?.attributes.get("answer")).toBe(42)
      expect(inner?.parent).toBe("span-1")
      expect(inner?.status._tag === "Ended" && Exit.isFailure(inner.status.exit)).toBe(true)
      expect(recorder.logs).toEqual([
        { level: "Warning", message: "careful now", annotations: { file: "a.txt" }, cause: undefined },
        { level: "Debug", message: "quiet", annotations: { n: 1 }, cause: undefined },
        { level: "Error", message: "broken", annotations: {}, cause: expect.stringContaining("cause-text") }
      ])
      expect(recorder.dump()).toContain("a.txt")
      expect(recorder.dump()).toContain("boom")
      recorder.clear()
      expect([recorder.spans.length, recorder.logs.length, recorder.dump()]).toEqual([0, 0, "{\"spans\":[],\"logs\":[]}"])
    }).pipe(recorder.provide)
  })

  it.effect("sees what the library traces: the create request and its retry, on the in-memory emulator", () => {
    const recorder = CdfTest.makeRecorder()
    return Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "files.create", attempts: [1], action: { _tag: "Status", status: 429 } })
      yield* Files.uploadBytes("abc", { name: "a.txt" })
      const create = recorder.spans.find((s) => s.name === "Files.create")
      expect(create?.events.map((e) => e.name)).toEqual(["cdf.retry"])
      expect(create?.ended).toBe(true)
      expect(create?.attributes.get("http.request.method")).toBe("POST")
      expect(recorder.dump()).not.toContain(Redacted.value(emulator.token))
    }).pipe(recorder.provide, Effect.provide(CdfTestEmulator.layer({ config: { apiRetrySchedule: Schedule.recurs(2), traceRequests: true } })))
  })
})

describe("CdfTest runners", () => {
  const conflict = Effect.gen(function*() {
    yield* Files.uploadBytes("a", { name: "a.txt", externalId: "same" })
    return yield* Files.uploadBytes("b", { name: "b.txt", externalId: "same" })
  }).pipe(Effect.provide(CdfTestEmulator.layer()))

  it("runFailure resolves with the typed error, where runPromise of Effect rejects with a FiberFailure", async () => {
    const error = await CdfTest.runFailure(conflict)
    expect(error).toMatchObject({ _tag: "CdfApiError", status: 409, duplicated: [{ externalId: "same" }] })
    expect(error).toBeInstanceOf(CdfError.CdfApiError)
    const rejected = await Effect.runPromise(conflict).catch((e: unknown) => e)
    expect(Runtime.isFiberFailure(rejected)).toBe(true)
  })

  it("runFailure rejects when the effect succeeds, and with the defect itself when it dies", async () => {
    await expect(CdfTest.runFailure(Effect.succeed(7))).rejects.toThrow("expected the effect to fail, but it succeeded with 7")
    const defect = new RangeError("bug")
    await expect(CdfTest.runFailure(Effect.die(defect))).rejects.toBe(defect)
    await expect(CdfTest.runFailure(Effect.interrupt)).rejects.toMatchObject({ name: "AbortError" })
  })

  it("runEither gives the success or the typed failure", async () => {
    expect(await CdfTest.runEither(Effect.succeed(1))).toEqual(Either.right(1))
    const failed = await CdfTest.runEither(conflict)
    expect(Either.isLeft(failed) && failed.left._tag).toBe("CdfApiError")
  })

  it("runPromise resolves with the value, or rejects with the typed error itself", async () => {
    expect(await CdfTest.runPromise(Effect.succeed("ok"))).toBe("ok")
    await expect(CdfTest.runPromise(conflict)).rejects.toMatchObject({ _tag: "CdfApiError", status: 409 })
  })
})

describe("CdfTestEmulator", () => {
  it.effect("layer: Files on the in-memory emulator stores the bytes, with the settings given", () =>
    Effect.gen(function*() {
      const file = yield* Files.uploadBytes("hello", { name: "hello.txt" })
      const emulator = yield* Emulator.Emulator
      const [stored] = yield* emulator.files
      expect(stored).toMatchObject({ id: file.id, size: 5, sha256: sha256("hello") })
      const requests = yield* emulator.requests
      expect(requests.find((r) => r.method === "POST")?.headers["x-cdp-app"]).toBe("cdf-test")
    }).pipe(Effect.provide(CdfTestEmulator.layer({ config: { clientName: "cdf-test" } }))))

  it.effect("layer: other credentials, e.g. client credentials against the emulator's token endpoint", () =>
    Effect.gen(function*() {
      const file = yield* Files.uploadBytes("x", { name: "x.txt" })
      expect(file.name).toBe("x.txt")
      const requests = yield* (yield* Emulator.Emulator).requests
      expect(requests.some((r) => r.path.endsWith("/oauth2/token"))).toBe(true)
    }).pipe(Effect.provide(CdfTestEmulator.layer({
      auth: emulatorClientCredentials
    }))))
})
