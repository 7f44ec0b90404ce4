/**
 * A preload (`node --import …/countOps.js`) that counts the Effect operations and fibers the process runs, and
 * prints `effect-ops <operations> <fibers>` on stderr at exit. A count is deterministic where a time on this shared
 * machine varies by ±15 %, so it shows a change of a few per cent in the work done per file; it is not a time (an
 * operation of a SQL statement costs more than one of `Effect.map`). It patches the op handlers of effect's internal
 * `FiberRuntime`, which every fiber of the process runs through (one copy of effect: the workspace pins 3.22.4).
 *
 * @internal
 */
import { createRequire } from "node:module"
import * as Path from "node:path"
import { pathToFileURL } from "node:url"

// the `effect` that the workspace's packages resolve (pnpm links every one of them to the same copy)
const effectMain = createRequire(import.meta.url).resolve("effect")
const runtimeUrl = pathToFileURL(Path.join(Path.dirname(effectMain), "..", "esm", "internal", "fiberRuntime.js")).href
const { FiberRuntime } = await import(runtimeUrl) as {
  FiberRuntime: { prototype: Record<string, unknown> }
}
const proto = FiberRuntime.prototype
let operations = 0
let fibers = 0
// the instruction handlers of the run loop, by op code (effect/src/internal/opCodes/effect.ts and the yieldable types)
const opCodes = [
  "Async", "Commit", "Failure", "OnFailure", "OnSuccess", "OnSuccessAndFailure", "Success", "Sync", "Tag",
  "UpdateRuntimeFlags", "While", "Iterator", "WithRuntime", "Yield", "Left", "Right", "Some", "None", "Micro"
]
for (const code of opCodes) {
  const handler = proto[code]
  if (typeof handler !== "function") continue
  proto[code] = function(this: unknown, op: unknown) {
    operations++
    return handler.call(this, op)
  }
}
for (const entry of ["start", "resume"]) {
  const handler = proto[entry]
  if (typeof handler !== "function") throw new Error(`countOps: effect's FiberRuntime has no ${entry}`)
  proto[entry] = function(this: unknown, effect: unknown) {
    fibers++
    return handler.call(this, effect)
  }
}
process.on("exit", () => process.stderr.write(`effect-ops ${operations} ${fibers}\n`))
