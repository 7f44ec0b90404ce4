/**
 * The cli section: `cdf-files upload --recursive --concurrency N <dir>` (the built executable,
 * `packages/cli/bin/cdf-files.js`) on a directory of small files, against the sink, next to a baseline script
 * (`dist/cliBaseline.js`: a directory listing, `readFile` and the plain undici calls) and to `cdf-files --version`
 * (what starting the command costs before it uploads anything). Each is a fresh process, measured from spawn to exit
 * (`runCommand`); rounds rotate the order.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { readCpuMillis } from "./memory.js"
import { type CommandOutcome, runCommand, script } from "./processes.js"
import type { Target } from "./protocol.js"
import { sinkCounts } from "./servers.js"
import { formatSize, formatSummary, summarize, table } from "./stats.js"

/** The files to upload: `count` files of `size` bytes, `concurrency` in flight. */
export interface CliSettings {
  readonly size: number
  readonly count: number
  readonly concurrency: number
}

export type CommandName = "cdf-files" | "baseline" | "cdf-files --version"

export interface CliRun {
  readonly command: CommandName
  readonly round: number
  readonly outcome: CommandOutcome
  /** The sink's CPU time during the run, milliseconds (Linux only). */
  readonly sinkCpuMillis?: number
}

const cliBin = fileURLToPath(new URL("../../../cli/bin/cdf-files.js", import.meta.url))

const commandArgs = (command: CommandName, concurrency: number): Array<string> => {
  switch (command) {
    case "cdf-files":
      return [cliBin, "upload", "--recursive", "--concurrency", String(concurrency), "files"]
    case "baseline":
      return [script("cliBaseline"), "files", String(concurrency)]
    case "cdf-files --version":
      return [cliBin, "--version"]
  }
}

/** Writes `count` files of `size` bytes (each with its own content) into `<dir>/files`. */
const writeFiles = (dir: string, { count, size }: CliSettings): void => {
  const files = Path.join(dir, "files")
  Fs.mkdirSync(files)
  const width = String(count).length
  for (let i = 0; i < count; i++) {
    Fs.writeFileSync(Path.join(files, `file-${String(i).padStart(width, "0")}.bin`), Buffer.alloc(size, `file ${i} `))
  }
}

/** The uploads of the cli section; `log` tells progress, the failed runs are returned with the table. */
export const cliBench = async (args: {
  readonly target: Target
  readonly sinkPid: number
  readonly rounds: number
  readonly settings: CliSettings
  readonly log: (line: string) => void
}): Promise<{ readonly title: string; readonly table: string; readonly runs: Array<CliRun>; readonly failures: Array<string> }> => {
  const { target, sinkPid, rounds, settings, log } = args
  const label = `${settings.count} x ${formatSize(settings.size)} @${settings.concurrency}`
  const title = `(f) the command line: cdf-files upload of ${label} from disk, against the sink`
  if (!Fs.existsSync(cliBin)) {
    return { title, table: "", runs: [], failures: [`cli: ${cliBin} is missing; run npm run build first`] }
  }
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-cdf-bench-cli-"))
  const runs: Array<CliRun> = []
  const failures: Array<string> = []
  const env = { CDF_URL: target.baseUrl, CDF_PROJECT: target.project, CDF_TOKEN: target.token }
  const once = async (command: CommandName, round: number): Promise<CliRun> => {
    const before = await sinkCounts(target)
    const cpuBefore = readCpuMillis(sinkPid)
    let outcome = await runCommand(commandArgs(command, settings.concurrency), { cwd: dir, env, timeoutMillis: 300_000 })
    const cpuAfter = readCpuMillis(sinkPid)
    const after = await sinkCounts(target)
    const expected = command === "cdf-files --version" ? 0 : settings.count
    if (outcome._tag === "Ok" && (after.files - before.files !== expected || after.bytes - before.bytes < expected * settings.size)) {
      outcome = {
        _tag: "Failed",
        message: `the sink got ${after.files - before.files} files and ${after.bytes - before.bytes} bytes, not ${expected} files of ${settings.size}`
      }
    }
    if (outcome._tag === "Failed") failures.push(`cli ${command} round ${round}: ${outcome.message}`)
    return {
      command,
      round,
      outcome,
      ...(cpuBefore === undefined || cpuAfter === undefined ? {} : { sinkCpuMillis: cpuAfter - cpuBefore })
    }
  }
  const commands: ReadonlyArray<CommandName> = ["cdf-files", "baseline", "cdf-files --version"]
  try {
    writeFiles(dir, settings)
    // One unmeasured run of each first, so that no round pays for reading the modules from disk.
    log("cli: warm-up")
    for (const command of commands) await once(command, -1)
    for (let round = 0; round < rounds; round++) {
      log(`cli: round ${round + 1}/${rounds}`)
      for (const command of commands.map((_, i) => commands[(i + round) % commands.length])) {
        runs.push(await once(command, round))
      }
    }
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
  return { title, table: render(runs, rounds, settings.count), runs, failures }
}

const usageOf = (run: CliRun | undefined) => run?.outcome._tag === "Ok" ? run.outcome.usage : undefined

const render = (runs: ReadonlyArray<CliRun>, rounds: number, count: number): string => {
  const rows = (["cdf-files", "baseline", "cdf-files --version"] as const).map((command) => {
    const mine = runs.filter((r) => r.command === command)
    const usages = mine.flatMap((r) => r.outcome._tag === "Ok" ? [r.outcome.usage] : [])
    const files = command === "cdf-files --version" ? 0 : count
    const cpuMillis = usages.map((u) => (u.userMicros + u.systemMicros) / 1000)
    const versus: Array<number> = []
    for (let round = 0; round < rounds; round++) {
      const a = usageOf(runs.find((r) => r.command === command && r.round === round))
      const b = usageOf(runs.find((r) => r.command === "baseline" && r.round === round))
      if (a !== undefined && b !== undefined) versus.push(b.wallMillis / a.wallMillis)
    }
    const mainThread = usages.flatMap((u) => u.mainThreadMicros === undefined ? [] : [u.mainThreadMicros / 1_000_000])
    const sinkShare = mine.flatMap((r) =>
      r.outcome._tag === "Ok" && r.sinkCpuMillis !== undefined ? [100 * r.sinkCpuMillis / r.outcome.usage.wallMillis] : []
    )
    return [
      command,
      String(files),
      formatSummary(summarize(usages.map((u) => u.wallMillis / 1000)), 2),
      files === 0 ? "" : formatSummary(summarize(usages.map((u) => files / (u.wallMillis / 1000))), 0),
      files === 0 || command === "baseline" ? "" : formatSummary(summarize(versus)),
      formatSummary(summarize(cpuMillis.map((ms) => ms / 1000)), 2),
      mainThread.length === 0 ? "" : formatSummary(summarize(mainThread), 2),
      files === 0 ? "" : formatSummary(summarize(cpuMillis.map((ms) => ms / files)), 3),
      formatSummary(summarize(usages.map((u) => u.maxRss / 1024 / 1024)), 0),
      formatSummary(summarize(sinkShare), 0)
    ]
  })
  return table(
    [
      "command",
      "files",
      "wall s",
      "files/s",
      "x baseline",
      "CPU s",
      "main thread CPU s",
      "CPU ms/file",
      "peak RSS MiB",
      "sink CPU %"
    ],
    rows
  )
}
