/**
 * Test helpers for the bytes side: create records on the emulator (as Files would) and get their upload URLs.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Emulator } from "@effect-cdf/emulator"
import { Effect, Schema } from "effect"
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
