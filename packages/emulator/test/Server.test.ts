import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { api, json, postJson, put, sha256 } from "./utils.js"

const provide = (options?: Emulator.ServerOptions) =>
  Effect.provide(Layer.merge(Emulator.layerServer(options), NodeHttpClient.layerUndici))

describe("server: single upload over loopback", () => {
  it.live("POST files then PUT stores the bytes", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      expect(emulator.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      const created = yield* postJson("files?overwrite=false", { name: "a.bin" })
      expect(created.status).toBe(201)
      const { uploadUrl } = yield* json(created)
      const bytes = new Uint8Array(100_000).map((_, i) => i % 251)
      const stored = yield* put(uploadUrl as string, bytes)
      expect(stored.status).toBe(201)
      const [file] = yield* emulator.files
      expect(file.sha256).toBe(sha256(bytes))
      expect(file.puts[0].contentType).toBeUndefined()
      expect(file.puts[0].contentLength).toBe(100_000)
    }).pipe(provide()))

  it.live("a ResetAfterBytes fault drops the socket: the client sees a transport error", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { uploadUrl } = yield* json(yield* postJson("files", { name: "r" }))
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "ResetAfterBytes", bytes: 10 } })
      const error = yield* Effect.flip(put(uploadUrl as string, new Uint8Array(100_000)))
      expect(error._tag).toBe("RequestError")
      const [file] = yield* emulator.files
      expect(file.sha256).toBeUndefined()
      expect(file.puts[0].status).toBe(0)
    }).pipe(provide()))

  it.live("a single PUT above the cap is 413 with a storage-style body", () =>
    Effect.gen(function*() {
      const { uploadUrl } = yield* json(yield* postJson("files", { name: "big" }))
      const response = yield* put(uploadUrl as string, new Uint8Array(2000))
      expect(response.status).toBe(413)
      expect(yield* response.text).toContain("<Code>RequestBodyTooLarge</Code>")
    }).pipe(provide({ singlePutLimit: 1000 })))

  it.live("the token endpoint issues tokens the API accepts", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const client = yield* HttpClient.HttpClient
      const tokenResponse = yield* client.execute(
        HttpClientRequest.post(emulator.tokenUrl).pipe(
          HttpClientRequest.bodyUrlParams({
            grant_type: "client_credentials",
            client_id: emulator.clientId,
            client_secret: "emulator-secret"
          })
        )
      )
      expect(tokenResponse.status).toBe(200)
      const token = (yield* json(tokenResponse)).access_token as string
      const response = yield* client.execute(
        HttpClientRequest.post(api(emulator, "files")).pipe(
          HttpClientRequest.bearerToken(token),
          HttpClientRequest.bodyUnsafeJson({ name: "t" })
        )
      )
      expect(response.status).toBe(201)
    }).pipe(provide()))
})
