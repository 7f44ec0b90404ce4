/**
 * The Node transport: `@effect/platform-node`'s undici `HttpClient` with undici's `EnvHttpProxyAgent` as its
 * dispatcher, so `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` are honoured as curl and most tools honour them.
 * Node only (subpath `@effect-cdf/files/NodeTransport`); needs the optional peers `@effect/platform-node` and
 * `undici`.
 *
 * ```ts
 * import * as NodeTransport from "@effect-cdf/files/NodeTransport"
 * ```
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Effect, Layer } from "effect"
import { Agent, EnvHttpProxyAgent } from "undici"
import * as CdfClient from "./CdfClient.js"

/**
 * Proxy settings; each overrides its environment variable. Unset: read from the environment when the layer is
 * built.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProxyOptions {
  /** Overrides `HTTP_PROXY` (proxy for `http://` URLs). */
  readonly httpProxy?: string | undefined
  /** Overrides `HTTPS_PROXY` (proxy for `https://` URLs). */
  readonly httpsProxy?: string | undefined
  /** Overrides `NO_PROXY`: comma-separated hosts (with optional port) and domain suffixes that bypass the proxy. */
  readonly noProxy?: string | undefined
}

const fromEnv = (upper: string): string | undefined => {
  const value = process.env[upper] ?? process.env[upper.toLowerCase()]
  return value === undefined || value === "" ? undefined : value
}

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
      Effect.sync(() => {
        const httpProxy = options.httpProxy ?? fromEnv("HTTP_PROXY")
        const httpsProxy = options.httpsProxy ?? fromEnv("HTTPS_PROXY")
        if (httpProxy === undefined && httpsProxy === undefined) return new Agent()
        const noProxy = options.noProxy ?? fromEnv("NO_PROXY") ?? ""
        return new EnvHttpProxyAgent({
          ...(httpProxy === undefined ? {} : { httpProxy }),
          ...(httpsProxy === undefined ? {} : { httpsProxy }),
          noProxy
        })
      }),
      (dispatcher) => Effect.promise(() => dispatcher.destroy())
    )
  )

/**
 * `NodeHttpClient.layerUndici` with an `EnvHttpProxyAgent` dispatcher: the transport to use on Node. Proxy
 * settings come from `options`, else from `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` (also lower case) at build time.
 * It also provides `CdfClient.RawStreamBodies` (`true`): undici sends large buffers view by view itself.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (
  options: ProxyOptions = {}
): Layer.Layer<HttpClient.HttpClient | CdfClient.RawStreamBodies> =>
  Layer.merge(
    NodeHttpClient.layerUndiciWithoutDispatcher.pipe(Layer.provide(dispatcherLayer(options))),
    Layer.succeed(CdfClient.RawStreamBodies, true)
  )

/**
 * `layerWith()`: undici, with the proxy taken from the environment.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<HttpClient.HttpClient | CdfClient.RawStreamBodies> = layerWith()
