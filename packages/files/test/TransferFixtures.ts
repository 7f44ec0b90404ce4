/**
 * Test helpers for the bytes side: create records on the emulator (as Files would) and get their upload URLs.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Emulator } from "@effect-cdf/emulator"
import type { Progress } from "@effect-cdf/files"
import { Deferred, Effect, Fiber, Schema } from "effect"
import { expect } from "vitest"
import { createHash } from "node:crypto"

export const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")

const api = (path: string) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = (yield* HttpClient.HttpClient).pipe(HttpClient.filterStatusOk)
    return {
      client,
      url: `${emulator.baseUrl}/api/v1/projects/${emulator.project}/files${path}`,
      token: emulator.token
    }
  })

const Upload = Schema.Struct({ id: Schema.Number, uploadUrl: Schema.String })
const Multipart = Schema.Struct({ id: Schema.Number, uploadId: Schema.String, uploadUrls: Schema.Array(Schema.String) })

/** POST files: a new record and its upload URL. */
export const createFile = (name: string, mimeType?: string) =>
  Effect.gen(function*() {
    const { client, token, url } = yield* api("")
    const response = yield* client.execute(
      HttpClientRequest.post(url).pipe(
        HttpClientRequest.bearerToken(token),
        HttpClientRequest.bodyUnsafeJson(mimeType === undefined ? { name } : { name, mimeType })
      )
    )
    return yield* HttpClientResponse.schemaBodyJson(Upload)(response)
  }).pipe(Effect.orDie)

/** POST files/initmultipartupload. */
export const initMultipart = (name: string, parts: number) =>
  Effect.gen(function*() {
    const { client, token, url } = yield* api("/initmultipartupload")
    const response = yield* client.execute(
      HttpClientRequest.post(url).pipe(
        HttpClientRequest.setUrlParams({ parts, overwrite: false }),
        HttpClientRequest.bearerToken(token),
        HttpClientRequest.bodyUnsafeJson({ name })
      )
    )
    return yield* HttpClientResponse.schemaBodyJson(Multipart)(response)
  }).pipe(Effect.orDie)

/** POST files/completemultipartupload. */
export const completeMultipart = (id: number, uploadId: string) =>
  Effect.gen(function*() {
    const { client, token, url } = yield* api("/completemultipartupload")
    yield* client.execute(
      HttpClientRequest.post(url).pipe(
        HttpClientRequest.bearerToken(token),
        HttpClientRequest.bodyUnsafeJson({ id, uploadId })
      )
    )
  }).pipe(Effect.orDie)

/** The client for upload URLs, as CdfClient gives it: the emulator's transport, no tracer. */
export const storage = Effect.map(HttpClient.HttpClient, HttpClient.withTracerDisabledWhen(() => true))

/** The stored record of `id`. */
export const stored = (id: number) =>
  Effect.flatMap(Emulator.Emulator, (emulator) =>
    Effect.map(emulator.files, (files) => {
      const file = files.find((f) => f.id === id)
      if (file === undefined) throw new Error(`no file ${id}`)
      return file
    }))

/** Storage PUTs received so far. */
export const storagePuts = Effect.flatMap(
  Emulator.Emulator,
  (emulator) => Effect.map(emulator.requests, (requests) => requests.filter((r) => r.route === "storage.put"))
)

/** Deterministic pseudo-random bytes. */
export const bytesOf = (size: number, seed = 1): Uint8Array<ArrayBuffer> => {
  const out = new Uint8Array(size)
  let x = seed >>> 0 || 1
  for (let i = 0; i < size; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

/**
 * Starts `upload`, interrupts it once its bytes are moving (progress `sent > 0`), then checks what a user would: the
 * interrupt returned after the cleanup (`files/delete`) ran, no request arrives afterwards, no record is left.
 */
export const expectCancelledWhileSending = <E, R>(
  upload: (onProgress: Progress.OnProgress) => Effect.Effect<unknown, E, R>
) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const started = yield* Deferred.make<void>()
    const fiber = yield* Effect.fork(upload((p) => p.sent > 0 ? Deferred.succeed(started, undefined) : Effect.void))
    yield* Deferred.await(started).pipe(Effect.timeout("10 seconds"))
    yield* Fiber.interrupt(fiber)
    const after = (yield* emulator.requests).length
    yield* Effect.sleep("300 millis")
    const requests = yield* emulator.requests
    expect(requests.length).toBe(after)
    expect(requests.some((r) => r.route === "files.delete")).toBe(true)
    expect(yield* emulator.files).toEqual([])
  })
