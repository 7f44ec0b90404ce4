/**
 * CORS for the emulator: the platform's `HttpMiddleware.cors` around the whole app, so that a web page on another
 * origin can call the API, the token endpoint and upload URLs. A preflight (`OPTIONS`) is answered 204 before any
 * route runs (it is not logged, counts no attempt and meets no fault); every other answer carries
 * `Access-Control-Allow-Origin` when the request's origin is allowed. The headers a preflight asks for are allowed
 * (the emulator plays a permissive CDF: it accepts whatever the client sends), and the answer headers a client reads
 * are exposed.
 *
 * @internal
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import { identity } from "effect/Function"

/**
 * The CORS setting of an emulator: `true` (the default) allows loopback origins (`http://127.0.0.1:<any port>`,
 * `http://localhost:<any port>`, `http://[::1]:<any port>`, and their https forms); `false` turns CORS off (a
 * preflight gets 404, as from a server that knows nothing of CORS); a list allows exactly those origins, `"*"`
 * any origin.
 */
export type Setting = boolean | ReadonlyArray<string>

/** The answer headers a client reads: request id, throttling, retry hint, ranges of downloads. */
export const exposedHeaders: ReadonlyArray<string> = [
  "x-request-id",
  "retry-after",
  "cdf-is-auto-retryable",
  "content-range"
]

const loopbackOrigin = /^https?:\/\/(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?$/i

/** Whether `origin` (an `Origin` header's value) is a loopback origin. */
export const isLoopbackOrigin = (origin: string): boolean => loopbackOrigin.test(origin)

/** The origin predicate of a setting (`undefined`: CORS off). The `Origin` header may be absent: never allowed. */
export const allowedOrigins = (setting: Setting): ((origin: string | undefined) => boolean) | undefined => {
  if (setting === false) return undefined
  if (setting === true) return (origin) => typeof origin === "string" && isLoopbackOrigin(origin)
  if (setting.includes("*")) return (origin) => typeof origin === "string"
  const origins = new Set(setting.map((origin) => origin.replace(/\/+$/, "").toLowerCase()))
  return (origin) => typeof origin === "string" && origins.has(origin.toLowerCase())
}

/** The middleware of a setting: the identity when CORS is off. */
export const middleware = (setting: Setting = true): <E, R>(app: HttpApp.Default<E, R>) => HttpApp.Default<E, R> => {
  const isAllowed = allowedOrigins(setting)
  if (isAllowed === undefined) return identity
  return HttpMiddleware.cors({
    // the platform passes the raw header, which is undefined on a request without `Origin`
    allowedOrigins: (origin) => isAllowed(origin),
    exposedHeaders,
    maxAge: 600
  })
}

/**
 * The headers the middleware of a setting adds to the answer to a request without `Origin` (`undefined`: none, CORS
 * is off): only the exposed headers. The direct path of the hot routes (fastPath.ts) adds them as the middleware
 * would; requests with `Origin` go through the middleware.
 */
export const headersWithoutOrigin = (setting: Setting = true): Readonly<Record<string, string>> | undefined =>
  allowedOrigins(setting) === undefined ? undefined : { "access-control-expose-headers": exposedHeaders.join(",") }
