/**
 * Runs the real `cdf-files` binary (packages/cli/bin/cdf-files.js, which runs the bundle that `npm run build` makes)
 * as a child process, as a user runs it, and starts emulators in this process on loopback ports for it to upload to.
 */
import { Emulator } from "@effect-cdf/emulator"
import { expect } from "@effect/vitest"
import { Effect, Exit, Redacted, Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"

/** The built binary. */
export const bin = fileURLToPath(new URL("../../bin/cdf-files.js", import.meta.url))

/** What the binary runs: the bundle of dist/bin.js. */
const bundle = fileURLToPath(new URL("../../dist/bundle/cdf-files.js", import.meta.url))

/** Fails early, with what to do, when the binary is not built. */
export const requireBuilt = () => {
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` first`)
}

export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunOptions {
  readonly env?: Record<string, string>
  readonly cwd?: string
  /** Written to standard input, which is then closed; without it standard input is empty. */
  readonly stdin?: string | Uint8Array
}

/** The environment of this process without any CDF setting, plus `env`. */
export const environment = (env: Record<string, string>): NodeJS.ProcessEnv => {
  const clean: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(CDF_|IDP_|LOGIN_FLOW$)/.test(name)) clean[name] = value
  }
  return { ...clean, NO_COLOR: "1", ...env }
}

/** `start`, `finish` and `run` for commands run in `work()` unless told otherwise. */
export const binary = (work: () => string) => {
  const start = (args: ReadonlyArray<string>, options: RunOptions = {}) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd ?? work(),
      env: environment(options.env ?? {}),
      stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"]
    })
    if (options.stdin !== undefined) child.stdin!.end(options.stdin)
    return child
  }
  const run = (args: ReadonlyArray<string>, options: RunOptions = {}) => finish(start(args, options))
  return { start, run, finish }
}

/** Waits for the child to end and gives its exit code and output (killed after 80 s). */
export const finish = (child: ChildProcess): Promise<Run> =>
  new Promise((resolve) => {
    let stdout = ""
    let stderr = ""
    child.stdout!.on("data", (chunk) => (stdout += chunk))
    child.stderr!.on("data", (chunk) => (stderr += chunk))
    const timer = setTimeout(() => child.kill("SIGKILL"), 80_000)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

export const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex")

export const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at .+\(.*:\d+:\d+\)$/m)

/** Emulators in this process, on loopback ports; `closeAll` closes them. */
export const emulators = () => {
  const scopes: Array<Scope.CloseableScope> = []
  const start = async () => {
    const scope = Effect.runSync(Scope.make())
    scopes.push(scope)
    const service = await Effect.runPromise(Scope.extend(Emulator.makeServer({ port: 0 }), scope))
    const env = { CDF_URL: service.baseUrl, CDF_PROJECT: service.project, CDF_TOKEN: Redacted.value(service.token) }
    const stored = () => Effect.runPromise(service.files)
    return { service, env, stored }
  }
  const closeAll = async () => {
    for (const scope of scopes) await Effect.runPromise(Scope.close(scope, Exit.void))
  }
  return { start, closeAll }
}
