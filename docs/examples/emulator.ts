/**
 * The CDF Files emulator in your own code and tests. Every code block of docs/emulator.md is quoted from here.
 * `main` starts its own emulators (it ignores `env`): in memory, on loopback ports, and on disk.
 */
import { Emulator } from "@effect-cdf/emulator"
import { CdfAuth, CdfClient, CdfConfig, Files } from "@effect-cdf/files"
import { NodeHttpClient } from "@effect/platform-node"
import { expect } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { createHash } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

const sha256 = (content: string) => createHash("sha256").update(content).digest("hex")

// --- starting it in-process
const server = Emulator.layerServer({ port: 0 }) // Layer<Emulator, ServeError>: closes with its scope
const scoped = (dataDir: string) => Emulator.makeServer({ port: 0, dataDir }) // Effect<Service, ServeError, Scope>
const inMemory = Emulator.layerInMemory({ minPartSize: 1024 }) // Layer<Emulator | HttpClient>: no socket

// The client stack over whatever emulator is provided: base URL, project and a valid token come from it.
const FilesOverEmulator = Layer.unwrapEffect(Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  return Files.layer.pipe(
    Layer.provide(CdfClient.layer),
    Layer.provide(CdfConfig.layer({ baseUrl: emulator.baseUrl, project: emulator.project, allowInsecureHttp: true })),
    Layer.provide(CdfAuth.layerToken(emulator.token))
  )
}))

// In memory: the emulator's layer also provides the HttpClient that answers its URLs.
const InMemory = FilesOverEmulator.pipe(
  Layer.provideMerge(Emulator.layerInMemory({ faults: [
    { route: "storage.put", attempts: [1], action: { _tag: "Status", status: 503, retryAfter: "0" } }
  ] }))
)

// On a real loopback port, with undici as the transport.
const OnPort = FilesOverEmulator.pipe(
  Layer.provideMerge(Emulator.layerServer({ storageOrigin: "separate" })),
  Layer.provideMerge(NodeHttpClient.layerUndici)
)

// --- a test body
// In a test file: it.live("stores the bytes after a 503", () => storesAfterA503.pipe(Effect.provide(InMemory)))
// (it.live: the retry waits its backoff, about a second, on the real clock; under it.effect's TestClock the test
// would have to move the clock itself, with TestClock.adjust from a forked fiber)
const storesAfterA503 = Effect.gen(function*() {
  yield* Files.uploadBytes("hello", { name: "hello.txt" })
  const emulator = yield* Emulator.Emulator
  const [file] = yield* emulator.files
  expect(file.sha256).toBe(sha256("hello"))
  expect(file.puts.map((put) => put.status)).toEqual([503, 201])
})

// --- faults
const faultsAtStart = Emulator.layerInMemory({
  faults: [{ route: "files.create", attempts: [1], action: { _tag: "Status", status: 429, retryAfter: "0" } }]
})

const faultsWhileRunning = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  yield* emulator.addFault({ route: "storage.put", action: { _tag: "ResetAfterBytes", bytes: 65536 } })
  yield* emulator.clearFaults
  yield* emulator.reset // also drops files, the request log and attempt counters
})

// --- inspection
const inspect = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  const files = yield* emulator.files // in id order
  const requests = yield* emulator.requests // in arrival order
  return {
    files: files.map((file) => ({ id: file.id, sha256: file.sha256, puts: file.puts.length })),
    requests: requests.map((request) => `${request.route} #${request.attempt} -> ${request.status}`)
  }
})

const upload = Files.uploadBytes("hello, emulator", { name: "hello.txt", externalId: "hello", mimeType: "text/plain" })

export const main = async (_env: { baseUrl: string; project: string; token: string }) => {
  await Effect.runPromise(storesAfterA503.pipe(Effect.provide(InMemory)))
  const onPort = await Effect.runPromise(Effect.zipRight(upload, inspect).pipe(Effect.provide(OnPort)))
  expect(onPort.requests).toEqual(["files.create #1 -> 201", "storage.put #1 -> 201"])
  // the first create answers 429 (Retry-After: 0); the client retries it
  const throttled = await Effect.runPromise(
    Effect.zipRight(upload, inspect).pipe(Effect.provide(FilesOverEmulator.pipe(Layer.provideMerge(faultsAtStart))))
  )
  expect(throttled.requests.slice(0, 2)).toEqual(["files.create #1 -> 429", "files.create #2 -> 201"])
  const cleared = await Effect.runPromise(Effect.zipRight(faultsWhileRunning, inspect).pipe(Effect.provide(inMemory)))
  expect(cleared).toEqual({ files: [], requests: [] })
  const onServer = await Effect.runPromise(
    inspect.pipe(Effect.provide(Layer.merge(server, NodeHttpClient.layerUndici)))
  )
  const dataDir = await mkdtemp(join(tmpdir(), "emulator-example-"))
  try {
    const onDisk = await Effect.runPromise(Effect.scoped(Effect.map(scoped(dataDir), (emulator) => emulator.baseUrl)))
    return { onPort, throttled, onServer, onDisk }
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
}
