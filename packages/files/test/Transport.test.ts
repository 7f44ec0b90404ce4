/**
 * The same HTTP cases against the platform `HttpClient`s on a real 127.0.0.1 port: ours (`NodeTransport.layer`,
 * undici's `Dispatcher.request`), its untraced variant (what `CdfClient` sends on: `HttpClient.makeWith`, no span,
 * aborted by interruption), @effect/platform-node's undici adapter (`NodeHttpClient.layerUndici`) and
 * `FetchHttpClient.layer` (Node's global fetch). The library runs on each of them. Where they legitimately differ,
 * each client's behaviour is asserted explicitly (see `Differences`), not hidden.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Emulator } from "@effect-cdf/emulator"
import { CdfTest, Files } from "@effect-cdf/files"
import * as NodeTransport from "@effect-cdf/files/NodeTransport"
import { Chunk, Deferred, Effect, Fiber, Layer, Schedule, Stream } from "effect"
import { onPort } from "./FilesFixtures.js"
import * as Untraced from "../src/internal/untracedClient.js"
import { bytesOf, sha256 } from "./TransferFixtures.js"
import { binary, chunksOf, closedPort, codesOf, echoOf, server, type Server } from "./TransportFixtures.js"

/** How one client differs from the others; asserted as such. */
interface Differences {
  /** An Effect stream body given with its length: sent with that Content-Length, or chunked (fetch drops it). */
  readonly sizedStream: "content-length" | "chunked"
  /** A raw web ReadableStream body (`HttpBody.raw`): sent, or refused (fetch needs `duplex: "half"` for it). */
  readonly rawReadableStream: "sent" | "refused"
  /** The reason of the RequestError when the body's Effect stream fails. */
  readonly failingStream: "Encode" | "Transport"
  /** `formData` of an urlencoded response: parsed, or a Decode error (undici's request body has no formData). */
  readonly formData: "parsed" | "Decode"
  /** A FormData request body: sent as multipart, or failing (the adapter passes it to undici as is). */
  readonly formDataBody: "sent" | "Transport"
  /** Whether reading `headers` twice gives the same object. */
  readonly headersCached: boolean
  /** The platform's `http.client` span per request: made (unless the tracer is disabled for it), or never. */
  readonly spans: "http.client" | "none"
}

/** What NodeTransport's client and its untraced variant share: the same undici requests and responses. */
const nodeTransport: Omit<Differences, "spans"> = {
  sizedStream: "content-length",
  rawReadableStream: "sent",
  failingStream: "Encode",
  formData: "parsed",
  headersCached: true,
  formDataBody: "sent"
}

const clients: ReadonlyArray<{ name: string; layer: Layer.Layer<HttpClient.HttpClient>; differs: Differences }> = [
  {
    name: "NodeTransport.layer",
    layer: NodeTransport.layer,
    differs: { ...nodeTransport, spans: "http.client" }
  },
  {
    // what CdfClient sends on by default (no span per request): the variant NodeTransport's client carries
    name: "NodeTransport.layer, untraced",
    layer: Layer.effect(HttpClient.HttpClient, Effect.map(HttpClient.HttpClient, Untraced.untraced)).pipe(
      Layer.provide(NodeTransport.layer)
    ),
    differs: { ...nodeTransport, spans: "none" }
  },
  {
    name: "NodeHttpClient.layerUndici",
    layer: NodeHttpClient.layerUndici,
    differs: {
      sizedStream: "content-length",
      rawReadableStream: "sent",
      failingStream: "Transport",
      formData: "Decode",
      headersCached: false,
      formDataBody: "Transport",
      spans: "http.client"
    }
  },
  {
    name: "FetchHttpClient.layer",
    layer: FetchHttpClient.layer,
    differs: {
      sizedStream: "chunked",
      rawReadableStream: "refused",
      failingStream: "Transport",
      formData: "parsed",
      headersCached: false,
      formDataBody: "sent",
      spans: "http.client"
    }
  }
]

for (const client of clients) {
  const test = <A, E>(name: string, body: (s: Server) => Effect.Effect<A, E, HttpClient.HttpClient>) =>
    it.scopedLive(name, () =>
      Effect.flatMap(server, body).pipe(
        Effect.provide(client.layer),
        Effect.timeout("10 seconds")
      ))

  describe(client.name, () => {
    test("status and headers: multi-valued joined, names lower case, cookies", (s) =>
      Effect.gen(function*() {
        const response = yield* HttpClient.get(`${s.url}/status`)
        expect(response.status).toBe(201)
        expect(response.headers["x-multi"]).toBe("a, b")
        expect(response.headers["x-mixed-case"]).toBe("Value")
        expect(response.headers["X-Mixed-Case"]).toBeUndefined()
        // ours converts undici's headers once and keeps them; the platform's clients convert them on every read
        expect(response.headers === response.headers).toBe(client.differs.headersCached)
        expect(Object.values(response.cookies.cookies).map((c) => [c.name, c.value])).toEqual([["one", "1"], ["two", "2"]])
        expect(yield* response.text).toBe("created")
      }))

    test("json, text (utf-8), arrayBuffer and stream bodies; text read twice, then json of it", (s) =>
      Effect.gen(function*() {
        expect(yield* Effect.flatMap(HttpClient.get(`${s.url}/json`), (r) => r.json)).toEqual({ hello: "wörld", n: [1, 2] })
        const text = yield* HttpClient.get(`${s.url}/text`)
        expect([yield* text.text, yield* text.text]).toEqual(["héllo wörld", "héllo wörld"])
        const json = yield* HttpClient.get(`${s.url}/json`)
        expect(yield* json.text).toBe(JSON.stringify({ hello: "wörld", n: [1, 2] }))
        expect(yield* json.json).toEqual({ hello: "wörld", n: [1, 2] })
        const buffer = yield* Effect.flatMap(HttpClient.get(`${s.url}/bytes`), (r) => r.arrayBuffer)
        expect(sha256(new Uint8Array(buffer))).toBe(sha256(binary))
        const chunks = yield* Effect.flatMap(HttpClient.get(`${s.url}/bytes`), (r) => Stream.runCollect(r.stream))
        expect(sha256(Buffer.concat(Chunk.toArray(chunks)))).toBe(sha256(binary))
      }))

    // (ours reads a small answer to a POST or a PUT with its headers; every reading must still give the same)
    test("answers to a POST and a PUT: json, text twice, arrayBuffer, stream; one cut short fails its read as Decode", (s) =>
      Effect.gen(function*() {
        const post = (path: string) => HttpClient.execute(HttpClientRequest.post(`${s.url}${path}`))
        const json = yield* post("/json")
        expect(yield* json.text).toBe(JSON.stringify({ hello: "wörld", n: [1, 2] }))
        expect(yield* json.json).toEqual({ hello: "wörld", n: [1, 2] })
        const text = yield* HttpClient.execute(HttpClientRequest.put(`${s.url}/text`))
        expect([yield* text.text, yield* text.text]).toEqual(["héllo wörld", "héllo wörld"])
        const bytes = yield* Effect.flatMap(post("/text"), (r) => r.arrayBuffer)
        expect(Buffer.from(bytes).toString("utf8")).toBe("héllo wörld")
        const streamed = yield* Effect.flatMap(post("/text"), (r) => Stream.runCollect(r.stream))
        expect(Buffer.concat(Chunk.toArray(streamed)).toString("utf8")).toBe("héllo wörld")
        expect(yield* Effect.flatMap(post("/empty"), (r) => Stream.runCollect(r.stream))).toEqual(Chunk.empty())
        expect(yield* Effect.flatMap(post("/empty"), (r) => r.json)).toBeNull()
        const large = yield* Effect.flatMap(post("/bytes"), (r) => r.arrayBuffer)
        expect(sha256(new Uint8Array(large))).toBe(sha256(binary))
        const cut = yield* post("/cut")
        expect(cut.status).toBe(200)
        const error = yield* Effect.flip(cut.json)
        expect([error._tag, error.reason]).toEqual(["ResponseError", "Decode"])
      }))

    test("combinators: mapRequest adds a header, filterStatusOk fails a 404, retry sends again", (s) =>
      Effect.gen(function*() {
        let attempts = 0
        const base = yield* HttpClient.HttpClient
        const client = base.pipe(
          HttpClient.mapRequest(HttpClientRequest.setHeader("x-added", "yes")),
          HttpClient.tapRequest(() => Effect.sync(() => void attempts++)),
          HttpClient.filterStatusOk,
          HttpClient.retry(Schedule.recurs(2))
        )
        const seen = yield* Effect.flatMap(client.get(`${s.url}/headers-echo`), (r) => r.json)
        expect(seen).toMatchObject({ "x-added": "yes" })
        const error = yield* Effect.flip(client.get(`${s.url}/missing`))
        expect([error._tag, error._tag === "ResponseError" ? error.reason : undefined]).toEqual(["ResponseError", "StatusCode"])
        expect(attempts).toBe(1 + 3)
      }))

    const spans = client.differs.spans
    test(`the platform's http.client span (${spans}) with the status; none under withTracerDisabledWhen`, (s) =>
      Effect.gen(function*() {
        const recorder = CdfTest.makeRecorder()
        const client = yield* HttpClient.HttpClient
        yield* Effect.flatMap(client.get(`${s.url}/json`), (r) => r.json).pipe(recorder.provide)
        const quiet = client.pipe(HttpClient.withTracerDisabledWhen(() => true))
        yield* Effect.flatMap(quiet.get(`${s.url}/json`), (r) => r.json).pipe(recorder.provide)
        expect(recorder.spans.map((span) => [span.name, span.attributes.get("http.response.status_code")])).toEqual(
          spans === "none" ? [] : [["http.client GET", 200]]
        )
      }))

    test("an empty body is json null; a body that is not JSON is ResponseError Decode", (s) =>
      Effect.gen(function*() {
        expect(yield* Effect.flatMap(HttpClient.get(`${s.url}/empty`), (r) => r.json)).toBeNull()
        const error = yield* Effect.flip(Effect.flatMap(HttpClient.get(`${s.url}/not-json`), (r) => r.json))
        expect([error._tag, error.reason]).toEqual(["ResponseError", "Decode"])
      }))

    test(`formData of an urlencoded answer: ${client.differs.formData}`, (s) =>
      Effect.gen(function*() {
        const result = yield* Effect.either(Effect.flatMap(HttpClient.get(`${s.url}/form`), (r) => r.formData))
        if (client.differs.formData === "parsed") {
          expect(result._tag === "Right" ? [...result.right.entries()] : result.left).toEqual([["a", "1"], ["b", "two"]])
        } else {
          expect(result._tag === "Left" ? [result.left._tag, result.left.reason] : result).toEqual(["ResponseError", "Decode"])
        }
      }))

    test("a Uint8Array body arrives byte-exact with its Content-Length; so does an empty one", (s) =>
      Effect.gen(function*() {
        const bytes = bytesOf(300_000, 3)
        const echo = yield* echoOf(HttpClientRequest.put(`${s.url}/echo`).pipe(HttpClientRequest.bodyUint8Array(bytes)))
        expect(echo).toEqual({ sha256: sha256(bytes), length: bytes.byteLength, contentLength: "300000", transferEncoding: null })
        const empty = yield* echoOf(HttpClientRequest.put(`${s.url}/echo`).pipe(HttpClientRequest.setHeader("content-length", "0")))
        expect([empty.length, empty.contentLength, empty.transferEncoding]).toEqual([0, "0", null])
      }))

    test(`a FormData body: ${client.differs.formDataBody}`, (s) =>
      Effect.gen(function*() {
        const form = new FormData()
        form.append("field", "välue")
        const result = yield* Effect.either(Effect.flatMap(
          HttpClient.execute(HttpClientRequest.post(`${s.url}/form-echo`).pipe(HttpClientRequest.bodyFormData(form))),
          (r) => r.text
        ))
        if (client.differs.formDataBody === "sent") {
          expect(result._tag === "Right" ? result.right : result.left).toMatch(
            /^multipart\/form-data; boundary=.+\n.*name="field"\r\n\r\nvälue\r\n/s
          )
        } else {
          // the adapter hands Node's global FormData to undici 7's dispatcher, which cannot encode another undici's class
          const error = result._tag === "Left" ? result.left : undefined
          expect([error?._tag, error?.reason]).toEqual(["RequestError", "Transport"])
        }
      }))

    test(`an Effect stream body with its length: ${client.differs.sizedStream}`, (s) =>
      Effect.gen(function*() {
        const bytes = bytesOf(200_000, 5)
        const body = HttpBody.stream(Stream.fromIterable(chunksOf(bytes, 16 * 1024)), "application/octet-stream", bytes.byteLength)
        const echo = yield* echoOf(HttpClientRequest.put(`${s.url}/echo`).pipe(HttpClientRequest.setBody(body)))
        expect([echo.sha256, echo.length]).toEqual([sha256(bytes), bytes.byteLength])
        // fetch removes Content-Length from the request and streams the body chunked
        expect([echo.contentLength, echo.transferEncoding]).toEqual(
          client.differs.sizedStream === "content-length" ? [String(bytes.byteLength), null] : [null, "chunked"]
        )
      }))

    test(`a raw web ReadableStream body with its length: ${client.differs.rawReadableStream}`, (s) =>
      Effect.gen(function*() {
        const bytes = bytesOf(150_000, 9)
        const views = chunksOf(bytes, 40_000)
        const readable = new ReadableStream<Uint8Array>({
          pull: (controller) => {
            const view = views.shift()
            if (view === undefined) controller.close()
            else controller.enqueue(view)
          }
        })
        const request = HttpClientRequest.put(`${s.url}/echo`).pipe(
          HttpClientRequest.setBody(HttpBody.raw(readable, { contentLength: bytes.byteLength }))
        )
        const result = yield* Effect.either(echoOf(request))
        if (client.differs.rawReadableStream === "sent") {
          expect(result._tag === "Right" ? result.right : result.left).toEqual({
            sha256: sha256(bytes),
            length: bytes.byteLength,
            contentLength: String(bytes.byteLength),
            transferEncoding: null
          })
        } else {
          // Node's fetch wants `duplex: "half"` for a stream body, which FetchHttpClient sets only for Stream bodies
          const error = result._tag === "Left" ? result.left as { _tag: string; reason: string } : undefined
          expect([error?._tag, error?.reason]).toEqual(["RequestError", "Transport"])
        }
      }))

    test(`a failing body stream: RequestError ${client.differs.failingStream}`, (s) =>
      Effect.gen(function*() {
        const failing = Stream.concat(Stream.make(bytesOf(1000)), Stream.fail(new Error("the source broke")))
        const request = HttpClientRequest.put(`${s.url}/echo`).pipe(
          HttpClientRequest.setBody(HttpBody.stream(failing, "application/octet-stream", 5000))
        )
        const error = yield* Effect.flip(HttpClient.execute(request))
        expect([error._tag, error.reason]).toEqual(["RequestError", client.differs.failingStream])
      }))

    test("connection refused: RequestError Transport, ECONNREFUSED reachable through its cause", () =>
      Effect.gen(function*() {
        const port = yield* closedPort
        const error = yield* Effect.flip(HttpClient.get(`http://127.0.0.1:${port}/`))
        expect([error._tag, error.reason]).toEqual(["RequestError", "Transport"])
        expect(codesOf(error.cause)).toContain("ECONNREFUSED")
      }))

    test("interrupted before the answer: the server sees the socket close", (s) =>
      Effect.gen(function*() {
        const fiber = yield* Effect.fork(HttpClient.get(`${s.url}/hang`))
        yield* Deferred.await(s.arrived)
        yield* Fiber.interrupt(fiber)
        yield* Deferred.await(s.socketClosed).pipe(Effect.timeout("3 seconds"))
      }))

    test("interrupted while the body streams in: the server sees the socket close", (s) =>
      Effect.gen(function*() {
        const first = yield* Deferred.make<void>()
        const fiber = yield* Effect.fork(
          Effect.flatMap(HttpClient.get(`${s.url}/drip`), (r) =>
            r.stream.pipe(Stream.tap(() => Deferred.succeed(first, undefined)), Stream.runDrain))
        )
        yield* Deferred.await(first)
        yield* Fiber.interrupt(fiber)
        yield* Deferred.await(s.socketClosed).pipe(Effect.timeout("3 seconds"))
      }))

    test("interrupted while reading text: the server sees the socket close", (s) =>
      Effect.gen(function*() {
        const response = yield* HttpClient.get(`${s.url}/drip`)
        const fiber = yield* Effect.fork(response.text)
        yield* Effect.sleep("20 millis")
        yield* Fiber.interrupt(fiber)
        yield* Deferred.await(s.socketClosed).pipe(Effect.timeout("3 seconds"))
      }))
  })
}

describe("NodeTransport.layer is the whole Node stack", () => {
  it.scopedLive("with only NodeTransport.layer, an unsized one-shot stream past one part is spooled and arrives exact", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const bytes = bytesOf(4096 * 4 + 100, 11)
      const stream = Stream.fromIterable(chunksOf(bytes, 3000))
      const file = yield* Files.uploadBytes(stream, { name: "one-shot.bin" })
      const record = (yield* emulator.files).find((f) => f.id === file.id)
      expect([record?.size, record?.sha256, record?.puts.length]).toEqual([bytes.byteLength, sha256(bytes), 5])
    }).pipe(Effect.provide(onPort({ minPartSize: 1024 }, { partSize: 4096, singlePutThreshold: 8192 }, NodeTransport.layer))))
})

describe("the untraced variant", () => {
  it.scopedLive("NodeTransport's client carries it (the same client each time); any other client gets the platform's tracer off", () =>
    Effect.gen(function*() {
      const ours = yield* Effect.provide(HttpClient.HttpClient, NodeTransport.layer)
      expect(Untraced.untraced(ours)).toBe(Untraced.untraced(ours))
      expect(Untraced.untraced(ours)).not.toBe(ours)
      const fetch = yield* Effect.provide(HttpClient.HttpClient, FetchHttpClient.layer)
      // the fallback is a new client built on each call (`withTracerDisabledWhen`)
      expect(Untraced.untraced(fetch)).not.toBe(Untraced.untraced(fetch))
    }))
})
