/**
 * The same scenarios over both transports: the in-memory HttpClient and a real loopback port (undici).
 * (Scenarios driven by the TestClock live in the in-memory test files.)
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { gzipSync } from "node:zlib"
import { api, getJson, json, postJson, put, sha256 } from "./utils.js"

type Scenario = Effect.Effect<void, unknown, Emulator.Emulator | HttpClient.HttpClient>

const transports = [
  ["in memory", (options: Emulator.Options) => Emulator.layerInMemory(options)],
  ["on a port", (options: Emulator.Options) => Layer.merge(Emulator.layerServer(options), NodeHttpClient.layerUndici)]
] as const

const scenario = (name: string, options: Emulator.Options, body: Scenario) => {
  for (const [transport, layer] of transports) {
    it.live(`${name} (${transport})`, () => body.pipe(Effect.provide(layer(options))))
  }
}

const bytes = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 31 + seed) % 256)

describe("parity: API", () => {
  scenario("create, PUT, byids, GET, delete; sha256 stored", {}, Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const created = yield* postJson("files?overwrite=False", { name: "p.bin", externalId: "p" })
    expect(created.status).toBe(201)
    expect(created.headers["x-request-id"]).toBeTypeOf("string")
    const record = yield* json(created)
    const content = bytes(70_000, 1)
    expect((yield* put(record.uploadUrl as string, content)).status).toBe(201)
    const byids = yield* json(yield* postJson("files/byids", { items: [{ externalId: "p" }] }))
    expect((byids.items as ReadonlyArray<Record<string, unknown>>)[0]).toMatchObject({ id: record.id, uploaded: true })
    expect((yield* json(yield* getJson(`files/${record.id}`))).name).toBe("p.bin")
    const [file] = yield* emulator.files
    expect([file.size, file.sha256, file.puts[0].contentLength]).toEqual([70_000, sha256(content), 70_000])
    expect((yield* postJson("files/delete", { items: [{ id: record.id }] })).status).toBe(200)
    expect(yield* emulator.files).toEqual([])
  }))

  scenario("gzip body, trailing slash, 409 duplicated, 401 without a token, 400 naming a field", {}, Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = yield* HttpClient.HttpClient
    const gz = yield* client.execute(
      HttpClientRequest.post(`${api(emulator, "files/")}?overwrite=false`).pipe(
        HttpClientRequest.bearerToken(emulator.token),
        HttpClientRequest.setHeader("content-encoding", "gzip"),
        HttpClientRequest.bodyUint8Array(gzipSync(JSON.stringify({ name: "g", externalId: "g" }, null, 2)), "application/json")
      )
    )
    expect(gz.status).toBe(201)
    const dup = yield* postJson("files", { name: "g", externalId: "g" })
    expect(dup.status).toBe(409)
    expect((yield* json(dup)).error).toMatchObject({ code: 409, duplicated: [{ externalId: "g" }] })
    const anonymous = yield* postJson("files", { name: "a" }, { token: false })
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers["x-request-id"]).toBeTypeOf("string")
    const invalid = yield* postJson("files", { name: "a", metadata: { ["é".repeat(65)]: "v" } })
    expect(invalid.status).toBe(400)
    expect(JSON.stringify(yield* json(invalid))).toContain("metadata")
  }))

  scenario("token endpoint: form, Basic, invalid_client", {}, Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = yield* HttpClient.HttpClient
    const token = (form: Record<string, string>, basic?: readonly [string, string]) => {
      const request = HttpClientRequest.post(emulator.tokenUrl).pipe(HttpClientRequest.bodyUrlParams(form))
      return client.execute(basic === undefined ? request : HttpClientRequest.basicAuth(request, basic[0], basic[1]))
    }
    const form = yield* token({ grant_type: "client_credentials", client_id: emulator.clientId, client_secret: "emulator-secret" })
    expect(form.status).toBe(200)
    const accessToken = (yield* json(form)).access_token as string
    const usable = yield* client.execute(
      HttpClientRequest.post(api(emulator, "files")).pipe(
        HttpClientRequest.bearerToken(accessToken),
        HttpClientRequest.bodyUnsafeJson({ name: "t" })
      )
    )
    expect(usable.status).toBe(201)
    expect((yield* token({ grant_type: "client_credentials" }, [emulator.clientId, "emulator-secret"])).status).toBe(200)
    const wrong = yield* token({ grant_type: "client_credentials" }, [emulator.clientId, "wrong"])
    expect(wrong.status).toBe(401)
    expect((yield* json(wrong)).error).toBe("invalid_client")
  }))

  scenario("uploadlink: 200 with items; storage 403 without the signature", {}, Effect.gen(function*() {
    yield* postJson("files", { name: "u", externalId: "u" })
    const link = yield* postJson("files/uploadlink", { items: [{ externalId: "u" }] })
    expect(link.status).toBe(200)
    const { items } = yield* json(link)
    const url = (items as ReadonlyArray<Record<string, unknown>>)[0].uploadUrl as string
    const forbidden = yield* put(url.split("?")[0], bytes(3, 0))
    expect(forbidden.status).toBe(403)
    expect(yield* forbidden.text).toContain("<Code>AuthenticationFailed</Code>")
    expect((yield* put(url, bytes(3, 0))).status).toBe(201)
  }))
})

describe("parity: multipart", () => {
  scenario("init flat, parts concurrently out of order, Content-Type refused, missing part, completion", { minPartSize: 1000 }, Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const init = yield* postJson("files/initmultipartupload?overwrite=false&parts=3", { name: "m", externalId: "m" })
    expect(init.status).toBe(201)
    const session = yield* json(init)
    const urls = session.uploadUrls as ReadonlyArray<string>
    const parts = [bytes(1000, 1), bytes(1500, 2), bytes(10, 3)]
    expect((yield* put(urls[0], parts[0], "application/octet-stream")).status).toBe(400)
    yield* Effect.forEach([2, 0], (i) => put(urls[i], parts[i]), { concurrency: 2 })
    const early = yield* postJson("files/completemultipartupload", { externalId: "m", uploadId: session.uploadId })
    expect(early.status).toBe(400)
    expect((yield* put(urls[1], parts[1])).status).toBe(201)
    const done = yield* postJson("files/completemultipartupload", { externalId: "m", uploadId: session.uploadId })
    expect(done.status).toBe(200)
    expect(yield* json(done)).toEqual({})
    const [file] = yield* emulator.files
    expect(file.sha256).toBe(sha256(Buffer.concat(parts)))
    expect(file.puts.map((p) => [p.part, p.status])).toEqual([[0, 400], [2, 201], [0, 201], [1, 201]])
    const link = yield* postJson("files/multiuploadlink?parts=1", { items: [{ externalId: "m" }] })
    expect(link.status).toBe(200)
    expect(((yield* json(link)).items as ReadonlyArray<Record<string, unknown>>)[0].uploadUrls).toHaveLength(1)
  }))
})

describe("parity: faults", () => {
  scenario("Status with Retry-After, then success", {
    faults: [{ route: "files.create", attempts: [1], action: { _tag: "Status", status: 429, retryAfter: "3" } }]
  }, Effect.gen(function*() {
    const first = yield* postJson("files", { name: "a" })
    expect([first.status, first.headers["retry-after"]]).toEqual([429, "3"])
    expect((yield* postJson("files", { name: "a" })).status).toBe(201)
  }))

  scenario("ResetAfterBytes mid-body: a transport error, nothing stored, the retry stores", {}, Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const { uploadUrl } = yield* json(yield* postJson("files", { name: "r" }))
    yield* emulator.addFault({ route: "storage.put", attempts: [1], action: { _tag: "ResetAfterBytes", bytes: 65536 } })
    const content = bytes(300_000, 5)
    const error = yield* Effect.flip(put(uploadUrl as string, content))
    expect(error._tag === "RequestError" && error.reason).toBe("Transport")
    expect((yield* emulator.files)[0].sha256).toBeUndefined()
    expect((yield* put(uploadUrl as string, content)).status).toBe(201)
    const [file] = yield* emulator.files
    expect(file.sha256).toBe(sha256(content))
    expect(file.puts.map((p) => p.status)).toEqual([0, 201])
    expect(file.puts[0].bytes).toBe(65536)
  }))

  scenario("MalformedJson and CommitThenFail", {
    faults: [
      { route: "files.byids", action: { _tag: "MalformedJson" } },
      { route: "files.create", attempts: [1], action: { _tag: "CommitThenFail", mode: "status" } },
      { route: "files.create", attempts: [2], action: { _tag: "CommitThenFail", mode: "drop" } }
    ]
  }, Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    expect((yield* postJson("files", { name: "c1", externalId: "c1" })).status).toBe(503)
    const dropped = yield* Effect.flip(postJson("files", { name: "c2", externalId: "c2" }))
    expect(dropped._tag).toBe("RequestError")
    expect((yield* emulator.files).map((f) => f.externalId)).toEqual(["c1", "c2"])
    const malformed = yield* postJson("files/byids", { items: [{ externalId: "c1" }] })
    expect(malformed.status).toBe(200)
    expect((yield* Effect.either(malformed.json))._tag).toBe("Left")
  }))

  scenario("a chunked stream body is recorded as chunked with its bytes", {}, Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = yield* HttpClient.HttpClient
    const { uploadUrl } = yield* json(yield* postJson("files", { name: "s" }))
    const chunks = [bytes(1000, 1), bytes(2000, 2)]
    const response = yield* client.execute(
      HttpClientRequest.put(uploadUrl as string).pipe(HttpClientRequest.setBody(HttpBody.stream(Stream.fromIterable(chunks))))
    )
    expect(response.status).toBe(201)
    const [file] = yield* emulator.files
    expect(file.sha256).toBe(sha256(Buffer.concat(chunks)))
    expect(file.puts[0]).toMatchObject({ chunked: true, contentLength: undefined, bytes: 3000, authorization: false })
  }))
})

describe("parity: read, change and download", () => {
  scenario("gzip list body (as the Python SDK sends it), update, downloadlink, Range GET", {}, Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = yield* HttpClient.HttpClient
    const content = bytes(50_000, 3)
    const record = yield* json(yield* postJson("files", { name: "r.bin", externalId: "r", directory: "/a/b" }))
    yield* put(record.uploadUrl as string, content)
    yield* postJson("files", { name: "other", directory: "/c" })
    const listed = yield* client.execute(
      HttpClientRequest.post(api(emulator, "files/list")).pipe(
        HttpClientRequest.bearerToken(emulator.token),
        HttpClientRequest.setHeader("content-encoding", "gzip"),
        HttpClientRequest.bodyUint8Array(
          gzipSync(JSON.stringify({ filter: { directoryPrefix: "/a" }, limit: 1000 })),
          "application/json"
        )
      )
    )
    expect(listed.status).toBe(200)
    expect(((yield* json(listed)).items as ReadonlyArray<Record<string, unknown>>).map((item) => item.name))
      .toEqual(["r.bin"])
    const updated = yield* json(
      yield* postJson("files/update", { items: [{ externalId: "r", update: { metadata: { add: { k: "v" } } } }] })
    )
    expect((updated.items as ReadonlyArray<Record<string, unknown>>)[0].metadata).toEqual({ k: "v" })
    const links = yield* json(yield* postJson("files/downloadlink", { items: [{ externalId: "r" }] }))
    const url = (links.items as ReadonlyArray<Record<string, unknown>>)[0].downloadUrl as string
    const ranged = yield* client.execute(HttpClientRequest.get(url).pipe(HttpClientRequest.setHeader("range", "bytes=100-")))
    expect(ranged.status).toBe(206)
    expect(sha256(new Uint8Array(yield* ranged.arrayBuffer))).toBe(sha256(content.subarray(100)))
  }))
})
