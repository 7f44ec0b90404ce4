/**
 * Downloads under the client-wide transfer limit, and verify's read-back hashed as a stream:
 * - on a real port (undici, live clock), storage GETs hold a permit of `maxConcurrentTransfers` from the request
 *   until their body ends: with 1, two downloads (and a verified upload's read-back) never overlap; with 2 they do;
 *   a GET that fails mid-body gives its permit back, so the retry (and the other download) proceed; a body that
 *   will not be read (a file that changed between attempts) is closed, not left running on its connection;
 * - in memory, the bytes read back by `verify: true` are hashed as they arrive: the hash never lags the body by
 *   more than a few chunks (it would lag by the whole file if the download were gathered first), and a corrupted
 *   stored byte still fails with `DownloadError` reason `Mismatch`.
 */
import { Emulator } from "@effect-cdf/emulator"
import { Files } from "@effect-cdf/files"
import * as NodeTransport from "@effect-cdf/files/NodeTransport"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Schedule, Stream } from "effect"
import { createHash } from "node:crypto"
import { Agent } from "undici"
import { type Hash, Sha256Factory } from "../src/internal/sha256.js"
import { inMemory, onPort } from "./FilesFixtures.js"

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex")
const bytesOf = (size: number, seed: number) => new Uint8Array(size).map((_, i) => (i * seed + (i >> 9)) % 256)

/** Storage GETs in flight at once (from the request until the body ended or failed), over `base`. */
const countingGets = (base: Layer.Layer<HttpClient.HttpClient>) => {
  const state = { inFlight: 0, max: 0, gets: 0 }
  const layer = Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, (client) =>
      HttpClient.make((request) => {
        if (request.method !== "GET" || !request.url.includes("/download/")) return client.execute(request)
        state.gets++
        state.inFlight++
        state.max = Math.max(state.max, state.inFlight)
        let done = false
        const finish = Effect.sync(() => {
          if (!done) state.inFlight--
          done = true
        })
        return client.execute(request).pipe(
          Effect.map((response) =>
            new Proxy(response, {
              get: (target, key) =>
                key === "stream"
                  ? Stream.ensuring(target.stream, finish)
                  : Reflect.get(target, key, target) as unknown
            }) as HttpClientResponse.HttpClientResponse
          ),
          Effect.tapErrorCause(() => finish)
        )
      }))
  ).pipe(Layer.provide(base))
  return { state, layer }
}

const millis = {
  apiRetrySchedule: Schedule.exponential("5 millis").pipe(Schedule.intersect(Schedule.recurs(3))),
  transferRetrySchedule: Schedule.exponential("5 millis").pipe(Schedule.intersect(Schedule.recurs(3))),
  maxRetryDelay: "50 millis" as const
}

/** Two files of 200 kB, then both downloaded at once with storage paced to 2 MB/s (about 100 ms each). */
const twoDownloads = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  const a = bytesOf(200_000, 7)
  const b = bytesOf(200_000, 11)
  const fa = yield* Files.uploadBytes(a, { name: "a.bin" })
  const fb = yield* Files.uploadBytes(b, { name: "b.bin" })
  yield* emulator.addFault({ route: "storage.get", action: { _tag: "Throttle", bytesPerSecond: 2_000_000 } })
  const read = (id: number) =>
    Effect.map(Stream.runCollect(Files.download({ id })), (chunks) => sha256(Buffer.concat(Chunk.toArray(chunks))))
  const [ha, hb] = yield* Effect.all([read(fa.id), read(fb.id)], { concurrency: "unbounded" })
  expect([ha, hb]).toEqual([sha256(a), sha256(b)])
})

describe("downloads hold a transfer permit (real port)", () => {
  const one = countingGets(NodeTransport.layer)
  it.live("maxConcurrentTransfers 1: two concurrent downloads never overlap at storage", () =>
    twoDownloads.pipe(
      Effect.tap(() => {
        expect(one.state.gets).toBe(2)
        expect(one.state.max).toBe(1)
      }),
      Effect.provide(onPort({}, { ...millis, maxConcurrentTransfers: 1 }, one.layer))
    ))

  const two = countingGets(NodeTransport.layer)
  it.live("maxConcurrentTransfers 2: the same two downloads do overlap (what the limit prevents)", () =>
    twoDownloads.pipe(
      Effect.tap(() => expect(two.state.max).toBe(2)),
      Effect.provide(onPort({}, { ...millis, maxConcurrentTransfers: 2 }, two.layer))
    ))

  const reset = countingGets(NodeTransport.layer)
  it.live("a GET reset mid-body gives its permit back: with 1 permit, the retry and a verified upload complete", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const content = bytesOf(300_000, 13)
      const file = yield* Files.uploadBytes(content, { name: "r.bin" })
      yield* emulator.addFault({ route: "storage.get", attempts: [1], action: { _tag: "ResetAfterBytes", bytes: 100_000 } })
      const [bytes, verified] = yield* Effect.all([
        Effect.map(Stream.runCollect(Files.download({ id: file.id })), (c) => Buffer.concat(Chunk.toArray(c))),
        Files.uploadBytes(bytesOf(50_000, 3), { name: "v.bin", verify: true })
      ], { concurrency: "unbounded" })
      expect(sha256(bytes)).toBe(sha256(content))
      expect(verified.uploaded).toBe(true)
      expect(reset.state.gets).toBe(3)
      expect(reset.state.max).toBe(1)
    }).pipe(Effect.provide(onPort({}, { ...millis, maxConcurrentTransfers: 1 }, reset.layer))))
})

/** A sha256 factory (node:crypto) that records, per hash made, how many bytes it was given. */
const recordingFactory = () => {
  const hashed: Array<number> = []
  const make = (): Hash => {
    const index = hashed.push(0) - 1
    const hash = createHash("sha256")
    return {
      update: (data) => {
        hashed[index]! += data.byteLength
        hash.update(data)
      },
      digestHex: () => hash.digest("hex")
    }
  }
  return { hashed, make }
}

/** Over `base`: a tap on the body of every storage GET, told the bytes that body has delivered so far. */
const watchingGets = (base: Layer.Layer<HttpClient.HttpClient>, onBytes: (delivered: number) => void) =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, (client) =>
      HttpClient.make((request) =>
        request.method !== "GET" || !request.url.includes("/download/") ? client.execute(request) : client.execute(request).pipe(
          Effect.map((response) =>
            new Proxy(response, {
              get: (target, key) => {
                if (key !== "stream") return Reflect.get(target, key, target) as unknown
                let delivered = 0
                return Stream.tap(target.stream, (chunk) =>
                  Effect.sync(() => {
                    delivered += chunk.byteLength
                    onBytes(delivered)
                  }))
              }
            }) as HttpClientResponse.HttpClientResponse
          )
        )
      ))
  ).pipe(Layer.provide(base))

describe("verify: true hashes the read-back as a stream", () => {
  const factory = recordingFactory()
  // what the download's body has delivered, against what its hash (the last one made) has taken
  const lag = { max: 0, samples: 0 }
  const transport = watchingGets(NodeTransport.layer, (delivered) => {
    lag.samples++
    lag.max = Math.max(lag.max, delivered - factory.hashed[factory.hashed.length - 1]!)
  })
  it.live("16 MiB read back on a real port: the hash never lags the body by more than 1 MiB", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const size = 16 * 1024 * 1024
      const content = bytesOf(size, 5)
      const file = yield* Files.uploadBytes(content, { name: "big.bin", verify: true }).pipe(
        Effect.provideService(Sha256Factory, factory.make)
      )
      expect(file.uploaded).toBe(true)
      // the upload's hash, then the read-back's: each given every byte once
      expect(factory.hashed).toEqual([size, size])
      // many chunks, each hashed before much more arrived (a download gathered first would lag by all 16 MiB)
      expect(lag.samples).toBeGreaterThan(16)
      expect(lag.max).toBeGreaterThan(0)
      expect(lag.max).toBeLessThanOrEqual(1024 * 1024)
      expect((yield* emulator.files)[0]?.sha256).toBe(sha256(content))
    }).pipe(Effect.provide(onPort({}, millis, transport))), 60_000)

  it.effect("a byte flipped in storage: DownloadError Mismatch (the streamed hash differs), the record deleted", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const content = bytesOf(3 * 1024 * 1024, 9)
      yield* emulator.addFault({ route: "storage.get", action: { _tag: "CorruptDownload", offset: 2_000_000 } })
      const error = yield* Effect.flip(Files.uploadBytes(content, { name: "flip.bin", verify: true }))
      expect(error._tag).toBe("DownloadError")
      if (error._tag !== "DownloadError") return
      expect(error.reason).toBe("Mismatch")
      expect(error.expectedSha256).toBe(sha256(content))
      const flipped = Uint8Array.from(content)
      flipped[2_000_000] = flipped[2_000_000]! ^ 0xff
      expect([error.actualSha256 === sha256(flipped) || error.actualSha256 !== sha256(content)]).toEqual([true])
      expect(error.cleanup?.deleted).toBe(true)
      expect((yield* emulator.files).length).toBe(0)
    }).pipe(Effect.provide(inMemory())))
})

describe("a download body that is not read is closed (real port)", () => {
  // the transport CdfClient uses by default (NodeTransport's untraced variant), on an undici Agent in sight
  const agent = new Agent()
  const transport = NodeTransport.layerHttpClient.pipe(Layer.provide(Layer.succeed(NodeHttpClient.Dispatcher, agent)))

  it.live("the file changed between attempts: DownloadError Range, and no request is left running on its connection", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const file = yield* Files.uploadBytes(bytesOf(2_000_000, 3), { name: "c.bin", externalId: "changing" })
      yield* emulator.addFault({ route: "storage.get", attempts: [1], action: { _tag: "ResetAfterBytes", bytes: 200_000 } })
      let changed = false
      // at the first chunk, the file gets new content of another size: the resumed GET (a range) announces it
      const error = yield* Files.download({ id: file.id }).pipe(
        Stream.runForEach(() =>
          changed ? Effect.void : Effect.zipRight(
            Effect.sync(() => {
              changed = true
            }),
            Files.uploadBytes(bytesOf(3_000_000, 5), { name: "c.bin", externalId: "changing", overwrite: true })
          )
        ),
        Effect.flip
      )
      expect([error._tag, error._tag === "DownloadError" ? error.reason : undefined]).toEqual(["DownloadError", "Range"])
      expect(error.message).toContain("changed while it was read")
      // a response whose body nobody reads or closes stays `running` on its connection (no garbage-collector net)
      yield* Effect.sleep("100 millis")
      const running = Object.values(agent.stats).map((stats) => stats.running)
      expect(running.length).toBeGreaterThan(0)
      expect(running.every((n) => n === 0)).toBe(true)
    }).pipe(Effect.provide(onPort({}, millis, transport)), Effect.ensuring(Effect.promise(() => agent.destroy()))))
})
