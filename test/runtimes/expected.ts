/**
 * What the runtime tests check: the sha256 of every kind of content as the program makes it (computed here, in
 * Node), and that the emulator stored exactly those bytes for each upload that succeeded.
 */
import { Emulator } from "@effect-cdf/emulator"
import * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import { contents, type Outcome } from "./src/program.js"

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

const bytesOfContent = async (content: unknown): Promise<Uint8Array> => {
  if (typeof content === "string") return new TextEncoder().encode(content)
  if (content instanceof Uint8Array) return content
  if (content instanceof Blob) return new Uint8Array(await content.arrayBuffer())
  if (content instanceof ReadableStream) return new Uint8Array(await new Response(content).arrayBuffer())
  const chunks: Array<Uint8Array> = []
  if (typeof content === "object" && content !== null && Symbol.asyncIterator in content) {
    for await (const chunk of content as AsyncIterable<Uint8Array>) chunks.push(chunk)
  } else {
    // an Effect Stream
    const { Chunk, Stream } = await import("effect")
    chunks.push(...Chunk.toArray(await Effect.runPromise(Stream.runCollect(content as Stream.Stream<Uint8Array>))))
  }
  return new Uint8Array(Buffer.concat(chunks))
}

/** sha256 (hex) of every kind of content, by kind. */
export const expectedSha256 = (): Effect.Effect<Record<string, string>> =>
  Effect.promise(async () => {
    const out: Record<string, string> = {}
    for (const [kind, make] of contents()) out[kind] = sha256(await bytesOfContent(make()))
    return out
  })

/** Per kind: "stored" when the emulator holds the file the outcome names with the expected sha256, else the failure. */
export const storedOrFailed = (outcomes: ReadonlyArray<Outcome>) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const expected = yield* expectedSha256()
    const files = yield* emulator.files
    const result: Record<string, string> = {}
    for (const outcome of outcomes) {
      if (!outcome.ok) {
        result[outcome.kind] = `${outcome.tag}: ${outcome.message}`
        continue
      }
      const file = files.find((f) => f.id === outcome.id)
      result[outcome.kind] = file === undefined
        ? "no such file"
        : file.uploaded && file.sha256 === expected[outcome.kind]
        ? "stored"
        : `stored ${file.sha256 ?? "nothing"}, expected ${expected[outcome.kind]}`
    }
    return result
  })
