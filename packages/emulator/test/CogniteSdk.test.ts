import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { makeSdkClient } from "./sdk.js"
import { sha256 } from "./utils.js"

describe("the official @cognite/sdk against the emulator", () => {
  it.live("files.upload with string and Buffer content stores the right sha256", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const sdk = yield* Effect.promise(() =>
        makeSdkClient({ baseUrl: emulator.baseUrl, project: emulator.project, token: Redacted.value(emulator.token) })
      )
      const text = "hello from @cognite/sdk ✓"
      const buffer = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 256))
      const first = yield* Effect.promise(() =>
        sdk.files.upload({ name: "text.txt", externalId: "sdk-text", mimeType: "text/plain" }, text)
      )
      const second = yield* Effect.promise(() =>
        sdk.files.upload({ name: "bytes.bin", externalId: "sdk-bytes" }, buffer, false, true)
      )
      expect(first.externalId).toBe("sdk-text")
      expect(second.uploaded).toBe(true)
      const files = yield* emulator.files
      expect(files.map((f) => [f.externalId, f.sha256])).toEqual([
        ["sdk-text", sha256(text)],
        ["sdk-bytes", sha256(buffer)]
      ])
      // @cognite/sdk sends its token to same-origin upload URLs: accepted, recorded
      expect(files.every((f) => f.puts.length === 1 && f.puts[0].authorization)).toBe(true)
      const creates = (yield* emulator.requests).filter((r) => r.route === "files.create")
      expect(creates.map((r) => r.path)).toEqual([
        `/api/v1/projects/${emulator.project}/files/`,
        `/api/v1/projects/${emulator.project}/files/`
      ])
      expect(creates.every((r) => r.headers["authorization"] === "<redacted>")).toBe(true)
    }).pipe(Effect.provide(Emulator.layerServer())))
})
