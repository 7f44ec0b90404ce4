/**
 * The reference clients of the benchmarks (plain undici, the Effect-runtime floor, the bare `@effect/platform`
 * client) must really upload what they are timed for: every file, its exact bytes, one record each. Checked against
 * the emulator on a real port, which validates the requests and hashes what it stores.
 */
import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { createHash } from "node:crypto"
import { floor } from "../src/internal/floor.js"
import { platform } from "../src/internal/platform.js"
import type { Target } from "../src/internal/protocol.js"
import { undici } from "../src/internal/undici.js"
import type { Uploader } from "../src/internal/uploader.js"

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

const clients: ReadonlyArray<readonly [string, (target: Target) => Promise<Uploader>]> = [
  ["undici", (target) => Promise.resolve(undici(target))],
  ["floor", floor],
  ["platform", platform]
]

describe("reference clients", () => {
  for (const [name, make] of clients) {
    it.live(`${name} stores the exact bytes of every file, one record per file`, () =>
      Effect.scoped(Effect.gen(function*() {
        const emulator = yield* Emulator.makeServer({})
        const uploader = yield* Effect.promise(() =>
          make({
            name: "emulator",
            baseUrl: emulator.baseUrl,
            project: emulator.project,
            token: Redacted.value(emulator.token)
          })
        )
        const many = Buffer.alloc(4096, "many files ")
        const one = Buffer.alloc(100_000, "one file ")
        yield* Effect.promise(() => uploader.many("f", many, 24, 4))
        yield* Effect.promise(() => uploader.bytes("one", one))
        yield* Effect.promise(() => uploader.close())
        const files = yield* emulator.files
        const expected = [...Array.from({ length: 24 }, (_, i) => `f-${i}`), "one"].sort()
        expect(files.map((file) => file.name).sort()).toEqual(expected)
        for (const file of files) {
          expect(file.sha256, file.name).toBe(sha256(file.name === "one" ? one : many))
        }
      })))
  }
})
