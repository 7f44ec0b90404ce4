/**
 * The Node stack: an `HttpClient` on undici's `Dispatcher.request` (a keep-alive `Agent`, or undici's
 * `EnvHttpProxyAgent` when a proxy is configured, so `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` are honoured as curl
 * and most tools honour them), together with what `NodeFiles.layer` gives (spooling of unknown-length streams to a
 * temporary file, node:crypto's sha256, Node's `FileSystem`). Node only (subpath `@effect-cdf/files/NodeTransport`);
 * needs the optional peers `@effect/platform-node` and `undici`.
 *
 * The client is built with the platform's `HttpClient.make`, so every `HttpClient` combinator works on it and an
 * interrupted request aborts its socket; it reads response headers once and each body without a fiber, so a request
 * costs about a third to a half less CPU than on `NodeHttpClient.layerUndici` (which the library also works on).
 *
 * ```ts
 * import * as NodeTransport from "@effect-cdf/files/NodeTransport"
 * ```
 *
 * @since 0.1.0
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Effect, Layer } from "effect"
import * as CdfClient from "./CdfClient.js"
import * as internal from "./internal/nodeTransport.js"
import type { Sha256Factory } from "./internal/sha256.js"
import type { Spooler } from "./internal/spool.js"
import * as NodeFiles from "./NodeFiles.js"

/**
 * Proxy settings; each overrides its environment variable. Unset: read from the environment when the layer is
 * built.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProxyOptions extends internal.ProxyOptions {}

/**
 * An undici dispatcher honouring the proxy settings, closed with the layer. The environment is read once, when the
 * layer is built; with no proxy configured at all it is a plain keep-alive `Agent` (no per-request proxy checks).
 *
 * @since 0.1.0
 * @category layers
 */
export const dispatcherLayer = (options: ProxyOptions = {}): Layer.Layer<NodeHttpClient.Dispatcher> =>
  Layer.scoped(
    NodeHttpClient.Dispatcher,
    Effect.acquireRelease(
      Effect.sync(() => internal.makeDispatcher(options)),
      (dispatcher) => Effect.promise(() => dispatcher.destroy())
    )
  )

/**
 * The `HttpClient` on the `NodeHttpClient.Dispatcher` it is given: each request is one undici `dispatcher.request`,
 * aborted when its fiber is interrupted. Response headers are converted once, on first read; a body read is one
 * callback on undici's promise; `json` of an empty body is `null`. A body never read is released when the response
 * is garbage-collected (the platform's `HttpClient.make` aborts it); read or discard it to reuse the connection.
 *
 * The client also carries its untraced variant, which `CdfClient` sends on unless `CdfConfig.traceRequests` is set:
 * the same requests without the platform's span, tracer check or garbage-collector registration (each request is
 * one `Effect.async` whose interruption aborts it). A client built from it with a combinator has no such variant,
 * and gets the platform's tracer turned off per request instead.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHttpClient: Layer.Layer<HttpClient.HttpClient, never, NodeHttpClient.Dispatcher> = Layer.effect(
  HttpClient.HttpClient,
  Effect.map(NodeHttpClient.Dispatcher, internal.make)
)

/**
 * Everything an upload needs on Node: the `HttpClient` (`layerHttpClient`) on `dispatcherLayer(options)`,
 * `CdfClient.RawStreamBodies` (`true`: undici sends large buffers view by view, and ranges of files as pulled web
 * streams, itself) and `NodeFiles.layer`
 * (spooling of one-shot streams of unknown length, node:crypto's sha256, Node's `FileSystem`). Proxy settings come
 * from `options`, else from `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` (also lower case) at build time.
 *
 * Uploads look for the spooler and the sha256 where they run: put this layer last with `Layer.provideMerge`
 * (`Files.layer.pipe(..., Layer.provideMerge(NodeTransport.layer))`) so that they are part of what you provide.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (
  options: ProxyOptions = {}
): Layer.Layer<HttpClient.HttpClient | CdfClient.RawStreamBodies | Spooler | Sha256Factory | FileSystem.FileSystem> =>
  Layer.mergeAll(
    layerHttpClient.pipe(Layer.provide(dispatcherLayer(options))),
    Layer.succeed(CdfClient.RawStreamBodies, true),
    NodeFiles.layer
  )

/**
 * `layerWith()`: undici with the proxy taken from the environment, plus `NodeFiles.layer`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  HttpClient.HttpClient | CdfClient.RawStreamBodies | Spooler | Sha256Factory | FileSystem.FileSystem
> = layerWith()
