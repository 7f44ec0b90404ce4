/**
 * The demo behind `npm run demo`: starts the embedded CDF emulator on a loopback port, uploads with
 * `Files.uploadBytes` over real HTTP (OAuth2 client credentials against the emulator's token endpoint, a small
 * text file in one PUT and a generated 24 MiB file in parts with progress), prints the returned metadata, and
 * checks that the sha256 the emulator stored equals the sha256 of what was uploaded.
 *
 * @since 0.1.0
 */
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { CdfAuth, CdfClient, CdfConfig, Files } from "@effect-cdf/files"
import { Emulator } from "@effect-cdf/emulator"
import { Console, Effect, Layer } from "effect"
import { createHash } from "node:crypto"

const MiB = 1024 * 1024

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")

/** 24 MiB of deterministic pseudo-random bytes. */
const generated = (size: number): Uint8Array => {
  const bytes = new Uint8Array(size)
  let x = 0x2545f491
  for (let i = 0; i < size; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    bytes[i] = x & 0xff
  }
  return bytes
}

const bar = (done: number, total: number): string => {
  const width = 30
  const filled = total === 0 ? width : Math.round((done / total) * width)
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${(done / MiB).toFixed(1)}/${(total / MiB).toFixed(1)} MiB`
}

const program = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  yield* Console.log(`CDF emulator listening at ${emulator.baseUrl} (project "${emulator.project}")`)

  const FilesLive = Files.layer.pipe(
    Layer.provide(CdfClient.layer),
    Layer.provide(CdfConfig.layer({
      baseUrl: emulator.baseUrl,
      project: emulator.project,
      clientName: "effect-cdf-demo",
      // small enough that the demo shows a multipart upload
      singlePutThreshold: 8 * MiB,
      partSize: 8 * MiB
    })),
    Layer.provide(CdfAuth.layerClientCredentials({
      tokenUrl: emulator.tokenUrl,
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
      scopes: [`${emulator.baseUrl}/.default`]
    })),
    Layer.provide(NodeHttpClient.layerUndici)
  )

  const text = "Hello from effect-cdf: uploadBytes as an Effect.\n"
  const big = generated(24 * MiB)

  const uploads = Effect.gen(function*() {
    const hello = yield* Files.uploadBytes(text, {
      name: "hello.txt",
      externalId: "demo-hello",
      mimeType: "text/plain",
      directory: "/demo",
      metadata: { origin: "npm run demo" },
      overwrite: true
    })
    yield* Console.log("\nUploaded hello.txt in one PUT; the metadata the API returned:")
    yield* Console.log(JSON.stringify(hello, null, 2))

    let last = -1
    const large = yield* Files.uploadBytes(big, {
      name: "generated.bin",
      externalId: "demo-generated",
      mimeType: "application/octet-stream",
      overwrite: true,
      onProgress: (p) =>
        Effect.suspend(() => {
          const step = Math.floor((p.acknowledged / (p.total ?? big.byteLength)) * 4)
          if (step === last) return Effect.void
          last = step
          return Console.log(`  ${bar(p.acknowledged, p.total ?? big.byteLength)}`)
        })
    })
    yield* Console.log(`\nUploaded generated.bin (${big.byteLength} bytes) in parts: file id ${large.id}`)
    return [[hello, sha256(new TextEncoder().encode(text))], [large, sha256(big)]] as const
  }).pipe(Effect.provide(FilesLive))

  const results = yield* uploads
  const stored = yield* emulator.files
  yield* Console.log("\nWhat the emulator stored:")
  let ok = true
  for (const [file, expected] of results) {
    const record = stored.find((f) => f.id === file.id)
    const match = record?.sha256 === expected
    ok = ok && match
    yield* Console.log(
      `  ${file.name}: ${record?.size ?? "?"} bytes, sha256 ${record?.sha256 ?? "missing"} ${match ? "== uploaded ✔" : `!= ${expected} ✘`}`
    )
  }
  if (!ok) return yield* Effect.fail(new Error("stored content does not match what was uploaded"))
  yield* Console.log("\nDemo OK: both files stored exactly their bytes.")
})

program.pipe(
  Effect.provide(Emulator.layerServer({ port: 0, minPartSize: 5 * MiB })),
  NodeRuntime.runMain
)
