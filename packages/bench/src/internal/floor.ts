/**
 * The Effect-runtime floor: the plain undici reference's two calls (`./undici.ts`), each inside `Effect.promise`,
 * driven by `Effect.forEach` with the run's concurrency, from one `ManagedRuntime` per process. The cheapest Effect
 * program that does the job: no HTTP layer, retries, timeouts, spans or validation. What ours costs above it is the
 * library (and `@effect/platform`'s HttpClient), not the Effect runtime.
 */
import { Effect, Layer, ManagedRuntime } from "effect"
import type { Target } from "./protocol.js"
import { effectUploader } from "./effectUploader.js"
import { makeCalls } from "./undici.js"
import type { Uploader } from "./uploader.js"

export const floor = async (target: Target): Promise<Uploader> => {
  const runtime = ManagedRuntime.make(Layer.empty)
  await runtime.runtime()
  const calls = makeCalls(target)
  const upload = (name: string, content: Uint8Array) =>
    Effect.flatMap(
      Effect.promise(() => calls.create(name)),
      (uploadUrl) => Effect.promise(() => calls.put(uploadUrl, content))
    )
  return effectUploader(runtime, upload, async () => {
    await runtime.dispose()
    await calls.close()
  })
}
