/**
 * What `runCommand` (the cli section's runner, with `dist/exitUsage.js` preloaded) records of a command: the CPU time
 * of the whole process, and of its main thread alone, the one running JavaScript. Real child processes that burn a
 * known amount of CPU, on the main thread or on a worker thread. The compiled `dist/` is what runs, as in the
 * benchmarks. Linux only, as the bench is (`/proc`).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Os from "node:os"
import { runCommand } from "../dist/internal/processes.js"

/** A script that keeps a thread busy for `millis` of wall time (so at least most of that in CPU time). */
const busy = (millis: number) => `const end = Date.now() + ${millis}; while (Date.now() < end) {}`

const run = (script: string) =>
  Effect.promise(() => runCommand(["-e", script], { cwd: Os.tmpdir(), env: {}, timeoutMillis: 30_000 }))

describe("runCommand's usage", () => {
  it.live("the main thread's CPU: all of a script that runs on it", () =>
    Effect.gen(function*() {
      const outcome = yield* run(busy(400))
      if (outcome._tag !== "Ok") return expect.fail(`the command failed: ${outcome.message}`)
      const { mainThreadMicros, systemMicros, userMicros } = outcome.usage
      if (mainThreadMicros === undefined) return expect.fail("no main-thread CPU recorded")
      expect(mainThreadMicros).toBeGreaterThanOrEqual(300_000)
      // one clock tick (10 ms) of rounding at most above the process's own total
      expect(mainThreadMicros).toBeLessThanOrEqual(userMicros + systemMicros + 10_000)
    }), 30_000)

  it.live("the main thread's CPU: none of what a worker thread burns", () =>
    Effect.gen(function*() {
      const script = `const { Worker } = require("node:worker_threads");
        new Worker(${JSON.stringify(busy(400))}, { eval: true })`
      const outcome = yield* run(script)
      if (outcome._tag !== "Ok") return expect.fail(`the command failed: ${outcome.message}`)
      const { mainThreadMicros, systemMicros, userMicros } = outcome.usage
      if (mainThreadMicros === undefined) return expect.fail("no main-thread CPU recorded")
      expect(userMicros + systemMicros).toBeGreaterThanOrEqual(300_000)
      expect(mainThreadMicros).toBeLessThan(200_000)
    }), 30_000)
})
