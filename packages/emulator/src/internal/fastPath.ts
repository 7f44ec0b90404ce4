/**
 * The direct Node path of the hot routes (`POST files`, the single PUT to an upload URL in memory mode): a request
 * such a route would serve, with no fault set for it and no `Origin` header, is answered straight from the Node
 * request's events, without an Effect fiber, the platform's router or its middleware, which cost most of the CPU
 * of such a request (docs/benchmarks.md, "Emulator throughput"). Every other request goes the Effect way.
 *
 * It does what the Effect path does, with the same functions: the route is one of the app's table (app.ts), the
 * handler is the route's own synchronous form (`FastHandler`, built from the same checks as its Effect form), and
 * the frame's steps (attempt, request id, request log, token check, failure answers, PUT records) are frame.ts's.
 * The answer is written as @effect/platform-node writes a response (`writeHead(status, headers)`, then `end`), with
 * the header CORS adds to an answer to a request without `Origin`.
 *
 * @internal
 */
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Either from "effect/Either"
import * as Runtime from "effect/Runtime"
import type { IncomingMessage, ServerResponse } from "node:http"
import type { RouteName } from "../Emulator.js"
import { closeAfterNodeResponse } from "./faults.js"
import * as Frame from "./frame.js"
import type { Answer, FastHandler, Kind, Reader, View } from "./http.js"
import type { State } from "./state.js"

/** A route of the app's table that has a direct form. */
export interface FastRoute {
  readonly method: string
  /** the router's path, `:name` segments for parameters */
  readonly path: string
  readonly name: RouteName
  readonly kind: Kind
  readonly fast: FastHandler
  readonly prepare: ((view: View) => void) | undefined
}

/** A Node "request" listener's body: true when it answered the request, false when the Effect way must. */
export type Listener = (request: IncomingMessage, response: ServerResponse) => boolean

/**
 * The parameters of a path for a pattern's segments, or `undefined` when it does not match. Only plain paths
 * match: no empty segment, no percent-encoding (the router would decode it), at most one trailing slash (the
 * router ignores it); anything else goes the Effect way.
 */
const matchPath = (
  pattern: ReadonlyArray<string>,
  segments: ReadonlyArray<string>
): Record<string, string> | undefined => {
  if (pattern.length !== segments.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 1; i < pattern.length; i++) {
    const want = pattern[i]
    const got = segments[i]
    if (got === "") return undefined
    if (want.startsWith(":")) params[want.slice(1)] = got
    else if (want !== got) return undefined
  }
  return params
}

/** The query as `HttpServerRequest.ParsedSearchParams` gives it: a repeated name gives an array. */
const parseQuery = (search: string): Record<string, string | Array<string>> => {
  const out: Record<string, string | Array<string>> = {}
  if (search === "") return out
  for (const [key, value] of new URLSearchParams(search)) {
    const seen = out[key]
    if (seen === undefined) out[key] = value
    else if (Array.isArray(seen)) seen.push(value)
    else out[key] = [seen, value]
  }
  return out
}

/** Writes a response as @effect/platform-node does for the bodies the emulator's handlers build. */
const write = (nodeResponse: ServerResponse, response: HttpServerResponse.HttpServerResponse): void => {
  const body = response.body
  switch (body._tag) {
    case "Uint8Array":
      nodeResponse.writeHead(response.status, response.headers)
      nodeResponse.end(body.body)
      return
    case "Empty":
      nodeResponse.writeHead(response.status, response.headers)
      nodeResponse.end()
      return
    default:
      throw new Error(`the direct path cannot write a ${body._tag} body`)
  }
}

export const make = (
  state: State,
  routes: ReadonlyArray<FastRoute>,
  options: {
    /** the headers CORS adds to an answer to a request without `Origin` (`undefined`: CORS off) */
    readonly corsHeaders: Readonly<Record<string, string>> | undefined
    readonly clock: Clock.Clock
    /** runs the log of a defect */
    readonly runtime: Runtime.Runtime<never>
  }
): Listener => {
  const compiled = routes.map((route) => ({ route, pattern: route.path.split("/") }))
  const { clock, corsHeaders } = options
  const runFork = Runtime.runFork(options.runtime)

  const serve = (
    route: FastRoute,
    request: IncomingMessage,
    nodeResponse: ServerResponse,
    params: Record<string, string>,
    search: string
  ): void => {
    const method = request.method ?? ""
    const url = request.url ?? ""
    const headers = request.headers as Record<string, string>
    const view: View = {
      params,
      query: parseQuery(search),
      headers,
      closeAfter: (response) => closeAfterNodeResponse(request, nodeResponse, response),
      put: undefined,
      bytesRead: 0
    }
    const { entry, requestId } = Frame.begin(state, route.name, method, url, headers)

    const answer = (result: Answer): void => {
      let response = Either.isRight(result) ? result.right : Frame.failureResponse(result.left, view)
      response = Frame.finish(response, requestId, entry, view)
      if (corsHeaders !== undefined) response = HttpServerResponse.setHeaders(response, corsHeaders)
      write(nodeResponse, response)
    }
    const defect = (error: unknown): void => {
      runFork(Frame.logFailure(Cause.die(error), requestId, method, url))
      if (nodeResponse.headersSent) request.socket.destroy()
      else answer(Either.right(Frame.defectResponse(route.kind, requestId)))
    }
    /** The connection went away (or broke) before the body's end: as the Effect path drops it. */
    const dropped = (): void => {
      if (view.put !== undefined) view.put.bytes = view.bytesRead
      request.socket.destroy()
    }

    const read = (reader: Reader): void => {
      const cleanup = () => {
        request.off("data", onData)
        request.off("end", onEnd)
        request.off("error", onError)
        request.off("close", onClose)
      }
      const done = () => {
        try {
          answer(reader.done(clock.unsafeCurrentTimeMillis()))
        } catch (error) {
          defect(error)
        }
      }
      const onData = (chunk: Buffer) => {
        view.bytesRead += chunk.byteLength
        let more: boolean
        try {
          more = reader.step(chunk)
        } catch (error) {
          cleanup()
          request.pause()
          return defect(error)
        }
        if (!more) {
          // paused, not destroyed: the answer still goes out
          cleanup()
          request.pause()
          done()
        }
      }
      const onEnd = () => {
        cleanup()
        done()
      }
      const onError = () => {
        cleanup()
        dropped()
      }
      const onClose = () => {
        if (!request.complete) onError()
      }
      request.on("data", onData)
      request.on("end", onEnd)
      request.on("error", onError)
      request.on("close", onClose)
    }

    try {
      route.prepare?.(view)
      const now = clock.unsafeCurrentTimeMillis()
      const refused = route.kind === "api" ? Frame.tokenFailure(state, view, now) : undefined
      const plan = refused === undefined ? route.fast(view, now) : Either.left(refused)
      if (Either.isEither(plan)) answer(plan)
      else read(plan)
    } catch (error) {
      defect(error)
    }
  }

  return (request, nodeResponse) => {
    const url = request.url ?? ""
    if (request.headers["origin"] !== undefined || url.includes("%") || url.includes("#")) return false
    const q = url.indexOf("?")
    let path = q === -1 ? url : url.slice(0, q)
    if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1)
    if (!path.startsWith("/")) return false
    const segments = path.split("/")
    const method = request.method
    for (const { pattern, route } of compiled) {
      if (route.method !== method) continue
      const params = matchPath(pattern, segments)
      if (params === undefined) continue
      // a fault for this attempt: the Effect path applies it (and counts the attempt)
      if (Frame.findFault(state, route.name, (state.attempts.get(route.name) ?? 0) + 1) !== undefined) return false
      serve(route, request, nodeResponse, params, q === -1 ? "" : url.slice(q + 1))
      return true
    }
    return false
  }
}
