/**
 * The untraced variant of an `HttpClient`: the same transport without the platform's per-request tracing. The
 * library makes no `http.client` span by default (`CdfConfig.traceRequests`), and turning the platform's tracer off
 * per request (`HttpClient.withTracerDisabledWhen`) sets a `FiberRef` around every request: an uninterruptible region
 * and a dozen Effect operations each time. A transport that knows how to send without a span (`NodeTransport`)
 * carries that variant on its client; any other client gets the platform's `withTracerDisabledWhen`.
 *
 * @internal
 */
import * as HttpClient from "@effect/platform/HttpClient"

const VariantId: unique symbol = Symbol.for("@effect-cdf/files/UntracedClient")

interface WithVariant {
  readonly [VariantId]?: HttpClient.HttpClient | undefined
}

/** `client`, carrying `untraced`: the same transport, never making the platform's span. @internal */
export const withVariant = (client: HttpClient.HttpClient, untraced: HttpClient.HttpClient): HttpClient.HttpClient =>
  Object.assign(client, { [VariantId]: untraced })

/**
 * The untraced form of `client`: its own variant when it carries one (a combinator applied to it gives a new client
 * without one), else `client` with the platform's tracer off for every request.
 *
 * @internal
 */
export const untraced = (client: HttpClient.HttpClient): HttpClient.HttpClient =>
  (client as WithVariant)[VariantId] ?? HttpClient.withTracerDisabledWhen(client, () => true)
