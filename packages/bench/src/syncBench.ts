/**
 * The durable sync benchmark (issue 14): `cdf-files sync` (a job on the embedded engine: SingleRunner on a SQLite
 * state file) against `cdf-files upload -r` (the same library's uploads in a loop, nothing durable) at the same
 * concurrency, both `--quiet`, on the same files, against the emulator in its own process; then a second `sync` with nothing
 * changed (its time and its API calls), and the state file's size. With `--rounds N` (default 1) the two first runs
 * alternate N times, each against an emulator emptied just before it (a fresh state file for each `sync`), and the
 * medians are compared: one run each cannot tell a few per cent on a shared machine.
 *
 * With `--count-ops`, nothing is timed: `upload -r` and `sync` run once each (each against an emptied emulator) with
 * a preload that counts the Effect operations and fibers of the CLI process (`internal/countOps.ts`), and the
 * counts per file are printed. Counts are deterministic, where times on a shared machine vary by ±15 %.
 *
 * Usage: `node packages/bench/dist/syncBench.js [--files N] [--concurrency N] [--rounds N] [--count-ops]` (after
 * `npm run build`).
 *
 * @since 0.1.0
 */
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import * as Raw from "./internal/raw.js"
import { closeControl, resetEmulator, startEmulator } from "./internal/servers.js"

const { values: flags } = parseArgs({
  options: {
    files: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "16" },
    rounds: { type: "string", default: "1" },
    "count-ops": { type: "boolean", default: false }
  }
})
const rounds = Math.max(1, Number(flags.rounds))
const files = Number(flags.files)
const concurrency = String(Number(flags.concurrency))
// the executable as installed (the bundle); the operation count runs the unbundled modules instead, since its preload
// patches the `effect` package that they import (the bundle holds its own copy of effect)
const cli = fileURLToPath(new URL("../../cli/bin/cdf-files.js", import.meta.url))
const cliModules = fileURLToPath(new URL("../../cli/dist/bin.js", import.meta.url))

const countOps = fileURLToPath(new URL("./internal/countOps.js", import.meta.url))

const run = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv, nodeArgs: ReadonlyArray<string> = [], script = cli) =>
  new Promise<{ seconds: number; summary: string; stderr: string }>((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(process.execPath, [...nodeArgs, script, ...args], { env, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    child.stdout.on("data", (chunk) => (out = (out + String(chunk)).slice(-4096)))
    child.stderr.on("data", (chunk) => (err = (err + String(chunk)).slice(-4096)))
    child.on("exit", (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      const summary = out.trim().split("\n").at(-1) ?? ""
      if (code === 0) resolve({ seconds, summary, stderr: err })
      else reject(new Error(`cdf-files ${args[0]} exited ${code}: ${err}`))
    })
  })

const main = async () => {
  const work = Fs.mkdtempSync(Path.join(Os.tmpdir(), "bench-sync-"))
  const tree = Path.join(work, "tree")
  for (let i = 0; i < files; i++) {
    const dir = Path.join(tree, `d${i % 100}`)
    if (i < 100) Fs.mkdirSync(dir, { recursive: true })
    const content = Buffer.alloc(4096, i % 251)
    content.writeUInt32LE(i, 0)
    Fs.writeFileSync(Path.join(dir, `f${i}.bin`), content)
  }
  const { server, target } = await startEmulator("emulator", {})
  const env = { ...process.env, CDF_URL: target.baseUrl, CDF_PROJECT: target.project, CDF_TOKEN: target.token, NO_COLOR: "1" }
  const agent = Raw.makeAgent(1)
  const requestCount = async () => {
    const response = await Raw.request(agent, "GET", `${target.baseUrl}/_emulator/requests`, {}, undefined)
    return (JSON.parse(response.body.toString()) as Array<unknown>).length
  }
  const machine = `${Os.cpus().length} cores, Node ${process.version}, load ${Os.loadavg().map((l) => l.toFixed(1)).join(" ")}`
  process.stdout.write(`sync benchmark: ${files} files of 4 KiB, --concurrency ${concurrency}, ${rounds} round(s); ${machine}\n`)

  if (flags["count-ops"]) {
    const count = async (command: "upload" | "sync", args: ReadonlyArray<string>) => {
      await resetEmulator(target)
      const { stderr } = await run(args, env, ["--import", countOps], cliModules)
      const [, operations, fibers] = stderr.trim().split("\n").find((line) => line.startsWith("effect-ops "))!.split(" ")
      process.stdout.write(`| cdf-files ${command} | ${(Number(operations) / files).toFixed(0)} | ${(Number(fibers) / files).toFixed(1)} |\n`)
      return Number(operations)
    }
    process.stdout.write(`| run (${files} files, whole process) | Effect operations per file | fibers per file |\n|---|---|---|\n`)
    const upload = await count("upload", ["upload", tree, "-r", "--external-id-prefix", "u/", "--concurrency", concurrency, "--quiet"])
    const sync = await count("sync", ["sync", tree, "--external-id-prefix", "s/", "--state", Path.join(work, "ops.db"), "--concurrency", concurrency, "--quiet"])
    process.stdout.write(`sync / upload operations: ${(sync / upload).toFixed(2)}\n`)
    await server.stop()
    closeControl()
    Fs.rmSync(work, { recursive: true, force: true })
    return
  }

  const uploads: Array<number> = []
  const syncs: Array<number> = []
  let state = ""
  for (let round = 0; round < rounds; round++) {
    // in a single run, the first run meets a fresh emulator process, as before; in rounds, each an emptied one
    if (rounds > 1) await resetEmulator(target)
    const upload = await run(["upload", tree, "-r", "--external-id-prefix", "u/", "--concurrency", concurrency, "--quiet"], env)
    uploads.push(upload.seconds)
    if (rounds > 1) await resetEmulator(target)
    state = Path.join(work, `sync-${round}.db`)
    const sync = await run(["sync", tree, "--external-id-prefix", "s/", "--state", state, "--concurrency", concurrency, "--quiet"], env)
    syncs.push(sync.seconds)
    if (rounds > 1) process.stdout.write(`round ${round + 1}: upload -r ${upload.seconds.toFixed(1)} s, sync ${sync.seconds.toFixed(1)} s\n`)
  }
  // the last sync's records are in the emulator: the same sync again finds nothing changed
  const before = await requestCount()
  const again = await run(["sync", tree, "--external-id-prefix", "s/", "--state", state, "--concurrency", concurrency, "--json"], env)
  const calls = (await requestCount()) - before
  const stateBytes = Fs.statSync(state).size + (Fs.existsSync(`${state}-wal`) ? Fs.statSync(`${state}-wal`).size : 0)
  const median = (values: Array<number>) => {
    const sorted = [...values].sort((x, y) => x - y)
    const mid = Math.floor(sorted.length / 2)
    return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  }
  const upload = median(uploads)
  const sync = median(syncs)
  const label = rounds > 1 ? ` (median of ${rounds})` : ""

  process.stdout.write(
    `| run | seconds | files/s |\n|---|---|---|\n` +
      `| cdf-files upload -r (a loop of uploads)${label} | ${upload.toFixed(1)} | ${(files / upload).toFixed(0)} |\n` +
      `| cdf-files sync, first run${label} | ${sync.toFixed(1)} | ${(files / sync).toFixed(0)} |\n` +
      `| cdf-files sync, nothing changed | ${again.seconds.toFixed(1)} | ${(files / again.seconds).toFixed(0)} |\n` +
      `sync / upload files/s: ${(upload / sync).toFixed(2)}x\n` +
      `second run: ${calls} API calls (${again.summary})\n` +
      `state file: ${(stateBytes / 1024 / 1024).toFixed(1)} MiB after two runs, ${((stateBytes / files) * 10_000 / 1024 / 1024).toFixed(1)} MiB per 10 000 files\n`
  )
  agent.destroy()
  await server.stop()
  closeControl()
  Fs.rmSync(work, { recursive: true, force: true })
}

main().catch((error) => {
  process.stderr.write(`sync benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
