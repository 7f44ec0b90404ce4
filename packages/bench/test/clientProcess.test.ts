/**
 * A client run in its own process (`runClient`, what every benchmark section uses), with and without Node flags of
 * its own (`--node-flags`): the process really runs under the flags it is given, and a run under a valid flag still
 * uploads every file it reports, with its exact bytes. Against the emulator on a real port. The compiled
 * `dist/client.js` is what runs, as in the benchmarks.
 */
import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { createHash } from "node:crypto"
import { runClient } from "../dist/internal/processes.js"
import type { ClientSpec } from "../src/internal/protocol.js"

const KiB = 1024

const specFor = (emulator: Emulator.Service): ClientSpec => ({
  client: "undici",
  target: {
    name: "emulator",
    baseUrl: emulator.baseUrl,
    project: emulator.project,
    token: Redacted.value(emulator.token)
  },
  scenario: { _tag: "Single", size: 4 * KiB, reps: 2, warmups: 1 }
})

describe("client processes", () => {
  it.live("a run under a V8 flag uploads what it reports, with the exact bytes", () =>
    Effect.scoped(Effect.gen(function*() {
      const emulator = yield* Emulator.makeServer({})
      const outcome = yield* Effect.promise(() => runClient(specFor(emulator), 60_000, ["--liftoff-only"]))
      if (outcome._tag !== "Ok") return expect.fail(`the run failed: ${outcome.message}`)
      expect(outcome.result.files).toBe(2)
      expect(outcome.result.bytes).toBe(8 * KiB)
      const files = yield* emulator.files
      // the warm-up upload and the two measured ones
      expect(files).toHaveLength(3)
      // the client's payload (`client.ts`): 4 KiB of "effect-cdf" repeated
      const sent = createHash("sha256").update(Buffer.alloc(4 * KiB, "effect-cdf")).digest("hex")
      for (const file of files) {
        expect(file.size, file.name).toBe(4 * KiB)
        expect(file.sha256, file.name).toBe(sent)
      }
    })), 60_000)

  it.live("the flags reach the client's process: an unknown one stops it before any upload", () =>
    Effect.scoped(Effect.gen(function*() {
      const emulator = yield* Emulator.makeServer({})
      const outcome = yield* Effect.promise(() => runClient(specFor(emulator), 60_000, ["--no-such-flag-here"]))
      expect(outcome._tag).toBe("Failed")
      if (outcome._tag === "Failed") expect(outcome.message).toContain("--no-such-flag-here")
      expect(yield* emulator.files).toHaveLength(0)
    })), 60_000)
})
