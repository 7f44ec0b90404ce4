import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"
import { json, postJson } from "./utils.js"

/** A tracer that records the name and attributes of every span. */
const makeRecorder = () => {
  const spans: Array<{ readonly name: string; readonly attributes: Map<string, unknown> }> = []
  let id = 0
  const tracer = Tracer.make({
    span: (name, parent: Option.Option<Tracer.AnySpan>, context: Context.Context<never>, links, startTime, kind) => {
      const attributes = new Map<string, unknown>()
      spans.push({ name, attributes })
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId: `span-${++id}`,
        traceId: "trace",
        sampled: true,
        parent,
        context,
        links: [...links],
        kind,
        attributes,
        status: { _tag: "Started", startTime },
        end: (_endTime: bigint, _exit: Exit.Exit<unknown, unknown>) => {},
        attribute: (key, value) => void attributes.set(key, value),
        event: () => {},
        addLinks: () => {}
      }
      return span
    },
    context: (f) => f()
  })
  return { spans, tracer }
}

/** A PUT to an upload URL with the client's own span switched off: any span left would be the emulator's. */
const quietPut = (url: string) =>
  Effect.flatMap(HttpClient.HttpClient, (client) =>
    HttpClient.withTracerDisabledWhen(client, () => true).execute(
      HttpClientRequest.put(url).pipe(HttpClientRequest.bodyUint8Array(new Uint8Array([1, 2, 3])))
    ))

describe("the emulator records no server spans in the caller's tracer (upload URLs carry signatures)", () => {
  it.effect("in memory", () => {
    const { spans, tracer } = makeRecorder()
    return Effect.gen(function*() {
      const { uploadUrl } = yield* json(yield* postJson("files", { name: "a" }))
      const signature = (uploadUrl as string).split("sig=")[1]
      spans.length = 0
      expect((yield* quietPut(uploadUrl as string)).status).toBe(201)
      expect(spans.map((s) => s.name)).toEqual([])
      expect(JSON.stringify(spans.map((s) => [...s.attributes]))).not.toContain(signature)
    }).pipe(Effect.provide(Emulator.layerInMemory()), Effect.withTracer(tracer))
  })

  it.live("on a real port", () => {
    const { spans, tracer } = makeRecorder()
    return Effect.gen(function*() {
      const { uploadUrl } = yield* json(yield* postJson("files", { name: "a" }))
      spans.length = 0
      expect((yield* quietPut(uploadUrl as string)).status).toBe(201)
      expect(spans.map((s) => s.name)).toEqual([])
    }).pipe(
      Effect.provide(Layer.merge(Emulator.layerServer(), NodeHttpClient.layerUndici)),
      Effect.withTracer(tracer)
    )
  })
})
