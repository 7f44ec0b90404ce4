import { Emulator } from "@effect-cdf/emulator"
import { CdfAuth, CdfClient, Files } from "@effect-cdf/files"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Redacted, Ref, Schema, TestClock } from "effect"
import { clientOver, inMemory } from "./FilesFixtures.js"

const countRoute = (route: Emulator.RouteName) =>
  Effect.flatMap(Emulator.Emulator, (e) => Effect.map(e.requests, (rs) => rs.filter((r) => r.route === route)))

describe("CdfClient", () => {
  it.effect("decodes the CDF error envelope with x-request-id and a safe RequestInfo", () =>
    Effect.gen(function*() {
      const client = yield* CdfClient.CdfClient
      const error = yield* Effect.flip(client.request({
        method: "POST",
        path: "files/byids",
        urlParams: { secret: "do-not-show" },
        body: CdfClient.jsonBody(Schema.Unknown, { items: [{ id: 77 }] }),
        response: Schema.Unknown,
        retry: "idempotent"
      }))
      expect(error._tag).toBe("CdfApiError")
      if (error._tag !== "CdfApiError") return
      expect(error.status).toBe(400)
      expect(error.code).toBe(400)
      expect(error.missing).toEqual([{ id: 77 }])
      const logged = (yield* countRoute("files.byids"))[0]
      expect(error.requestId).toBe(logged.requestId)
      expect(error.request?.method).toBe("POST")
      expect(error.request?.origin).toBe(Emulator.inMemoryBaseUrl)
      expect(error.request?.path).toBe("/api/v1/projects/emulator/files/byids")
      expect(error.message).not.toContain("do-not-show")
      expect(JSON.stringify(error)).not.toContain("do-not-show")
    }).pipe(Effect.provide(inMemory())))

  it.effect("a 2xx body that is not what the API says is a CdfDecodeError", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "files.byids", action: { _tag: "MalformedJson" } })
      const error = yield* Effect.flip(Files.retrieve({ id: 1 }))
      expect(error._tag).toBe("CdfDecodeError")
    }).pipe(Effect.provide(inMemory())))

  it.effect("a 401 refreshes the token once and retries with the new one", () =>
    Effect.gen(function*() {
      const file = yield* Files.uploadBytes("x", { name: "a" })
      const refreshed = yield* Ref.make(0)
      const emulator = yield* Emulator.Emulator
      const auth = CdfAuth.CdfAuth.of({
        token: Effect.succeed(Redacted.make("stale-token")),
        refresh: () => Effect.as(Ref.update(refreshed, (n) => n + 1), emulator.token)
      })
      // one shared token ref: after refresh, `token` serves the good one
      const current = yield* Ref.make(Redacted.make("stale-token"))
      const layer = clientOver({}, Layer.succeed(CdfAuth.CdfAuth, {
        token: Ref.get(current),
        refresh: (rejected) =>
          Effect.gen(function*() {
            expect(Redacted.value(rejected)).toBe("stale-token")
            yield* auth.refresh(rejected)
            yield* Ref.set(current, emulator.token)
            return emulator.token
          })
      }))
      const client = yield* CdfClient.CdfClient.pipe(Effect.provide(layer))
      const files = yield* Files.make.pipe(Effect.provideService(CdfClient.CdfClient, client))
      const got = yield* files.retrieve({ id: file.id })
      expect(got.id).toBe(file.id)
      expect(yield* Ref.get(refreshed)).toBe(1)
      expect((yield* countRoute("files.byids")).map((r) => r.status)).toEqual([401, 200])
    }).pipe(Effect.provide(inMemory())))

  it.effect("a 401 with a token that cannot change is an AuthError Unauthorized after one request", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Files.retrieve({ id: 1 }))
      expect(error._tag).toBe("AuthError")
      if (error._tag === "AuthError") {
        expect(error.reason).toBe("Unauthorized")
        expect(error.status).toBe(401)
      }
      expect((yield* countRoute("files.byids")).length).toBe(1)
    }).pipe(Effect.provide(inMemory({}, {}, CdfAuth.layerToken(Redacted.make("not-a-valid-token"))))))

  it.effect("client credentials against the emulator's token endpoint", () =>
    Effect.gen(function*() {
      const file = yield* Files.uploadBytes("cc", { name: "cc.txt" })
      expect(file.name).toBe("cc.txt")
      expect((yield* countRoute("token")).length).toBe(1)
    }).pipe(
      Effect.provide(inMemory(
        {},
        {},
        Layer.unwrapEffect(Effect.map(Emulator.Emulator, (emulator) =>
          CdfAuth.layerClientCredentials({
            tokenUrl: emulator.tokenUrl,
            clientId: emulator.clientId,
            clientSecret: emulator.clientSecret,
            scopes: [`${emulator.baseUrl}/.default`],
            allowInsecureHttp: true
          }).pipe(Layer.orDie)))
      ))
    ))

  it.effect("a 403 is an AuthError Forbidden, not retried", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "files.byids", action: { _tag: "Status", status: 403 } })
      const error = yield* Effect.flip(Files.retrieve({ id: 1 }))
      expect(error._tag).toBe("AuthError")
      if (error._tag === "AuthError") expect(error.reason).toBe("Forbidden")
      expect((yield* countRoute("files.byids")).length).toBe(1)
    }).pipe(Effect.provide(inMemory())))

  it.effect("retries an idempotent request on 503 along the schedule", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const file = yield* Files.uploadBytes("x", { name: "a" })
      yield* emulator.addFault({ route: "files.byids", attempts: [1, 2], action: { _tag: "Status", status: 503 } })
      const fiber = yield* Effect.fork(Files.retrieve({ id: file.id }))
      yield* TestClock.adjust("100 millis")
      expect((yield* countRoute("files.byids")).length).toBe(1)
      yield* TestClock.adjust("1 minute")
      expect((yield* Fiber.join(fiber)).id).toBe(file.id)
      expect((yield* countRoute("files.byids")).map((r) => r.status)).toEqual([503, 503, 200])
    }).pipe(Effect.provide(inMemory())))

  it.effect("every attempt re-reads the token from CdfAuth", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const reads = yield* Ref.make(0)
      const layer = clientOver({}, CdfAuth.layerToken(Effect.as(Ref.update(reads, (n) => n + 1), emulator.token)))
      const client = yield* CdfClient.CdfClient.pipe(Effect.provide(layer))
      const files = yield* Files.make.pipe(Effect.provideService(CdfClient.CdfClient, client))
      yield* emulator.addFault({ route: "files.byids", attempts: [1, 2], action: { _tag: "Status", status: 503 } })
      const fiber = yield* Effect.fork(Effect.either(files.retrieve({ id: 1 })))
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
      expect((yield* countRoute("files.byids")).length).toBe(3)
      expect(yield* Ref.get(reads)).toBe(3)
    }).pipe(Effect.provide(inMemory())))

  it.effect("retries any response marked cdf-is-auto-retryable", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const file = yield* Files.uploadBytes("x", { name: "a" })
      yield* emulator.addFault({
        route: "files.byids",
        attempts: [1],
        action: { _tag: "Status", status: 409, headers: { "cdf-is-auto-retryable": "true" } }
      })
      const fiber = yield* Effect.fork(Files.retrieve({ id: file.id }))
      yield* TestClock.adjust("1 minute")
      expect((yield* Fiber.join(fiber)).id).toBe(file.id)
      expect((yield* countRoute("files.byids")).map((r) => r.status)).toEqual([409, 200])
    }).pipe(Effect.provide(inMemory())))

  it.effect("gives up after the schedule's retries with the last error", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "files.byids", action: { _tag: "Status", status: 502 } })
      const fiber = yield* Effect.fork(Files.retrieve({ id: 1 }))
      yield* TestClock.adjust("10 minutes")
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error._tag).toBe("CdfApiError")
      if (error._tag === "CdfApiError") expect(error.status).toBe(502)
      // default schedule: 8 retries
      expect((yield* countRoute("files.byids")).length).toBe(9)
    }).pipe(Effect.provide(inMemory())))

  it.effect("POST files without externalId is not retried on 503, but is on 429", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "files.create", attempts: [1], action: { _tag: "Status", status: 503 } })
      const error = yield* Effect.flip(Files.uploadBytes("x", { name: "a" }))
      expect(error._tag).toBe("CdfApiError")
      expect((yield* countRoute("files.create")).length).toBe(1)
      yield* emulator.addFault({ route: "files.create", attempts: [2], action: { _tag: "Status", status: 429 } })
      const fiber = yield* Effect.fork(Files.uploadBytes("y", { name: "b" }))
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
      expect((yield* countRoute("files.create")).map((r) => r.status)).toEqual([503, 429, 201])
      expect((yield* emulator.files).length).toBe(1)
    }).pipe(Effect.provide(inMemory())))

  it.effect("POST files is retried after a connect-phase failure (the request never reached the server)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const file = yield* Files.uploadBytes("connect", { name: "c.txt" })
      expect((yield* countRoute("files.create")).length).toBe(1)
      expect((yield* emulator.files).length).toBe(1)
      expect(file.name).toBe("c.txt")
    }).pipe(
      Effect.provide(Files.layer.pipe(
        Layer.provideMerge(clientOver()),
        Layer.provideMerge(Layer.effect(
          HttpClient.HttpClient,
          Effect.gen(function*() {
            const inner = yield* HttpClient.HttpClient
            const refused = yield* Ref.make(1)
            return HttpClient.make((request) =>
              Effect.gen(function*() {
                const left = yield* Ref.getAndUpdate(refused, (n) => n - 1)
                if (left > 0 && request.method === "POST" && request.url.endsWith("/files")) {
                  const cause = Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:443"), { code: "ECONNREFUSED" })
                  return yield* Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause }))
                }
                return yield* inner.execute(request)
              })
            )
          })
        )),
        Layer.provideMerge(Emulator.layerInMemory())
      )),
      Effect.fork,
      Effect.tap(() => TestClock.adjust("1 minute")),
      Effect.flatMap(Fiber.join)
    ))

  let attempts = 0
  it.effect("a connect-phase failure of every attempt is a CdfTransportError with phase connect, after 3 retries", () =>
    Effect.gen(function*() {
      attempts = 0
      const client = yield* CdfClient.CdfClient
      const fiber = yield* Effect.fork(client.request({
        method: "GET",
        path: "files/1",
        response: Schema.Unknown,
        retry: "idempotent"
      }))
      yield* TestClock.adjust("10 minutes")
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error._tag).toBe("CdfTransportError")
      if (error._tag === "CdfTransportError") {
        expect(error.phase).toBe("connect")
        expect(error.message).toContain("ENOTFOUND")
        expect(error.message).not.toContain("getaddrinfo")
      }
      // the default API schedule allows 8 retries; connect failures get CdfClient.maxConnectRetries
      expect(attempts).toBe(1 + CdfClient.maxConnectRetries)
    }).pipe(
      Effect.provide(clientOver().pipe(
        Layer.provide(Layer.succeed(
          HttpClient.HttpClient,
          HttpClient.make((request) =>
            Effect.suspend(() => {
              attempts += 1
              return Effect.fail(
              new HttpClientError.RequestError({
                request,
                reason: "Transport",
                cause: new TypeError("fetch failed", {
                  cause: Object.assign(new Error("getaddrinfo ENOTFOUND x"), { code: "ENOTFOUND" })
                })
              })
            )
            })
          )
        )),
        Layer.provide(Emulator.layerInMemory())
      ))
    ))

  it.effect("upload URLs without an origin are joined to the base URL", () =>
    Effect.gen(function*() {
      const client = yield* CdfClient.CdfClient
      expect(client.resolveUploadUrl("upload/here/to/some/path?sig=1")).toBe(
        `${Emulator.inMemoryBaseUrl}/upload/here/to/some/path?sig=1`
      )
      expect(client.resolveUploadUrl("/abs/path")).toBe(`${Emulator.inMemoryBaseUrl}/abs/path`)
      expect(client.resolveUploadUrl("https://storage.example.com/x?y=1")).toBe("https://storage.example.com/x?y=1")
    }).pipe(Effect.provide(inMemory())))
})
