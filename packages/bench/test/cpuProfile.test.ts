/**
 * The profile command's measurement (`internal/cpuProfile.ts`): which component a sampled function is counted in,
 * the arithmetic of the two profiles, and real passes of ours and of the floor against the emulator on a real port,
 * with every file stored and the library's share where it runs and nowhere else.
 */
import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { createHash } from "node:crypto"
import { allocatedBytes, componentOf, cpuByComponent, profileUploads } from "../src/internal/cpuProfile.js"
import { floor } from "../src/internal/floor.js"
import * as Ours from "../src/internal/ours.js"
import type { Target } from "../src/internal/protocol.js"
import type { Uploader } from "../src/internal/uploader.js"

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

// URLs as V8 reports them for pnpm's layout and for the workspace's linked packages
const store = "/repo/node_modules/.pnpm"

describe("cpuProfile", () => {
  it("counts each sampled function in its component", () => {
    const at = (url: string, functionName = "f") => componentOf({ url, functionName })
    expect(at(`file://${store}/effect@3.22.4/node_modules/effect/dist/esm/internal/fiberRuntime.js`)).toBe(
      "effect: fiber runtime"
    )
    expect(at(`file://${store}/effect@3.22.4/node_modules/effect/dist/esm/Schema.js`)).toBe("effect: Schema")
    expect(at(`file://${store}/effect@3.22.4/node_modules/effect/dist/esm/ParseResult.js`)).toBe("effect: Schema")
    expect(at(`file://${store}/effect@3.22.4/node_modules/effect/dist/esm/internal/schema/util.js`)).toBe(
      "effect: Schema"
    )
    expect(at(`file://${store}/effect@3.22.4/node_modules/effect/dist/esm/Option.js`)).toBe("effect: other modules")
    expect(at(`file://${store}/@effect+platform@0.97.2/node_modules/@effect/platform/dist/esm/Headers.js`)).toBe(
      "@effect/platform"
    )
    expect(at(`file://${store}/@effect+platform-node-shared@0.51.2/node_modules/@effect/platform-node-shared/x.js`))
      .toBe("@effect/platform")
    expect(at(`file://${store}/undici@7.30.2/node_modules/undici/lib/dispatcher/client-h1.js`)).toBe("undici")
    expect(at("wasm://wasm/00034eea")).toBe("undici")
    expect(at("node:internal/streams/readable")).toBe("node internals")
    expect(at("file:///repo/packages/files/dist/internal/uploadPut.js")).toBe("the library")
    expect(at(`file://${store}/x/node_modules/@effect-cdf/files/dist/Files.js`)).toBe("the library")
    expect(at("file:///repo/packages/bench/dist/internal/floor.js")).toBe("other JavaScript")
    expect(at("", "(garbage collector)")).toBe("garbage collector")
    expect(at("", "(idle)")).toBe("idle")
    expect(at("", "writev")).toBe("native calls")
    expect(at("", "(program)")).toBe("native calls")
  })

  it("divides self time by the uploads and leaves idle time out; sums the allocation tree", () => {
    const node = (id: number, url: string, functionName = "f") => ({ id, callFrame: { url, functionName } })
    const byComponent = cpuByComponent({
      nodes: [node(1, "", "(idle)"), node(2, "", "(garbage collector)"), node(3, "node:net")],
      samples: [1, 2, 3, 3, 2],
      timeDeltas: [1000, 30, 40, 50, 10]
    }, 10)
    expect(byComponent["garbage collector"]).toBe(4)
    expect(byComponent["node internals"]).toBe(9)
    expect(Object.values(byComponent).reduce((a, b) => a + b, 0)).toBe(13)
    expect(allocatedBytes({ selfSize: 1, children: [{ selfSize: 2, children: [{ selfSize: 4, children: [] }] }] }))
      .toBe(7)
  })

  const clients: ReadonlyArray<readonly [string, (target: Target) => Promise<Uploader>]> = [
    ["ours", (target) => Ours.make(target, { checksum: false, maxConcurrentTransfers: 4 })],
    ["floor", floor]
  ]
  for (const [name, make] of clients) {
    it.live(`${name}: three passes after the warm-up, every file stored`, () =>
      Effect.scoped(Effect.gen(function*() {
        const emulator = yield* Emulator.makeServer({})
        const uploader = yield* Effect.promise(() =>
          make({ name: "emulator", baseUrl: emulator.baseUrl, project: emulator.project, token: Redacted.value(emulator.token) })
        )
        const content = Buffer.alloc(2048, "profile")
        const round = yield* Effect.promise(() =>
          profileUploads(uploader, content, { warmup: 4, uploads: 40, concurrency: 4 }).finally(() => uploader.close())
        )
        expect(round.cpu).toBeGreaterThan(0)
        expect(round.allocated).toBeGreaterThan(0)
        expect(round.sampled).toBeCloseTo(Object.values(round.components).reduce((a, b) => a + b, 0), 6)
        // the library's code runs in ours only (the emulator in this process is another package)
        if (name === "ours") expect(round.components["the library"]).toBeGreaterThan(0)
        else expect(round.components["the library"]).toBe(0)
        const files = yield* emulator.files
        const names = ["warmup", "plain", "cpu", "heap"].flatMap((prefix) =>
          Array.from({ length: prefix === "warmup" ? 4 : 40 }, (_, i) => `${prefix}-${i}`)
        )
        expect(files.map((file) => file.name).sort()).toEqual(names.sort())
        for (const file of files) expect(file.sha256, file.name).toBe(sha256(content))
      })))
  }
})
