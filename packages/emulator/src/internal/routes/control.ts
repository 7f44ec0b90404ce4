/**
 * The control routes under `/_emulator/...` (for test harnesses): not logged, not faulted. They need a valid bearer
 * token when the state says so (a server that allows remote clients); their bodies are capped like the API's.
 *
 * @internal
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { IncomingMessage } from "node:http"
import { Fault as FaultSchema } from "../faultSchema.js"
import { closeAfterResponse } from "../faults.js"
import { cdfError, decodeJsonBytes, foldIncoming, foldStream, readAll } from "../http.js"
import * as S from "../schema.js"
import type { State } from "../state.js"

/** The largest body a control route reads (a list of faults, an instance file). */
export const MAX_CONTROL_BYTES = 1024 * 1024

/** The body of `POST /_emulator/faults`: one fault or a list of them. */
const decodeFaults = S.strictJson(Schema.Union(FaultSchema, Schema.Array(FaultSchema)))

export const make = (state: State) => {
  /** The route's answer, once the bearer token is checked (if the state asks for it). */
  const guarded = <E, R>(handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
    Effect.gen(function*() {
      if (state.protectControlRoutes) {
        const request = yield* HttpServerRequest.HttpServerRequest
        const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers["authorization"] ?? "")
        if (match === null || !(yield* state.isValidToken(match[1]))) return cdfError(401, "Unauthorized")
      }
      return yield* handler
    })

  /** A JSON body of at most `MAX_CONTROL_BYTES`, decoded like the API's, then `use`d; 413 / 400 otherwise. */
  const withJson = <A>(
    decode: S.JsonDecoder<A>,
    use: (value: A) => Effect.Effect<HttpServerResponse.HttpServerResponse>
  ) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const source = request.source
      const fold = (step: (chunk: Uint8Array) => boolean): Effect.Effect<void, unknown> =>
        source instanceof IncomingMessage ? foldIncoming(source, step) : foldStream(request.stream, step)
      const read = yield* Effect.orElseSucceed(readAll(fold, MAX_CONTROL_BYTES), () => Buffer.alloc(0))
      if (read === undefined) {
        return closeAfterResponse(request, cdfError(413, `Request body larger than ${MAX_CONTROL_BYTES} bytes`))
      }
      const decoded = decodeJsonBytes(read, request.headers["content-encoding"], decode)
      return Either.isLeft(decoded) ? cdfError(decoded.left.status, decoded.left.message) : yield* use(decoded.right)
    })

  return HttpRouter.empty.pipe(
    HttpRouter.get(
      "/_emulator/files",
      guarded(Effect.map(state.listFiles, (files) => HttpServerResponse.unsafeJson(files)))
    ),
    HttpRouter.get(
      "/_emulator/requests",
      guarded(Effect.map(state.listRequests, (requests) => HttpServerResponse.unsafeJson(requests)))
    ),
    HttpRouter.get("/_emulator/faults", guarded(Effect.sync(() => HttpServerResponse.unsafeJson(state.faults)))),
    HttpRouter.post(
      "/_emulator/faults",
      guarded(withJson(decodeFaults, (decoded) =>
        Effect.gen(function*() {
          const faults = Array.isArray(decoded) ? decoded : [decoded]
          for (const fault of faults) yield* state.addFault(fault)
          return HttpServerResponse.unsafeJson(state.faults, { status: 200 })
        })))
    ),
    HttpRouter.post(
      "/_emulator/instance-files",
      guarded(withJson(S.decodeInstanceFileOptions, (options) =>
        Effect.map(state.createInstanceFile(options), (file) => HttpServerResponse.unsafeJson(file, { status: 201 }))))
    ),
    HttpRouter.del("/_emulator/faults", guarded(Effect.as(state.clearFaults, HttpServerResponse.empty({ status: 204 })))),
    HttpRouter.post("/_emulator/reset", guarded(Effect.as(state.reset, HttpServerResponse.empty({ status: 204 }))))
  )
}
