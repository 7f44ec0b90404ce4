import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { gzipSync } from "node:zlib"
import * as Frame from "../src/internal/frame.js"
import * as State from "../src/internal/state.js"
import { api, json, postJson, put } from "./utils.js"

const server = Layer.merge(Emulator.layerServer(), NodeHttpClient.layerUndici)
const inMemory = Emulator.layerInMemory()

/** A POST of raw bytes to a URL, with the start token and the given headers. */
const postBytes = (url: string, bytes: Uint8Array, headers: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = yield* HttpClient.HttpClient
    return yield* client.execute(
      HttpClientRequest.post(url).pipe(
        HttpClientRequest.bearerToken(emulator.token),
        HttpClientRequest.setHeaders(headers),
        HttpClientRequest.bodyUint8Array(bytes, "application/json")
      )
    )
  })

/** The CDF error envelope of an answer: `{ error: { code, message } }`. */
const envelope = (response: Parameters<typeof json>[0]) =>
  Effect.map(json(response), (body) => body.error as { readonly code: number; readonly message: string })

const GiB = 1024 * 1024 * 1024

describe("hostile bodies", () => {
  it.live("a gzip bomb (1 GiB of zeros, ~1 MB gzipped) to POST files: 413 in the envelope, not inflated", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const client = yield* HttpClient.HttpClient
      // concatenated gzip members are one gzip stream: 1024 members of 1 MiB of zeros each inflate to 1 GiB
      const member = gzipSync(Buffer.alloc(1024 * 1024))
      const members = GiB / (1024 * 1024)
      const bomb = Stream.repeatValue(new Uint8Array(member)).pipe(Stream.take(members))
      const rssBefore = process.memoryUsage().rss
      const response = yield* client.execute(
        HttpClientRequest.post(api(emulator, "files")).pipe(
          HttpClientRequest.bearerToken(emulator.token),
          HttpClientRequest.setHeader("content-encoding", "gzip"),
          HttpClientRequest.bodyStream(bomb, { contentType: "application/json", contentLength: member.length * members })
        )
      )
      expect(response.status).toBe(413)
      expect((yield* envelope(response)).code).toBe(413)
      // inflating it would take 1 GiB; capped at 10 MB, the process grows by far less
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024)
      expect(yield* emulator.files).toEqual([])
    }).pipe(Effect.provide(server)), 30_000)

  it.live("a body of 50 MB to /_emulator/faults: 413 in the envelope", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const client = yield* HttpClient.HttpClient
      const chunk = new Uint8Array(1024 * 1024).fill(0x20)
      const response = yield* client.execute(
        HttpClientRequest.post(`${emulator.baseUrl}/_emulator/faults`).pipe(
          HttpClientRequest.bodyStream(Stream.repeatValue(chunk).pipe(Stream.take(50)), {
            contentType: "application/json",
            contentLength: 50 * chunk.length
          })
        )
      )
      expect(response.status).toBe(413)
      expect((yield* envelope(response)).code).toBe(413)
    }).pipe(Effect.provide(server)), 30_000)

  it.effect("a gzipped body that inflates to a valid record is still accepted", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const body = gzipSync(JSON.stringify({ name: "zipped.txt" }))
      const response = yield* postBytes(api(emulator, "files"), body, { "content-encoding": "gzip" })
      expect(response.status).toBe(201)
      expect((yield* emulator.files).map((f) => f.name)).toEqual(["zipped.txt"])
    }).pipe(Effect.provide(inMemory)))

  it.effect("invalid UTF-8 in JSON: 400 in the envelope, on API and control routes, nothing stored", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      // {"name":"a<0xff>b"}: 0xff is never valid UTF-8 (it used to be stored as U+FFFD)
      const bytes = Buffer.concat([Buffer.from("{\"name\":\"a"), Buffer.from([0xff]), Buffer.from("b\"}")])
      const files = yield* postBytes(api(emulator, "files"), bytes)
      expect(files.status).toBe(400)
      expect(yield* envelope(files)).toEqual({ code: 400, message: "Request body is not valid UTF-8" })
      const instance = Buffer.concat([
        Buffer.from("{\"instanceId\":{\"space\":\"s\",\"externalId\":\"x"),
        Buffer.from([0xc3, 0x28]),
        Buffer.from("\"}}")
      ])
      const control = yield* postBytes(`${emulator.baseUrl}/_emulator/instance-files`, instance)
      expect(control.status).toBe(400)
      expect((yield* envelope(control)).message).toBe("Request body is not valid UTF-8")
      expect(yield* emulator.files).toEqual([])
    }).pipe(Effect.provide(inMemory)))

  it.effect("JSON nested 100 000 deep: 400 in the envelope, on API and control routes", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const deep = Buffer.from(`{"name":"n","metadata":{"k":${"[".repeat(100_000)}${"]".repeat(100_000)}}}`)
      const files = yield* postBytes(api(emulator, "files"), deep)
      expect(files.status).toBe(400)
      expect(yield* envelope(files)).toEqual({ code: 400, message: "JSON nested deeper than 100 levels" })
      const faults = yield* postBytes(`${emulator.baseUrl}/_emulator/faults`, Buffer.from("[".repeat(100_000)))
      expect(faults.status).toBe(400)
      expect(yield* envelope(faults)).toEqual({ code: 400, message: "JSON nested deeper than 100 levels" })
      // brackets inside strings are text, not nesting
      const text = yield* postBytes(api(emulator, "files"), Buffer.from(JSON.stringify({ name: "[{".repeat(100) })))
      expect(text.status).toBe(201)
    }).pipe(Effect.provide(inMemory)))

  it.effect("an upload URL is bound to its project: used under another project's path it is refused", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { uploadUrl } = yield* json(yield* postJson("files", { name: "bound.bin" }))
      const url = uploadUrl as string
      expect(url).toContain(`/storage/${emulator.project}/files/`)
      const moved = yield* put(url.replace(`/storage/${emulator.project}/`, "/storage/other-project/"), new Uint8Array([1]))
      expect(moved.status).toBe(403)
      expect((yield* emulator.files)[0].sha256).toBeUndefined()
      expect((yield* put(url, new Uint8Array([1]))).status).toBe(201)
    }).pipe(Effect.provide(inMemory)))
})

describe("500s", () => {
  /** Runs `app` on a request to `url`, with a logger that keeps every message and annotation. */
  const answerWithLogs = <E>(
    app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, HttpServerRequest.HttpServerRequest>,
    url: string
  ) =>
    Effect.gen(function*() {
      const logs: Array<{ readonly message: string; readonly requestId: unknown; readonly cause: string }> = []
      const logger = Logger.make(({ annotations, cause, message }) =>
        void logs.push({
          message: String(Array.isArray(message) ? message[0] : message),
          requestId: Option.getOrUndefined(HashMap.get(annotations, "requestId")),
          cause: String(cause)
        })
      )
      const request = HttpServerRequest.fromWeb(new Request(url, { method: "POST" }))
      const exit = yield* app.pipe(
        Effect.provideService(HttpServerRequest.HttpServerRequest, request),
        Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
        Effect.exit
      )
      return { exit, logs }
    })

  it.effect("a defect in a route is logged with its request id, and answered with it in the envelope", () =>
    Effect.gen(function*() {
      const state = yield* State.make({}, { baseUrl: "http://e.test", storageUrl: "http://e.test" })
      const route = Frame.make(state)
      const router = HttpRouter.empty.pipe(
        HttpRouter.post("/oauth2/token", route("token", "token", () => Effect.die(new Error("disk on fire"))))
      )
      const { exit, logs } = yield* answerWithLogs(
        Effect.flatMap(HttpRouter.toHttpApp(router), (app) => app),
        "http://e.test/oauth2/token"
      )
      const response = Exit.isSuccess(exit) ? exit.value : undefined
      expect(response?.status).toBe(500)
      const requestId = response?.headers["x-request-id"]
      expect(requestId).toBeTypeOf("string")
      expect(logs).toHaveLength(1)
      expect(logs[0].requestId).toBe(requestId)
      expect(logs[0].message).toContain(`request id ${requestId}`)
      expect(logs[0].cause).toContain("disk on fire")
      const body = response?.body._tag === "Uint8Array" ? new TextDecoder().decode(response.body.body) : ""
      expect(JSON.parse(body)).toEqual({
        error: "server_error",
        error_description: `The emulator failed (request id ${requestId})`
      })
    }))

  it.effect("a failure outside the routes' frame (a control route) is logged and answered as a 500 envelope", () =>
    Effect.gen(function*() {
      const failing = Effect.die(new Error("control broke"))
      const { exit, logs } = yield* answerWithLogs(Frame.answerFailures(failing), "http://e.test/_emulator/reset")
      const response = Exit.isSuccess(exit) ? exit.value : undefined
      expect(response?.status).toBe(500)
      const requestId = response?.headers["x-request-id"]
      expect(logs.map((log) => log.requestId)).toEqual([requestId])
      expect(logs[0].cause).toContain("control broke")
      const body = response?.body._tag === "Uint8Array" ? new TextDecoder().decode(response.body.body) : ""
      expect(JSON.parse(body)).toEqual({ error: { code: 500, message: `The emulator failed (request id ${requestId})` } })
    }))
})

describe("remote clients", () => {
  it.effect("a host that is not loopback is refused without allowRemote, before anything listens", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.scoped(Emulator.makeServer({ host: "0.0.0.0" })))
      expect(error._tag).toBe("ServeError")
      expect(error.cause instanceof Error ? error.cause.message : "").toContain("--allow-remote")
      expect(error.message).toContain("not loopback")
    }))

  it.live("with allowRemote: the control routes need a token, the client secret is random", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.makeServer({ allowRemote: true })
      const client = yield* HttpClient.HttpClient
      expect(Redacted.value(emulator.clientSecret)).not.toBe("emulator-secret")
      expect(Redacted.value(emulator.clientSecret).length).toBeGreaterThanOrEqual(32)
      const anonymous = yield* client.execute(HttpClientRequest.get(`${emulator.baseUrl}/_emulator/files`))
      expect(anonymous.status).toBe(401)
      expect((yield* envelope(anonymous)).code).toBe(401)
      const reset = yield* client.execute(HttpClientRequest.post(`${emulator.baseUrl}/_emulator/reset`))
      expect(reset.status).toBe(401)
      const withToken = yield* client.execute(
        HttpClientRequest.get(`${emulator.baseUrl}/_emulator/files`).pipe(HttpClientRequest.bearerToken(emulator.token))
      )
      expect(withToken.status).toBe(200)
      const defaultSecret = yield* client.execute(
        HttpClientRequest.post(emulator.tokenUrl).pipe(
          HttpClientRequest.bodyUrlParams({
            grant_type: "client_credentials",
            client_id: emulator.clientId,
            client_secret: "emulator-secret"
          })
        )
      )
      expect(defaultSecret.status).toBe(401)
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))
})
