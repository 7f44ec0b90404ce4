import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { getJson, json, postJson, put, sha256 } from "./utils.js"

const provide = (options?: Emulator.Options) => Effect.provide(Emulator.layerInMemory(options))

const createUrl = (name: string) => Effect.map(Effect.flatMap(postJson("files", { name }), json), (r) => r.uploadUrl as string)

describe("faults over the in-memory transport", () => {
  it.effect("Status with Retry-After and extra headers on chosen attempts, then normal handling", () =>
    Effect.gen(function*() {
      const first = yield* postJson("files", { name: "a" })
      expect(first.status).toBe(503)
      expect(first.headers["retry-after"]).toBe("2")
      expect(first.headers["cdf-is-auto-retryable"]).toBe("true")
      expect(first.headers["x-request-id"]).toBeTypeOf("string")
      expect(yield* json(first)).toEqual({ error: { code: 503, message: "Injected fault" } })
      const second = yield* postJson("files", { name: "a" })
      expect(second.status).toBe(201)
      const third = yield* postJson("files", { name: "a" })
      expect(third.status).toBe(429)
      const emulator = yield* Emulator.Emulator
      expect((yield* emulator.files).length).toBe(1)
      const log = (yield* emulator.requests).map((r) => [r.route, r.attempt, r.status])
      expect(log).toEqual([["files.create", 1, 503], ["files.create", 2, 201], ["files.create", 3, 429]])
    }).pipe(provide({
      faults: [
        {
          route: "files.create",
          attempts: [1],
          action: { _tag: "Status", status: 503, retryAfter: "2", headers: { "cdf-is-auto-retryable": "true" } }
        },
        { route: "files.create", attempts: [3], action: { _tag: "Status", status: 429 } }
      ]
    })))

  it.effect("Status on storage.put answers like storage (XML), not with the CDF envelope", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const url = yield* createUrl("s")
      yield* emulator.addFault({ route: "storage.put", attempts: [1], action: { _tag: "Status", status: 503 } })
      const failed = yield* put(url, new Uint8Array([1, 2, 3]))
      expect(failed.status).toBe(503)
      expect(failed.headers["content-type"]).toContain("xml")
      expect(yield* failed.text).toContain("<Error>")
      const ok = yield* put(url, new Uint8Array([1, 2, 3]))
      expect(ok.status).toBe(201)
      const [file] = yield* emulator.files
      expect(file.puts.map((p) => [p.status, p.bytes])).toEqual([[503, 3], [201, 3]])
    }).pipe(provide()))

  it.effect("Delay runs on the Effect clock (TestClock drives it)", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(postJson("files", { name: "d" }))
      yield* TestClock.adjust("9 seconds")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 second")
      const response = yield* Fiber.join(fiber)
      expect(response.status).toBe(201)
    }).pipe(provide({ faults: [{ route: "files.create", action: { _tag: "Delay", millis: 10_000 } }] })))

  it.effect("Hang never answers: a client timeout interrupts it and the log shows status 0", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(Effect.timeout(getJson("files/1"), "30 seconds"))
      yield* TestClock.adjust("1 hour")
      const exit = yield* Fiber.await(fiber)
      expect(exit._tag).toBe("Failure")
      const emulator = yield* Emulator.Emulator
      expect((yield* emulator.requests).map((r) => [r.route, r.status])).toEqual([["files.get", 0]])
    }).pipe(provide({ faults: [{ route: "files.get", action: { _tag: "Hang" } }] })))

  it.effect("ResetAfterBytes is a Transport RequestError and stores nothing", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const url = yield* createUrl("r")
      yield* emulator.addFault({ route: "storage.put", attempts: [1], action: { _tag: "ResetAfterBytes", bytes: 5 } })
      const error = yield* Effect.flip(put(url, new Uint8Array(1000)))
      expect(error._tag).toBe("RequestError")
      expect(error._tag === "RequestError" && error.reason).toBe("Transport")
      let [file] = yield* emulator.files
      expect(file.sha256).toBeUndefined()
      expect(file.puts.map((p) => p.status)).toEqual([0])
      expect((yield* put(url, new Uint8Array(1000))).status).toBe(201)
      ;[file] = yield* emulator.files
      expect(file.sha256).toBe(sha256(new Uint8Array(1000)))
    }).pipe(provide()))

  it.effect("ResetAfterBytes on files.create drops before the record is created", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(postJson("files", { name: "x" }))
      expect(error._tag).toBe("RequestError")
      const emulator = yield* Emulator.Emulator
      expect(yield* emulator.files).toEqual([])
    }).pipe(provide({ faults: [{ route: "files.create", action: { _tag: "ResetAfterBytes", bytes: 3 } }] })))

  it.effect("MalformedJson keeps a 2xx status with a body that is not JSON", () =>
    Effect.gen(function*() {
      yield* postJson("files", { name: "m", externalId: "m" })
      const response = yield* postJson("files/byids", { items: [{ externalId: "m" }] })
      expect(response.status).toBe(200)
      const decoded = yield* Effect.either(response.json)
      expect(decoded._tag).toBe("Left")
    }).pipe(provide({ faults: [{ route: "files.byids", action: { _tag: "MalformedJson" } }] })))

  it.effect("Throttle limits the request body's bandwidth on the Effect clock", () =>
    Effect.gen(function*() {
      const url = yield* createUrl("t")
      const fiber = yield* Effect.fork(put(url, new Uint8Array(1000)))
      yield* TestClock.adjust("5 seconds")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("6 seconds")
      expect((yield* Fiber.join(fiber)).status).toBe(201)
      const emulator = yield* Emulator.Emulator
      expect((yield* emulator.files)[0].size).toBe(1000)
    }).pipe(provide({ faults: [{ route: "storage.put", action: { _tag: "Throttle", bytesPerSecond: 100 } }] })))

  it.effect("CommitThenFail status: the record exists, the answer is 503", () =>
    Effect.gen(function*() {
      const response = yield* postJson("files", { name: "c", externalId: "c" })
      expect(response.status).toBe(503)
      const emulator = yield* Emulator.Emulator
      expect((yield* emulator.files).map((f) => f.externalId)).toEqual(["c"])
      expect((yield* postJson("files", { name: "c", externalId: "c" })).status).toBe(409)
    }).pipe(provide({
      faults: [{ route: "files.create", attempts: [1], action: { _tag: "CommitThenFail", mode: "status" } }]
    })))

  it.effect("CommitThenFail drop: the record exists, the client sees a dropped connection", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        postJson("files/initmultipartupload?parts=2", { name: "c", externalId: "c" })
      )
      expect(error._tag).toBe("RequestError")
      const emulator = yield* Emulator.Emulator
      expect((yield* emulator.files).map((f) => f.externalId)).toEqual(["c"])
    }).pipe(provide({
      faults: [{ route: "files.initmultipartupload", action: { _tag: "CommitThenFail", mode: "drop" } }]
    })))

  it.effect("clearFaults and reset", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "files.create", action: { _tag: "Status", status: 500 } })
      expect((yield* postJson("files", { name: "a" })).status).toBe(500)
      yield* emulator.clearFaults
      expect((yield* postJson("files", { name: "a" })).status).toBe(201)
      yield* emulator.addFault({ route: "files.create", attempts: [1], action: { _tag: "Status", status: 500 } })
      yield* emulator.reset
      expect(yield* emulator.files).toEqual([])
      expect(yield* emulator.requests).toEqual([])
      const again = yield* postJson("files", { name: "a" })
      expect(again.status).toBe(201)
      expect((yield* emulator.requests)[0].attempt).toBe(1)
    }).pipe(provide()))
})

describe("storage PUT details over the in-memory transport", () => {
  it.effect("missing or wrong signature: 403 with a storage-style body", () =>
    Effect.gen(function*() {
      const url = yield* createUrl("sig")
      const noSig = yield* put(url.split("?")[0], new Uint8Array(1))
      expect(noSig.status).toBe(403)
      expect(yield* noSig.text).toContain("<Code>AuthenticationFailed</Code>")
      const wrong = yield* put(url.replace(/sig=[^&]+/, "sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), new Uint8Array(1))
      expect(wrong.status).toBe(403)
      const emulator = yield* Emulator.Emulator
      expect((yield* emulator.files)[0].sha256).toBeUndefined()
    }).pipe(provide()))

  it.effect("a streamed body without length is chunked; Authorization and CDF headers are recorded, not required", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const client = yield* HttpClient.HttpClient
      const url = yield* createUrl("chunked")
      const parts = [new Uint8Array([1, 2]), new Uint8Array([3, 4, 5])]
      const response = yield* client.execute(
        HttpClientRequest.put(url).pipe(
          HttpClientRequest.bearerToken(emulator.token),
          HttpClientRequest.setHeader("x-cdp-sdk", "test"),
          HttpClientRequest.setBody(HttpBody.stream(Stream.fromIterable(parts), "application/octet-stream"))
        )
      )
      expect(response.status).toBe(201)
      const [file] = yield* emulator.files
      expect(file.sha256).toBe(sha256(new Uint8Array([1, 2, 3, 4, 5])))
      expect(file.puts[0]).toMatchObject({ chunked: true, contentLength: undefined, authorization: true, cdfHeaders: ["x-cdp-sdk"] })
    }).pipe(provide()))

  it.effect("single-PUT cap: 413 from Content-Length, and from a chunked body as soon as it passes the cap", () =>
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      const url = yield* createUrl("cap")
      expect((yield* put(url, new Uint8Array(101))).status).toBe(413)
      let pulled = 0
      const endless = Stream.repeatEffect(Effect.sync(() => {
        pulled++
        return new Uint8Array(10)
      }))
      const response = yield* client.execute(
        HttpClientRequest.put(url).pipe(HttpClientRequest.setBody(HttpBody.stream(endless)))
      )
      expect(response.status).toBe(413)
      expect(yield* response.text).toContain("RequestBodyTooLarge")
      expect(pulled).toBeLessThan(1000)
      expect((yield* put(url, new Uint8Array(100))).status).toBe(201)
    }).pipe(provide({ singlePutLimit: 100 })))

  it.effect("a PUT to a deleted file's URL is a storage 404", () =>
    Effect.gen(function*() {
      const created = yield* json(yield* postJson("files", { name: "gone", externalId: "gone" }))
      expect((yield* postJson("files/delete", { items: [{ externalId: "gone" }] })).status).toBe(200)
      const response = yield* put(created.uploadUrl as string, new Uint8Array(1))
      expect(response.status).toBe(404)
      expect(yield* response.text).toContain("<Error>")
    }).pipe(provide()))

  it.effect("separate storage origin: upload URLs point at the storage origin and work", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      expect(emulator.storageUrl).not.toBe(emulator.baseUrl)
      const url = yield* createUrl("sep")
      expect(url.startsWith(`${emulator.storageUrl}/`)).toBe(true)
      expect((yield* put(url, new Uint8Array(4))).status).toBe(201)
    }).pipe(provide({ storageOrigin: "separate" })))

  it.effect("another origin is a refused connection", () =>
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      const error = yield* Effect.flip(client.get("http://elsewhere.test/x"))
      expect(error._tag === "RequestError" && error.reason).toBe("Transport")
    }).pipe(provide()))
})

describe("in-memory transport parity with a real port", () => {
  it.effect("an empty 201 from storage streams as an empty body, as undici gives it", () =>
    Effect.gen(function*() {
      const url = yield* createUrl("e")
      const response = yield* put(url, new Uint8Array([1]))
      expect(response.status).toBe(201)
      const chunks = yield* Stream.runCollect(response.stream)
      expect(chunks.length).toBe(0)
    }).pipe(provide()))
})
