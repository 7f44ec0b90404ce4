/**
 * Two reference clients that locate overhead: a plain undici `request` loop (what the transport itself costs) and
 * the bare `@effect/platform` HttpClient over undici (`NodeHttpClient.layerUndici`) doing POST files + PUT with
 * `HttpBody.uint8Array`, with no retries, timeouts, validation, spans or progress (what Effect's HTTP layer costs).
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Effect, ManagedRuntime, Schema } from "effect"
import { Agent, request } from "undici"
import type { Target } from "./protocol.js"
import { pool, type Uploader } from "./uploader.js"

const Created = Schema.Struct({ uploadUrl: Schema.String })
const decodeCreated = Schema.decodeUnknownSync(Created)

export const undici = (target: Target): Uploader => {
  const dispatcher = new Agent()
  const upload = async (name: string, content: Buffer): Promise<void> => {
    const created = await request(`${target.baseUrl}/api/v1/projects/${target.project}/files`, {
      method: "POST",
      dispatcher,
      headers: { "content-type": "application/json", authorization: `Bearer ${target.token}` },
      body: JSON.stringify({ name })
    })
    if (created.statusCode !== 201) throw new Error(`POST files answered ${created.statusCode}`)
    const { uploadUrl } = decodeCreated(await created.body.json())
    const put = await request(new URL(uploadUrl, target.baseUrl), {
      method: "PUT",
      dispatcher,
      headers: { "content-type": "application/octet-stream" },
      body: content
    })
    await put.body.dump()
    if (put.statusCode < 200 || put.statusCode > 299) throw new Error(`PUT answered ${put.statusCode}`)
  }
  return {
    bytes: async (name, content) => {
      await upload(name, content)
      return "single"
    },
    many: (prefix, content, count, concurrency) => pool(count, concurrency, (i) => upload(`${prefix}-${i}`, content)),
    close: () => dispatcher.close()
  }
}

export const platform = async (target: Target): Promise<Uploader> => {
  const runtime = ManagedRuntime.make(NodeHttpClient.layerUndici)
  await runtime.runtime()
  const upload = (name: string, content: Uint8Array) =>
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      const created = yield* client.execute(
        HttpClientRequest.post(`${target.baseUrl}/api/v1/projects/${target.project}/files`).pipe(
          HttpClientRequest.bearerToken(target.token),
          HttpClientRequest.bodyUnsafeJson({ name })
        )
      ).pipe(Effect.flatMap(HttpClientResponse.schemaBodyJson(Created)))
      const put = yield* client.execute(
        HttpClientRequest.put(new URL(created.uploadUrl, target.baseUrl).href).pipe(
          HttpClientRequest.setBody(HttpBody.uint8Array(content))
        )
      )
      yield* put.arrayBuffer
    })
  return {
    bytes: async (name, content) => {
      await runtime.runPromise(upload(name, content))
      return "single"
    },
    many: (prefix, content, count, concurrency) =>
      runtime.runPromise(Effect.forEach(
        Array.from({ length: count }, (_, i) => i),
        (i) => upload(`${prefix}-${i}`, content),
        { concurrency, discard: true }
      )),
    close: () => runtime.dispose()
  }
}
