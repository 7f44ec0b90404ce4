/**
 * `Files.download` against a scripted storage (an `HttpClient` made in the test): what each GET carries, and what
 * the stream does with each kind of answer (a reset mid-body, `200` to a range request, a wrong `Content-Range`, an
 * expired link, a 5xx). The same paths against the emulator are in FilesApi.test.ts and FilesApiLive.test.ts.
 */
import { CdfTest, Files } from "@effect-cdf/files"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Redacted, Schedule, Stream } from "effect"
import { createHash } from "node:crypto"
import { overHttpClient } from "./FilesFixtures.js"

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex")
const content = new Uint8Array(100_000).map((_, i) => (i * 7) % 251)

interface Get {
  readonly url: string
  readonly range: string | undefined
  readonly authorization: boolean
}

/** What storage does with one GET (`n`: 1-based GET number): its status, headers and body. */
type Script = (n: number, range: { readonly start: number } | undefined, url: string) =>
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: Uint8Array; readonly resetAfter?: number }
  | undefined

const bodyOf = (bytes: Uint8Array, resetAfter: number | undefined): BodyInit =>
  resetAfter === undefined ? new Blob([new Uint8Array(bytes)]) : (() => {
    let pulls = 0
    // the bytes first, the error on the next read (an error discards what is still queued)
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulls++ === 0) controller.enqueue(bytes.slice(0, resetAfter))
        else controller.error(new Error("ECONNRESET"))
      }
    }, { highWaterMark: 0 })
  })()

/** A CDF API answering `files/downloadlink` (link number k: `/dl/k?sig=secret-k`) and a storage run by `script`. */
const scripted = (script: Script) => {
  const gets: Array<Get> = []
  let links = 0
  const client = HttpClient.make((request, url) =>
    Effect.sync(() => {
      if (url.pathname.endsWith("/files/downloadlink")) {
        links++
        return HttpClientResponse.fromWeb(request, Response.json({
          items: [{ id: 7, downloadUrl: `http://storage.test/dl/${links}?sig=secret-${links}` }]
        }))
      }
      const range = request.headers["range"]
      gets.push({ url: url.href, range, authorization: request.headers["authorization"] !== undefined })
      const start = range === undefined ? undefined : { start: Number(/bytes=(\d+)-/.exec(range)?.[1]) }
      const planned = script(gets.length, start, url.href)
      if (planned !== undefined) {
        return HttpClientResponse.fromWeb(
          request,
          new Response(bodyOf(planned.body ?? new Uint8Array(0), planned.resetAfter), {
            status: planned.status,
            headers: planned.headers ?? {}
          })
        )
      }
      const from = start?.start ?? 0
      const body = content.slice(from)
      return HttpClientResponse.fromWeb(
        request,
        new Response(new Blob([body]), {
          status: start === undefined ? 200 : 206,
          headers: {
            "content-length": String(body.byteLength),
            ...(start === undefined ? {} : { "content-range": `bytes ${from}-${content.byteLength - 1}/${content.byteLength}` })
          }
        })
      )
    })
  )
  const layer = overHttpClient(client, {
    transferRetrySchedule: Schedule.recurs(3),
    apiRetrySchedule: Schedule.recurs(0)
  })
  return { gets, links: () => links, layer }
}

/** A 200 with the whole file announced, cut after `bytes`. */
const resetAt = (bytes: number) => ({
  status: 200,
  headers: { "content-length": String(content.byteLength) },
  body: content,
  resetAfter: bytes
})

/** GET 1 cut after `bytes`, GET 2 answered `status`, the others served normally. */
const resetThenStatus = (bytes: number, status: number): Script => (n) =>
  n === 1 ? resetAt(bytes) : n === 2 ? { status } : undefined

const collect = <E>(stream: Stream.Stream<Uint8Array, E, Files.Files>) =>
  Effect.map(Stream.runCollect(stream), (chunks) => Buffer.concat(Chunk.toArray(chunks)))

describe("Files.download (scripted storage)", () => {
  it.effect("a reset mid-body resumes with Range: bytes=N-; the whole stream is the file; no token to storage", () => {
    const storage = scripted((n) =>
      n === 1
        ? resetAt(30_000)
        : undefined
    )
    return Effect.gen(function*() {
      const bytes = yield* collect(Files.download({ id: 7 }))
      expect(sha256(bytes)).toBe(sha256(content))
      expect(storage.gets.map((g) => g.range)).toEqual([undefined, "bytes=30000-"])
      expect(storage.gets.every((g) => !g.authorization)).toBe(true)
      expect(storage.links()).toBe(1)
    }).pipe(Effect.provide(storage.layer))
  })

  it.effect("storage answering 200 to a range request: the bytes already delivered are skipped", () => {
    const storage = scripted((n) =>
      n === 1
        ? resetAt(12_345)
        : { status: 200, headers: { "content-length": String(content.byteLength) }, body: content }
    )
    return Effect.gen(function*() {
      const bytes = yield* collect(Files.download({ id: 7 }))
      expect(sha256(bytes)).toBe(sha256(content))
      expect(storage.gets.map((g) => g.range)).toEqual([undefined, "bytes=12345-"])
    }).pipe(Effect.provide(storage.layer))
  })

  it.effect("a 206 that does not start at the byte asked for fails with DownloadError Range, nothing delivered twice", () => {
    const storage = scripted((n) =>
      n === 1
        ? resetAt(1000)
        : {
          status: 206,
          headers: { "content-range": `bytes 0-${content.byteLength - 1}/${content.byteLength}` },
          body: content
        }
    )
    return Effect.gen(function*() {
      const delivered: Array<number> = []
      const error = yield* Files.download({ id: 7 }).pipe(
        Stream.runForEach((chunk) => Effect.sync(() => delivered.push(chunk.byteLength))),
        Effect.flip
      )
      expect(error._tag).toBe("DownloadError")
      if (error._tag === "DownloadError") {
        expect(error.reason).toBe("Range")
        expect(error.received).toBe(1000)
        expect(error.fileId).toBe(7)
        expect(error.request?.path).toBe("/dl/1")
        expect(error.message).not.toContain("secret")
      }
      expect(delivered.reduce((a, b) => a + b, 0)).toBe(1000)
    }).pipe(Effect.provide(storage.layer))
  })

  it.effect("a 403 from storage (expired link) gets a fresh link; a fresh link refused again is the error", () => {
    const expired = scripted(resetThenStatus(5000, 403))
    const refused = scripted(() => ({ status: 403 }))
    return Effect.gen(function*() {
      const bytes = yield* collect(Files.download({ id: 7 })).pipe(Effect.provide(expired.layer))
      expect(sha256(bytes)).toBe(sha256(content))
      expect(expired.links()).toBe(2)
      expect(expired.gets.map((g) => new URL(g.url).pathname)).toEqual(["/dl/1", "/dl/1", "/dl/2"])
      expect(expired.gets.map((g) => g.range)).toEqual([undefined, "bytes=5000-", "bytes=5000-"])
      const error = yield* collect(Files.download({ id: 7 })).pipe(Effect.provide(refused.layer), Effect.flip)
      expect(error._tag).toBe("DownloadError")
      if (error._tag === "DownloadError") {
        expect(error.reason).toBe("Status")
        expect(error.status).toBe(403)
        expect(JSON.stringify(error)).not.toContain("sig=")
      }
      expect(refused.links()).toBe(1)
    })
  })

  it.effect("503 is retried on the transfer schedule, then is a DownloadError Status with the attempts", () => {
    const storage = scripted(() => ({ status: 503 }))
    return Effect.gen(function*() {
      const error = yield* collect(Files.download({ id: 7 })).pipe(Effect.flip)
      expect(error._tag).toBe("DownloadError")
      if (error._tag === "DownloadError") {
        expect(error.status).toBe(503)
        expect(error.attempts).toBe(4)
      }
      expect(storage.gets.length).toBe(4)
    }).pipe(Effect.provide(storage.layer))
  })

  it.effect("downloadUrl is Redacted: its string form shows no URL", () => {
    const storage = scripted(() => undefined)
    return Effect.gen(function*() {
      const url = yield* Files.downloadUrl({ id: 7 })
      expect(String(url)).not.toContain("secret")
      expect(Redacted.value(url)).toBe("http://storage.test/dl/1?sig=secret-1")
    }).pipe(Effect.provide(storage.layer))
  })

  it.effect("spans and logs (at every level) carry no download URL signature or token; the retry is an event", () => {
    const storage = scripted(resetThenStatus(4096, 503))
    const recorder = CdfTest.makeRecorder()
    return Effect.gen(function*() {
      const bytes = yield* collect(Files.download({ id: 7 }))
      expect(bytes.byteLength).toBe(content.byteLength)
      const error = yield* collect(Files.download({ id: 7 }).pipe(Stream.take(1), Stream.concat(Stream.fail("stop"))))
        .pipe(Effect.flip)
      yield* Effect.logError("download stopped", error)
      const span = recorder.spans.find((s) => s.name === "Files.download")
      const retries = span?.events.filter((e) => e.name === "cdf.retry") ?? []
      expect(retries.map((e) => [e.attributes?.["cdf.download.offset"], e.attributes?.["cdf.retry.reason"]])).toEqual([
        [4096, "transport"],
        [4096, "status 503"]
      ])
      expect(recorder.dump()).not.toMatch(/sig=|secret-|token-secret/)
    }).pipe(Effect.provide(storage.layer), recorder.provide)
  })
})

