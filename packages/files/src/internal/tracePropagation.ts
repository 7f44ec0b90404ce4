/**
 * What the API client does about tracing: the platform's `http.client` span per request only with
 * `CdfConfig.traceRequests`, and trace-propagation headers (`b3`, `traceparent`) only with
 * `CdfConfig.tracePropagation`. Off by default: the official SDKs send no such headers, and a cluster's CORS
 * allow-list may refuse them.
 *
 * @internal
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpTraceContext from "@effect/platform/HttpTraceContext"
import { Effect, Option } from "effect"
import * as Untraced from "./untracedClient.js"

/** The tracing settings of `CdfConfig` that apply to the API client. @internal */
export interface TraceSettings {
  readonly traceRequests: boolean
  readonly tracePropagation: boolean
}

/** Adds the trace-propagation headers of the current span (the call's span) to a request, when there is one. */
const propagateCurrentSpan = <E, R>(client: HttpClient.HttpClient.With<E, R>): HttpClient.HttpClient.With<E, R> =>
  HttpClient.mapRequestEffect(client, (request) =>
    Effect.map(
      Effect.option(Effect.currentSpan),
      Option.match({
        onNone: () => request,
        onSome: (span) => HttpClientRequest.setHeaders(request, HttpTraceContext.toHeaders(span))
      })
    ))

/**
 * The transport the API client is built on: `platform` itself with `traceRequests` (the platform's span per request),
 * else its untraced form (`untracedClient`).
 *
 * @internal
 */
export const apiTransport = (platform: HttpClient.HttpClient, settings: TraceSettings): HttpClient.HttpClient =>
  settings.traceRequests ? platform : Untraced.untraced(platform)

/**
 * The API client (built on `apiTransport`) with the tracing of `settings`: with `traceRequests`, the platform's span
 * per request, whose context is propagated only with `tracePropagation`; without it, no platform span, and with
 * `tracePropagation` the context of the current span (the call's) is sent.
 *
 * @internal
 */
export const withTracing = <E, R>(
  client: HttpClient.HttpClient.With<E, R>,
  settings: TraceSettings
): HttpClient.HttpClient.With<E, R> =>
  settings.traceRequests
    ? HttpClient.withTracerPropagation(client, settings.tracePropagation)
    : settings.tracePropagation
    ? propagateCurrentSpan(client)
    : client
