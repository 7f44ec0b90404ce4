import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { api, json, postJson } from "./utils.js"

const provide = (options?: Emulator.ServerOptions) =>
  Effect.provide(Layer.merge(Emulator.layerServer(options), NodeHttpClient.layerUndici))

const page = "http://127.0.0.1:5173"

/** A browser's preflight: OPTIONS with Origin, the method and the headers the real request will carry. */
const preflight = (url: string, method: string, headers: string, origin = page) =>
  Effect.flatMap(HttpClient.HttpClient, (client) =>
    client.execute(
      HttpClientRequest.make("OPTIONS")(url).pipe(
        HttpClientRequest.setHeaders({
          origin,
          "access-control-request-method": method,
          "access-control-request-headers": headers
        })
      )
    ))

/** The headers @effect-cdf/files sends on an API call, as a browser lists them in a preflight. */
const apiHeaders = "authorization,cdf-version,content-type,x-cdp-app,x-cdp-sdk"

const expectAllowed = (
  response: { readonly status: number; readonly headers: Readonly<Record<string, string | undefined>> },
  method: string,
  headers: string,
  origin = page
) => {
  expect(response.status).toBe(204)
  expect(response.headers["access-control-allow-origin"]).toBe(origin)
  expect(response.headers["access-control-allow-methods"]).toContain(method)
  expect(response.headers["access-control-allow-headers"]).toBe(headers)
}

describe("CORS (on by default for loopback origins)", () => {
  it.live("the preflights of an API route, the token route and an upload URL are answered; nothing is logged", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { uploadUrl } = yield* json(yield* postJson("files", { name: "cors.txt" }))
      expect(String(uploadUrl).startsWith(emulator.storageUrl)).toBe(true)
      expect(emulator.storageUrl).not.toBe(emulator.baseUrl)

      expectAllowed(yield* preflight(api(emulator, "files"), "POST", apiHeaders), "POST", apiHeaders)
      expectAllowed(yield* preflight(emulator.tokenUrl, "POST", "content-type"), "POST", "content-type")
      expectAllowed(
        yield* preflight(String(uploadUrl), "PUT", "content-type", "http://localhost:8080"),
        "PUT",
        "content-type",
        "http://localhost:8080"
      )
      // preflights are no attempts: the request log holds only the create
      expect((yield* emulator.requests).map((r) => r.route)).toEqual(["files.create"])
    }).pipe(provide({ storageOrigin: "separate" })))

  it.live("answers carry Access-Control-Allow-Origin and expose x-request-id and Retry-After, errors included", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const client = yield* HttpClient.HttpClient
      yield* emulator.addFault({
        route: "files.create",
        attempts: [1],
        action: { _tag: "Status", status: 429, retryAfter: "1" }
      })
      const create = (origin: string) =>
        client.execute(
          HttpClientRequest.post(api(emulator, "files")).pipe(
            HttpClientRequest.bearerToken(emulator.token),
            HttpClientRequest.setHeader("origin", origin),
            HttpClientRequest.bodyUnsafeJson({ name: "x.txt" })
          )
        )
      const throttled = yield* create("http://[::1]:3000")
      expect(throttled.status).toBe(429)
      expect(throttled.headers["access-control-allow-origin"]).toBe("http://[::1]:3000")
      const exposed = (throttled.headers["access-control-expose-headers"] ?? "").split(",")
      expect(exposed).toEqual(expect.arrayContaining(["x-request-id", "retry-after"]))
      const created = yield* create(page)
      expect(created.status).toBe(201)
      expect(created.headers["access-control-allow-origin"]).toBe(page)
      expect(created.headers["x-request-id"]).toBeDefined()
    }).pipe(provide()))

  it.live("a non-loopback origin gets no Access-Control-Allow-Origin", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const response = yield* preflight(api(emulator, "files"), "POST", apiHeaders, "http://evil.example")
      expect(response.headers["access-control-allow-origin"]).toBeUndefined()
      const local = yield* preflight(api(emulator, "files"), "POST", apiHeaders, "http://127.0.0.1.evil.example")
      expect(local.headers["access-control-allow-origin"]).toBeUndefined()
    }).pipe(provide()))
})

describe("CORS settings", () => {
  it.live("a list of origins allows exactly those", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const allowed = yield* preflight(emulator.tokenUrl, "POST", "content-type", "https://app.example.com")
      expectAllowed(allowed, "POST", "content-type", "https://app.example.com")
      const loopback = yield* preflight(emulator.tokenUrl, "POST", "content-type", page)
      expect(loopback.headers["access-control-allow-origin"]).toBeUndefined()
    }).pipe(provide({ cors: ["https://app.example.com"] })))

  it.live("\"*\" allows any origin", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const response = yield* preflight(api(emulator, "files"), "POST", apiHeaders, "https://anywhere.example")
      expectAllowed(response, "POST", apiHeaders, "https://anywhere.example")
    }).pipe(provide({ cors: ["*"] })))

  it.live("off: a preflight is a 404 without CORS headers, as from a server that knows nothing of CORS", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const response = yield* preflight(api(emulator, "files"), "POST", apiHeaders)
      expect(response.status).toBe(404)
      expect(response.headers["access-control-allow-origin"]).toBeUndefined()
    }).pipe(provide({ cors: false })))
})
