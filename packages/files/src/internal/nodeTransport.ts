/**
 * The `HttpClient` of `NodeTransport`: undici's `Dispatcher.request` under the platform's `HttpClient.make`, which
 * gives every request an `AbortController` (aborted when the fiber is interrupted, or when a response whose body was
 * never read is garbage-collected), the `http.client` span and the combinators. What this file adds is what
 * @effect/platform-node's undici adapter pays for per request: headers are converted once, on first read, and each
 * body read is one `Effect.async` over undici's own promise (no fiber, no `Effect.cached` per read), or none at all
 * for the small answer to a POST or a PUT, read with its headers (`prefetchLimit`). The client
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
import { EventEmitter } from "node:events"
import { Agent, type Dispatcher, EnvHttpProxyAgent } from "undici"
import * as Untraced from "./untracedClient.js"

/** @internal */
export interface ProxyOptions {
  /** Overrides `HTTP_PROXY` (proxy for `http://` URLs). */
  readonly httpProxy?: string | undefined
  /** Overrides `HTTPS_PROXY` (proxy for `https://` URLs). */
  readonly httpsProxy?: string | undefined
  /** Overrides `NO_PROXY`: comma-separated hosts (with optional port) and domain suffixes that bypass the proxy. */
  readonly noProxy?: string | undefined
}

type RequestBody = Exclude<Dispatcher.DispatchOptions["body"], undefined>

/**
 * Timeouts are the library's (attempt timeouts and watchdogs): undici's body timeout is off, and its headers timeout
 * is set far above ours (1 h), so that it never decides first.
 */
const headersTimeout = 60 * 60 * 1000

/**
 * The answer to a POST or a PUT whose declared length is at most this is read with its headers: the request's
 * effect ends when the body is in, and reading it is then synchronous (no `Effect.async` and no interruption
 * handler per read: about a tenth of the Effect operations of a small upload). These are the answers of the API
 * and of storage to writes; a GET (a download) and a body of unknown length are read when asked, as a stream.
 */
const prefetchLimit = 64 * 1024

const readWithHeaders = (request: HttpClientRequest.HttpClientRequest, data: Dispatcher.ResponseData): boolean => {
  if (request.method !== "POST" && request.method !== "PUT") return false
  const length = data.headers["content-length"]
  return typeof length === "string" && Number(length) <= prefetchLimit
}

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
    // Without a signal of the caller's (the untraced client), the request is aborted by this effect's interruption,
    // through an `EventEmitter`, which undici takes as a signal: an `AbortController` with its listener costs 50
    // times as much (measured: docs/benchmarks.md, "One upload, phase by phase")
    const aborter = signal === undefined ? new EventEmitter() : undefined
    dispatcher.request({
      signal: signal ?? aborter,
      method: request.method as Dispatcher.HttpMethod,
      headers,
      origin: url.origin,
      path: url.pathname + url.search,
      body,
      headersTimeout,
      bodyTimeout: 0
    }).then(
      (data) => {
        if (!readWithHeaders(request, data)) return resume(Effect.succeed(new UndiciResponse(request, data, undefined)))
        // a failed read is the body's failure, seen by whoever reads it (as when it is read later)
        data.body.arrayBuffer().then(
          (bytes) => resume(Effect.succeed(new UndiciResponse(request, data, { _tag: "Read", bytes }))),
          (cause) => resume(Effect.succeed(new UndiciResponse(request, data, { _tag: "Failed", failure: cause })))
        )
      },
      (cause) => {
        const failure = encodeFailure()
        resume(Effect.fail(
          failure === undefined
            ? new HttpClientError.RequestError({ request, reason: "Transport", cause })
            : new HttpClientError.RequestError({ request, reason: "Encode", cause: failure })
        ))
      }
    )
    return aborter === undefined ? undefined : Effect.sync(() => {
      aborter.emit("abort")
    })
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
 * `CdfClient` does with every answer). Measured: see docs/benchmarks-history.md ("The untraced transport and fewer
 * regions").
 *
 * @internal
 */
const makeUntraced = (dispatcher: Dispatcher): HttpClient.HttpClient =>
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

/** A body read with the headers (`prefetchLimit`): its bytes, or why reading it failed. */
type Prefetched =
  | { readonly _tag: "Read"; readonly bytes: ArrayBuffer }
  | { readonly _tag: "Failed"; readonly failure: unknown }

const utf8 = new TextDecoder()

/**
 * One undici response. Each body read starts undici's read when the effect first runs and keeps its promise, so
 * reading `text` twice (or `json` after `text`) reads the socket once; an interrupted read destroys the body (and so
 * the socket). A body read with the headers (`readWithHeaders`) is read from memory, synchronously.
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
    private readonly source: Dispatcher.ResponseData,
    private readonly prefetched: Prefetched | undefined
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

  /** The body read with the headers, as `f` of its bytes (which may throw). */
  private readPrefetched<B>(
    prefetched: Prefetched,
    f: (bytes: ArrayBuffer) => B
  ): Effect.Effect<B, HttpClientError.ResponseError> {
    return Effect.suspend(() => {
      if (prefetched._tag === "Failed") return Effect.fail(this.decodeError(prefetched.failure))
      try {
        return Effect.succeed(f(prefetched.bytes))
      } catch (cause) {
        return Effect.fail(this.decodeError(cause))
      }
    })
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

  /** The body as text, `f` of it (which may throw): from memory when read with the headers. */
  private readText<B>(f: (text: string) => B): Effect.Effect<B, HttpClientError.ResponseError> {
    return this.prefetched === undefined
      ? this.read(this.startText, f)
      : this.readPrefetched(this.prefetched, (bytes) => f(utf8.decode(bytes)))
  }

  /** The body's bytes, `f` of them (which may throw): from memory when read with the headers. */
  private readBytes<B>(f: (bytes: ArrayBuffer) => B): Effect.Effect<B, HttpClientError.ResponseError> {
    return this.prefetched === undefined ? this.read(this.startBytes, f) : this.readPrefetched(this.prefetched, f)
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return this.readText(identity)
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return this.readText(parseJson)
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return this.readText((text) => UrlParams.fromInput(new URLSearchParams(text)))
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return this.readBytes(identity)
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    // undici's request body has no formData(); the web Response parses multipart and urlencoded bodies
    return Effect.flatMap(
      this.readBytes((bytes) => new Response(bytes, { headers: { "content-type": this.contentType } })),
      (response) => this.read(() => response.formData(), identity)
    )
  }

  private get contentType(): string {
    return this.headers["content-type"] ?? ""
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    const prefetched = this.prefetched
    if (prefetched === undefined) {
      return NodeStream.fromReadable(() => this.source.body, (cause) => this.decodeError(cause))
    }
    if (prefetched._tag === "Failed") return Stream.fail(this.decodeError(prefetched.failure))
    return prefetched.bytes.byteLength === 0 ? Stream.empty : Stream.succeed(new Uint8Array(prefetched.bytes))
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

const fromEnv = (upper: string): string | undefined => {
  const value = process.env[upper] ?? process.env[upper.toLowerCase()]
  return value === undefined || value === "" ? undefined : value
}

/**
 * The dispatcher of `NodeTransport.dispatcherLayer`: undici's `EnvHttpProxyAgent` when a proxy is set (in `options`,
 * else in the environment, read now), else a plain keep-alive `Agent`.
 *
 * @internal
 */
export const makeDispatcher = (options: ProxyOptions): Dispatcher => {
  const httpProxy = options.httpProxy ?? fromEnv("HTTP_PROXY")
  const httpsProxy = options.httpsProxy ?? fromEnv("HTTPS_PROXY")
  if (httpProxy === undefined && httpsProxy === undefined) return new Agent()
  const noProxy = options.noProxy ?? fromEnv("NO_PROXY") ?? ""
  return new EnvHttpProxyAgent({
    ...(httpProxy === undefined ? {} : { httpProxy }),
    ...(httpsProxy === undefined ? {} : { httpsProxy }),
    noProxy
  })
}
