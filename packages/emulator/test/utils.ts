import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Emulator } from "@effect-cdf/emulator"
import * as Effect from "effect/Effect"
import { createHash } from "node:crypto"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"

/**
 * The `cdf-emulator` executable as installed (`bin/cdf-emulator.js`, over the bundle that `npm run build` makes with
 * scripts/bundle-bins.mjs); fails early, with what to do, when the bundle is not built.
 */
export const builtBin = (): string => {
  const bundle = fileURLToPath(new URL("../dist/bundle/cdf-emulator.js", import.meta.url))
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` first`)
  return fileURLToPath(new URL("../bin/cdf-emulator.js", import.meta.url))
}

/** sha256 (hex) of a string or bytes, as a user would compute it. */
export const sha256 = (content: string | Uint8Array) => createHash("sha256").update(content).digest("hex")

/** The API path of the emulator's project. */
export const api = (emulator: Emulator.Service, path: string) =>
  `${emulator.baseUrl}/api/v1/projects/${emulator.project}/${path}`

/** A POST of JSON to the API with the start token. */
export const postJson = (path: string, body: unknown, options: { readonly token?: boolean } = {}) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = yield* HttpClient.HttpClient
    let request = HttpClientRequest.post(api(emulator, path)).pipe(HttpClientRequest.bodyUnsafeJson(body))
    if (options.token !== false) request = HttpClientRequest.bearerToken(request, emulator.token)
    return yield* client.execute(request)
  })

/** A POST to the API with the start token and `text` as a JSON body, sent as it is (not re-encoded). */
export const postText = (path: string, text: string) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = yield* HttpClient.HttpClient
    return yield* client.execute(
      HttpClientRequest.post(api(emulator, path)).pipe(
        HttpClientRequest.bearerToken(emulator.token),
        HttpClientRequest.bodyText(text, "application/json")
      )
    )
  })

/** A GET to the API with the start token. */
export const getJson = (path: string) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = yield* HttpClient.HttpClient
    return yield* client.execute(
      HttpClientRequest.get(api(emulator, path)).pipe(HttpClientRequest.bearerToken(emulator.token))
    )
  })

/** A PUT of bytes to an upload URL (no Authorization, as the design wants). */
export const put = (url: string, content: Uint8Array, contentType?: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    // An empty content type sets no Content-Type header.
    return yield* client.execute(
      HttpClientRequest.put(url).pipe(HttpClientRequest.setBody(HttpBody.uint8Array(content, contentType ?? "")))
    )
  })

/** The JSON body of a response as a record. */
export const json = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.map(response.json, (body) => body as Record<string, unknown>)

/** Creates a file record with `fields` and, if given, PUTs `content` to its upload URL; answers its record. */
export const createFile = (fields: Record<string, unknown>, content?: string | Uint8Array) =>
  Effect.gen(function*() {
    const created = yield* json(yield* postJson("files", fields))
    if (content !== undefined) {
      yield* put(created.uploadUrl as string, typeof content === "string" ? new TextEncoder().encode(content) : content)
    }
    return created
  })

/** A POST of JSON to the API that must answer 200: its JSON body. */
export const postOk = (path: string, body: unknown) =>
  Effect.gen(function*() {
    const response = yield* postJson(path, body)
    const answer = yield* json(response)
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${JSON.stringify(answer)}`)
    return answer
  })
