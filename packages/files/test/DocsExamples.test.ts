/**
 * Runs every example of docs/examples against the emulator, as CI promises in the docs: an example exports
 * `program` (an Effect needing only `Files`, run on the in-memory emulator) and/or `main(env)` (run against the
 * emulator on a loopback port). Every file in docs/examples must be listed here.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Emulator } from "@effect-cdf/emulator"
import type { Files } from "@effect-cdf/files"
import * as CdfTestEmulator from "@effect-cdf/files/CdfTestEmulator"
import { Effect, Redacted } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as Configuration from "../../../docs/examples/configuration.js"
import * as EmulatorExample from "../../../docs/examples/emulator.js"
import * as Errors from "../../../docs/examples/errors.js"
import * as FilesApi from "../../../docs/examples/files-api.js"
import * as GettingStarted from "../../../docs/examples/getting-started.js"
import * as LargeFiles from "../../../docs/examples/large-files.js"
import * as PromiseApi from "../../../docs/examples/promise.js"
import * as Readme from "../../../docs/examples/readme.js"
import * as Resilience from "../../../docs/examples/resilience.js"
import * as Testing from "../../../docs/examples/testing.js"

type Main = (env: { baseUrl: string; project: string; token: string }) => Promise<unknown>

const mains: Record<string, Main> = {
  "configuration.ts": Configuration.main,
  "emulator.ts": EmulatorExample.main,
  "errors.ts": Errors.main,
  "files-api.ts": FilesApi.main,
  "getting-started.ts": GettingStarted.main,
  "promise.ts": PromiseApi.main,
  "readme.ts": Readme.main,
  "resilience.ts": Resilience.main,
  "testing.ts": Testing.main
}

const programs: Record<string, Effect.Effect<unknown, unknown, Files.Files>> = {
  "large-files.ts": LargeFiles.program
}

const examplesDir = fileURLToPath(new URL("../../../docs/examples/", import.meta.url))
const docsDir = fileURLToPath(new URL("../../../docs/", import.meta.url))
const readme = fileURLToPath(new URL("../../../README.md", import.meta.url))

/** The Files service on the in-memory emulator, as users get it. */
const FilesInMemory = CdfTestEmulator.layer({ emulator: { uploadedDelay: "100 millis" } })

describe("docs/examples", () => {
  it("every example file is run by this test", () => {
    const files = readdirSync(examplesDir).filter((f) => f.endsWith(".ts")).sort()
    expect(files).toEqual([...Object.keys(mains), ...Object.keys(programs)].sort())
  })

  it("every TypeScript block of README.md and docs/*.md is quoted from docs/examples", () => {
    const quoted = new Set(
      readdirSync(examplesDir).flatMap((f) => readFileSync(examplesDir + f, "utf8").split("\n").map((l) => l.trim()))
    )
    const pages = [readme, ...readdirSync(docsDir).filter((f) => f.endsWith(".md")).map((f) => docsDir + f)]
    const unquoted: Array<string> = []
    let blocks = 0
    for (const page of pages) {
      for (const match of readFileSync(page, "utf8").matchAll(/```(?:ts|typescript)\n([\s\S]*?)```/g)) {
        blocks += 1
        for (const line of (match[1] ?? "").split("\n").map((l) => l.trim())) {
          if (line !== "" && !quoted.has(line)) unquoted.push(`${page.slice(page.lastIndexOf("/") + 1)}: ${line}`)
        }
      }
    }
    expect(blocks).toBeGreaterThan(10)
    expect(unquoted).toEqual([])
  })

  for (const [file, program] of Object.entries(programs)) {
    it.live(`${file}: program runs on the in-memory emulator`, () =>
      Effect.gen(function*() {
        const result = yield* program.pipe(Effect.provide(FilesInMemory))
        expect(result).toBeDefined()
      }), 60_000)
  }

  for (const [file, main] of Object.entries(mains)) {
    it.live(`${file}: main runs against the emulator on a loopback port`, () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const env = { baseUrl: emulator.baseUrl, project: emulator.project, token: Redacted.value(emulator.token) }
        const result = yield* Effect.promise(() => main(env))
        expect(result).toBeDefined()
      }).pipe(
        Effect.provide(Emulator.layerServer({ port: 0 })),
        Effect.provide(NodeHttpClient.layerUndici)
      ), 60_000)
  }
})
