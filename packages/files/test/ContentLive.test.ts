/**
 * Every content kind over a real loopback port (undici): the bytes stored, Content-Length, no chunked bodies,
 * no credentials on upload URLs, and a one-shot stream never resent.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Emulator } from "@effect-cdf/emulator"
import { CdfAuth, CdfClient, CdfConfig, Content, Files } from "@effect-cdf/files"
import { Effect, Layer, Schedule, Stream } from "effect"
import { bytesOf, sha256 } from "./TransferFixtures.js"

const onPort = (options: Emulator.ServerOptions = {}) =>
  Layer.unwrapEffect(Effect.map(Emulator.Emulator, (emulator) =>
    Files.layer.pipe(
      Layer.provide(CdfClient.layer),
      Layer.provide(CdfConfig.layer({
        baseUrl: emulator.baseUrl,
        project: emulator.project,
        partSize: 64 * 1024,
        singlePutThreshold: 256 * 1024,
        transferRetrySchedule: Schedule.spaced("5 millis").pipe(Schedule.intersect(Schedule.recurs(2)))
      })),
      Layer.provide(CdfAuth.layerToken(emulator.token))
    ))).pipe(
      Layer.provideMerge(Layer.orDie(Emulator.layerServer({ minPartSize: 1024, ...options }))),
      Layer.provideMerge(NodeHttpClient.layerUndici)
    )

describe("content over a real port", () => {
  it.live("every kind stores exactly its bytes, with Content-Length and without credentials", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const bytes = bytesOf(300_000)
      const pooled = Buffer.from("pooled bytes")
      const cases: ReadonlyArray<[string, Content.Input, Uint8Array]> = [
        ["string", "hé ✓", new TextEncoder().encode("hé ✓")],
        ["view", bytes.subarray(100, 50_100), bytes.subarray(100, 50_100)],
        ["pooled Buffer", pooled, new Uint8Array(Buffer.from("pooled bytes"))],
        ["Blob (multipart)", new Blob([bytes]), bytes],
        ["Stream", Stream.make(bytes.subarray(0, 20_000), bytes.subarray(20_000, 60_000)), bytes.subarray(0, 60_000)],
        ["AsyncIterable", (async function*() {
          yield bytes.subarray(0, 1)
          yield bytes.subarray(1, 1000)
        })(), bytes.subarray(0, 1000)],
        ["ReadableStream", new Blob([bytes.subarray(0, 9000)]).stream(), bytes.subarray(0, 9000)],
        ["factory (multipart)", Content.fromFactory(() => Stream.make(bytes), { size: bytes.byteLength }), bytes],
        ["declared one-shot (multipart)", Content.make(Stream.make(bytes), { size: bytes.byteLength }), bytes],
        ["empty", new Uint8Array(0), new Uint8Array(0)]
      ]
      for (const [name, input, expected] of cases) {
        const file = yield* Files.uploadBytes(input, { name: "k.bin" })
        const record = (yield* emulator.files).find((f) => f.id === file.id)
        expect({ name, sha256: record?.sha256, size: record?.size }).toEqual({
          name,
          sha256: sha256(expected),
          size: expected.byteLength
        })
        for (const put of record?.puts ?? []) {
          expect({ name, chunked: put.chunked, auth: put.authorization, cdf: put.cdfHeaders }).toEqual({
            name,
            chunked: false,
            auth: false,
            cdf: []
          })
          expect(put.contentLength).toBe(put.bytes)
        }
      }
    }).pipe(Effect.provide(onPort())))

  it.live("a one-shot stream whose first PUT fails is not resent: UploadError NotReplayable, record deleted", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", attempts: [1], action: { _tag: "Status", status: 503 } })
      const bytes = bytesOf(100_000)
      const error = yield* Effect.flip(
        Files.uploadBytes(Content.make(Stream.make(bytes), { size: bytes.byteLength }), { name: "once.bin" })
      )
      expect(error._tag === "UploadError" ? [error.reason, error.cleanup?.deleted] : error._tag).toEqual([
        "NotReplayable",
        true
      ])
      const puts = (yield* emulator.requests).filter((r) => r.route === "storage.put")
      expect(puts.map((r) => r.status)).toEqual([503])
      expect(yield* emulator.files).toEqual([])
    }).pipe(Effect.provide(onPort())))
})
