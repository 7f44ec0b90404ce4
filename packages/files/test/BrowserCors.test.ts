/**
 * A CORS refusal as a browser reports it: fetch fails with a bare `TypeError` (no code, no detail), the same as a
 * refused or dropped connection. In a browser (a `window` and a `document` exist) such a failure is retried at most
 * `maxConnectRetries` times, for API calls, PUTs, downloads and token requests alike, and the error names CORS. Outside a
 * browser the same failure is an ordinary transient one. The real browser runs in test/browser (Chromium).
 */
import { CdfAuth, CdfConfig, Files } from "@effect-cdf/files"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Redacted, Stream, TestClock } from "effect"
import * as RetryPolicy from "../src/internal/retryPolicy.js"
import { overHttpClient } from "./FilesFixtures.js"

const page = "http://127.0.0.1:5173"

/** Pretends to be a web page on `page` until the end of the test. */
const inPage = () => {
  Object.assign(globalThis, { window: {}, document: {}, location: { origin: page } })
}
afterEach(() => {
  for (const name of ["window", "document", "location"]) Reflect.deleteProperty(globalThis, name)
})

const refused = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause: new TypeError("Failed to fetch") }))

/** An API answering every request with a new record and its upload URL on storage.test; `refuse` says which requests fail as CORS does. */
const scripted = (refuse: (url: URL) => boolean) => {
  const calls: Array<string> = []
  const client = HttpClient.make((request) => {
    const url = new URL(request.url)
    calls.push(`${request.method} ${url.host}${url.pathname}`)
    if (refuse(url)) return refused(request)
    return Effect.succeed(
      HttpClientResponse.fromWeb(
        request,
        Response.json({
          id: 1,
          externalId: "x",
          name: "a.txt",
          uploaded: false,
          createdTime: 0,
          lastUpdatedTime: 0,
          uploadUrl: "http://storage.test/put/1?sig=s"
        }, { status: 201 })
      )
    )
  })
  return { calls, client }
}

/** An API answering `files/downloadlink` with a URL on storage.test, whose GETs fail as CORS does. */
const scriptedDownload = () => {
  const calls: Array<string> = []
  const client = HttpClient.make((request) => {
    const url = new URL(request.url)
    calls.push(`${request.method} ${url.host}${url.pathname}`)
    if (url.host === "storage.test") return refused(request)
    return Effect.succeed(
      HttpClientResponse.fromWeb(
        request,
        Response.json({ items: [{ id: 7, downloadUrl: "http://storage.test/dl/7?sig=s" }] })
      )
    )
  })
  return { calls, client }
}

/** Runs `effect` with time moving on, and its failure. */
const failureOf = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Effect.flip(effect))
    yield* TestClock.adjust("10 minutes")
    return yield* Fiber.join(fiber)
  })

describe("a CORS refusal in a browser", () => {
  it.effect("of an API call: CdfTransportError after 1 + maxConnectRetries attempts, naming CORS and both origins", () => {
    inPage()
    const api = scripted(() => true)
    return Effect.gen(function*() {
      const error = yield* failureOf(Files.uploadBytes("hi", { name: "a.txt", externalId: "x" }))
      expect(error._tag).toBe("CdfTransportError")
      expect(error.message).toContain("CORS")
      expect(error.message).toContain(`check that http://api.test allows requests from ${page}`)
      expect(api.calls.length).toBe(1 + RetryPolicy.maxConnectRetries)
    }).pipe(Effect.provide(overHttpClient(api.client)))
  })

  it.effect("of a PUT to the upload URL: UploadError after 1 + maxConnectRetries attempts, naming CORS", () => {
    inPage()
    const api = scripted((url) => url.host === "storage.test")
    return Effect.gen(function*() {
      const error = yield* failureOf(Files.uploadBytes("hi", { name: "a.txt", externalId: "x" }))
      expect(error._tag).toBe("UploadError")
      expect(error.message).toContain(`check that http://storage.test allows requests from ${page}`)
      expect(api.calls.filter((c) => c.startsWith("PUT")).length).toBe(1 + RetryPolicy.maxConnectRetries)
    }).pipe(Effect.provide(overHttpClient(api.client)))
  })

  it.effect("of a token request: AuthError after 1 + maxConnectRetries attempts, naming CORS", () => {
    inPage()
    const api = scripted(() => true)
    const auth = CdfAuth.layerClientCredentials({
      tokenUrl: "http://idp.test/token",
      clientId: "c",
      clientSecret: Redacted.make("s"),
      scopes: ["x"],
      allowInsecureHttp: true
    }).pipe(Layer.orDie, Layer.provide(Layer.succeed(HttpClient.HttpClient, api.client)))
    return Effect.gen(function*() {
      const error = yield* failureOf(Effect.flatMap(CdfAuth.CdfAuth, (a) => a.token))
      expect(error._tag).toBe("AuthError")
      expect(error.message).toContain(`check that http://idp.test allows requests from ${page}`)
      expect(api.calls.length).toBe(1 + RetryPolicy.maxConnectRetries)
    }).pipe(Effect.provide(auth))
  })

  it.effect("of a download URL: DownloadError after 1 + maxConnectRetries attempts, naming CORS", () => {
    inPage()
    const api = scriptedDownload()
    return Effect.gen(function*() {
      const error = yield* failureOf(Stream.runDrain(Files.download({ id: 7 })))
      expect(error._tag).toBe("DownloadError")
      expect(error.message).toContain(`check that http://storage.test allows requests from ${page}`)
      expect(api.calls.filter((c) => c.startsWith("GET")).length).toBe(1 + RetryPolicy.maxConnectRetries)
    }).pipe(Effect.provide(overHttpClient(api.client)))
  })

  it.effect("outside a browser the same failure is transient: retried through the whole schedule, no CORS hint", () => {
    const api = scripted(() => true)
    return Effect.gen(function*() {
      const error = yield* failureOf(Files.uploadBytes("hi", { name: "a.txt", externalId: "x" }))
      expect(error._tag).toBe("CdfTransportError")
      expect(error.message).not.toContain("CORS")
      expect(api.calls.length).toBeGreaterThan(1 + RetryPolicy.maxConnectRetries)
    }).pipe(Effect.provide(overHttpClient(api.client)))
  })
})

describe("the body mode in a browser", () => {
  it.effect("defaults to buffer (a browser streams a request body only over HTTP/2); elsewhere to stream", () =>
    Effect.gen(function*() {
      const bodyMode = Effect.map(CdfConfig.CdfConfig, (config) => config.bodyMode).pipe(
        Effect.provide(CdfConfig.layer({ baseUrl: "http://api.test", project: "p", allowInsecureHttp: true }))
      )
      expect(yield* bodyMode).toBe("stream")
      inPage()
      expect(yield* bodyMode).toBe("buffer")
    }))
})
