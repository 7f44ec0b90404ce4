/**
 * The CDF Files emulator in your own code and tests. Quoted by docs/emulator.md.
 * `main` starts its own emulators (it ignores `env`): one in memory, one on a loopback port.
 */
import { Emulator } from "@effect-cdf/emulator"
import { CdfAuth, CdfClient, CdfConfig, Files } from "@effect-cdf/files"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { createHash } from "node:crypto"

// 1. The client stack over whatever emulator is provided: base URL, project and a valid token come from it.
const FilesOverEmulator = Layer.unwrapEffect(Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  return Files.layer.pipe(
    Layer.provide(CdfClient.layer),
    Layer.provide(CdfConfig.layer({ baseUrl: emulator.baseUrl, project: emulator.project, allowInsecureHttp: true })),
    Layer.provide(CdfAuth.layerToken(emulator.token))
  )
}))

// 2. In memory: no socket; the emulator's layer also provides the HttpClient that answers its URLs.
//    In @effect/vitest, `it.effect` + this layer runs on the TestClock (delays, token expiry, uploadedDelay).
const InMemory = FilesOverEmulator.pipe(
  Layer.provideMerge(Emulator.layerInMemory({ faults: [
    // the first PUT to an upload URL answers 503 with Retry-After: the client must retry it
    { route: "storage.put", attempts: [1], action: { _tag: "Status", status: 503, retryAfter: "0" } }
  ] }))
)

// 3. On a real loopback port (any free port), with undici as the client's transport.
const OnPort = FilesOverEmulator.pipe(
  Layer.provideMerge(Emulator.layerServer({ storageOrigin: "separate" })),
  Layer.provideMerge(NodeHttpClient.layerUndici)
)

// 4. Upload, then inspect what arrived: the stored sha256 and every PUT with its headers.
const uploadAndInspect = Effect.gen(function*() {
  const content = "hello, emulator"
  const file = yield* Files.uploadBytes(content, { name: "hello.txt", externalId: "hello", mimeType: "text/plain" })
  const emulator = yield* Emulator.Emulator
  const [stored] = yield* emulator.files
  const expected = createHash("sha256").update(content).digest("hex")
  if (stored.sha256 !== expected) throw new Error("stored bytes differ")
  return {
    id: file.id,
    puts: stored.puts.map((put) => ({ status: put.status, authorization: put.authorization })),
    requests: (yield* emulator.requests).map((request) => `${request.route} #${request.attempt} -> ${request.status}`)
  }
})

export const main = async (_env: { baseUrl: string; project: string; token: string }) => {
  const inMemory = await Effect.runPromise(uploadAndInspect.pipe(Effect.provide(InMemory)))
  console.log(inMemory.requests) // [ "files.create #1 -> 201", "storage.put #1 -> 503", "storage.put #2 -> 201" ]
  const onPort = await Effect.runPromise(uploadAndInspect.pipe(Effect.provide(OnPort)))
  return { inMemory, onPort }
}
