/**
 * Upload URLs expire (`uploadUrlLifetime`, `--upload-url-lifetime`): a PUT of a single upload or of a part after
 * the lifetime gets storage's 403 (AuthenticationFailed), before it 201; the default lasts days. The bin takes the
 * flag.
 */
import { Emulator } from "@effect-cdf/emulator"
import * as Command from "@effect/platform/Command"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { builtBin, json, postJson, put } from "./utils.js"

const bytes = new Uint8Array(2048).fill(7)

describe("upload URL lifetime", () => {
  it.effect("a single PUT and a part after the lifetime: 403 AuthenticationFailed; in time: 201", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const single = yield* json(yield* postJson("files", { name: "s.bin", externalId: "s" }))
      const init = yield* json(yield* postJson("files/initmultipartupload?parts=2", { name: "m.bin", externalId: "m" }))
      const urls = init.uploadUrls as Array<string>
      yield* TestClock.adjust("59 seconds")
      expect((yield* put(urls[0]!, bytes)).status).toBe(201)
      yield* TestClock.adjust("1 second")
      const late = yield* put(single.uploadUrl as string, bytes)
      expect(late.status).toBe(403)
      expect(yield* late.text).toContain("AuthenticationFailed")
      expect((yield* put(urls[1]!, bytes)).status).toBe(403)
      // a fresh link for the same file works again
      const again = yield* json(yield* postJson("files/uploadlink", { items: [{ externalId: "s" }] }))
      const url = (again.items as Array<{ uploadUrl: string }>)[0]!.uploadUrl
      expect((yield* put(url, bytes)).status).toBe(201)
      const files = yield* emulator.files
      expect(files.find((f) => f.externalId === "s")?.puts.map((p) => p.status)).toEqual([403, 201])
    }).pipe(Effect.provide(Emulator.layerInMemory({ uploadUrlLifetime: "1 minute" }))))

  it.effect("by default an upload URL still works after 6 days", () =>
    Effect.gen(function*() {
      const single = yield* json(yield* postJson("files", { name: "s.bin" }))
      yield* TestClock.adjust("6 days")
      expect((yield* put(single.uploadUrl as string, bytes)).status).toBe(201)
    }).pipe(Effect.provide(Emulator.layerInMemory())))

  it.scopedLive("the bin takes --upload-url-lifetime and refuses a malformed one (exit 2)", () =>
    Effect.gen(function*() {
      const bin = builtBin()
      const ok = yield* Command.start(Command.make("node", bin, "--port", "0", "--json", "--upload-url-lifetime", "2"))
      const line = yield* ok.stdout.pipe(Stream.decodeText(), Stream.splitLines, Stream.runHead)
      expect(Option.getOrThrow(line)).toContain("baseUrl")
      yield* ok.kill("SIGINT")
      const bad = yield* Command.exitCode(Command.make("node", bin, "--port", "0", "--upload-url-lifetime", "soon"))
      expect(bad).toBe(2)
    }).pipe(Effect.provide(NodeContext.layer)), 60_000)
})
