import { Emulator } from "@effect-cdf/emulator"
import { CdfAuth, CdfClient, CdfConfig, Files } from "@effect-cdf/files"
import * as NodeTransport from "@effect-cdf/files/NodeTransport"
import type * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Schedule } from "effect"
import { createHash } from "node:crypto"
import * as http from "node:http"
import * as net from "node:net"
import type { AddressInfo } from "node:net"

interface Proxy {
  readonly url: string
  /** `CONNECT host:port` and absolute-form `METHOD http://host/path` lines seen, in order. */
  readonly seen: Array<string>
}

/** A tiny loopback proxy: CONNECT tunnels and absolute-form forwarding, counting what it relays. */
const proxy = Effect.acquireRelease(
  Effect.async<{ server: http.Server; proxy: Proxy }>((resume) => {
    const seen: Array<string> = []
    const server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`)
      const target = new URL(req.url ?? "")
      const upstream = http.request(
        { host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
        }
      )
      upstream.on("error", () => res.destroy())
      req.pipe(upstream)
    })
    server.on("connect", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      seen.push(`CONNECT ${req.url}`)
      const [host, port] = (req.url ?? "").split(":")
      const upstream = net.connect(Number(port), host, () => {
        socket.write("HTTP/1.1 200 Connection Established\r\n\r\n")
        upstream.write(head)
        upstream.pipe(socket)
        socket.pipe(upstream)
      })
      upstream.on("error", () => socket.destroy())
      socket.on("error", () => upstream.destroy())
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resume(Effect.succeed({ server, proxy: { url: `http://127.0.0.1:${port}`, seen } }))
    })
  }),
  ({ server }) =>
    Effect.async<void>((resume) => {
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
).pipe(Effect.map(({ proxy }) => proxy))

const filesVia = (transport: Layer.Layer<HttpClient.HttpClient>, baseUrl?: string) =>
  Layer.unwrapEffect(Effect.map(Emulator.Emulator, (emulator) =>
    Files.layer.pipe(
      Layer.provide(CdfClient.layer),
      Layer.provide(CdfConfig.layer({
        baseUrl: baseUrl ?? emulator.baseUrl,
        project: emulator.project,
        apiRetrySchedule: Schedule.recurs(0),
        apiTimeout: "5 seconds"
      })),
      Layer.provide(CdfAuth.layerToken(emulator.token)),
      Layer.provide(transport)
    )))

const withEnv = (vars: Record<string, string | undefined>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const saved: Record<string, string | undefined> = {}
      for (const [k, v] of Object.entries(vars)) {
        saved[k] = process.env[k]
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
      }
      return saved
    }),
    (saved) =>
      Effect.sync(() => {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k]
          else process.env[k] = v
        }
      })
  )

describe("NodeTransport proxies", () => {
  it.scopedLive("HTTP_PROXY from the environment carries the API calls and the PUT; the bytes arrive intact", () =>
    Effect.gen(function*() {
      const p = yield* proxy
      const emulator = yield* Emulator.makeServer()
      yield* withEnv({ HTTP_PROXY: p.url, http_proxy: undefined, NO_PROXY: undefined, no_proxy: undefined })
      const files = yield* Layer.build(filesVia(NodeTransport.layer).pipe(
        Layer.provide(Layer.succeed(Emulator.Emulator, emulator))
      ))
      const service = Files.Files.pipe(Effect.provide(files))
      const file = yield* Effect.flatMap(service, (f) => f.uploadBytes("through the proxy", { name: "p.txt" }))
      const stored = yield* emulator.files
      expect(stored[0].id).toBe(file.id)
      expect(stored[0].sha256).toBe(createHash("sha256").update("through the proxy").digest("hex"))
      const port = new URL(emulator.baseUrl).port
      expect(p.seen.some((line) => line.includes(`127.0.0.1:${port}`))).toBe(true)
      expect(p.seen.length).toBeGreaterThanOrEqual(2)
    }))

  it.scopedLive("NO_PROXY bypasses the proxy", () =>
    Effect.gen(function*() {
      const p = yield* proxy
      const emulator = yield* Emulator.makeServer()
      const files = yield* Layer.build(filesVia(NodeTransport.layerWith({ httpProxy: p.url, noProxy: "127.0.0.1" })).pipe(
        Layer.provide(Layer.succeed(Emulator.Emulator, emulator))
      ))
      yield* Effect.flatMap(Files.Files.pipe(Effect.provide(files)), (f) => f.uploadBytes("direct", { name: "d.txt" }))
      expect((yield* emulator.files).length).toBe(1)
      expect(p.seen).toEqual([])
    }))

  it.scopedLive("NO_PROXY from the environment (read when the layer is built) bypasses the proxy", () =>
    Effect.gen(function*() {
      const p = yield* proxy
      const emulator = yield* Emulator.makeServer()
      yield* withEnv({ HTTP_PROXY: p.url, http_proxy: undefined, NO_PROXY: "localhost,127.0.0.1", no_proxy: undefined })
      const files = yield* Layer.build(filesVia(NodeTransport.layer).pipe(
        Layer.provide(Layer.succeed(Emulator.Emulator, emulator))
      ))
      yield* Effect.flatMap(Files.Files.pipe(Effect.provide(files)), (f) => f.uploadBytes("direct", { name: "d.txt" }))
      expect((yield* emulator.files).length).toBe(1)
      expect(p.seen).toEqual([])
    }))

  it.scopedLive("HTTPS_PROXY from the environment: https:// requests are tunnelled with CONNECT", () =>
    Effect.gen(function*() {
      const p = yield* proxy
      const emulator = yield* Emulator.makeServer()
      yield* withEnv({ HTTPS_PROXY: p.url, https_proxy: undefined, NO_PROXY: undefined, no_proxy: undefined })
      const port = new URL(emulator.baseUrl).port
      // The emulator speaks plain HTTP, so TLS through the tunnel fails: what matters is that the proxy was asked.
      const files = yield* Layer.build(filesVia(NodeTransport.layer, `https://127.0.0.1:${port}`).pipe(
        Layer.provide(Layer.succeed(Emulator.Emulator, emulator))
      ))
      const error = yield* Effect.flip(
        Effect.flatMap(Files.Files.pipe(Effect.provide(files)), (f) => f.retrieve({ id: 1 })).pipe(
          Effect.timeout("10 seconds")
        )
      )
      expect(error._tag).toBe("CdfTransportError")
      expect(p.seen.some((line) => line === `CONNECT 127.0.0.1:${port}`)).toBe(true)
      expect((yield* emulator.requests).length).toBe(0)
    }))
})
