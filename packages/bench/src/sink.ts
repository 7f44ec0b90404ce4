/**
 * A minimal raw `node:http` stand-in for the CDF Files API that only counts bytes: no hashing, no storage, no
 * validation. It implements just enough of `POST files`, the upload PUT, `initmultipartupload`,
 * `completemultipartupload`, `byids`, `delete` and a token endpoint for the benchmark clients to run against it, so
 * that large-upload figures measure the client and not a server hashing on one core.
 *
 * Run as its own process: `node dist/sink.js [--port N]`. It prints one JSON line
 * `{"baseUrl":..., "pid":...}` once it listens on 127.0.0.1. `GET /_sink/stats` answers the counters.
 *
 * @since 0.1.0
 */
import * as Http from "node:http"
import { parseArgs } from "node:util"

interface Counters {
  files: number
  puts: number
  bytes: number
  parts: number
  completes: number
}

const counters: Counters = { files: 0, puts: 0, bytes: 0, parts: 0, completes: 0 }
let nextId = 1
let origin = ""

const json = (res: Http.ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "x-request-id": `sink-${counters.files}-${counters.puts}`
  })
  res.end(text)
}

const readJson = (req: Http.IncomingMessage): Promise<Record<string, unknown>> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8")
      try {
        const parsed: unknown = text.length === 0 ? {} : JSON.parse(text)
        resolve(typeof parsed === "object" && parsed !== null ? { ...parsed } : {})
      } catch (e) {
        reject(e)
      }
    })
    req.on("error", reject)
  })

const record = (id: number, body: Record<string, unknown>) => {
  const now = Date.now()
  return {
    ...body,
    id,
    name: typeof body["name"] === "string" ? body["name"] : "unnamed",
    uploaded: false,
    createdTime: now,
    lastUpdatedTime: now,
    labels: []
  }
}

const countBody = (req: Http.IncomingMessage, res: Http.ServerResponse, isPart: boolean): void => {
  let bytes = 0
  req.on("data", (chunk: Buffer) => {
    bytes += chunk.length
  })
  req.on("end", () => {
    counters.puts++
    counters.bytes += bytes
    if (isPart) counters.parts++
    res.writeHead(200, { "content-length": 0 })
    res.end()
  })
  req.on("error", () => res.destroy())
}

const handle = async (req: Http.IncomingMessage, res: Http.ServerResponse): Promise<void> => {
  const url = new URL(req.url ?? "/", origin)
  const path = url.pathname.replace(/\/+$/, "")
  if (req.method === "PUT" && path.startsWith("/upload/")) {
    return countBody(req, res, path.split("/").length > 3)
  }
  if (req.method === "GET" && path === "/_sink/stats") return json(res, 200, counters)
  if (req.method === "POST" && path === "/token") {
    req.resume()
    return json(res, 200, { access_token: "sink-token", token_type: "Bearer", expires_in: 3600 })
  }
  const api = /^\/api\/v1\/projects\/[^/]+\/files(?:\/(.*))?$/.exec(path)
  if (req.method !== "POST" || api === null) {
    req.resume()
    return json(res, 404, { error: { code: 404, message: `No route ${req.method} ${path}` } })
  }
  const body = await readJson(req)
  const action = api[1] ?? ""
  switch (action) {
    case "": {
      const id = nextId++
      counters.files++
      return json(res, 201, { ...record(id, body), uploadUrl: `${origin}/upload/${id}?sig=x` })
    }
    case "initmultipartupload": {
      const id = nextId++
      counters.files++
      const parts = Number(url.searchParams.get("parts") ?? "1")
      const uploadUrls = Array.from({ length: parts }, (_, i) => `${origin}/upload/${id}/${i}?sig=x`)
      return json(res, 201, { ...record(id, body), uploadId: `u${id}`, uploadUrls })
    }
    case "completemultipartupload":
      counters.completes++
      return json(res, 200, {})
    case "byids": {
      const items = Array.isArray(body["items"]) ? body["items"] : []
      return json(res, 200, {
        items: items.map((item: unknown) => {
          const id = typeof item === "object" && item !== null && "id" in item && typeof item.id === "number"
            ? item.id
            : 0
          return { ...record(id, {}), uploaded: true }
        })
      })
    }
    case "delete":
      return json(res, 200, {})
    default:
      return json(res, 404, { error: { code: 404, message: `No route POST ${path}` } })
  }
}

const { values } = parseArgs({ options: { port: { type: "string", default: "0" } } })

const server = Http.createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => {
  handle(req, res).catch(() => {
    if (!res.headersSent) json(res, 400, { error: { code: 400, message: "Bad request" } })
    else res.destroy()
  })
})
server.headersTimeout = 0
server.listen(Number(values.port), "127.0.0.1", () => {
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  origin = `http://127.0.0.1:${port}`
  process.stdout.write(JSON.stringify({ baseUrl: origin, pid: process.pid }) + "\n")
})
process.on("SIGTERM", () => {
  server.closeAllConnections()
  server.close(() => process.exit(0))
})
