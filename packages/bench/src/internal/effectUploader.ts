/**
 * The `Uploader` of a reference client written as an Effect: one `runPromise` per upload, and `Effect.forEach` with
 * the run's concurrency for many files, on one `ManagedRuntime` per process (as `ours` runs).
 */
import { Effect, type ManagedRuntime } from "effect"
import type { Uploader } from "./uploader.js"

export const effectUploader = <R>(
  runtime: ManagedRuntime.ManagedRuntime<R, never>,
  upload: (name: string, content: Uint8Array) => Effect.Effect<unknown, unknown, R>,
  close: () => Promise<void>
): Uploader => ({
  bytes: async (name, content) => {
    await runtime.runPromise(upload(name, content))
    return "single"
  },
  many: (prefix, content, count, concurrency) =>
    runtime.runPromise(Effect.forEach(
      Array.from({ length: count }, (_, i) => i),
      (i) => upload(`${prefix}-${i}`, content),
      { concurrency, discard: true }
    )),
  close
})
