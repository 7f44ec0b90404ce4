/**
 * An `HttpClient` answered by the emulator's HTTP app in memory: no socket, same handlers as the server.
 */
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { App } from "./app.js"
import { DROP_HEADER } from "./app.js"

const isArrayBufferBacked = (bytes: Uint8Array): bytes is Uint8Array<ArrayBuffer> => bytes.buffer instanceof ArrayBuffer

const transportError = (request: HttpClientRequest.HttpClientRequest, description: string, cause?: unknown) =>
  new HttpClientError.RequestError({ request, reason: "Transport", description, cause })

interface WebBody {
  readonly body: BodyInit | undefined
  /** headers the transport adds: `transfer-encoding: chunked` for unsized streams, as undici does on a port */
  readonly headers: Record<string, string>
}

const chunked = { "transfer-encoding": "chunked" }

/** The body as a web body. `setBody` already put content-type and content-length in the request's headers. */
const toWebBody = (
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<WebBody, HttpClientError.RequestError> => {
  const body = request.body
  switch (body._tag) {
    case "Empty":
      return Effect.succeed({ body: undefined, headers: {} })
    case "Uint8Array":
      return Effect.succeed({
        body: isArrayBufferBacked(body.body) ? body.body : Uint8Array.from(body.body),
        headers: {}
      })
    case "Raw": {
      const raw = body.body
      if (typeof raw === "string" || raw instanceof Blob) return Effect.succeed({ body: raw, headers: {} })
      if (raw instanceof Uint8Array) {
        return Effect.succeed({ body: isArrayBufferBacked(raw) ? raw : Uint8Array.from(raw), headers: {} })
      }
      if (raw instanceof ReadableStream) {
        return Effect.succeed({ body: raw, headers: body.contentLength === undefined ? chunked : {} })
      }
      return Effect.fail(new HttpClientError.RequestError({ request, reason: "Encode", description: "unsupported raw body" }))
    }
    case "FormData":
      return Effect.succeed({ body: body.formData, headers: {} })
    case "Stream":
      return Effect.map(Stream.toReadableStreamEffect(body.stream), (stream) => ({
        body: stream,
        headers: body.contentLength === undefined ? chunked : {}
      }))
  }
}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304])

/**
 * An empty answer (e.g. storage's 201) has a null web body, whose `stream` would fail with `EmptyBody`; on a real
 * port undici gives an empty stream. Give it an empty body so both transports behave alike.
 */
const withEmptyBody = (response: Response): Response =>
  response.body !== null || NULL_BODY_STATUSES.has(response.status)
    ? response
    : new Response(new Uint8Array(0), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers
    })

/** Builds the client: it answers the given origins from `app`; any other origin is a refused connection. */
export const make = (app: App, origins: ReadonlyArray<string>): Effect.Effect<HttpClient.HttpClient> =>
  // The emulator plays a remote server: no server spans in the caller's tracer (they would record upload URLs
  // with their signatures).
  Effect.map(Effect.locally(Effect.runtime<never>(), HttpMiddleware.currentTracerDisabledWhen, () => true), (runtime) => {
    const handler = HttpApp.toWebHandlerRuntime(runtime)(app)
    return HttpClient.make((request, url, signal) => {
      if (!origins.includes(url.origin)) {
        return Effect.fail(transportError(request, `connection refused: no emulator answers ${url.origin}`))
      }
      return toWebBody(request).pipe(
        Effect.flatMap(({ body, headers }) => {
          const webHeaders = new Headers(request.headers)
          for (const [name, value] of Object.entries(headers)) webHeaders.set(name, value)
          const init: RequestInit & { duplex?: "half" } = {
            method: request.method,
            headers: webHeaders,
            signal,
            ...(body === undefined ? {} : { body, duplex: "half" })
          }
          return Effect.tryPromise({
            try: () => handler(new Request(url, init)),
            catch: (cause) => transportError(request, "the emulator failed to answer", cause)
          })
        }),
        Effect.flatMap((response) =>
          response.headers.has(DROP_HEADER)
            ? Effect.fail(transportError(request, "connection reset by the emulator"))
            : Effect.succeed(HttpClientResponse.fromWeb(request, withEmptyBody(response)))
        )
      )
    })
  })
