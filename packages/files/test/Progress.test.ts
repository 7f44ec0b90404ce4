import { describe, expect, it } from "@effect/vitest"
import { Emulator } from "@effect-cdf/emulator"
import { Content, Progress } from "@effect-cdf/files"
import { Chunk, Context, Duration, Effect, Exit, Option, Schedule, Stream, Tracer } from "effect"
import * as Transfer from "../src/internal/transfer.js"
import { bytesOf, createFile, storage } from "./TransferFixtures.js"

const inMemory = Effect.provide(Emulator.layerInMemory())

const settings = Transfer.makeSettings({
  retrySchedule: Schedule.recurs(2),
  maxRetryDelay: Duration.millis(1),
  progressInterval: Duration.zero
})

const putSingle = (content: Content.Content, onProgress?: Progress.OnProgress) =>
  Effect.scoped(Effect.gen(function*() {
    const s = yield* settings
    const prepared = yield* Transfer.prepare(content, s)
    const file = yield* createFile("p.bin")
    yield* Transfer.putSingle({
      storage: yield* storage,
      url: file.uploadUrl,
      prepared,
      contentType: undefined,
      settings: s,
      onProgress
    })
    return file
  }))

/** A tracer that keeps every span's name and attributes. */
const recordingTracer = (spans: Array<{ name: string; attributes: Map<string, unknown> }>) =>
  Tracer.make({
    span: (name, parent, context, links, _startTime, kind) => {
      const attributes = new Map<string, unknown>()
      spans.push({ name, attributes })
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId: String(spans.length),
        traceId: "trace",
        parent,
        context: context ?? Context.empty(),
        status: { _tag: "Started", startTime: 0n },
        attributes,
        links,
        sampled: true,
        kind,
        end: () => undefined,
        attribute: (key, value) => attributes.set(key, value),
        event: () => undefined,
        addLinks: () => undefined
      }
      return span
    },
    context: (f) => f()
  })

describe("Progress", () => {
  it.effect("Progress.stream: the values as a Stream ending with the upload", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(3 * 1024 * 1024)
      const values = yield* Progress.stream((onProgress) => putSingle(Content.make(bytes), onProgress)).pipe(
        Stream.runCollect,
        Effect.map(Chunk.toArray)
      )
      expect(values.length).toBeGreaterThan(2)
      expect(values.at(-1)).toEqual({ sent: bytes.byteLength, acknowledged: bytes.byteLength, total: bytes.byteLength })
    }).pipe(inMemory))

  it.effect("Progress.stream fails as the upload fails", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", action: { _tag: "Status", status: 403 } })
      const exit = yield* Progress.stream((onProgress) => putSingle(Content.make("x"), onProgress)).pipe(
        Stream.runDrain,
        Effect.exit
      )
      expect(Exit.isFailure(exit) ? Option.map(Exit.causeOption(exit), (c) => c._tag) : "success").toEqual(
        Option.some("Fail")
      )
    }).pipe(inMemory))

  it.effect("a failing callback does not fail the upload", () =>
    Effect.gen(function*() {
      const file = yield* putSingle(Content.make(bytesOf(1000)), () => Effect.die("callback bug"))
      const emulator = yield* Emulator.Emulator
      expect((yield* emulator.files).find((f) => f.id === file.id)?.size).toBe(1000)
    }).pipe(inMemory))
})

describe("spans", () => {
  it.effect("transfer spans carry the method, origin and path of upload URLs, never their query", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ route: "storage.put", attempts: [1], action: { _tag: "Status", status: 503 } })
      const spans: Array<{ name: string; attributes: Map<string, unknown> }> = []
      const file = yield* putSingle(Content.make("abc")).pipe(Effect.withTracer(recordingTracer(spans)))
      const query = new URL(file.uploadUrl).search
      expect(query.length).toBeGreaterThan(1)
      const put = spans.find((s) => s.name === "effect-cdf.files.put")
      expect(put?.attributes.get("url.path")).toBe(new URL(file.uploadUrl).pathname)
      const dump = JSON.stringify(spans.map((s) => [s.name, [...s.attributes]]))
      expect(dump).not.toContain(query.slice(1))
      expect(dump).not.toContain("?")
    }).pipe(inMemory))
})
