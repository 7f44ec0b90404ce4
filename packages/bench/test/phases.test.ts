/**
 * The timeline's phases (`internal/phases.ts`) for each client it times, against the emulator on a real port: every
 * upload is exactly one POST and then one PUT as undici sees them, the phases add up to the upload's wall time, and
 * the files are stored. A client that made another request per upload (a token fetch, a retry) fails here.
 */
import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { floor } from "../src/internal/floor.js"
import * as Ours from "../src/internal/ours.js"
import { measure, summarizeRound, wallPhases } from "../src/internal/phases.js"
import { platform } from "../src/internal/platform.js"
import type { Target } from "../src/internal/protocol.js"
import { undici } from "../src/internal/undici.js"
import type { Uploader } from "../src/internal/uploader.js"

const clients: ReadonlyArray<readonly [string, (target: Target) => Promise<Uploader>]> = [
  ["undici", (target) => Promise.resolve(undici(target))],
  ["floor", floor],
  ["platform", platform],
  ["ours", (target) => Ours.make(target, { checksum: false })]
]

describe("timeline phases", () => {
  for (const [name, make] of clients) {
    it.live(`${name}: one POST then one PUT per upload, phases that add up to its time`, () =>
      Effect.scoped(Effect.gen(function*() {
        const emulator = yield* Emulator.makeServer({})
        const uploader = yield* Effect.promise(() =>
          make({ name: "emulator", baseUrl: emulator.baseUrl, project: emulator.project, token: Redacted.value(emulator.token) })
        )
        const rows = yield* Effect.promise(() =>
          measure(uploader, Buffer.alloc(2048, "phases"), { warmup: 2, uploads: 6 }).finally(() => uploader.close())
        )
        expect(rows).toHaveLength(6)
        for (const row of rows) {
          for (const phase of wallPhases) expect(row[phase], phase).toBeGreaterThanOrEqual(0)
          const sum = wallPhases.reduce((total, phase) => total + row[phase], 0)
          expect(sum).toBeCloseTo(row.total, 6)
          expect(row.putWaitCpu).toBeGreaterThanOrEqual(0)
        }
        const round = summarizeRound(rows)
        expect(round.putWaitP90).toBeGreaterThanOrEqual(round.putWait)
        const files = yield* emulator.files
        expect(files.map((file) => file.name).sort()).toEqual(
          [...Array.from({ length: 2 }, (_, i) => `warmup-${i}`), ...Array.from({ length: 6 }, (_, i) => `timeline-${i}`)]
            .sort()
        )
      })))
  }

  it.live("an upload that is not one POST and one PUT is refused", () =>
    Effect.scoped(Effect.gen(function*() {
      const emulator = yield* Emulator.makeServer({})
      const target = { name: "emulator", baseUrl: emulator.baseUrl, project: emulator.project, token: Redacted.value(emulator.token) }
      const plain = undici(target)
      // two uploads per call: ten events too many
      const twice: Uploader = {
        ...plain,
        bytes: async (name, content) => {
          await plain.bytes(`${name}-a`, content)
          return plain.bytes(`${name}-b`, content)
        }
      }
      const error = yield* Effect.promise(() =>
        measure(twice, Buffer.alloc(16, "x"), { warmup: 0, uploads: 1 }).then(
          () => undefined,
          (e: unknown) => e
        ).finally(() => plain.close())
      )
      expect(String(error)).toContain("not one POST's and one PUT's")
    })))
})
