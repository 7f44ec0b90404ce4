/**
 * The minimal upload program of the runtime tests (and of the browser bundle size in docs/benchmarks.md): the
 * library over `FetchHttpClient`, a static token, one upload per kind of content. The same code runs in Chromium,
 * Bun and Deno (bundled by esbuild); each outcome says what was stored or the error's tag and message.
 */
import { CdfAuth, CdfClient, CdfConfig, type Content, Files } from "@effect-cdf/files"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Effect, Layer, Redacted, Stream } from "effect"

/** Where to upload: the emulator's base URL, project and a token. */
export interface Target {
  readonly baseUrl: string
  readonly project: string
  readonly token: string
}

/** What one upload ended in. */
export type Outcome =
  | { readonly kind: string; readonly ok: true; readonly id: number }
  | { readonly kind: string; readonly ok: false; readonly tag: string; readonly message: string }

/** The bytes of every kind of content: deterministic, so the test computes their sha256 on its side. */
export const bytesOf = (size: number, seed: number): Uint8Array<ArrayBuffer> => {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed) % 251
  return bytes
}

/** The text uploaded as a string (UTF-8, multi-byte characters included). */
export const text = "hello from a web page: héllo wörld ✓ 🚀\n".repeat(100)

const chunksOf = (bytes: Uint8Array, size: number): Array<Uint8Array> => {
  const chunks: Array<Uint8Array> = []
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.slice(i, i + size))
  return chunks
}

/** Every kind of content, by name, made fresh (one-shot kinds can be read once). */
export const contents = (): ReadonlyArray<readonly [string, () => Content.Input]> => [
  ["string", () => text],
  ["Uint8Array", () => bytesOf(70_000, 1)],
  ["Blob", () => new Blob([bytesOf(100_000, 2)], { type: "application/octet-stream" })],
  // past the 1 MiB a buffer is sent whole in "stream" body mode
  ["Blob 3 MiB", () => new Blob([bytesOf(3 * 1024 * 1024, 6)])],
  ["ReadableStream", () => {
    const chunks = chunksOf(bytesOf(50_000, 3), 16_384)
    return new ReadableStream<Uint8Array>({
      pull: (controller) => {
        const next = chunks.shift()
        if (next === undefined) controller.close()
        else controller.enqueue(next)
      }
    })
  }],
  ["AsyncIterable", () => {
    const chunks = chunksOf(bytesOf(40_000, 4), 10_000)
    return (async function*() {
      for (const chunk of chunks) yield chunk
    })()
  }],
  ["Stream", () => Stream.fromIterable(chunksOf(bytesOf(30_000, 5), 7_000))]
]

/** The `Files` stack of a target over the platform's fetch client. */
export const layer = (target: Target, bodyMode: "stream" | "buffer" | undefined) =>
  Files.layer.pipe(
    Layer.provide(CdfClient.layer),
    Layer.provide(
      CdfConfig.layer({
        baseUrl: target.baseUrl,
        project: target.project,
        ...(bodyMode === undefined ? {} : { bodyMode })
      })
    ),
    Layer.provide(CdfAuth.layerToken(Redacted.make(target.token))),
    Layer.provide(FetchHttpClient.layer)
  )

/**
 * Uploads every kind of content (or only `kinds`), one after another, and tells how each ended. `bodyMode` as in
 * `CdfConfig`; unset, the library's default.
 */
export const run = (
  target: Target,
  kinds?: ReadonlyArray<string> | null,
  bodyMode?: "stream" | "buffer" | null
): Promise<ReadonlyArray<Outcome>> =>
  Effect.runPromise(
    Effect.forEach(
      contents().filter(([kind]) => kinds === undefined || kinds === null || kinds.includes(kind)),
      ([kind, make]) =>
        Files.uploadBytes(make(), { name: `${kind}.bin`, externalId: `runtime-${bodyMode ?? "default"}-${kind}` }).pipe(
          Effect.match({
            onSuccess: (file): Outcome => ({ kind, ok: true, id: file.id }),
            onFailure: (error): Outcome => ({ kind, ok: false, tag: error._tag, message: error.message })
          })
        )
    ).pipe(Effect.provide(layer(target, bodyMode ?? undefined)))
  )
