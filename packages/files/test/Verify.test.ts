/**
 * `uploadBytes` with `verify: true`, in memory: the upload goes to the emulator; the download link and the GET of
 * the stored bytes are answered by the test (what storage gives back is chosen: the bytes sent, or other bytes), so
 * the comparison and the cleanup rules are checked whatever the emulator's download routes do. The emulator's own
 * byte-flip fault is used in FilesApi.test.ts.
 */
import { Emulator } from "@effect-cdf/emulator"
import { Files } from "@effect-cdf/files"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, TestClock } from "effect"
import { createHash } from "node:crypto"
import { clientOver } from "./FilesFixtures.js"

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex")

/** The emulator in memory, with `files/downloadlink` and the GET of its URL answered by `stored`. */
const readBackAs = (stored: () => string) => {
  const transport = Layer.effectContext(Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const inner = yield* HttpClient.HttpClient
    const client = HttpClient.make((request, url) => {
      if (url.pathname.endsWith("/files/downloadlink")) {
        return Effect.succeed(HttpClientResponse.fromWeb(
          request,
          Response.json({ items: [{ id: 1, downloadUrl: "http://readback.test/file?sig=s3cret" }] })
        ))
      }
      if (url.host === "readback.test") {
        return Effect.succeed(HttpClientResponse.fromWeb(request, new Response(stored())))
      }
      return inner.execute(request)
    })
    return Context.make(Emulator.Emulator, emulator).pipe(Context.add(HttpClient.HttpClient, client))
  })).pipe(Layer.provide(Emulator.layerInMemory()))
  return Files.layer.pipe(Layer.provideMerge(clientOver()), Layer.provideMerge(transport))
}

describe("uploadBytes with verify: true (in memory)", () => {
  it.effect("bytes read back as sent: succeeds with the acknowledged record", () =>
    Effect.gen(function*() {
      const file = yield* Files.uploadBytes("hello, verify", { name: "v.txt", externalId: "v", verify: true })
      expect(file.uploaded).toBe(true)
      const result = yield* Files.upload("hello, verify", { name: "w.txt", verify: true })
      expect(result.sha256).toBe(sha256("hello, verify"))
    }).pipe(Effect.provide(readBackAs(() => "hello, verify"))))

  it.effect("other bytes read back: DownloadError Mismatch with both sha256, the new record deleted", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const error = yield* Effect.flip(Files.uploadBytes("hello, verify", { name: "v.txt", externalId: "v", verify: true }))
      expect(error._tag).toBe("DownloadError")
      if (error._tag !== "DownloadError") return
      expect(error.reason).toBe("Mismatch")
      expect(error.expectedSha256).toBe(sha256("hello, verify"))
      expect(error.actualSha256).toBe(sha256("hellO, verify"))
      expect(error.cleanup?.deleted).toBe(true)
      expect((yield* emulator.files).length).toBe(0)
      expect(error.message).not.toContain("s3cret")
    }).pipe(Effect.provide(readBackAs(() => "hellO, verify"))))

  it.effect("a mismatch on an overwritten record keeps the record (it was not this call's to delete)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const first = yield* Files.uploadBytes("old", { name: "o.txt", externalId: "o" })
      yield* TestClock.adjust("1 minute")
      const error = yield* Effect.flip(
        Files.uploadBytes("new", { name: "o.txt", externalId: "o", overwrite: true, verify: true })
      )
      expect(error._tag).toBe("DownloadError")
      expect(error.cleanup).toBeUndefined()
      expect((yield* emulator.files).map((f) => f.id)).toEqual([first.id])
    }).pipe(Effect.provide(readBackAs(() => "not new"))))

  it.effect("without verify nothing is read back", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* Files.uploadBytes("plain", { name: "p.txt" })
      const routes = (yield* emulator.requests).map((r) => r.route)
      expect(routes).toEqual(["files.create", "storage.put"])
    }).pipe(Effect.provide(readBackAs(() => "unused"))))
})
