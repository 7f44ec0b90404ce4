/**
 * What the hostile-input tests share: the client on an emulator on a loopback port, and `hostile`, which runs a call
 * that must fail with a typed error (never a defect) and reports what reached the emulator.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { expect } from "@effect/vitest"
import { Emulator } from "@effect-cdf/emulator"
import { CdfAuth, CdfClient, CdfConfig, CdfError, type Content, Files } from "@effect-cdf/files"
import * as NodeFiles from "@effect-cdf/files/NodeFiles"
import { Cause, Effect, Exit, Layer, Option, Schedule } from "effect"

const quick = Schedule.spaced("5 millis").pipe(Schedule.intersect(Schedule.recurs(3)))

/** The client on an emulator on a loopback port (small parts, quick retries), with undici and the Node spooler. */
export const onPort = Layer.unwrapEffect(Effect.map(Emulator.Emulator, (emulator) =>
  Files.layer.pipe(
    Layer.provide(CdfClient.layer),
    Layer.provide(CdfConfig.layer({
      baseUrl: emulator.baseUrl,
      project: emulator.project,
      partSize: 64 * 1024,
      singlePutThreshold: 256 * 1024,
      apiRetrySchedule: quick,
      transferRetrySchedule: quick
    })),
    Layer.provide(CdfAuth.layerToken(emulator.token))
  ))).pipe(
    Layer.provideMerge(NodeFiles.layer),
    Layer.provideMerge(Layer.orDie(Emulator.layerServer({ minPartSize: 1024 }))),
    Layer.provideMerge(NodeHttpClient.layerUndici)
  )

/** What a JavaScript caller can pass where TypeScript would not let it. */
export const js = (u: unknown): Content.Input => u as Content.Input

/** An async iterable of `items`, whatever they are. */
export async function* yields(...items: ReadonlyArray<unknown>): AsyncGenerator<Uint8Array> {
  for (const item of items) yield item as Uint8Array
}

export interface Outcome {
  readonly error: CdfError.CdfError
  /** `METHOD route` of every request the call made. */
  readonly requests: ReadonlyArray<string>
  readonly files: number
}

/** Runs a call on a fresh emulator: a typed failure (no defect anywhere in the cause), and what reached the emulator. */
export const hostile = <A, R>(call: Effect.Effect<A, CdfError.CdfError, R>) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    yield* emulator.reset
    const exit = yield* Effect.exit(call)
    if (Exit.isSuccess(exit)) throw new Error("expected a failure, got a success")
    expect(Option.isNone(Cause.dieOption(exit.cause)), Cause.pretty(exit.cause)).toBe(true)
    const error = Cause.failureOption(exit.cause)
    if (Option.isNone(error)) throw new Error(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
    expect(CdfError.isCdfError(error.value)).toBe(true)
    const requests = (yield* emulator.requests).map((r) => `${r.method} ${r.route}`)
    const files = (yield* emulator.files).length
    return { error: error.value, requests, files } satisfies Outcome
  })

/** The fields of a content or upload error that the tests compare. */
export const fieldsOf = (error: CdfError.CdfError) => ({
  _tag: error._tag,
  reason: "reason" in error ? error.reason : undefined,
  ...(error._tag === "InvalidContentError" ? { content: error.content, chunk: error.chunk, found: error.found } : {}),
  ...(error._tag === "UploadError" ? { code: error.code } : {})
})
