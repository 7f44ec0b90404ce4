/**
 * Servers and clients as child processes of the orchestrator: a server prints one JSON line when it listens; a
 * client prints one `ClientResult` JSON line when it is done; a command (`cdf-files`, the cli baseline) is measured
 * from outside, with a preload that records its CPU time at exit.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath, pathToFileURL } from "node:url"
import { type ClientResult, type ClientSpec, decodeResult, encodeSpec } from "./protocol.js"

/** The path of a script built next to this module's directory (`dist/<name>.js`). */
export const script = (name: string): string => fileURLToPath(new URL(`../${name}.js`, import.meta.url))

export interface Server<Info> {
  readonly info: Info
  readonly pid: number
  readonly stop: () => Promise<void>
}

export const startServer = <Info>(
  name: string,
  args: ReadonlyArray<string>,
  decode: (line: string) => Info,
  nodeArgs: ReadonlyArray<string> = []
): Promise<Server<Info>> =>
  new Promise((resolve, reject) => {
    const child = ChildProcess.spawn(process.execPath, [...nodeArgs, script(name), ...args], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    let started = false
    const exited = new Promise<void>((r) => child.once("exit", () => r()))
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-4000)
    })
    child.stdout.on("data", (chunk: Buffer) => {
      if (started) return
      stdout += chunk.toString("utf8")
      const newline = stdout.indexOf("\n")
      if (newline === -1) return
      started = true
      try {
        const info = decode(stdout.slice(0, newline))
        resolve({
          info,
          pid: child.pid ?? 0,
          stop: () => {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
            return exited
          }
        })
      } catch (e) {
        child.kill("SIGKILL")
        reject(e)
      }
    })
    child.once("exit", (code) => {
      if (!started) reject(new Error(`${name} exited with ${code} before listening: ${stderr}`))
    })
  })

export type ClientOutcome =
  | { readonly _tag: "Ok"; readonly result: ClientResult }
  | { readonly _tag: "Failed"; readonly message: string }

/** Runs one client in its own process (under `nodeFlags`, if any) and waits for its result. */
export const runClient = (
  spec: ClientSpec,
  timeoutMillis: number,
  nodeFlags: ReadonlyArray<string> = []
): Promise<ClientOutcome> =>
  new Promise((resolve) => {
    // The spec (with the target's token) goes through stdin, not argv, where any local user could read it.
    const child = ChildProcess.spawn(process.execPath, [...nodeFlags, "--expose-gc", script("client")], {
      stdio: ["pipe", "pipe", "pipe"]
    })
    child.stdin.end(encodeSpec(spec))
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8")
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-2000)
    })
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMillis)
    child.once("exit", (code, signal) => {
      clearTimeout(timer)
      const line = stdout.trim().split("\n").pop() ?? ""
      if (code === 0) {
        try {
          return resolve({ _tag: "Ok", result: decodeResult(line) })
        } catch (e) {
          return resolve({ _tag: "Failed", message: `unreadable result: ${String(e)}` })
        }
      }
      const reason = signal === "SIGKILL" ? `timed out after ${timeoutMillis} ms` : `exit ${code ?? signal}`
      const firstLines = stderr.trim().split("\n").slice(0, 2).join(" / ")
      resolve({ _tag: "Failed", message: `${reason}: ${firstLines}` })
    })
  })

/** What `runCommand` measured of one command, from its start to its exit. */
export interface CommandUsage {
  /** Wall time from spawning the process to its exit, milliseconds. */
  readonly wallMillis: number
  /** CPU time of the process over its whole life (`process.resourceUsage()` at exit), microseconds. */
  readonly userMicros: number
  readonly systemMicros: number
  /** The process's peak RSS, bytes. */
  readonly maxRss: number
  /** CPU time of the main thread alone (the JavaScript), microseconds; Linux only. */
  readonly mainThreadMicros: number | undefined
}

export type CommandOutcome =
  | { readonly _tag: "Ok"; readonly usage: CommandUsage; readonly stdout: string }
  | { readonly _tag: "Failed"; readonly message: string }

const decodeUsage = (text: string, wallMillis: number): CommandUsage => {
  const parsed: unknown = JSON.parse(text)
  const field = (name: string): number => {
    const value: unknown = typeof parsed === "object" && parsed !== null ? Reflect.get(parsed, name) : undefined
    if (typeof value !== "number") throw new Error(`no ${name} in the usage file`)
    return value
  }
  const optionalField = (name: string): number | undefined => {
    const value: unknown = typeof parsed === "object" && parsed !== null ? Reflect.get(parsed, name) : undefined
    return typeof value === "number" ? value : undefined
  }
  return {
    wallMillis,
    userMicros: field("userMicros"),
    systemMicros: field("systemMicros"),
    maxRss: field("maxRssKiB") * 1024,
    mainThreadMicros: optionalField("mainThreadMicros")
  }
}

/**
 * Runs `node <args>` as a command line would, in `cwd` with exactly the environment `env` (nothing inherited but
 * `PATH`), with `dist/exitUsage.js` preloaded to record its CPU time and peak RSS at exit. It fails unless the
 * command exits with 0 within `timeoutMillis`.
 */
export const runCommand = (
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env: Readonly<Record<string, string>>; readonly timeoutMillis: number }
): Promise<CommandOutcome> =>
  new Promise((resolve) => {
    const usageFile = Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-cdf-usage-")), "usage.json")
    const env = { PATH: process.env["PATH"] ?? "", ...options.env, BENCH_USAGE_FILE: usageFile }
    const started = performance.now()
    const child = ChildProcess.spawn(process.execPath, ["--import", pathToFileURL(script("exitUsage")).href, ...args], {
      cwd: options.cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout = (stdout + chunk.toString("utf8")).slice(-4000)
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-2000)
    })
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMillis)
    child.once("exit", (code, signal) => {
      const wallMillis = performance.now() - started
      clearTimeout(timer)
      const finish = (outcome: CommandOutcome) => {
        Fs.rmSync(Path.dirname(usageFile), { recursive: true, force: true })
        resolve(outcome)
      }
      if (code !== 0) {
        const reason = signal === "SIGKILL" ? `timed out after ${options.timeoutMillis} ms` : `exit ${code ?? signal}`
        const firstLines = stderr.trim().split("\n").slice(0, 2).join(" / ")
        return finish({ _tag: "Failed", message: `${reason}: ${firstLines}` })
      }
      try {
        finish({ _tag: "Ok", usage: decodeUsage(Fs.readFileSync(usageFile, "utf8"), wallMillis), stdout })
      } catch (e) {
        finish({ _tag: "Failed", message: `no usage recorded: ${String(e)}` })
      }
    })
  })
