/**
 * Requests that cannot be sent fail at once, and are never retried: a token with a line break (read from a file with
 * a trailing CRLF) is an `AuthError` before any request, and a header the HTTP client refuses (undici's
 * `UND_ERR_INVALID_ARG`) is a fatal transport failure in the connect phase, not a transient one retried for
 * minutes. Real emulator on a loopback port, undici, the default retry schedules.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Emulator } from "@effect-cdf/emulator"
import { CdfAuth, CdfClient, CdfConfig, Files } from "@effect-cdf/files"
import * as NodeTransport from "@effect-cdf/files/NodeTransport"
import { Cause, Effect, Exit, Layer, Option, Redacted } from "effect"
import { hostile } from "./HostileFixtures.js"

/** The client with the default schedules on an emulator on a port; `token` made from the emulator's. */
const client = (token: (emulatorToken: string) => string, transport: "ours" | "platform") =>
  Layer.unwrapEffect(Effect.map(Emulator.Emulator, (emulator) =>
    Files.layer.pipe(
      Layer.provide(CdfClient.layer),
      Layer.provide(CdfConfig.layer({ baseUrl: emulator.baseUrl, project: emulator.project })),
      Layer.provide(CdfAuth.layerToken(Redacted.make(token(Redacted.value(emulator.token)))))
    ))).pipe(
      Layer.provideMerge(Layer.orDie(Emulator.layerServer({}))),
      Layer.provideMerge(transport === "ours" ? NodeTransport.layer : NodeHttpClient.layerUndici)
    )

describe("requests that cannot be sent", () => {
  for (const transport of ["ours", "platform"] as const) {
    for (const [name, suffix] of [["CRLF", "\r\n"], ["LF", "\n"], ["NUL", "\u0000"]] as const) {
      it.effect(`a token ending in ${name} (${transport}): AuthError TokenRequest, zero requests, no retries`, () =>
        Effect.gen(function*() {
          const { error, files, requests } = yield* hostile(Files.uploadBytes("x", { name: "t.txt" }))
          expect(error).toMatchObject({ _tag: "AuthError", reason: "TokenRequest" })
          expect(error.message).toContain("line break")
          expect(requests).toEqual([])
          expect(files).toBe(0)
        }).pipe(Effect.provide(client((token) => token + suffix, transport))))
    }
  }

  it.effect("a mimeType with a line break: InvalidFileMetadataError before any request (it would be the PUT's Content-Type)", () =>
    Effect.gen(function*() {
      const { error, requests } = yield* hostile(
        Files.uploadBytes("x", { name: "m.txt", externalId: "m", mimeType: "text/plain\r\nx-injected: 1" })
      )
      expect(error).toMatchObject({ _tag: "InvalidFileMetadataError", option: "mimeType" })
      expect(requests).toEqual([])
    }).pipe(Effect.provide(client((token) => token, "ours"))))

  it.effect("a Content-Type the HTTP client refuses: a fatal failure of the PUT, which never reaches storage", () =>
    Effect.gen(function*() {
      // a record made by another client, whose mime type storage would get as the PUT's Content-Type
      const emulator = yield* Emulator.Emulator
      yield* emulator.reset
      const response = yield* Effect.promise(() =>
        fetch(`${emulator.baseUrl}/api/v1/projects/${emulator.project}/files`, {
          method: "POST",
          headers: { authorization: `Bearer ${Redacted.value(emulator.token)}`, "content-type": "application/json" },
          body: JSON.stringify({ name: "other.txt", externalId: "other", mimeType: "text/plain\r\nx-injected: 1" })
        })
      )
      expect(response.status).toBe(201)
      const exit = yield* Effect.exit(Files.uploadContentBytes("x", { externalId: "other" }))
      const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
      expect(Option.map(error, (e) => [e._tag, "reason" in e ? e.reason : undefined, e.message])).toEqual(Option.some([
        "UploadError",
        "Transport",
        "the HTTP client refused to send the upload, so nothing was sent (a header it cannot hold, such as a mime " +
        "type with a line break?)"
      ]))
      const requests = (yield* emulator.requests).map((r) => `${r.method} ${r.route}`)
      expect(requests).toEqual(["POST files.create", "POST files.uploadlink"])
    }).pipe(Effect.provide(client((token) => token, "ours"))))
})
