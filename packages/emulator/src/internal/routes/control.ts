/**
 * The control routes under `/_emulator/...` (for test harnesses on loopback): not logged, not faulted, no token.
 *
 * @internal
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { Fault as FaultSchema } from "../../Emulator.js"
import { cdfError } from "../http.js"
import * as S from "../schema.js"
import type { State } from "../state.js"

export const make = (state: State) =>
  HttpRouter.empty.pipe(
    HttpRouter.get("/_emulator/files", Effect.map(state.listFiles, (files) => HttpServerResponse.unsafeJson(files))),
    HttpRouter.get(
      "/_emulator/requests",
      Effect.map(state.listRequests, (requests) => HttpServerResponse.unsafeJson(requests))
    ),
    HttpRouter.get("/_emulator/faults", Effect.sync(() => HttpServerResponse.unsafeJson(state.faults))),
    HttpRouter.post(
      "/_emulator/faults",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const text = yield* Effect.orElseSucceed(request.text, () => "")
        const decoded = Schema.decodeUnknownEither(
          Schema.parseJson(Schema.Union(FaultSchema, Schema.Array(FaultSchema))),
          { errors: "all", onExcessProperty: "error" }
        )(text)
        if (Either.isLeft(decoded)) return cdfError(400, S.formatIssues(decoded.left))
        const faults = Array.isArray(decoded.right) ? decoded.right : [decoded.right]
        for (const fault of faults) yield* state.addFault(fault)
        return HttpServerResponse.unsafeJson(state.faults, { status: 200 })
      })
    ),
    HttpRouter.post(
      "/_emulator/instance-files",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const text = yield* Effect.orElseSucceed(request.text, () => "")
        const decoded = S.decodeInstanceFileOptions(text)
        if (Either.isLeft(decoded)) return cdfError(400, S.formatIssues(decoded.left))
        return HttpServerResponse.unsafeJson(yield* state.createInstanceFile(decoded.right), { status: 201 })
      })
    ),
    HttpRouter.del("/_emulator/faults", Effect.as(state.clearFaults, HttpServerResponse.empty({ status: 204 }))),
    HttpRouter.post("/_emulator/reset", Effect.as(state.reset, HttpServerResponse.empty({ status: 204 })))
  )
