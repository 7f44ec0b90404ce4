import { Emulator } from "@effect-cdf/emulator"
import { CdfAuth, CdfClient, CdfConfig, CdfTest, Files } from "@effect-cdf/files"
import * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Layer, Redacted, Schedule } from "effect"
import { clientOver, emulatorClientCredentials, inMemory, onPort } from "./FilesFixtures.js"

// every span the library can make (`traceRequests` adds one per request) must be free of secrets
const fast = { apiRetrySchedule: Schedule.recurs(3), transferRetrySchedule: Schedule.recurs(2), traceRequests: true }

describe("Security: upload URLs get no credentials", () => {
  for (const storageOrigin of ["same", "separate"] as const) {
    it.effect(`no Authorization, x-cdp-*, cdf-version or trace headers at upload URLs (${storageOrigin} origin)`, () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        if (storageOrigin === "separate") expect(emulator.storageUrl).not.toBe(emulator.baseUrl)
        yield* Files.uploadBytes("single", { name: "s.txt", mimeType: "text/plain" })
        yield* Files.uploadBytes(new Uint8Array(30), { name: "m.bin", multipart: true })
        const puts = (yield* emulator.files).flatMap((f) => f.puts)
        expect(puts.length).toBe(4)
        for (const put of puts) {
          expect(put.authorization).toBe(false)
          expect(put.cdfHeaders).toEqual([])
        }
        const requests = yield* emulator.requests
        const storage = requests.filter((r) => r.route === "storage.put")
        expect(storage.length).toBe(4)
        for (const r of storage) {
          const names = Object.keys(r.headers).map((h) => h.toLowerCase())
          expect(names).not.toContain("authorization")
          expect(names).not.toContain("traceparent")
          expect(names).not.toContain("b3")
          expect(names.filter((h) => h.startsWith("x-cdp-") || h === "cdf-version")).toEqual([])
        }
        // ...while the API calls do carry them
        const create = requests.find((r) => r.route === "files.create")
        expect(create?.headers["authorization"]).toBeDefined()
        expect(create?.headers["cdf-version"]).toBeDefined()
      }).pipe(Effect.provide(inMemory({ storageOrigin, minPartSize: 1 }, { partSize: 10 }))))
  }

  for (const status of [401, 403]) {
    it.effect(`a ${status} from storage is an UploadError and never refreshes the token`, () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* emulator.addFault({ route: "storage.put", action: { _tag: "Status", status } })
        const error = yield* Effect.flip(Files.uploadBytes("x", { name: "x.txt" }))
        expect(error._tag).toBe("UploadError")
        if (error._tag === "UploadError") expect(error.status).toBe(status)
        expect((yield* emulator.requests).filter((r) => r.route === "token").length).toBe(1)
      }).pipe(Effect.provide(inMemory(
        {},
        fast,
        emulatorClientCredentials
      ))))
  }
})

describe("Security: upload URLs get no credentials, over real sockets (undici)", () => {
  for (const storageOrigin of ["same", "separate"] as const) {
    it.live(`no Authorization, x-cdp-* or cdf-version at upload URLs (${storageOrigin} origin, real port)`, () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* Files.uploadBytes("single over a socket", { name: "s.txt", mimeType: "text/plain" })
        yield* Files.uploadBytes(new Uint8Array(30).fill(1), { name: "m.bin", multipart: true })
        const puts = (yield* emulator.files).flatMap((f) => f.puts)
        expect(puts.length).toBe(4)
        for (const put of puts) {
          expect(put.authorization).toBe(false)
          expect(put.cdfHeaders).toEqual([])
        }
        const create = (yield* emulator.requests).find((r) => r.route === "files.create")
        expect(create?.headers["authorization"]).toBeDefined()
      }).pipe(Effect.provide(onPort({ storageOrigin, minPartSize: 1 }, { partSize: 10 }))))
  }
})

describe("Security: secrets never reach logs, spans or errors", () => {
  it.effect("tokens, the client secret and upload-URL signatures", () => {
    const recorder = CdfTest.makeRecorder()
    const seenUrls: Array<string> = []
    const seenTokens = new Set<string>()
    const recordingClient = Layer.effect(
      HttpClient.HttpClient,
      Effect.map(HttpClient.HttpClient, (inner) =>
        HttpClient.make((request) => {
          seenUrls.push(request.url + (request.urlParams.length > 0 ? "?" : ""))
          const auth = request.headers["authorization"]
          if (auth !== undefined) seenTokens.add(auth.replace(/^Bearer /i, ""))
          return inner.execute(request)
        }))
    )
    const auth = emulatorClientCredentials
    const stack = Files.layer.pipe(
      Layer.provideMerge(clientOver(fast, auth)),
      Layer.provideMerge(recordingClient),
      Layer.provideMerge(Emulator.layerInMemory())
    )
    return Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const texts: Array<string> = []
      const keep = (error: unknown) => {
        texts.push(String(error), JSON.stringify(error))
        if (error instanceof Error) texts.push(error.message, error.stack ?? "")
      }
      // a transfer retry and an API 429 retry, then success
      yield* emulator.addFault({ route: "storage.put", attempts: [1], action: { _tag: "Status", status: 503 } })
      yield* emulator.addFault({ route: "files.create", attempts: [1], action: { _tag: "Status", status: 429 } })
      const file = yield* Files.uploadBytes("ok", { name: "ok.txt", mimeType: "text/plain" })
      yield* Effect.logInfo("uploaded", file)
      // a 401 on byids: one refresh-and-retry
      yield* emulator.addFault({ route: "files.byids", attempts: [1], action: { _tag: "Status", status: 401 } })
      yield* Files.retrieve({ id: file.id })
      // a final storage failure, logged as a user would
      yield* emulator.clearFaults
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "ResetAfterBytes", bytes: 1 } })
      const error = yield* Effect.flip(Files.uploadBytes("fails", { name: "bad.txt" }))
      keep(error)
      yield* Effect.logError("upload failed", error)
      yield* Effect.logError(Cause.fail(error))
      yield* Effect.logError(Cause.pretty(Cause.fail(error)))
      yield* emulator.clearFaults
      // a refused token request
      const refused = yield* Effect.flip(
        Effect.flatMap(
          CdfAuth.makeClientCredentials({
            tokenUrl: emulator.tokenUrl,
            clientId: emulator.clientId,
            clientSecret: Redacted.make("wrong-secret-value-123"),
            scopes: ["s"],
            allowInsecureHttp: true
          }),
          (a) => a.token
        )
      )
      keep(refused)
      yield* Effect.logError(refused)

      const secrets = [
        Redacted.value(emulator.clientSecret),
        "wrong-secret-value-123",
        ...seenTokens
      ]
      const signatures = seenUrls
        .filter((u) => u.startsWith(emulator.storageUrl) && u.includes("?"))
        .flatMap((u) => [...new URL(u).searchParams.values()].filter((v) => v.length >= 8))
      expect(seenTokens.size).toBeGreaterThanOrEqual(2) // the token was refreshed after the 401
      expect(signatures.length).toBeGreaterThan(0)
      const haystack = recorder.dump() + texts.join("\n")
      expect(recorder.spans.map((s) => s.name)).toEqual(expect.arrayContaining([
        "Files.uploadBytes",
        "Files.create",
        "Files.transfer",
        "CdfAuth.tokenRequest"
      ]))
      expect(recorder.spans.some((s) => s.events.some((e) => e.name === "cdf.retry"))).toBe(true)
      expect(recorder.logs.length).toBeGreaterThanOrEqual(4)
      for (const secret of [...secrets, ...signatures]) {
        expect(secret.length).toBeGreaterThan(0)
        expect(haystack).not.toContain(secret)
      }
      // the platform tracer is off for upload URLs: no http.client span for a PUT
      expect(recorder.spans.filter((s) => s.name === "http.client PUT")).toEqual([])
      expect(recorder.spans.some((s) => s.name === "http.client POST")).toBe(true)
    }).pipe(recorder.provide, Effect.provide(stack))
  })
})

describe("Security: secrets over a real port (undici)", () => {
  it.live("resets, retries and a final failure leave no token or signature in logs, spans or the error", () => {
    const recorder = CdfTest.makeRecorder()
    return Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", attempts: [1], action: { _tag: "ResetAfterBytes", bytes: 10 } })
      const file = yield* Files.uploadBytes(new Uint8Array(20_000).fill(3), { name: "ok.bin" })
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "ResetAfterBytes", bytes: 10 } })
      const error = yield* Effect.flip(Files.uploadBytes(new Uint8Array(20_000).fill(4), { name: "bad.bin" }))
      yield* Effect.logError("upload failed", error)
      expect(file.name).toBe("ok.bin")
      expect((yield* emulator.files).length).toBe(1) // the failed upload's record was deleted
      expect(recorder.spans.some((s) => s.name === "Files.transfer")).toBe(true)
      // upload URLs carry their signature as ?sig=...: no trace of one anywhere
      const haystack = recorder.dump() + String(error) + JSON.stringify(error) + (error.stack ?? "")
      expect(haystack).not.toContain(Redacted.value(emulator.token))
      expect(haystack).not.toContain("sig=")
      expect(recorder.logs.some((l) => l.message.includes("upload failed"))).toBe(true)
    }).pipe(recorder.provide, Effect.provide(onPort({}, fast)))
  })
})

describe("Security: plain http:// is refused", () => {
  it.effect("a Files stack on http:// to a non-loopback host fails to build with InvalidConfigError", () =>
    Effect.gen(function*() {
      const stack = Files.layer.pipe(
        Layer.provide(CdfClient.layer),
        Layer.provide(CdfConfig.layer({ baseUrl: "http://cdf.example.com", project: "p" })),
        Layer.provide(CdfAuth.layerToken(Redacted.make("t"))),
        Layer.provide(Emulator.layerInMemory())
      )
      const error = yield* Effect.flip(Layer.build(stack).pipe(Effect.scoped))
      expect(error._tag).toBe("InvalidConfigError")
      expect(error.setting).toBe("baseUrl")
    }))

  it.effect("the token URL too", () =>
    Effect.gen(function*() {
      const layer = CdfAuth.layerClientCredentials({
        tokenUrl: "http://login.example.com/token",
        clientId: "c",
        clientSecret: Redacted.make("s"),
        scopes: []
      }).pipe(Layer.provide(Emulator.layerInMemory()))
      const error = yield* Effect.flip(Layer.build(layer).pipe(Effect.scoped))
      expect(error._tag).toBe("InvalidConfigError")
      expect(error.setting).toBe("tokenUrl")
    }))
})
