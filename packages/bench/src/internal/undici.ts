/**
 * The plain undici reference: `request` for `POST files`, then `request` for the PUT of the buffer, both answers
 * read. No retries, timeouts or validation beyond the upload URL: what the transport itself costs. The `floor`
 * client and the CLI's baseline script make the same two calls through this module.
 */
import { Agent, request } from "undici"
import { uploadUrlOf } from "./created.js"
import type { Target } from "./protocol.js"
import { pool, type Uploader } from "./uploader.js"

/** The two requests of an upload, on one undici `Agent`. */
export interface UndiciCalls {
  /** `POST files` with `{ name }`; the upload URL. */
  readonly create: (name: string) => Promise<string>
  /** The PUT of `content` to an upload URL, answer read. */
  readonly put: (uploadUrl: string, content: Uint8Array) => Promise<void>
  readonly close: () => Promise<void>
}

export const makeCalls = (target: Target): UndiciCalls => {
  const dispatcher = new Agent()
  const filesUrl = `${target.baseUrl}/api/v1/projects/${target.project}/files`
  return {
    create: async (name) => {
      const created = await request(filesUrl, {
        method: "POST",
        dispatcher,
        headers: { "content-type": "application/json", authorization: `Bearer ${target.token}` },
        body: JSON.stringify({ name })
      })
      if (created.statusCode !== 201) {
        await created.body.dump()
        throw new Error(`POST files answered ${created.statusCode}`)
      }
      return uploadUrlOf(await created.body.json(), target.baseUrl)
    },
    put: async (uploadUrl, content) => {
      const put = await request(uploadUrl, {
        method: "PUT",
        dispatcher,
        headers: { "content-type": "application/octet-stream" },
        body: content
      })
      await put.body.dump()
      if (put.statusCode < 200 || put.statusCode > 299) throw new Error(`PUT answered ${put.statusCode}`)
    },
    close: () => dispatcher.close()
  }
}

/** The plain undici reference client: the two calls in a promise pool. */
export const undici = (target: Target): Uploader => {
  const calls = makeCalls(target)
  const upload = async (name: string, content: Buffer): Promise<void> => calls.put(await calls.create(name), content)
  return {
    bytes: async (name, content) => {
      await upload(name, content)
      return "single"
    },
    many: (prefix, content, count, concurrency) => pool(count, concurrency, (i) => upload(`${prefix}-${i}`, content)),
    close: calls.close
  }
}
