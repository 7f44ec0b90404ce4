import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import { json, postJson, put, sha256 } from "./utils.js"

const provide = (options?: Emulator.Options) => Effect.provide(Emulator.layerInMemory({ minPartSize: 10, ...options }))

const bytes = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 7 + seed) % 256)
const concat = (...parts: ReadonlyArray<Uint8Array>) => new Uint8Array(Buffer.concat(parts))

interface Session {
  readonly id: number
  readonly uploadId: string
  readonly uploadUrls: ReadonlyArray<string>
}

const init = (parts: number, body: Record<string, unknown> = { name: "big.bin", externalId: "big" }) =>
  Effect.gen(function*() {
    const response = yield* postJson(`files/initmultipartupload?overwrite=false&parts=${parts}`, body)
    expect(response.status).toBe(201)
    const session = yield* json(response)
    return session as unknown as Session & Record<string, unknown>
  })

const complete = (body: Record<string, unknown>) => postJson("files/completemultipartupload", body)

describe("multipart upload", () => {
  it.effect("init answers a flat object; parts in any order and concurrently; completion stores their sha256", () =>
    Effect.gen(function*() {
      const session = yield* init(3)
      expect(session.items).toBeUndefined()
      expect(session.name).toBe("big.bin")
      expect(session.uploaded).toBe(false)
      expect(session.uploadUrls.length).toBe(3)
      const parts = [bytes(10, 1), bytes(12, 2), bytes(3, 3)]
      const statuses = yield* Effect.forEach([2, 0, 1], (i) => Effect.map(put(session.uploadUrls[i], parts[i]), (r) => r.status), {
        concurrency: "unbounded"
      })
      expect(statuses.every((s) => s === 200 || s === 201)).toBe(true)
      const emulator = yield* Emulator.Emulator
      expect((yield* emulator.files)[0].sha256).toBeUndefined()
      const done = yield* complete({ id: session.id, uploadId: session.uploadId })
      expect(done.status).toBe(200)
      expect(yield* json(done)).toEqual({})
      const [file] = yield* emulator.files
      expect(file.sha256).toBe(sha256(concat(...parts)))
      expect(file.size).toBe(25)
      expect(file.uploaded).toBe(true)
      expect(file.puts.map((p) => p.part).sort()).toEqual([0, 1, 2])
      // a repeated completion is 200 {}
      const again = yield* complete({ externalId: "big", uploadId: session.uploadId })
      expect(again.status).toBe(200)
      expect(yield* json(again)).toEqual({})
    }).pipe(provide()))

  it.effect("a part carrying Content-Type is 400 (storage style)", () =>
    Effect.gen(function*() {
      const session = yield* init(1)
      const response = yield* put(session.uploadUrls[0], bytes(5, 0), "application/octet-stream")
      expect(response.status).toBe(400)
      expect(yield* response.text).toContain("<Error>")
    }).pipe(provide()))

  it.effect("a missing part at completion is 400; a re-sent part replaces the first", () =>
    Effect.gen(function*() {
      const session = yield* init(3)
      yield* put(session.uploadUrls[0], bytes(10, 1))
      yield* put(session.uploadUrls[2], bytes(4, 3))
      const missing = yield* complete({ id: session.id, uploadId: session.uploadId })
      expect(missing.status).toBe(400)
      expect(JSON.stringify(yield* json(missing))).toContain("Missing parts: 1")
      yield* put(session.uploadUrls[1], bytes(10, 9))
      yield* put(session.uploadUrls[1], bytes(11, 2))
      expect((yield* complete({ id: session.id, uploadId: session.uploadId })).status).toBe(200)
      const emulator = yield* Emulator.Emulator
      expect((yield* emulator.files)[0].sha256).toBe(sha256(concat(bytes(10, 1), bytes(11, 2), bytes(4, 3))))
    }).pipe(provide()))

  it.effect("a part below minPartSize (but the last) fails the completion", () =>
    Effect.gen(function*() {
      const session = yield* init(2)
      yield* put(session.uploadUrls[0], bytes(9, 1))
      yield* put(session.uploadUrls[1], bytes(20, 1))
      const response = yield* complete({ id: session.id, uploadId: session.uploadId })
      expect(response.status).toBe(400)
      expect(JSON.stringify(yield* json(response))).toContain("at least 10 bytes")
    }).pipe(provide()))

  it.effect("fewer parts than asked for: 400 by default", () =>
    Effect.gen(function*() {
      const session = yield* init(3)
      yield* put(session.uploadUrls[0], bytes(10, 1))
      expect((yield* complete({ id: session.id, uploadId: session.uploadId })).status).toBe(400)
    }).pipe(provide()))

  it.effect("fewer parts than asked for: accepted with allowFewerParts", () =>
    Effect.gen(function*() {
      const session = yield* init(3)
      yield* put(session.uploadUrls[0], bytes(10, 1))
      yield* put(session.uploadUrls[1], bytes(2, 1))
      expect((yield* complete({ id: session.id, uploadId: session.uploadId })).status).toBe(200)
      const emulator = yield* Emulator.Emulator
      expect((yield* emulator.files)[0].sha256).toBe(sha256(concat(bytes(10, 1), bytes(2, 1))))
    }).pipe(provide({ allowFewerParts: true })))

  it.effect("parts must be 1..250; completion needs a known uploadId of that file", () =>
    Effect.gen(function*() {
      for (const parts of ["0", "251", "", "2.5", "x"]) {
        const response = yield* postJson(`files/initmultipartupload?parts=${parts}`, { name: "p" })
        expect(response.status).toBe(400)
        expect(JSON.stringify(yield* json(response))).toContain("parts")
      }
      expect((yield* postJson("files/initmultipartupload", { name: "p" })).status).toBe(400)
      const session = yield* init(250, { name: "many" })
      expect(session.uploadUrls.length).toBe(250)
      expect((yield* complete({ id: session.id, uploadId: "nope" })).status).toBe(400)
      expect((yield* complete({ id: session.id })).status).toBe(400)
    }).pipe(provide()))

  it.effect("multiuploadlink: items wrapper, exactly one externalId; the old content stays until completion", () =>
    Effect.gen(function*() {
      const created = yield* json(yield* postJson("files", { name: "e", externalId: "e" }))
      yield* put(created.uploadUrl as string, bytes(5, 5))
      const bad = yield* postJson("files/multiuploadlink?parts=2", { items: [{ externalId: "e" }, { externalId: "f" }] })
      expect(bad.status).toBe(400)
      const unknown = yield* postJson("files/multiuploadlink?parts=2", { items: [{ externalId: "nope" }] })
      expect(unknown.status).toBe(400)
      expect((yield* json(unknown)).error).toMatchObject({ missing: [{ externalId: "nope" }] })
      const response = yield* postJson("files/multiuploadlink?parts=2", { items: [{ externalId: "e" }] })
      expect(response.status).toBe(200)
      const { items } = yield* json(response)
      const [session] = items as ReadonlyArray<Session>
      expect(session.id).toBe(created.id)
      expect(session.uploadUrls.length).toBe(2)
      yield* put(session.uploadUrls[0], bytes(10, 1))
      yield* put(session.uploadUrls[1], bytes(1, 1))
      const emulator = yield* Emulator.Emulator
      expect((yield* emulator.files)[0].sha256).toBe(sha256(bytes(5, 5)))
      expect((yield* complete({ externalId: "e", uploadId: session.uploadId })).status).toBe(200)
      expect((yield* emulator.files)[0].sha256).toBe(sha256(concat(bytes(10, 1), bytes(1, 1))))
    }).pipe(provide()))

  it.effect("uploaded turns true uploadedDelay after the bytes arrive (TestClock)", () =>
    Effect.gen(function*() {
      const session = yield* init(1)
      yield* put(session.uploadUrls[0], bytes(3, 0))
      yield* complete({ id: session.id, uploadId: session.uploadId })
      const byids = () =>
        Effect.flatMap(postJson("files/byids", { items: [{ id: session.id }] }), json).pipe(
          Effect.map((r) => (r.items as ReadonlyArray<Record<string, unknown>>)[0])
        )
      expect((yield* byids()).uploaded).toBe(false)
      yield* TestClock.adjust("4 seconds")
      expect((yield* byids()).uploaded).toBe(false)
      yield* TestClock.adjust("1 second")
      const record = yield* byids()
      expect(record.uploaded).toBe(true)
      expect(record.uploadedTime).toBeTypeOf("number")
    }).pipe(provide({ uploadedDelay: "5 seconds" })))
})

describe("multipart completion races", () => {
  it.effect("concurrent completions: both 200 {} and the content is stored once", () =>
    Effect.gen(function*() {
      const session = yield* init(2)
      yield* put(session.uploadUrls[0], bytes(10, 1))
      yield* put(session.uploadUrls[1], bytes(5, 2))
      const statuses = yield* Effect.all(
        [1, 2, 3].map(() => Effect.map(complete({ id: session.id, uploadId: session.uploadId }), (r) => r.status)),
        { concurrency: "unbounded" }
      )
      expect(statuses).toEqual([200, 200, 200])
      const emulator = yield* Emulator.Emulator
      expect((yield* emulator.files)[0].sha256).toBe(sha256(concat(bytes(10, 1), bytes(5, 2))))
      // a part PUT after completion is refused
      expect((yield* put(session.uploadUrls[0], bytes(10, 1))).status).toBe(404)
    }).pipe(provide()))
})

describe("files of Data Modeling instances", () => {
  const instanceId = { space: "my_space", externalId: "doc1" }

  it.effect("uploadlink / multiuploadlink / completion / byids by instanceId", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const created = yield* emulator.createInstanceFile({ instanceId })
      expect(created.record).toMatchObject({ instanceId, name: "untitled", uploaded: false })
      expect((yield* emulator.createInstanceFile({ instanceId })).id).toBe(created.id)
      const link = yield* json(yield* postJson("files/uploadlink", { items: [{ instanceId }] }))
      const [item] = link.items as ReadonlyArray<Record<string, unknown>>
      expect(item.id).toBe(created.id)
      yield* put(item.uploadUrl as string, bytes(7, 7))
      const multi = yield* json(yield* postJson("files/multiuploadlink?parts=2", { items: [{ instanceId }] }))
      const [session] = multi.items as ReadonlyArray<Session>
      yield* put(session.uploadUrls[0], bytes(10, 1))
      yield* put(session.uploadUrls[1], bytes(1, 2))
      expect((yield* complete({ instanceId, uploadId: session.uploadId })).status).toBe(200)
      const found = yield* json(yield* postJson("files/byids", { items: [{ instanceId }] }))
      expect((found.items as ReadonlyArray<Record<string, unknown>>)[0]).toMatchObject({ id: created.id, uploaded: true })
      expect((yield* emulator.files)[0].sha256).toBe(sha256(concat(bytes(10, 1), bytes(1, 2))))
      const unknown = yield* postJson("files/uploadlink", { items: [{ instanceId: { space: "my_space", externalId: "nope" } }] })
      expect(unknown.status).toBe(400)
    }).pipe(provide()))
})
