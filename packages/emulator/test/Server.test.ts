import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { api, json, postJson, put, sha256 } from "./utils.js"

const dataDir = mkdtempSync(join(tmpdir(), "cdf-emulator-test-"))

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
      // an empty answer with its length, as cloud storage sends it (not chunked)
      expect([stored.headers["content-length"], stored.headers["transfer-encoding"]]).toEqual(["0", undefined])
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

describe("server: faults, control routes, disk mode", () => {
  it.live("the HTTP control route sets, lists and clears faults; /_emulator/files and /requests inspect", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const client = yield* HttpClient.HttpClient
      const control = (path: string) => `${emulator.baseUrl}/_emulator/${path}`
      const set = yield* client.execute(
        HttpClientRequest.post(control("faults")).pipe(
          HttpClientRequest.bodyUnsafeJson([
            { route: "files.create", attempts: [1], action: { _tag: "Status", status: 429, retryAfter: "1" } }
          ])
        )
      )
      expect(set.status).toBe(200)
      const bad = yield* client.execute(
        HttpClientRequest.post(control("faults")).pipe(
          HttpClientRequest.bodyUnsafeJson({ route: "files.create", action: { _tag: "Explode" } })
        )
      )
      expect(bad.status).toBe(400)
      const listed = yield* Effect.flatMap(client.get(control("faults")), (r) => r.json)
      expect(listed).toEqual([
        { route: "files.create", attempts: [1], action: { _tag: "Status", status: 429, retryAfter: "1" } }
      ])
      const throttled = yield* postJson("files", { name: "a" })
      expect(throttled.status).toBe(429)
      expect(throttled.headers["retry-after"]).toBe("1")
      const created = yield* json(yield* postJson("files", { name: "a" }))
      yield* put(created.uploadUrl as string, new Uint8Array([1, 2]))
      const files = yield* Effect.flatMap(client.get(control("files")), (r) => r.json)
      expect(files).toMatchObject([{ name: "a", size: 2, sha256: sha256(new Uint8Array([1, 2])), uploaded: true }])
      const requests = yield* Effect.flatMap(client.get(control("requests")), (r) => r.json)
      expect(requests).toMatchObject([
        { route: "files.create", status: 429 },
        { route: "files.create", status: 201 },
        { route: "storage.put", status: 201 }
      ])
      expect((yield* client.execute(HttpClientRequest.del(control("faults")))).status).toBe(204)
      expect(yield* Effect.flatMap(client.get(control("faults")), (r) => r.json)).toEqual([])
      expect((yield* client.execute(HttpClientRequest.post(control("reset")))).status).toBe(204)
      expect(yield* emulator.files).toEqual([])
    }).pipe(provide()))

  it.live("Hang on a real port: the client times out, the emulator logs no answer", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const result = yield* Effect.either(Effect.timeout(postJson("files", { name: "h" }), "100 millis"))
      expect(result._tag).toBe("Left")
      expect((yield* emulator.requests).map((r) => [r.route, r.status])).toEqual([["files.create", 0]])
      expect(yield* emulator.files).toEqual([])
    }).pipe(provide({ faults: [{ route: "files.create", action: { _tag: "Hang" } }] })))

  it.live("CommitThenFail drop on a real port: the record exists, the socket is destroyed", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const error = yield* Effect.flip(postJson("files", { name: "c", externalId: "c" }))
      expect(error._tag).toBe("RequestError")
      expect((yield* emulator.files).map((f) => f.externalId)).toEqual(["c"])
      expect((yield* postJson("files", { name: "c", externalId: "c" })).status).toBe(409)
    }).pipe(provide({
      faults: [{ route: "files.create", attempts: [1], action: { _tag: "CommitThenFail", mode: "drop" } }]
    })))

  it.live("Throttle and Delay on a real port still store the right bytes", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const created = yield* json(yield* postJson("files", { name: "t" }))
      const bytes = new Uint8Array(4000).map((_, i) => i % 13)
      expect((yield* put(created.uploadUrl as string, bytes)).status).toBe(201)
      expect((yield* emulator.files)[0].sha256).toBe(sha256(bytes))
    }).pipe(provide({
      faults: [
        { route: "storage.put", action: { _tag: "Throttle", bytesPerSecond: 200_000 } },
        { route: "files.create", action: { _tag: "Delay", millis: 5 } }
      ]
    })))

  it.live("a PUT over the cap is 413 on a real port, answered without reading the body", () =>
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      const emulator = yield* Emulator.Emulator
      const created = yield* json(yield* postJson("files", { name: "c" }))
      const size = 32 * 65536
      const chunks = Stream.range(1, 32).pipe(Stream.map(() => new Uint8Array(65536)))
      for (const contentLength of [undefined, size]) {
        const response = yield* client.execute(
          HttpClientRequest.put(created.uploadUrl as string).pipe(
            HttpClientRequest.setBody(HttpBody.stream(chunks, "application/octet-stream", contentLength))
          )
        )
        expect(response.status).toBe(413)
        expect(yield* response.text).toContain("<Code>RequestBodyTooLarge</Code>")
      }
      const [file] = yield* emulator.files
      expect(file.sha256).toBeUndefined()
      expect(file.puts.map((p) => [p.chunked, p.status])).toEqual([[true, 413], [false, 413]])
      expect(file.puts[0].bytes).toBeLessThan(size / 4)
      expect(file.puts[1].bytes).toBe(0)
    }).pipe(provide({ singlePutLimit: 10_000 })))

  it.live("separate storage origin: a second listener serves the upload URLs", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      expect(emulator.storageUrl).not.toBe(emulator.baseUrl)
      const created = yield* json(yield* postJson("files", { name: "s" }))
      expect((created.uploadUrl as string).startsWith(`${emulator.storageUrl}/storage/`)).toBe(true)
      expect((yield* put(created.uploadUrl as string, new Uint8Array([7]))).status).toBe(201)
    }).pipe(provide({ storageOrigin: "separate" })))

  it.live("disk mode: single and multipart content land in files of dataDir with the right sha256", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const single = yield* json(yield* postJson("files", { name: "d1" }))
      const one = new Uint8Array(300_000).map((_, i) => i % 241)
      expect((yield* put(single.uploadUrl as string, one)).status).toBe(201)
      const session = yield* json(yield* postJson("files/initmultipartupload?parts=2", { name: "d2" }))
      const urls = session.uploadUrls as ReadonlyArray<string>
      const a = new Uint8Array(2048).fill(1)
      const b = new Uint8Array(10).fill(2)
      yield* Effect.all([put(urls[1], b), put(urls[0], a)], { concurrency: 2 })
      expect((yield* postJson("files/completemultipartupload", { id: session.id, uploadId: session.uploadId })).status)
        .toBe(200)
      const files = yield* emulator.files
      expect(files.map((f) => f.sha256)).toEqual([sha256(one), sha256(Buffer.concat([a, b]))])
      const onDisk = readdirSync(dataDir).map((name) => readFileSync(join(dataDir, name)))
      expect(onDisk.map((content) => sha256(content)).sort()).toEqual([sha256(one), sha256(a), sha256(b)].sort())
    }).pipe(provide({ dataDir, minPartSize: 1024 })))
})

describe("server: shutdown does not wait for abandoned requests", () => {
  const abandon = (action: Emulator.FaultAction) =>
    Effect.gen(function*() {
      yield* Effect.scoped(Effect.gen(function*() {
        const emulator = yield* Emulator.makeServer({ faults: [{ route: "storage.put", action }] })
        const client = yield* HttpClient.HttpClient
        const created = yield* client.execute(
          HttpClientRequest.post(`${emulator.baseUrl}/api/v1/projects/${emulator.project}/files`).pipe(
            HttpClientRequest.bearerToken(emulator.token),
            HttpClientRequest.bodyUnsafeJson({ name: "x" })
          )
        )
        const { uploadUrl } = yield* json(created)
        const result = yield* Effect.either(Effect.timeout(put(uploadUrl as string, new Uint8Array(400_000)), "100 millis"))
        expect(result._tag).toBe("Left")
      }))
      // reaching this line means the listeners closed (the test's timeout fails it otherwise)
      return "closed"
    }).pipe(Effect.provide(NodeHttpClient.layerUndici))

  it.live("after a Hang", () => Effect.map(abandon({ _tag: "Hang" }), (r) => expect(r).toBe("closed")), 10_000)
  it.live(
    "after a Throttle of 20 KB/s",
    () => Effect.map(abandon({ _tag: "Throttle", bytesPerSecond: 20_000 }), (r) => expect(r).toBe("closed")),
    10_000
  )
})

describe("server: listening", () => {
  it.live("a port already taken is a ServeError", () =>
    Effect.scoped(Effect.gen(function*() {
      const first = yield* Emulator.makeServer()
      const port = Number(new URL(first.baseUrl).port)
      const error = yield* Effect.flip(Emulator.makeServer({ port }))
      expect(error._tag).toBe("ServeError")
    })))
})

describe("server: control route for Data Modeling files", () => {
  it.live("POST /_emulator/instance-files creates a file found by its instanceId", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const client = yield* HttpClient.HttpClient
      const instanceId = { space: "sp", externalId: "f1" }
      const created = yield* client.execute(
        HttpClientRequest.post(`${emulator.baseUrl}/_emulator/instance-files`).pipe(
          HttpClientRequest.bodyUnsafeJson({ instanceId, name: "cad.dwg" })
        )
      )
      expect(created.status).toBe(201)
      expect((yield* json(created)).record).toMatchObject({ instanceId, name: "cad.dwg" })
      const bad = yield* client.execute(
        HttpClientRequest.post(`${emulator.baseUrl}/_emulator/instance-files`).pipe(
          HttpClientRequest.bodyUnsafeJson({ instanceId: { space: "1bad" , externalId: "x" } })
        )
      )
      expect(bad.status).toBe(400)
      const found = yield* json(yield* postJson("files/byids", { items: [{ instanceId }] }))
      expect((found.items as ReadonlyArray<Record<string, unknown>>)[0]).toMatchObject({ instanceId })
    }).pipe(provide()))
})
