/**
 * Large and interrupted uploads over a real loopback port (undici), against a disk-backed emulator.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Emulator } from "@effect-cdf/emulator"
import { CdfAuth, CdfClient, CdfConfig, Files, type Progress } from "@effect-cdf/files"
import * as NodeFiles from "@effect-cdf/files/NodeFiles"
import { Duration, Effect, Layer, Schedule, Stream } from "effect"
import { createHash } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { bytesOf, expectCancelledWhileSending } from "./TransferFixtures.js"

const MiB = 1024 * 1024

/** Files over a real-port emulator storing content in `dataDir`, with NodeFiles (spooling) and undici. */
const onPort = (options: Emulator.ServerOptions, config: Partial<CdfConfig.Options>) =>
  Layer.unwrapEffect(Effect.map(Emulator.Emulator, (emulator) =>
    Files.layer.pipe(
      Layer.provide(CdfClient.layer),
      Layer.provide(CdfConfig.layer({ baseUrl: emulator.baseUrl, project: emulator.project, ...config })),
      Layer.provide(CdfAuth.layerToken(emulator.token))
    ))).pipe(
      Layer.provideMerge(Layer.orDie(Emulator.layerServer(options))),
      Layer.provideMerge(NodeHttpClient.layerUndici),
      Layer.merge(NodeFiles.layer)
    )

const withDataDir = <A, E, R>(f: (dataDir: string) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "large-files-test-"))),
    f,
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

describe("large files on a real port", () => {
  it.live("a 200 MiB one-shot stream of unknown length: spooled, sent in parts, stored sha256 matches", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const blocks = [bytesOf(MiB, 1), bytesOf(MiB, 2), bytesOf(MiB, 3)]
        const hash = createHash("sha256")
        const total = 200 * MiB
        // a one-shot stream: a generator object, created once
        const source = (function*() {
          for (let i = 0; i < total / MiB; i++) {
            const block = blocks[i % 3]!
            hash.update(block)
            yield block
          }
        })()
        const seen: Array<Progress.Progress> = []
        const file = yield* Files.uploadBytes(Stream.fromIterable({ [Symbol.iterator]: () => source }), {
          name: "large.bin",
          onProgress: (p) => Effect.sync(() => seen.push(p))
        })
        const emulator = yield* Emulator.Emulator
        const record = (yield* emulator.files).find((f) => f.id === file.id)
        expect([record?.size, record?.uploaded, record?.sha256]).toEqual([total, true, hash.digest("hex")])
        // 16 MiB parts, three at a time
        expect(record?.puts.length).toBe(13)
        expect(seen.at(-1)).toEqual({ sent: total, acknowledged: total, total })
      }).pipe(
        Effect.provide(onPort({ dataDir }, { partSize: 16 * MiB, singlePutThreshold: 16 * MiB, partConcurrency: 3 }))
      )
    ))

  it.live("interrupting an upload aborts its PUTs: no request arrives afterwards and the record is deleted", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      // slow storage, so the upload is surely still in flight when it is interrupted
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Throttle", bytesPerSecond: 512 * 1024 } })
      // the cleanup (files/delete) ran before the interrupt returned; nothing arrives afterwards
      yield* expectCancelledWhileSending((onProgress) =>
        Files.uploadBytes(bytesOf(MiB), { name: "cancelled.bin", onProgress })
      )
    }).pipe(
      Effect.provide(onPort({ minPartSize: 1024 }, {
        partSize: 256 * 1024,
        singlePutThreshold: 256 * 1024,
        partConcurrency: 2,
        transferRetrySchedule: Schedule.spaced("10 millis").pipe(Schedule.intersect(Schedule.recurs(2)))
      }))
    ))

  it.live("a part reset mid-body is retried and the content arrives whole", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", attempts: [2], action: { _tag: "ResetAfterBytes", bytes: 1000 } })
      const bytes = bytesOf(3 * MiB + 5)
      const file = yield* Files.uploadBytes(bytes, { name: "reset.bin" })
      const record = (yield* emulator.files).find((f) => f.id === file.id)
      expect(record?.sha256).toBe(createHash("sha256").update(bytes).digest("hex"))
      const statuses = (yield* emulator.requests).filter((r) => r.route === "storage.put").map((r) => r.status)
      expect(statuses.length).toBe(5) // 4 parts, one of them twice
    }).pipe(
      Effect.provide(onPort({ minPartSize: 1024 }, {
        partSize: MiB,
        singlePutThreshold: MiB,
        transferRetrySchedule: Schedule.spaced("10 millis").pipe(Schedule.intersect(Schedule.recurs(2))),
        maxRetryDelay: Duration.seconds(1)
      }))
    ))
})
