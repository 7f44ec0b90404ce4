/**
 * The HTTP server of `Transport.test.ts`: a node:http server on 127.0.0.1 with one route per case (status and
 * headers, bodies of each kind, a cut answer, a hung and a dripping request whose socket closing it reports, echoes
 * of the body, its headers and a form), and the helpers the cases share.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Deferred, Effect, Exit } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { bytesOf, sha256 } from "./TransferFixtures.js"

/** What a PUT /echo saw: the body's sha256 and length, and the framing headers. */
export interface Echo {
  readonly sha256: string
  readonly length: number
  readonly contentLength: string | null
  readonly transferEncoding: string | null
}

export interface Server {
  readonly url: string
  /** Completed when a request to /hang or /drip arrives, and when its socket closes. */
  readonly arrived: Deferred.Deferred<void>
  readonly socketClosed: Deferred.Deferred<void>
}

export const binary = bytesOf(70_000, 7)

const respond = (server: Server, req: http.IncomingMessage, res: http.ServerResponse): void => {
  const path = req.url ?? "/"
  const watch = () => {
    Deferred.unsafeDone(server.arrived, Exit.void)
    req.socket.once("close", () => Deferred.unsafeDone(server.socketClosed, Exit.void))
  }
  switch (path) {
    case "/status":
      res.statusCode = 201
      res.setHeader("X-Multi", ["a", "b"])
      res.setHeader("X-Mixed-Case", "Value")
      res.setHeader("Set-Cookie", ["one=1; Path=/", "two=2; Path=/"])
      res.setHeader("Content-Type", "text/plain")
      return void res.end("created")
    case "/json":
      res.setHeader("content-type", "application/json")
      return void res.end(JSON.stringify({ hello: "wörld", n: [1, 2] }))
    case "/text":
      res.setHeader("content-type", "text/plain; charset=utf-8")
      return void res.end("héllo wörld")
    case "/bytes":
      res.setHeader("content-type", "application/octet-stream")
      return void res.end(binary)
    case "/empty":
      return void res.end()
    case "/not-json":
      res.setHeader("content-type", "application/json")
      return void res.end("{not json")
    case "/form":
      res.setHeader("content-type", "application/x-www-form-urlencoded")
      return void res.end("a=1&b=two")
    case "/cut":
      // a declared length the answer never reaches: the connection closes after the first bytes
      res.writeHead(200, { "content-type": "application/json", "content-length": "100" })
      return void res.write("{\"cut\":", () => res.destroy())
    case "/hang":
      return watch()
    case "/drip":
      watch()
      res.writeHead(200, { "content-type": "application/octet-stream" })
      return void res.write(bytesOf(1024))
    case "/headers-echo":
      res.setHeader("content-type", "application/json")
      return void res.end(JSON.stringify(req.headers))
    case "/form-echo": {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => res.end(`${req.headers["content-type"]}\n${Buffer.concat(chunks).toString("utf8")}`))
      return
    }
    case "/echo": {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        const body = Buffer.concat(chunks)
        const echo: Echo = {
          sha256: sha256(body),
          length: body.byteLength,
          contentLength: req.headers["content-length"] ?? null,
          transferEncoding: req.headers["transfer-encoding"] ?? null
        }
        res.setHeader("content-type", "application/json")
        res.end(JSON.stringify(echo))
      })
      return
    }
  }
  res.statusCode = 404
  res.end()
}

/** A node:http server on 127.0.0.1 for one test, closed (connections included) with the scope. */
export const server = Effect.gen(function*() {
  const arrived = yield* Deferred.make<void>()
  const socketClosed = yield* Deferred.make<void>()
  const state: { server: Server | undefined } = { server: undefined }
  const node = http.createServer((req, res) => respond(state.server!, req, res))
  yield* Effect.acquireRelease(
    Effect.async<void>((resume) => void node.listen(0, "127.0.0.1", () => resume(Effect.void))),
    () =>
      Effect.async<void>((resume) => {
        node.closeAllConnections()
        node.close(() => resume(Effect.void))
      })
  )
  const { port } = node.address() as AddressInfo
  return state.server = { url: `http://127.0.0.1:${port}`, arrived, socketClosed }
})

/** A port nobody listens on: bound, then closed. */
export const closedPort = Effect.async<number>((resume) => {
  const s = http.createServer()
  s.listen(0, "127.0.0.1", () => {
    const { port } = s.address() as AddressInfo
    s.close(() => resume(Effect.succeed(port)))
  })
})

/** The `code`s along an error's cause chain (AggregateError members included). */
export const codesOf = (error: unknown): Array<string> => {
  const out: Array<string> = []
  const visit = (u: unknown, depth: number) => {
    if (depth > 8 || typeof u !== "object" || u === null) return
    if ("code" in u && typeof u.code === "string") out.push(u.code)
    if (u instanceof AggregateError) u.errors.forEach((e) => visit(e, depth + 1))
    if ("cause" in u) visit(u.cause, depth + 1)
  }
  visit(error, 0)
  return out
}

export const echoOf = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.flatMap(HttpClient.execute(request), (r) => r.json) as Effect.Effect<Echo, unknown, HttpClient.HttpClient>

export const chunksOf = (bytes: Uint8Array, size: number): Array<Uint8Array> => {
  const out: Array<Uint8Array> = []
  for (let i = 0; i < bytes.byteLength; i += size) out.push(bytes.subarray(i, i + size))
  return out
}

