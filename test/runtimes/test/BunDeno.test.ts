/**
 * The same program as in the browser, bundled by esbuild, run by Bun and by Deno (their binaries from the npm
 * packages' platform packages): every kind of content reaches the emulator with its sha256 intact, in the library's
 * default body mode there ("stream": both stream a request body over HTTP/1.1).
 */
import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Binaries from "../binaries.js"
import { bundle } from "../bundle.js"
import { storedOrFailed } from "../expected.js"
import type { Outcome } from "../src/program.js"

/** A scratch directory with the bundled program, removed at the end of the scope. */
const bundled = Effect.acquireRelease(
  Effect.promise(async () => {
    const dir = mkdtempSync(join(tmpdir(), "cdf-runtimes-"))
    writeFileSync(join(dir, "main.mjs"), (await bundle("main.ts")).code)
    return dir
  }),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** Runs `command args` (no network but loopback, no update checks) and parses its one JSON line of outcomes. */
const outcomesOf = (command: string, args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.async<ReadonlyArray<Outcome>, Error>((resume) => {
    const child = execFile(command, args, { env: { ...process.env, ...env }, timeout: 50_000 }, (error, stdout, stderr) => {
      if (error !== null) resume(Effect.fail(new Error(`${command} failed: ${error.message}\n${stderr}`)))
      else resume(Effect.sync(() => JSON.parse(stdout.trim().split("\n").at(-1) ?? "[]") as ReadonlyArray<Outcome>))
    })
    return Effect.sync(() => child.kill())
  })

const everyKindStored = {
  string: "stored",
  Uint8Array: "stored",
  Blob: "stored",
  "Blob 3 MiB": "stored",
  ReadableStream: "stored",
  AsyncIterable: "stored",
  Stream: "stored"
}

const runOn = (runtime: "bun" | "deno") =>
  Effect.gen(function*() {
    const dir = yield* bundled
    const emulator = yield* Emulator.makeServer({ storageOrigin: "separate" })
    const target = JSON.stringify({
      baseUrl: emulator.baseUrl,
      project: emulator.project,
      token: Redacted.value(emulator.token)
    })
    const main = join(dir, "main.mjs")
    const outcomes = runtime === "bun"
      ? yield* outcomesOf(Binaries.bun(), [main, target], { DO_NOT_TRACK: "1", BUN_INSTALL_CACHE_DIR: join(dir, "bun") })
      : yield* outcomesOf(Binaries.deno(), ["run", "--allow-net=127.0.0.1", "--no-prompt", main, target], {
        DENO_NO_UPDATE_CHECK: "1",
        DENO_DIR: join(dir, "deno")
      })
    return yield* Effect.provideService(storedOrFailed(outcomes), Emulator.Emulator, emulator)
  })

describe("Bun and Deno", () => {
  it.scopedLive("Bun: every kind of content reaches the emulator, sha256 intact", () =>
    Effect.map(runOn("bun"), (result) => expect(result).toEqual(everyKindStored)))

  it.scopedLive("Deno: every kind of content reaches the emulator, sha256 intact", () =>
    Effect.map(runOn("deno"), (result) => expect(result).toEqual(everyKindStored)))
})
