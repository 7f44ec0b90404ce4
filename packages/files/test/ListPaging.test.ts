/**
 * `Files.list` against a scripted `files/list` (an `HttpClient` made in the test): the bodies it sends, how it
 * follows `nextCursor`, and `limit` / `pageSize`. The same against the emulator is in FilesApi.test.ts.
 */
import { Files } from "@effect-cdf/files"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Schedule, Stream } from "effect"
import { overHttpClient } from "./FilesFixtures.js"

const total = 2500
const record = (id: number) => ({ id, name: `f${id}`, uploaded: true, createdTime: 0, lastUpdatedTime: 0 })

const scripted = (options: { readonly failFirst?: number } = {}) => {
  const bodies: Array<Record<string, unknown>> = []
  let calls = 0
  const client = HttpClient.make((request) =>
    Effect.sync(() => {
      calls++
      const raw = request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : "{}"
      const body = JSON.parse(raw) as { limit: number; cursor?: string }
      bodies.push(body)
      if (options.failFirst !== undefined && calls === options.failFirst) {
        return HttpClientResponse.fromWeb(request, Response.json({ error: { code: 503, message: "busy" } }, { status: 503 }))
      }
      const start = body.cursor === undefined ? 0 : Number(body.cursor)
      const end = Math.min(total, start + body.limit)
      return HttpClientResponse.fromWeb(
        request,
        Response.json({
          items: Array.from({ length: end - start }, (_, i) => record(start + i + 1)),
          ...(end < total ? { nextCursor: String(end) } : {})
        })
      )
    })
  )
  const layer = overHttpClient(client, { apiRetrySchedule: Schedule.recurs(2) })
  return { bodies, layer }
}

const ids = <E>(stream: Stream.Stream<{ readonly id: number }, E, Files.Files>) =>
  Effect.map(Stream.runCollect(stream), (chunk) => Chunk.toArray(chunk).map((r) => r.id))

describe("Files.list (scripted files/list)", () => {
  it.effect("follows nextCursor to the end: 3 pages of 1000, every record once, in order", () => {
    const api = scripted()
    return Effect.gen(function*() {
      const got = yield* ids(Files.list({ mimeType: "text/csv", createdTime: { min: new Date(0) } }))
      expect(got).toEqual(Array.from({ length: total }, (_, i) => i + 1))
      expect(api.bodies.map((b) => [b.limit, b.cursor])).toEqual([[1000, undefined], [1000, "1000"], [1000, "2000"]])
      expect(api.bodies[0]?.filter).toEqual({ mimeType: "text/csv", createdTime: { min: 0 } })
    }).pipe(Effect.provide(api.layer))
  })

  it.effect("limit bounds the records in all; the last page asks only for what is left", () => {
    const api = scripted()
    return Effect.gen(function*() {
      const got = yield* ids(Files.list({}, { limit: 250, pageSize: 100 }))
      expect(got.length).toBe(250)
      expect(api.bodies.map((b) => b.limit)).toEqual([100, 100, 50])
    }).pipe(Effect.provide(api.layer))
  })

  it.effect("a page is asked for only when needed: take(10) makes one request", () => {
    const api = scripted()
    return Effect.gen(function*() {
      const got = yield* ids(Files.list().pipe(Stream.take(10)))
      expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
      expect(api.bodies.length).toBe(1)
    }).pipe(Effect.provide(api.layer))
  })

  it.effect("a page that fails with 503 is asked again with the same cursor", () => {
    const api = scripted({ failFirst: 2 })
    return Effect.gen(function*() {
      const got = yield* ids(Files.list())
      expect(got.length).toBe(total)
      expect(api.bodies.map((b) => b.cursor)).toEqual([undefined, "1000", "1000", "2000"])
    }).pipe(Effect.provide(api.layer))
  })
})
