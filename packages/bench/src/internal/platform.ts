/**
 * A reference client that locates overhead: the bare `@effect/platform` HttpClient over undici
 * (`NodeHttpClient.layerUndici`) doing POST files + PUT with `HttpBody.uint8Array`, with no retries, timeouts,
 * validation, spans or progress (what Effect's HTTP layer costs). The plain undici loop is in `./undici.ts`, the
 * Effect-runtime floor in `./floor.ts`.
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Effect, ManagedRuntime, Schema } from "effect"
import type { Target } from "./protocol.js"
import { effectUploader } from "./effectUploader.js"
import type { Uploader } from "./uploader.js"

const Created = Schema.Struct({ uploadUrl: Schema.String })

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
  return effectUploader(runtime, upload, () => runtime.dispose())
}
