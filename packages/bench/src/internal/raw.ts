/**
 * The baseline: what a careful hand-written `node:http` client does (keep-alive agent, POST files, then PUT the
 * bytes with Content-Length). No retries, no validation: the floor for any library's overhead.
 */
import * as Http from "node:http"
import { uploadUrlOf } from "./created.js"
import type { Target } from "./protocol.js"

export interface RawResponse {
  readonly status: number
  readonly body: Buffer
}

export const makeAgent = (maxSockets = 64): Http.Agent => new Http.Agent({ keepAlive: true, maxSockets })

export const request = (
  agent: Http.Agent,
  method: string,
  url: string,
  headers: Http.OutgoingHttpHeaders,
  body: Uint8Array | AsyncIterable<Uint8Array> | undefined
): Promise<RawResponse> =>
  new Promise((resolve, reject) => {
    const req = Http.request(url, { method, headers, agent }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }))
      res.on("error", reject)
    })
    req.on("error", reject)
    if (body === undefined) {
      req.end()
    } else if (body instanceof Uint8Array) {
      req.end(body)
    } else {
      void (async () => {
        for await (const chunk of body) {
          if (!req.write(chunk)) await new Promise<void>((r) => req.once("drain", () => r()))
        }
        req.end()
      })().catch((e: unknown) => req.destroy(e instanceof Error ? e : new Error(String(e))))
    }
  })

const createFile = async (agent: Http.Agent, target: Target, name: string): Promise<string> => {
  const payload = Buffer.from(JSON.stringify({ name }))
  const res = await request(agent, "POST", `${target.baseUrl}/api/v1/projects/${target.project}/files`, {
    "content-type": "application/json",
    "content-length": payload.length,
    authorization: `Bearer ${target.token}`
  }, payload)
  if (res.status !== 201 && res.status !== 200) throw new Error(`POST files answered ${res.status}`)
  return uploadUrlOf(JSON.parse(res.body.toString("utf8")), target.baseUrl)
}

/** POST files, then PUT `content` (bytes, or a stream of `size` bytes) to the upload URL. */
export const upload = async (
  agent: Http.Agent,
  target: Target,
  name: string,
  content: Uint8Array | { readonly stream: AsyncIterable<Uint8Array>; readonly size: number }
): Promise<void> => {
  const uploadUrl = await createFile(agent, target, name)
  const size = content instanceof Uint8Array ? content.length : content.size
  const res = await request(agent, "PUT", uploadUrl, {
    "content-type": "application/octet-stream",
    "content-length": size
  }, content instanceof Uint8Array ? content : content.stream)
  if (res.status < 200 || res.status > 299) throw new Error(`PUT answered ${res.status}`)
}
