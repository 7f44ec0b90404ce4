/**
 * The library in headless Chromium, web security on: the page (its own loopback origin) uploads every kind of
 * content to the emulator (another origin, upload URLs on a third) through CORS; the emulator must hold exactly the
 * bytes of each (the layer excludes the test services: live clock). Without CORS on the emulator the upload fails fast, with a message naming CORS.
 */
import { Emulator } from "@effect-cdf/emulator"
import { expect, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Browser from "../browser.js"
import { storedOrFailed } from "../expected.js"

const targetOf = (emulator: Emulator.Service) => ({
  baseUrl: emulator.baseUrl,
  project: emulator.project,
  token: Redacted.value(emulator.token)
})

layer(Browser.layer, { timeout: 120_000, excludeTestServices: true })("headless Chromium (Debian's, web security on)", (it) => {
  it.scoped("every kind of content reaches the emulator on another origin, sha256 intact", () =>
    Effect.gen(function*() {
      const page = yield* Browser.Page
      const emulator = yield* Emulator.makeServer({ storageOrigin: "separate" })
      expect(new URL(page.origin).port).not.toBe(new URL(emulator.baseUrl).port)
      // the library's default body mode in a browser ("buffer")
      const outcomes = yield* page.run(targetOf(emulator))
      expect(yield* Effect.provideService(storedOrFailed(outcomes), Emulator.Emulator, emulator)).toEqual({
        string: "stored",
        Uint8Array: "stored",
        Blob: "stored",
        "Blob 3 MiB": "stored",
        ReadableStream: "stored",
        AsyncIterable: "stored",
        Stream: "stored"
      })
      // what the browser sent: the SDK headers to the API, no trace propagation; nothing of them to storage
      const requests = yield* emulator.requests
      const create = requests.find((r) => r.route === "files.create")
      expect(Object.keys(create?.headers ?? {})).toEqual(
        expect.arrayContaining(["authorization", "x-cdp-sdk", "x-cdp-app", "cdf-version", "origin"])
      )
      const names = requests.flatMap((r) => Object.keys(r.headers).map((name) => `${r.route} ${name}`))
      expect(names.filter((n) => / (b3|traceparent)$/.test(n))).toEqual([])
      expect(names.filter((n) => /^storage\.put (authorization|x-cdp-.*|cdf-version)$/.test(n))).toEqual([])
      expect(page.errors).toEqual([])
    }))

  it.scoped("bodyMode \"stream\" set by hand: a body past 1 MiB is streamed, which Chromium refuses over HTTP/1.1", () =>
    Effect.gen(function*() {
      const page = yield* Browser.Page
      const emulator = yield* Emulator.makeServer()
      const outcomes = yield* page.run(targetOf(emulator), ["Blob", "Blob 3 MiB"], "stream")
      const result = yield* Effect.provideService(storedOrFailed(outcomes), Emulator.Emulator, emulator)
      expect(result["Blob"]).toBe("stored")
      expect(result["Blob 3 MiB"]).toMatch(/^UploadError: the connection failed while sending the upload/)
      expect(page.errors).toEqual([])
    }))

  it.scoped("an emulator without CORS: CdfTransportError naming CORS, after at most 4 preflights", () =>
    Effect.gen(function*() {
      const page = yield* Browser.Page
      const emulator = yield* Emulator.makeServer({ cors: false })
      const [outcome] = yield* page.run(targetOf(emulator), ["string"])
      expect(outcome).toMatchObject({ kind: "string", ok: false, tag: "CdfTransportError" })
      expect(outcome.ok ? "" : outcome.message).toContain(
        `check that ${emulator.baseUrl} allows requests from ${page.origin}`
      )
      const requests = yield* emulator.requests
      // the preflights the browser sent (each refused with 404), and nothing else got through
      expect(requests.every((r) => r.method === "OPTIONS")).toBe(true)
      expect(requests.length).toBeGreaterThan(0)
      expect(requests.length).toBeLessThanOrEqual(4)
      expect(yield* emulator.files).toEqual([])
    }))
})
