import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
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

const tokenRequest = (form: Record<string, string>, basic?: readonly [string, string]) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = yield* HttpClient.HttpClient
    let request = HttpClientRequest.post(emulator.tokenUrl).pipe(HttpClientRequest.bodyUrlParams(form))
    if (basic !== undefined) request = HttpClientRequest.basicAuth(request, basic[0], basic[1])
    return yield* client.execute(request)
  })

const withToken = (token: string) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = yield* HttpClient.HttpClient
    return yield* client.execute(
      HttpClientRequest.get(api(emulator, "files/1")).pipe(HttpClientRequest.bearerToken(token))
    )
  })

describe("in memory: token endpoint", () => {
  it.effect("form body and HTTP Basic issue tokens; a wrong secret is 401 invalid_client", () =>
    Effect.gen(function*() {
      const form = yield* tokenRequest({
        grant_type: "client_credentials",
        client_id: "me",
        client_secret: "s3cret",
        scope: "https://x/.default"
      })
      expect(form.status).toBe(200)
      const body = yield* json(form)
      expect(body.token_type).toBe("Bearer")
      expect(body.expires_in).toBe(120)
      const basic = yield* tokenRequest({ grant_type: "client_credentials" }, ["me", "s3cret"])
      expect(basic.status).toBe(200)
      const wrong = yield* tokenRequest({ grant_type: "client_credentials", client_id: "me", client_secret: "nope" })
      expect(wrong.status).toBe(401)
      expect((yield* json(wrong)).error).toBe("invalid_client")
      const wrongBasic = yield* tokenRequest({ grant_type: "client_credentials" }, ["me", "nope"])
      expect(wrongBasic.status).toBe(401)
      const grant = yield* tokenRequest({ grant_type: "password", client_id: "me", client_secret: "s3cret" })
      expect(grant.status).toBe(400)
      expect((yield* json(grant)).error).toBe("unsupported_grant_type")
      // the secret never reaches the request log
      const emulator = yield* Emulator.Emulator
      const logged = JSON.stringify(yield* emulator.requests)
      expect(logged).not.toContain("s3cret")
      expect(logged).not.toContain(Buffer.from("me:s3cret").toString("base64"))
    }).pipe(provide({ clientId: "me", clientSecret: "s3cret", tokenLifetime: "2 minutes" })))

  it.effect("tokens expire on the Effect clock; unknown tokens are 401", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const issued = yield* tokenRequest({
        grant_type: "client_credentials",
        client_id: emulator.clientId,
        client_secret: "emulator-secret"
      })
      const token = (yield* json(issued)).access_token as string
      const short = yield* emulator.issueToken({ lifetime: "10 seconds" })
      expect((yield* withToken(token)).status).not.toBe(401)
      expect((yield* withToken(Redacted.value(short))).status).not.toBe(401)
      yield* TestClock.adjust("10 seconds")
      expect((yield* withToken(Redacted.value(short))).status).toBe(401)
      expect((yield* withToken(token)).status).not.toBe(401)
      yield* TestClock.adjust("1 minute")
      expect((yield* withToken(token)).status).toBe(401)
      expect((yield* withToken("made-up")).status).toBe(401)
    }).pipe(provide({ tokenLifetime: "1 minute" })))
})

describe("in memory: records", () => {
  it.effect("overwrite keeps the id, replaces the given fields, keeps assetIds unless given, keeps old content", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const first = yield* json(yield* postJson("files", {
        name: "v1",
        externalId: "doc",
        source: "old",
        metadata: { a: "1" },
        assetIds: [7]
      }))
      yield* put(first.uploadUrl as string, new TextEncoder().encode("version 1"))
      yield* TestClock.adjust("1 second")
      const second = yield* postJson("files?overwrite=TRUE", { name: "v2", externalId: "doc", metadata: { b: "2" } })
      expect(second.status).toBe(201)
      const record = yield* json(second)
      expect(record.id).toBe(first.id)
      expect(record.name).toBe("v2")
      expect(record.source).toBeUndefined()
      expect(record.metadata).toEqual({ b: "2" })
      expect(record.assetIds).toEqual([7])
      expect(record.createdTime).toBe(first.createdTime)
      expect(record.lastUpdatedTime).toBe((first.lastUpdatedTime as number) + 1000)
      let [file] = yield* emulator.files
      expect(file.sha256).toBe(sha256("version 1"))
      yield* put(record.uploadUrl as string, new TextEncoder().encode("version 2"))
      ;[file] = yield* emulator.files
      expect(file.sha256).toBe(sha256("version 2"))
      const third = yield* json(yield* postJson("files?overwrite=true", { name: "v3", externalId: "doc", assetIds: [8] }))
      expect(third.assetIds).toEqual([8])
      expect((yield* emulator.files).length).toBe(1)
    }).pipe(provide()))

  it.effect("uploadlink: 200 with an items wrapper and a fresh upload URL", () =>
    Effect.gen(function*() {
      const created = yield* json(yield* postJson("files", { name: "u", externalId: "u" }))
      const response = yield* postJson("files/uploadlink", { items: [{ externalId: "u" }] })
      expect(response.status).toBe(200)
      const { items } = yield* json(response)
      const [item] = items as ReadonlyArray<Record<string, unknown>>
      expect(item.id).toBe(created.id)
      expect(item.uploadUrl).not.toBe(created.uploadUrl)
      expect((yield* put(item.uploadUrl as string, new Uint8Array([9]))).status).toBe(201)
      const missing = yield* postJson("files/uploadlink", { items: [{ externalId: "nope" }] })
      expect(missing.status).toBe(400)
      expect((yield* json(missing)).error).toMatchObject({ code: 400, missing: [{ externalId: "nope" }] })
    }).pipe(provide()))

  it.effect("byids, GET files/{id} and delete", () =>
    Effect.gen(function*() {
      const a = yield* json(yield* postJson("files", { name: "a", externalId: "a" }))
      const b = yield* json(yield* postJson("files", { name: "b" }))
      const found = yield* json(yield* postJson("files/byids", { items: [{ id: b.id }, { externalId: "a" }] }))
      expect((found.items as ReadonlyArray<Record<string, unknown>>).map((r) => r.name)).toEqual(["b", "a"])
      const missing = yield* postJson("files/byids", { items: [{ id: 999 }, { externalId: "a" }] })
      expect(missing.status).toBe(400)
      expect((yield* json(missing)).error).toMatchObject({ missing: [{ id: 999 }] })
      const ignored = yield* json(
        yield* postJson("files/byids", { items: [{ id: 999 }, { externalId: "a" }], ignoreUnknownIds: true })
      )
      expect((ignored.items as ReadonlyArray<unknown>).length).toBe(1)
      const duplicated = yield* postJson("files/byids", { items: [{ externalId: "a" }, { externalId: "a" }] })
      expect(duplicated.status).toBe(409)
      expect((yield* json(duplicated)).error).toMatchObject({ duplicated: [{ externalId: "a" }] })
      expect((yield* json(yield* getJson(`files/${a.id}`))).externalId).toBe("a")
      expect((yield* getJson("files/999")).status).toBe(400)
      expect((yield* getJson("files/abc")).status).toBe(400)
      expect((yield* postJson("files/delete", { items: [{ id: 999 }] })).status).toBe(400)
      const deleted = yield* postJson("files/delete", { items: [{ externalId: "a" }, { id: b.id }] })
      expect(deleted.status).toBe(200)
      expect(yield* json(deleted)).toEqual({})
      const emulator = yield* Emulator.Emulator
      expect(yield* emulator.files).toEqual([])
      // the externalId is free again
      expect((yield* postJson("files", { name: "a", externalId: "a" })).status).toBe(201)
    }).pipe(provide()))

  it.effect("request log: arrival order, attempts per route, secrets masked; unknown routes are 404 envelopes", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const client = yield* HttpClient.HttpClient
      const created = yield* json(yield* postJson("files", { name: "l" }))
      yield* postJson("files", { name: "l2" })
      yield* put(created.uploadUrl as string, new Uint8Array([1]))
      const unknown = yield* client.execute(
        HttpClientRequest.get(`${emulator.baseUrl}/api/v1/projects/${emulator.project}/nothing/here`)
      )
      expect(unknown.status).toBe(404)
      expect(unknown.headers["x-request-id"]).toBeTypeOf("string")
      expect((yield* json(unknown)).error).toMatchObject({ code: 404 })
      const wrongProject = yield* client.execute(
        HttpClientRequest.post(`${emulator.baseUrl}/api/v1/projects/other/files`).pipe(
          HttpClientRequest.bearerToken(emulator.token),
          HttpClientRequest.bodyUnsafeJson({ name: "x" })
        )
      )
      expect(wrongProject.status).toBe(403)
      const log = yield* emulator.requests
      expect(log.map((r) => [r.route, r.attempt, r.status])).toEqual([
        ["files.create", 1, 201],
        ["files.create", 2, 201],
        ["storage.put", 1, 201],
        ["unknown", 0, 404],
        ["files.create", 3, 403]
      ])
      expect(log[0].headers["authorization"]).toBe("<redacted>")
      expect(log[2].path).not.toContain("sig=")
      expect(JSON.stringify(log)).not.toContain(Redacted.value(emulator.token))
      expect(JSON.stringify(log)).not.toContain((created.uploadUrl as string).split("sig=")[1])
    }).pipe(provide()))
})
