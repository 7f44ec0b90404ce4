import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { gzipSync } from "node:zlib"
import { api, getJson, json, postJson, put, sha256 } from "./utils.js"

const provide = (options?: Emulator.Options) => Effect.provide(Emulator.layerInMemory(options))

describe("in memory: single upload", () => {
  it.effect("POST files then PUT stores the bytes with their sha256", () =>
    Effect.gen(function*() {
      const created = yield* postJson("files?overwrite=false", { name: "a.txt", externalId: "a", mimeType: "text/plain" })
      expect(created.status).toBe(201)
      expect(created.headers["x-request-id"]).toBeTypeOf("string")
      const body = yield* json(created)
      expect(body.name).toBe("a.txt")
      expect(body.uploaded).toBe(false)
      expect(body.labels).toEqual([])
      const uploadUrl = body.uploadUrl as string
      const bytes = new TextEncoder().encode("hello emulator")
      const stored = yield* put(uploadUrl, bytes, "text/plain")
      expect([200, 201]).toContain(stored.status)
      const emulator = yield* Emulator.Emulator
      const [file] = yield* emulator.files
      expect(file.sha256).toBe(sha256(bytes))
      expect(file.size).toBe(bytes.byteLength)
      expect(file.uploaded).toBe(true)
      expect(file.puts).toEqual([{
        part: undefined,
        status: 201,
        bytes: bytes.byteLength,
        authorization: false,
        cdfHeaders: [],
        contentType: "text/plain",
        contentLength: bytes.byteLength,
        chunked: false
      }])
      const got = yield* json(yield* getJson(`files/${file.id}`))
      expect(got.uploaded).toBe(true)
      expect(got.id).toBe(file.id)
    }).pipe(provide()))

  it.effect("gzip request bodies, trailing slash and True are accepted", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const client = yield* HttpClient.HttpClient
      const response = yield* client.execute(
        HttpClientRequest.post(`${api(emulator, "files/")}?overwrite=True`).pipe(
          HttpClientRequest.bearerToken(emulator.token),
          HttpClientRequest.setHeader("content-encoding", "gzip"),
          HttpClientRequest.bodyUint8Array(gzipSync(JSON.stringify({ name: "z" })), "application/json")
        )
      )
      expect(response.status).toBe(201)
      expect((yield* json(response)).name).toBe("z")
    }).pipe(provide()))

  it.effect("409 with duplicated for an existing externalId", () =>
    Effect.gen(function*() {
      yield* postJson("files", { name: "a", externalId: "x" })
      const again = yield* postJson("files", { name: "a", externalId: "x" })
      expect(again.status).toBe(409)
      expect(yield* json(again)).toEqual({
        error: { code: 409, message: "Duplicate external ids: x", duplicated: [{ externalId: "x" }] }
      })
    }).pipe(provide()))

  it.effect("a missing token is 401 with the CDF envelope", () =>
    Effect.gen(function*() {
      const response = yield* postJson("files", { name: "a" }, { token: false })
      expect(response.status).toBe(401)
      expect(response.headers["x-request-id"]).toBeTypeOf("string")
      expect(yield* json(response)).toEqual({ error: { code: 401, message: "Unauthorized" } })
    }).pipe(provide()))
})
