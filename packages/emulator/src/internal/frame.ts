/**
 * The shared frame of every logged route: attempt counting, request id, request log, authentication of API
 * routes, faults, and the error answers of each kind of server.
 *
 * @internal
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import { IncomingMessage } from "node:http"
import type { Fault, RouteName } from "../Emulator.js"
import { closeAfterResponse, drop, MALFORMED, resetAfter, throttle } from "./faults.js"
import type { Ctx, Failure, Handler, Kind, View } from "./http.js"
import {
  ApiError,
  cdfError,
  Dropped,
  errorResponse,
  foldIncoming,
  foldStream,
  header,
  oauthError,
  rawBody,
  storageError
} from "./http.js"
import type { MutableLoggedRequest, State } from "./state.js"

const SECRET_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"])

/** Headers as logged: secrets read `<redacted>`. */
export const maskHeaders = (headers: Readonly<Record<string, string>>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    out[name] = SECRET_HEADERS.has(name.toLowerCase()) ? "<redacted>" : value
  }
  return out
}

/** The first fault set for `route` at this (1-based) attempt, if any. */
export const findFault = (state: State, route: RouteName, attempt: number): Fault | undefined =>
  state.faults.find((fault) =>
    fault.route === route && (fault.attempts === undefined || fault.attempts.includes(attempt))
  )

/** Why an API request is refused at `now` (401 without a valid bearer token, 403 for another project), if it is. */
export const tokenFailure = (state: State, view: View, now: number): ApiError | undefined => {
  const authorization = header(view, "authorization") ?? ""
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
  if (match === null || !state.isValidTokenAt(match[1], now)) {
    return new ApiError({ status: 401, message: "Unauthorized" })
  }
  if (view.params["project"] !== state.project) {
    return new ApiError({
      status: 403,
      message: `Project '${view.params["project"] ?? ""}' not found or insufficient access rights`
    })
  }
  return undefined
}

/** A request as it starts: its attempt counted, a request id, its entry in the request log (status 0 for now). */
export const begin = (
  state: State,
  name: RouteName,
  method: string,
  url: string,
  headers: Readonly<Record<string, string>>
) => {
  const attempt = (state.attempts.get(name) ?? 0) + 1
  state.attempts.set(name, attempt)
  const requestId = randomUUID()
  const entry: MutableLoggedRequest = {
    route: name,
    method,
    path: url.split("?")[0],
    status: 0,
    attempt,
    requestId,
    headers: maskHeaders(headers)
  }
  state.log.push(entry)
  return { attempt, requestId, entry }
}

/** The answer to a handler's failure, shaped like the server the route plays. */
export const failureResponse = (failure: Failure, view: View): HttpServerResponse.HttpServerResponse => {
  switch (failure._tag) {
    case "ApiError": {
      const response = HttpServerResponse.setHeaders(
        cdfError(failure.status, failure.message, failure.extra),
        failure.headers ?? {}
      )
      // a 413 stops reading the body: the rest of it is not read, the connection closes after the answer
      return failure.status === 413 ? view.closeAfter(response) : response
    }
    case "StorageError":
      return storageError(failure.status, failure.code, failure.message)
    case "OAuthError":
      return oauthError(failure.status, failure.error, failure.description)
  }
}

/** The 500 answered when a handler fails with a defect (logged under `requestId`). */
export const defectResponse = (kind: Kind, requestId: string): HttpServerResponse.HttpServerResponse =>
  kind === "storage"
    ? storageError(500, "InternalError", `The emulator failed (request id ${requestId})`)
    : kind === "token"
    ? oauthError(500, "server_error", `The emulator failed (request id ${requestId})`)
    : cdfError(500, `The emulator failed (request id ${requestId})`)

/** The answer as it goes out: its request id, and its status in the log (and on the PUT record). */
export const finish = (
  response: HttpServerResponse.HttpServerResponse,
  requestId: string,
  entry: MutableLoggedRequest,
  view: View
): HttpServerResponse.HttpServerResponse => {
  const answer = HttpServerResponse.setHeader(response, "x-request-id", requestId)
  entry.status = answer.status
  if (view.put !== undefined) {
    view.put.status = answer.status
    view.put.bytes = view.bytesRead
  }
  return answer
}

/** Builds `route(name, kind, handler, prepare?)`, the router's handler of one logged, faultable route. */
export const make = (state: State) => {
  const checkToken = (ctx: Ctx) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const failure = tokenFailure(state, ctx, now)
      return failure === undefined ? Effect.void : Effect.fail(failure)
    })

  return (name: RouteName, kind: Kind, handler: Handler, prepare?: (view: View) => void) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const params = yield* HttpRouter.params
      const query = yield* HttpServerRequest.ParsedSearchParams
      const { entry, requestId } = begin(state, name, request.method, request.url, request.headers)
      const fault = findFault(state, name, entry.attempt)
      const action = fault?.action
      // A download applies Throttle and ResetAfterBytes to what it sends (applyToDownload), not to the request.
      const outbound = kind === "storage" && request.method === "GET"
      // built when first read (most requests are read through `fold`, without a stream)
      const body: Stream.Stream<Uint8Array, Dropped> = Stream.suspend(() => {
        let shaped: Stream.Stream<Uint8Array, Dropped> = Stream.mapError(rawBody(request), () => new Dropped())
        if (action?._tag === "Throttle" && !outbound) shaped = throttle(shaped, action.bytesPerSecond)
        if (action?._tag === "ResetAfterBytes" && !outbound) shaped = resetAfter(shaped, action.bytes)
        // counted as the handler reads them (with ResetAfterBytes: exactly the bytes read before the drop)
        return Stream.tap(shaped, (chunk) => Effect.sync(() => void (ctx.bytesRead += chunk.byteLength)))
      })
      // straight from the Node request's events unless a fault shapes the body (or it is not a Node request)
      const source = request.source
      const direct = source instanceof IncomingMessage &&
        (outbound || (action?._tag !== "Throttle" && action?._tag !== "ResetAfterBytes"))
      const fold = direct
        ? (step: (chunk: Uint8Array) => boolean) =>
          foldIncoming(source, (chunk) => {
            ctx.bytesRead += chunk.byteLength
            return step(chunk)
          })
        : (step: (chunk: Uint8Array) => boolean) => foldStream(body, step)
      const ctx: Ctx = {
        request,
        params,
        query,
        headers: request.headers,
        closeAfter: (response) => closeAfterResponse(request, response),
        body,
        fold,
        action,
        put: undefined,
        bytesRead: 0
      }
      prepare?.(ctx)

      const guarded: Effect.Effect<HttpServerResponse.HttpServerResponse, Dropped> = Effect.suspend(() =>
        kind === "api" ? Effect.zipRight(checkToken(ctx), handler(ctx)) : handler(ctx)
      ).pipe(
        Effect.catchIf(
          (error): error is Failure => error._tag !== "Dropped",
          (failure) => Effect.succeed(failureResponse(failure, ctx))
        )
      )

      const faulted: Effect.Effect<HttpServerResponse.HttpServerResponse, Dropped> = (() => {
        switch (action?._tag) {
          case undefined:
          case "Throttle":
          case "CorruptDownload":
            return guarded
          case "Status": {
            const headers: Record<string, string> = { ...action.headers }
            if (action.retryAfter !== undefined) headers["retry-after"] = action.retryAfter
            return Effect.as(
              Effect.ignore(Stream.runDrain(ctx.body)),
              HttpServerResponse.setHeaders(errorResponse(kind, action.status, "Injected fault"), headers)
            )
          }
          case "Delay":
            return Effect.zipRight(Effect.sleep(Duration.millis(action.millis)), guarded)
          case "Hang":
            return Effect.never
          case "ResetAfterBytes":
            return outbound ? guarded : Effect.zipRight(guarded, Effect.fail(new Dropped()))
          case "MalformedJson":
            return Effect.map(guarded, (response) =>
              HttpServerResponse.text(MALFORMED, {
                status: response.status >= 200 && response.status < 300 ? response.status : 200,
                contentType: "application/json"
              }))
          case "CommitThenFail":
            return Effect.flatMap(guarded, (response) =>
              response.status < 200 || response.status >= 300
                ? Effect.succeed(response)
                : action.mode === "drop"
                ? Effect.fail(new Dropped())
                : Effect.succeed(errorResponse(kind, 503, "Service Unavailable (injected after commit)")))
        }
      })()

      return yield* faulted.pipe(
        Effect.catchAllDefect((defect) =>
          Effect.as(logFailure(Cause.die(defect), requestId, request.method, request.url), defectResponse(kind, requestId))
        ),
        Effect.map((response) => finish(response, requestId, entry, ctx)),
        Effect.catchTag("Dropped", () =>
          Effect.suspend(() => {
            if (ctx.put !== undefined) ctx.put.bytes = ctx.bytesRead
            return drop(request)
          })),
        Effect.onInterrupt(() =>
          Effect.sync(() => {
            if (ctx.put !== undefined) ctx.put.bytes = ctx.bytesRead
          })
        )
      )
    })
}

/** Logs a failure answered with a 500: its request id, method, path and cause. */
export const logFailure = (cause: Cause.Cause<unknown>, requestId: string, method: string, url: string) =>
  Effect.logError(`500 answered to ${method} ${url.split("?")[0]} (request id ${requestId})`, cause)
    .pipe(Effect.annotateLogs({ requestId }))

/**
 * The last guard of the whole app (control routes included): any failure or defect that reaches it is logged with
 * a new request id and answered with a 500 in the CDF envelope carrying that id. Interruptions pass through.
 */
export const answerFailures = <E, R>(
  app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R | HttpServerRequest.HttpServerRequest> =>
  Effect.catchAllCause(app, (cause) =>
    Cause.isInterruptedOnly(cause)
      ? Effect.interrupt
      : Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
        const requestId = randomUUID()
        return Effect.as(
          logFailure(cause, requestId, request.method, request.url),
          HttpServerResponse.setHeader(
            cdfError(500, `The emulator failed (request id ${requestId})`),
            "x-request-id",
            requestId
          )
        )
      }))

/** The answer to a path no route serves: logged as route "unknown", the CDF envelope's 404. */
export const notFoundRoute = (state: State) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const requestId = randomUUID()
    const entry: MutableLoggedRequest = {
      route: "unknown",
      method: request.method,
      path: request.url.split("?")[0],
      status: 404,
      attempt: 0,
      requestId,
      headers: maskHeaders(request.headers)
    }
    state.log.push(entry)
    return HttpServerResponse.setHeader(
      cdfError(404, `No route: ${request.method} ${entry.path}`),
      "x-request-id",
      requestId
    )
  })
