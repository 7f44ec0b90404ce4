import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { Content } from "@effect-cdf/files"
import { isContent, streamOf } from "../src/internal/content.js"
import { Sha256 } from "../src/internal/sha256.js"

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

const read = (content: Content.Content) =>
  Effect.gen(function*() {
    if (!isContent(content)) return yield* Effect.die("not a Content")
    const chunks = yield* Stream.runCollect(streamOf(content.source))
    return Buffer.concat(Chunk.toArray(chunks))
  })

describe("Content", () => {
  it.effect("every kind yields exactly its bytes", () =>
    Effect.gen(function*() {
      const bytes = randomBytes(100_000)
      // a view in the middle of a larger buffer: only the view's bytes count
      const view = new Uint8Array(bytes.buffer, bytes.byteOffset + 10, 5000)
      const small = Buffer.from("hé") // from Node's shared pool: a view over 8 KiB
      const cases: Array<[string, Content.Content, Uint8Array]> = [
        ["string", Content.make("hé ✓"), new TextEncoder().encode("hé ✓")],
        ["Uint8Array view", Content.make(view), Buffer.from(view)],
        ["pooled Buffer", Content.make(small), Buffer.from([0x68, 0xc3, 0xa9])],
        ["ArrayBuffer", Content.make(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 300)), bytes.subarray(0, 300)],
        ["Blob", Content.make(new Blob([bytes])), bytes],
        ["Stream", Content.make(Stream.make(bytes.subarray(0, 10), bytes.subarray(10))), bytes],
        ["AsyncIterable", Content.make((async function*() {
          yield bytes.subarray(0, 7)
          yield bytes.subarray(7)
        })()), bytes],
        ["ReadableStream", Content.make(new Blob([bytes]).stream()), bytes],
        ["factory", Content.fromFactory(() => Stream.make(bytes)), bytes]
      ]
      for (const [name, content, expected] of cases) {
        const got = yield* read(content)
        expect({ name, sha: sha(got), length: got.byteLength }).toEqual({
          name,
          sha: sha(expected),
          length: expected.byteLength
        })
      }
    }))

  it("size and replayability are known without reading", () => {
    expect(Content.make("abc").size).toBe(3)
    expect(Content.make(new Blob(["abcd"])).size).toBe(4)
    const once = Content.make(Stream.make(new Uint8Array(2)))
    expect([once.size, once.replayable]).toEqual([undefined, false])
    expect(Content.make(Stream.make(new Uint8Array(2)), { size: 2 }).size).toBe(2)
    const factory = Content.fromFactory(() => Stream.empty, { size: 0 })
    expect([factory.size, factory.replayable]).toEqual([0, true])
    expect(Content.make(factory)).toBe(factory)
    expect(Content.isContent(factory)).toBe(true)
    expect(Content.isContent("abc")).toBe(false)
  })

  it("the checksum matches node:crypto for every split of the input", () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 100_003]) {
      const bytes = randomBytes(n)
      const hash = new Sha256()
      for (let offset = 0; offset < n;) {
        const step = 1 + ((offset * 7919) % 97)
        hash.update(bytes.subarray(offset, offset + step))
        offset += step
      }
      expect(hash.digestHex()).toBe(sha(bytes))
    }
  })
})
