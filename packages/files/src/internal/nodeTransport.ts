/**
 * The `HttpClient` of `NodeTransport`: undici's `Dispatcher.request` under the platform's `HttpClient.make`, which
 * gives every request an `AbortController` (aborted when the fiber is interrupted, or when a response whose body was
 * never read is garbage-collected), the `http.client` span and the combinators. What this file adds is what
 * @effect/platform-node's undici adapter pays for per request: headers are converted once, on first read, and each
 * body read is one `Effect.async` over undici's own promise (no fiber, no `Effect.cached` per read). The client
 * carries an untraced variant (`makeUntraced`, see `untracedClient.ts`) built with `HttpClient.makeWith`: no span,
 * no tracer check, no `AbortController` registered with the garbage collector; `CdfClient` sends on it by default.
 *
 * @internal
 */
import * as Cookies from "@effect/platform/Cookies"
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as IncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as NodeStream from "@effect/platform-node/NodeStream"
import { Cause, Effect, Inspectable, Option, Stream } from "effect"
import { identity } from "effect/Function"
import type { Dispatcher } from "undici"
import * as Untraced from "./untracedClient.js"

type RequestBody = Exclude<Dispatcher.DispatchOptions["body"], undefined>

/** Timeouts are Effect's (`Effect.timeout` and the library's watchdogs): undici's own are off. */
const headersTimeout = 60 * 60 * 1000

const noop = () => {}

/**
 * Sends `request` on `dispatcher`. A `Stream` body goes as a Node `Readable` fed by a fiber of the sending fiber's
 * runtime; when it fails, the request fails with reason "Encode" and the stream's error as cause. Any other failure
 * is reason "Transport" with undici's error as cause (its `code`, e.g. `ECONNREFUSED`, is what tells connect
 * failures apart).
 */
const send = (
  dispatcher: Dispatcher,
  request: HttpClientRequest.HttpClientRequest,
  url: URL,
  signal: AbortSignal | undefined,
  body: RequestBody,
  encodeFailure: () => unknown,
  headers: Record<string, string> = request.headers
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError> =>
  Effect.async((resume) => {
    // Without a signal of the caller's (the untraced client), the request is aborted by this effect's interruption
    const controller = signal === undefined ? new AbortController() : undefined
    dispatcher.request({
      signal: signal ?? controller!.signal,
      method: request.method as Dispatcher.HttpMethod,
      headers,
      origin: url.origin,
      path: url.pathname + url.search,
      body,
      headersTimeout,
      bodyTimeout: 0
    }).then(
      (data) => resume(Effect.succeed(new UndiciResponse(request, data))),
      (cause) => {
        const failure = encodeFailure()
        resume(Effect.fail(
          failure === undefined
            ? new HttpClientError.RequestError({ request, reason: "Transport", cause })
            : new HttpClientError.RequestError({ request, reason: "Encode", cause: failure })
        ))
      }
    )
    return controller === undefined ? undefined : Effect.sync(() => controller.abort())
  })

const none = () => undefined

/**
 * The `HttpClient` over `dispatcher`: the platform's `HttpClient.make` (its `http.client` span when the tracer is on
 * for a request, an `AbortController` aborted on interruption, a body never read aborted once garbage-collected),
 * carrying its untraced variant (`Untraced`).
 *
 * @internal
 */
export const make = (dispatcher: Dispatcher): HttpClient.HttpClient =>
  Untraced.withVariant(
    HttpClient.make((request, url, signal) => execute(dispatcher, request, url, signal)),
    makeUntraced(dispatcher)
  )

/**
 * The untraced variant: the same requests built with `HttpClient.makeWith`, so every combinator works on it, but
 * no span, no tracer check and no `FiberRef` set per request: each request is one `Effect.async` over undici whose
 * interruption aborts it. A body is not released by the garbage collector: its reader reads or discards it (as
 * `CdfClient` does with every answer). Measured: see docs/benchmarks.md ("The untraced transport").
 *
 * @internal
 */
export const makeUntraced = (dispatcher: Dispatcher): HttpClient.HttpClient =>
  HttpClient.makeWith(
    (effect: Effect.Effect<HttpClientRequest.HttpClientRequest, HttpClientError.HttpClientError>) =>
      Effect.flatMap(effect, (request) => {
        const url = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
        return url._tag === "Left"
          ? Effect.fail(new HttpClientError.RequestError({ request, reason: "InvalidUrl", cause: url.left }))
          : execute(dispatcher, request, url.right, undefined)
      }),
    Effect.succeed
  )

/** Sends `request` by the kind of its body; `signal` is the platform's, or none (the effect's own abort). */
const execute = (
  dispatcher: Dispatcher,
  request: HttpClientRequest.HttpClientRequest,
  url: URL,
  signal: AbortSignal | undefined
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError> => {
  const body = request.body
  switch (body._tag) {
    case "Empty":
      return send(dispatcher, request, url, signal, null, none)
    case "Uint8Array":
      return send(dispatcher, request, url, signal, body.body, none)
    case "Raw":
      // a web ReadableStream, a Node Readable, a string or bytes: undici sends each of them itself
      return send(dispatcher, request, url, signal, body.body as RequestBody, none)
    case "FormData": {
      // undici's dispatcher cannot encode the global FormData (another undici's class): the web Response encodes
      // it as a multipart stream and gives its boundary
      const encoded = new Response(body.formData)
      const headers = { ...request.headers, "content-type": encoded.headers.get("content-type") ?? "" }
      return send(dispatcher, request, url, signal, encoded.body as unknown as RequestBody, none, headers)
    }
    case "Stream": {
      let failure: unknown = undefined
      // only the stream's own failure: undici destroying the body (a reset connection) interrupts it
      const stream = Stream.tapErrorCause(body.stream, (cause) =>
        Effect.sync(() => {
          if (!Cause.isInterruptedOnly(cause)) failure = Cause.squash(cause)
        }))
      return Effect.flatMap(
        NodeStream.toReadable(stream),
        (readable) => send(dispatcher, request, url, signal, readable, () => failure)
      )
    }
  }
}

/**
 * One undici response. Each body read starts undici's read when the effect first runs and keeps its promise, so
 * reading `text` twice (or `json` after `text`) reads the socket once; an interrupted read destroys the body (and so
 * the socket).
 */
class UndiciResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [IncomingMessage.TypeId]: IncomingMessage.TypeId = IncomingMessage.TypeId
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  private cachedHeaders: Headers.Headers | undefined = undefined
  private cachedCookies: Cookies.Cookies | undefined = undefined
  private textRead: Promise<string> | undefined = undefined
  private bytesRead: Promise<ArrayBuffer> | undefined = undefined

  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    private readonly source: Dispatcher.ResponseData
  ) {
    super()
    // an aborted body emits "error"; whoever reads it hears of it through the read
    source.body.on("error", noop)
  }

  get status(): number {
    return this.source.statusCode
  }

  get headers(): Headers.Headers {
    return this.cachedHeaders ??= Headers.fromInput(this.source.headers)
  }

  get cookies(): Cookies.Cookies {
    if (this.cachedCookies !== undefined) return this.cachedCookies
    const header = this.source.headers["set-cookie"]
    return this.cachedCookies = header === undefined
      ? Cookies.empty
      : Cookies.fromSetCookie(Array.isArray(header) ? header : [header])
  }

  get remoteAddress(): Option.Option<string> {
    return Option.none()
  }

  private decodeError(cause: unknown): HttpClientError.ResponseError {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }

  /** Waits for `start()` (run once per response and kind) and maps its value with `f`, which may throw. */
  private read<A, B>(start: () => Promise<A>, f: (a: A) => B): Effect.Effect<B, HttpClientError.ResponseError> {
    return Effect.async((resume) => {
      start().then(
        (a) => {
          let b: B
          try {
            b = f(a)
          } catch (cause) {
            return resume(Effect.fail(this.decodeError(cause)))
          }
          resume(Effect.succeed(b))
        },
        (cause) => resume(Effect.fail(this.decodeError(cause)))
      )
      return Effect.sync(() => this.source.body.destroy())
    })
  }

  private readonly startText = () => this.textRead ??= this.source.body.text()
  private readonly startBytes = () => this.bytesRead ??= this.source.body.arrayBuffer()

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return this.read(this.startText, identity)
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return this.read(this.startText, parseJson)
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return this.read(this.startText, (text) => UrlParams.fromInput(new URLSearchParams(text)))
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return this.read(this.startBytes, identity)
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    // undici's request body has no formData(); the web Response parses multipart and urlencoded bodies
    return Effect.flatMap(
      this.read(this.startBytes, (bytes) => new Response(bytes, { headers: { "content-type": this.contentType } })),
      (response) => this.read(() => response.formData(), identity)
    )
  }

  private get contentType(): string {
    return this.headers["content-type"] ?? ""
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return NodeStream.fromReadable(() => this.source.body, (cause) => this.decodeError(cause))
  }

  toJSON(): unknown {
    return IncomingMessage.inspect(this, {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status
    })
  }
}

const parseJson = (text: string): unknown => text === "" ? null : JSON.parse(text)
