/**
 * Testing your own code that calls Files: against the emulator in memory, or against a stub Files layer, with the
 * helpers of CdfTest (recorder of spans and logs, runners for Promise-style test runners).
 * Quoted by docs/testing.md. `main` runs them all (it needs no server).
 */
import { Emulator } from "@effect-cdf/emulator"
import { CdfTest, FileMetadata, Files } from "@effect-cdf/files"
import * as CdfTestEmulator from "@effect-cdf/files/CdfTestEmulator"
import { Effect, Fiber, Layer, Schedule, Stream, TestClock } from "effect"

// Your code: it needs the Files service, not a transport or credentials.
export const archiveReport = (report: string) =>
  Files.uploadBytes(report, {
    name: "report.csv",
    directory: "/reports",
    mimeType: "text/csv",
    metadata: { kind: "daily" }
  }).pipe(Effect.map((file) => file.id))

// 1. The emulator in memory: a faithful CDF Files API behind an HttpClient, no socket, TestClock-friendly, with the
//    Files stack (Files, CdfClient, CdfConfig, CdfAuth) on it.
export const filesOnEmulator = CdfTestEmulator.layer()

export const testWithEmulator = Effect.gen(function*() {
  const id = yield* archiveReport("site,value\noslo,42\n")
  const emulator = yield* Emulator.Emulator
  const [stored] = yield* emulator.files
  // assert what a user would check: the record and the bytes that arrived
  if (stored?.id !== id || stored.size !== 19) return yield* Effect.dieMessage("not stored")
  return stored.sha256
}).pipe(Effect.provide(filesOnEmulator))

// With @effect/vitest: `it.effect("retries a throttled create", () => retriesThrottledCreate)`. it.effect runs on
// a TestClock, and the in-memory emulator sleeps on the Effect clock: no real waiting.
export const retriesThrottledCreate = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  yield* emulator.addFault({
    route: "files.create",
    attempts: [1],
    action: { _tag: "Status", status: 429, retryAfter: "5" }
  })
  const fiber = yield* Effect.fork(archiveReport("a,b\n"))
  yield* TestClock.adjust("5 seconds")
  return yield* Fiber.join(fiber)
}).pipe(Effect.provide(filesOnEmulator))

// 2. A stub: Layer.succeed(Files.Files, ...) with only what your code calls.
const fakeFile = new FileMetadata.FileMetadata({
  id: 42,
  name: "report.csv",
  uploaded: false,
  createdTime: 0,
  lastUpdatedTime: 0
})

export const filesStub = Layer.succeed(
  Files.Files,
  Files.Files.of({
    uploadBytes: () => Effect.succeed(fakeFile),
    upload: () => Effect.die("not used"),
    uploadContentBytes: () => Effect.die("not used"),
    withMultipartUploadSession: () => Effect.die("not used"),
    withMultipartUploadContentSession: () => Effect.die("not used"),
    waitUntilAcknowledged: () => Effect.die("not used"),
    retrieve: () => Effect.succeed(fakeFile),
    retrieveMany: () => Effect.succeed([fakeFile]),
    list: () => Stream.make(fakeFile),
    update: () => Effect.die("not used"),
    delete: () => Effect.die("not used"),
    downloadUrl: () => Effect.die("not used"),
    download: () => Stream.die("not used")
  })
)

export const testWithStub = archiveReport("anything").pipe(Effect.provide(filesStub))

// 3. What the library traced and logged: a recorder of spans (name, attributes, events, status, parent) and log lines.
export const retryIsTraced = Effect.gen(function*() {
  const recorder = CdfTest.makeRecorder()
  const emulator = yield* Emulator.Emulator
  yield* emulator.addFault({ route: "files.create", attempts: [1], action: { _tag: "Status", status: 429 } })
  yield* archiveReport("a,b\n").pipe(recorder.provide)
  const create = recorder.spans.find((span) => span.name === "Files.create")
  return create?.events.map((event) => event.name) // ["cdf.retry"]
}).pipe(Effect.provide(CdfTestEmulator.layer({ config: { apiRetrySchedule: Schedule.recurs(2), traceRequests: true } })))

// 4. In a Promise-style test (vitest's or jest's `it`, node:test): runFailure resolves with the typed error, where
//    Effect.runPromise would reject with a FiberFailure around it.
export const duplicateIsRefused = async () => {
  const twice = Effect.gen(function*() {
    yield* Files.uploadBytes("a", { name: "a.txt", externalId: "daily-report" })
    return yield* Files.uploadBytes("b", { name: "a.txt", externalId: "daily-report" })
  })
  const error = await CdfTest.runFailure(twice.pipe(Effect.provide(CdfTestEmulator.layer())))
  // expect(error).toMatchObject({ _tag: "CdfApiError", status: 409 })
  return error._tag === "CdfApiError" ? error.status : undefined
}

export const main = async () => {
  const result = {
    sha256: await CdfTest.runPromise(testWithEmulator),
    stubbedId: await CdfTest.runPromise(testWithStub),
    retryEvents: await CdfTest.runPromise(retryIsTraced),
    duplicateStatus: await duplicateIsRefused()
  }
  if (result.retryEvents?.[0] !== "cdf.retry" || result.duplicateStatus !== 409) throw new Error(JSON.stringify(result))
  return result
}
