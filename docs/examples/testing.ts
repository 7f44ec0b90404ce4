/**
 * Testing your own code that calls Files: against the emulator in memory, or against a stub Files layer.
 * Quoted by docs/testing.md. `main` runs both (it needs no server).
 */
import { Emulator } from "@effect-cdf/emulator"
import { CdfAuth, CdfClient, CdfConfig, FileMetadata, Files } from "@effect-cdf/files"
import { Effect, Fiber, Layer, Stream, TestClock } from "effect"

// Your code: it needs the Files service, not a transport or credentials.
export const archiveReport = (report: string) =>
  Files.uploadBytes(report, {
    name: "report.csv",
    directory: "/reports",
    mimeType: "text/csv",
    metadata: { kind: "daily" }
  }).pipe(Effect.map((file) => file.id))

// 1. The emulator in memory: a faithful CDF Files API behind an HttpClient, no socket, TestClock-friendly.
export const filesOnEmulator = Layer.unwrapEffect(
  Effect.map(Emulator.Emulator, (emulator) =>
    Files.layer.pipe(
      Layer.provide(CdfClient.layer),
      Layer.provide(CdfConfig.layer({
        baseUrl: emulator.baseUrl,
        project: emulator.project,
        allowInsecureHttp: true // the in-memory origin is http://emulator.cdf.test
      })),
      Layer.provide(CdfAuth.layerToken(emulator.token))
    ))
).pipe(Layer.provideMerge(Emulator.layerInMemory()))

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

export const main = async () => ({
  sha256: await Effect.runPromise(testWithEmulator),
  stubbedId: await Effect.runPromise(testWithStub)
})
