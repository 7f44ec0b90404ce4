/**
 * The baseline: what a careful hand-written `node:http` client does (keep-alive agent, POST files, then PUT the
 * bytes with Content-Length; a stream of unknown length spooled to a file, then sent in parts). No retries, no
 * validation: the floor for any library's overhead.
 */
import * as Fs from "node:fs"
import * as FsP from "node:fs/promises"
import * as Http from "node:http"
import * as Os from "node:os"
import * as Path from "node:path"
import { uploadUrlOf } from "./created.js"
import type { Target } from "./protocol.js"
import { pool } from "./uploader.js"

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

/** The plan of an upload from a file: what ours does by default (`CdfConfig`). */
export interface SpoolPlan {
  readonly singlePutThreshold: number
  readonly partSize: number
  readonly partConcurrency: number
}

/** The plan ours follows by default (`CdfConfig`'s `singlePutThreshold`, `partSize` and `partConcurrency`). */
export const defaultSpoolPlan: SpoolPlan = {
  singlePutThreshold: 100 * 1024 * 1024,
  partSize: 50 * 1024 * 1024,
  partConcurrency: 3
}

/** `readSize` of ours (`NodeFiles`): bytes per read of a part from the spool file. */
const spoolReadSize = 256 * 1024

/**
 * The same work as ours on a one-shot stream of unknown length, by hand: write the whole stream to a temporary file
 * (to learn its size), then `uploadFile`, then remove the file. No retries, no validation: the floor of a spooled
 * upload on this machine, which no client of the same plan goes below.
 */
export const uploadSpooled = async (
  agent: Http.Agent,
  target: Target,
  name: string,
  source: AsyncIterable<Uint8Array>,
  plan: SpoolPlan
): Promise<string> => {
  const dir = await FsP.mkdtemp(Path.join(Os.tmpdir(), "bench-raw-spool-"))
  try {
    const path = Path.join(dir, "spool")
    const handle = await FsP.open(path, "w")
    let size = 0
    try {
      for await (const chunk of source) {
        await handle.write(chunk)
        size += chunk.byteLength
      }
    } finally {
      await handle.close()
    }
    return await uploadFile(agent, target, name, path, size, plan)
  } finally {
    await FsP.rm(dir, { recursive: true, force: true })
  }
}

/**
 * A file of `size` bytes as ours sends it by default, by hand: one PUT up to one part, else `initmultipartupload`
 * with the number of parts, each part read from the file (`partConcurrency` at a time, 256 KiB reads) and PUT,
 * then `completemultipartupload`.
 */
export const uploadFile = async (
  agent: Http.Agent,
  target: Target,
  name: string,
  path: string,
  size: number,
  plan: SpoolPlan
): Promise<string> => {
  const range = (start: number, end: number) =>
    Fs.createReadStream(path, { start, end: end - 1, highWaterMark: spoolReadSize })
  if (size <= plan.singlePutThreshold) {
    await upload(agent, target, name, { stream: range(0, size), size })
    return "single"
  }
  const parts = Math.max(1, Math.ceil(size / plan.partSize))
  const api = `${target.baseUrl}/api/v1/projects/${target.project}/files`
  const json = (payload: unknown) => {
    const body = Buffer.from(JSON.stringify(payload))
    return [{
      "content-type": "application/json",
      "content-length": body.length,
      authorization: `Bearer ${target.token}`
    }, body] as const
  }
  const init = await request(agent, "POST", `${api}/initmultipartupload?parts=${parts}`, ...json({ name }))
  if (init.status !== 201 && init.status !== 200) throw new Error(`initmultipartupload answered ${init.status}`)
  const session = JSON.parse(init.body.toString("utf8")) as {
    readonly id: number
    readonly uploadId: string
    readonly uploadUrls: ReadonlyArray<string>
  }
  await pool(parts, plan.partConcurrency, async (i) => {
    const start = i * plan.partSize
    const end = Math.min(size, start + plan.partSize)
    const res = await request(agent, "PUT", new URL(session.uploadUrls[i]!, target.baseUrl).href, {
      "content-length": end - start
    }, range(start, end))
    if (res.status < 200 || res.status > 299) throw new Error(`PUT of part ${i} answered ${res.status}`)
  })
  const done = await request(agent, "POST", `${api}/completemultipartupload`, ...json({
    id: session.id,
    uploadId: session.uploadId
  }))
  if (done.status < 200 || done.status > 299) throw new Error(`completemultipartupload answered ${done.status}`)
  return `${parts} parts, ${plan.partConcurrency} at a time`
}
