/**
 * `pnpm bench`: the benchmarks of issue 6. Servers (a byte-counting raw `node:http` sink, and the emulator) run as
 * child processes; every client run is its own child process; rounds interleave the clients (the order rotates
 * each round) so drift hits all alike; figures are medians with min–max over rounds, and ratios are taken within a
 * round, then summarised.
 *
 * Usage: `node packages/bench/dist/main.js [--full] [--only single,many,stream,throttle,emulator,cli] [--rounds N]
 * [--targets sink,emulator] [--clients undici,...] [--node-flags "--flag ..."] [--many-warmup N] [--json file]`.
 * Environment: `BENCH_FULL=1`, `BENCH_ONLY`, `BENCH_ROUNDS`, `BENCH_TARGETS`, `BENCH_NODE_FLAGS`, `BENCH_JSON`.
 * `--node-flags` runs every client process under these Node or V8 flags (e.g. `--liftoff-only`), to test what the
 * runtime itself costs; `--many-warmup` sets how many files the many-files section uploads before it measures.
 *
 * Over 450 lines for a reason: one section per benchmark, each short, sharing the run bookkeeping above them.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { cliBench, type CliRun } from "./internal/cliBench.js"
import { wholeFlag } from "./internal/childRounds.js"
import { readCpuMillis, readHwm, readRss, resetHwm } from "./internal/memory.js"
import { type ClientOutcome, runClient, type Server } from "./internal/processes.js"
import type { ClientName, ClientResult, Scenario, Target } from "./internal/protocol.js"
import { closeControl, type Endpoint, resetEmulator, sinkCounts, startEmulator, startSink } from "./internal/servers.js"
import { formatSize, formatSummary, median, summarize, table, units } from "./internal/stats.js"

const { KiB, MiB, GiB } = units

// ---------------------------------------------------------------------------------------------------------------
// Settings

const { values: flags } = parseArgs({
  options: {
    full: { type: "boolean", default: false },
    only: { type: "string" },
    rounds: { type: "string" },
    json: { type: "string" },
    targets: { type: "string" },
    clients: { type: "string" },
    "node-flags": { type: "string" },
    "many-warmup": { type: "string" },
    help: { type: "boolean", default: false }
  }
})
if (flags.help) {
  process.stdout.write(
    "node packages/bench/dist/main.js [--full] [--only single,many,stream,throttle,emulator,cli] [--rounds N]\n" +
      "  [--targets sink,emulator] [--clients undici,...] [--node-flags \"--flag ...\"] [--many-warmup N] [--json file]\n"
  )
  process.exit(0)
}

const full = flags.full || process.env["BENCH_FULL"] === "1"
const sections = new Set(
  (flags.only ?? process.env["BENCH_ONLY"] ?? "single,many,stream,throttle,emulator,cli").split(",").map((s) => s.trim())
)
const rounds = Number(flags.rounds ?? process.env["BENCH_ROUNDS"] ?? (full ? 5 : 3))
const jsonOut = flags.json ?? process.env["BENCH_JSON"] ??
  fileURLToPath(new URL("../../../reports/bench-latest.json", import.meta.url))
/** `--clients`: only these clients (default: all). */
const chosen = (client: ClientName) => flags.clients === undefined || flags.clients.split(",").includes(client)
/** `--node-flags`: extra Node or V8 flags for every client process (not for the servers or the command line). */
const clientNodeFlags = (flags["node-flags"] ?? process.env["BENCH_NODE_FLAGS"] ?? "").split(/\s+/).filter((f) => f !== "")
const manyWarmup = wholeFlag({ "many-warmup": flags["many-warmup"] ?? "500" }, "many-warmup", 0)
const useEmulator = (flags.targets ?? process.env["BENCH_TARGETS"] ?? "sink,emulator").includes("emulator")

const settings = {
  single: {
    sizes: full ? [KiB, MiB, 64 * MiB, 512 * MiB] : [KiB, MiB, 64 * MiB],
    reps: (size: number) => (size <= 64 * KiB ? 20 : size <= 4 * MiB ? 10 : size <= 64 * MiB ? 3 : 1),
    /** Warm-up uploads of the measured size before measuring: the first of them is the cold start. */
    warmups: (size: number) => (size <= 64 * KiB ? 200 : size <= 4 * MiB ? 30 : size <= 64 * MiB ? 3 : 2)
  },
  /** `--many-warmup N`: files uploaded before the measured ones (default 500; the JIT is still at work after them). */
  many: { size: 4 * KiB, count: full ? 2000 : 500, concurrency: 16, warmup: manyWarmup },
  stream: { size: full ? 2 * GiB : 256 * MiB, chunk: 64 * KiB, rounds: full ? 3 : 1 },
  throttle: { bytesPerSecond: 40_000_000, partSize: 8 * MiB, size: full ? 96 * MiB : 48 * MiB, concurrencies: [1, 3, 6] },
  emulatorMemory: { size: full ? GiB : 256 * MiB },
  cli: { size: 4 * KiB, count: full ? 2000 : 500, concurrency: 16 }
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

interface Run {
  readonly section: string
  readonly target: string
  readonly client: ClientName
  readonly label: string
  readonly round: number
  readonly outcome: ClientOutcome
  /** CPU time the target's server process spent during the run (warm-up included), ms */
  readonly serverCpuMillis: number | undefined
}

/** The process id of each target's server, for its CPU time. */
const serverPids = new Map<string, number>()

const runs: Array<Run> = []
const cliRuns: Array<CliRun> = []
const failures: Array<string> = []
const timeout = (bytes: number) => 60_000 + Math.ceil(bytes / MiB) * 200

const rotate = <A>(items: ReadonlyArray<A>, by: number): Array<A> =>
  items.map((_, i) => items[(i + by) % items.length])

const log = (line: string) => process.stderr.write(line + "\n")

const one = async (
  section: string,
  target: Target,
  client: ClientName,
  label: string,
  round: number,
  scenario: Scenario,
  bytes: number
): Promise<ClientOutcome> => {
  const before = (await sinkCounts(target)).bytes
  const pid = serverPids.get(target.name)
  const cpuBefore = pid === undefined ? undefined : readCpuMillis(pid)
  const outcome = await runClient({ client, target: { ...target }, scenario }, timeout(bytes), clientNodeFlags)
  const cpuAfter = pid === undefined ? undefined : readCpuMillis(pid)
  const serverCpuMillis = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore
  await resetEmulator(target)
  const received = (await sinkCounts(target)).bytes - before
  if (outcome._tag === "Ok" && target.name === "sink" && received < outcome.result.bytes) {
    failures.push(`${section} ${label} ${client}: the sink received ${received} bytes, fewer than the ${outcome.result.bytes} reported`)
  }
  runs.push({ section, target: target.name, client, label, round, outcome, serverCpuMillis })
  if (outcome._tag === "Failed") {
    const line = `${section} ${label} ${client} @${target.name} round ${round}: ${outcome.message}`
    failures.push(line)
    log(`  FAILED ${line}`)
  }
  return outcome
}

const results = (section: string, target: string, label: string, client: ClientName): Array<ClientResult> =>
  runs.flatMap((r) =>
    r.section === section && r.target === target && r.label === label && r.client === client && r.outcome._tag === "Ok"
      ? [r.outcome.result]
      : []
  )

/** Ratios of a per-run figure between two clients, taken round by round. */
const ratios = (
  section: string,
  target: string,
  label: string,
  a: ClientName,
  b: ClientName,
  figure: (r: ClientResult) => number,
  roundsRun: number = rounds
): Array<number> => {
  const of = (client: ClientName, round: number) =>
    runs.find((r) =>
      r.section === section && r.target === target && r.label === label && r.client === client && r.round === round
    )
  const out: Array<number> = []
  for (let round = 0; round < roundsRun; round++) {
    const ra = of(a, round)
    const rb = of(b, round)
    if (ra?.outcome._tag === "Ok" && rb?.outcome._tag === "Ok") out.push(figure(ra.outcome.result) / figure(rb.outcome.result))
  }
  return out
}

/**
 * A client's ratio cells against each reference client (`x raw`, `x floor`, ...): its figure over the reference's,
 * round by round, summarised; empty against itself or where the reference did not run.
 */
const ratioCells = (
  section: string,
  target: string,
  label: string,
  client: ClientName,
  references: ReadonlyArray<ClientName>,
  figure: (r: ClientResult) => number
): Array<string> =>
  references.map((reference) => {
    if (reference === client) return ""
    const summary = summarize(ratios(section, target, label, client, reference, figure))
    return summary === undefined ? "" : formatSummary(summary)
  })

const perUploadMillis = (r: ClientResult) => median(r.durations)
/** The cold start: the first upload (or the warm-up batch) of a fresh process, milliseconds. */
const firstMillis = (r: ClientResult) => r.first ?? Number.NaN
const bytesPerUpload = (r: ClientResult) => r.bytes / Math.max(1, r.durations.length)
const throughput = (r: ClientResult) => bytesPerUpload(r) / MiB / (perUploadMillis(r) / 1000)
const cpuPerGiB = (r: ClientResult) => (r.cpuUser + r.cpuSystem) / 1e6 / (r.bytes / GiB)
const peak = (r: ClientResult) => Math.max(r.rssPeak, r.hwm ?? 0)
/** RSS rise over the process with its payload allocated: from before the warm-up when known, else the run's. */
const rise = (r: ClientResult) =>
  (Math.max(peak(r), r.rssWarmPeak ?? 0) - (r.rssIdle ?? r.rssBefore)) / MiB
/** RSS rise during the measured uploads only (after the warm-up). */
const warmRise = (r: ClientResult) => (peak(r) - r.rssBefore) / MiB
const filesPerSecond = (r: ClientResult) => r.files / (r.durations.reduce((a, b) => a + b, 0) / 1000)

const output: Array<string> = []
const print = (text: string) => {
  output.push(text)
  process.stdout.write(text + "\n")
}

// ---------------------------------------------------------------------------------------------------------------
// (a) one upload of each size, (e) CPU per GiB, and the checksum's cost

const single = async (targets: ReadonlyArray<Target>) => {
  const clients: ReadonlyArray<ClientName> = ["ours", "raw", "sdk"]
  for (let round = 0; round < rounds; round++) {
    log(`single: round ${round + 1}/${rounds}`)
    for (const size of settings.single.sizes) {
      const scenario: Scenario = {
        _tag: "Single",
        size,
        reps: settings.single.reps(size),
        warmups: settings.single.warmups(size)
      }
      const bytes = size * (scenario.reps + scenario.warmups + 1)
      for (const target of rotate(targets, round)) {
        const order: Array<ClientName> = rotate(clients, round)
        // The references (undici, the Effect-runtime floor, the bare @effect/platform client) locate overhead: the
        // sink is enough for them.
        if (target.name === "sink") order.push("undici", "floor", "platform")
        if (target.name === "sink" && size >= MiB) order.push("ours-sha256")
        // verify reads the file back: the emulator serves downloads, the sink does not
        if (target.name === "emulator" && size <= 64 * MiB) order.push("ours-verify")
        // Above the single-PUT threshold (100 MiB) ours goes multipart by default; this row sends it in one PUT.
        if (size > 100 * MiB) order.push("ours-1put")
        for (const client of rotate(order, round).filter(chosen)) {
          await one("single", target, client, formatSize(size), round, scenario, bytes)
        }
      }
    }
  }
  const rows: Array<Array<string>> = []
  for (const target of targets) {
    for (const size of settings.single.sizes) {
      const label = formatSize(size)
      for (const client of ["ours", "ours-1put", "raw", "sdk", "undici", "floor", "platform", "ours-sha256", "ours-verify"] as const) {
        const rs = results("single", target.name, label, client)
        if (rs.length === 0) continue
        rows.push([
          target.name,
          label,
          client,
          formatSummary(summarize(rs.map(firstMillis)), 2),
          client === "sdk" ? "" : formatSummary(summarize(ratios("single", target.name, label, "sdk", client, firstMillis))),
          formatSummary(summarize(rs.map(perUploadMillis)), 2),
          size >= MiB ? formatSummary(summarize(rs.map(throughput)), 0) : "",
          ...ratioCells("single", target.name, label, client, ["raw", "undici", "floor", "sdk"], throughput),
          size >= MiB ? formatSummary(summarize(rs.map(cpuPerGiB))) : "",
          formatSummary(summarize(rs.map(rise)), 0),
          formatSummary(summarize(rs.map(warmRise)), 0)
        ])
      }
    }
  }
  print("\n## (a) one upload of bytes, (e) CPU per GiB, checksum cost\n")
  print(table(["target", "size", "client", "cold ms", "cold x sdk", "ms/upload", "MiB/s", "x raw", "x undici", "x floor", "x sdk", "CPU s/GiB", "RSS rise MiB", "warm rise MiB"], rows))
}

// ---------------------------------------------------------------------------------------------------------------
// (b) many small files

const many = async (targets: ReadonlyArray<Target>) => {
  const { size, count, concurrency, warmup } = settings.many
  const label = `${count} x ${formatSize(size)} @${concurrency}`
  const clients = (["ours", "sdk", "raw", "undici", "floor", "platform"] as const).filter(chosen)
  for (let round = 0; round < rounds; round++) {
    log(`many: round ${round + 1}/${rounds}`)
    for (const target of rotate(targets, round)) {
      // The references (floor, platform) locate overhead in the client: the sink is enough for them. undici on both
      // targets measures the emulator against the plain node:http sink.
      const here = target.name === "sink" ? clients : clients.filter((c) => c !== "floor" && c !== "platform")
      for (const client of rotate(here, round)) {
        await one("many", target, client, label, round, { _tag: "Many", size, count, concurrency, warmup }, size * (count + warmup))
      }
    }
  }
  const rows: Array<Array<string>> = []
  for (const target of targets) {
    for (const client of clients) {
      const rs = results("many", target.name, label, client)
      if (rs.length === 0) continue
      rows.push([
        target.name,
        client,
        formatSummary(summarize(rs.map((r) => warmup / (firstMillis(r) / 1000))), 0),
        client === "sdk"
          ? ""
          : formatSummary(summarize(ratios("many", target.name, label, "sdk", client, firstMillis))),
        formatSummary(summarize(rs.map(filesPerSecond)), 0),
        ...ratioCells("many", target.name, label, client, ["raw", "undici", "floor", "sdk"], filesPerSecond),
        formatSummary(summarize(rs.map((r) => (r.cpuUser + r.cpuSystem) / 1e3 / r.files)), 3),
        formatSummary(summarize(runs.flatMap((r) =>
          r.section === "many" && r.target === target.name && r.client === client && r.outcome._tag === "Ok" &&
            r.serverCpuMillis !== undefined ? [r.serverCpuMillis / (r.outcome.result.files + warmup)] : []
        )), 3)
      ])
    }
  }
  print(`\n## (b) ${label}\n`)
  print(table(["target", "client", `cold files/s (first ${warmup})`, "cold x sdk", "files/s", "x raw", "x undici", "x floor", "x sdk", "CPU ms/file", "server CPU ms/file"], rows))
  // the emulator's files/s over the plain node:http sink's, round by round, for each client run on both
  for (const client of clients) {
    const of = (target: string, round: number) =>
      runs.find((r) => r.section === "many" && r.target === target && r.client === client && r.round === round)
    const ratios = Array.from({ length: rounds }, (_, round) => [of("emulator", round), of("sink", round)] as const)
      .flatMap(([e, s]) => e?.outcome._tag === "Ok" && s?.outcome._tag === "Ok" ? [filesPerSecond(e.outcome.result) / filesPerSecond(s.outcome.result)] : [])
    if (ratios.length > 0) print(`\nemulator / sink files/s (${client}, per round): ${formatSummary(summarize(ratios))}`)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// (c) a stream of unknown length

const stream = async (target: Target) => {
  const { size, chunk } = settings.stream
  // ours, and raw doing the same work by hand (a stream spooled to a file, then the same plan): the floor of the plan
  const clients = (["ours", "raw"] as const).filter(chosen)
  const kinds = [
    { label: `${formatSize(size)} stream`, scenario: { _tag: "Stream", size, chunk } as const },
    { label: `${formatSize(size)} file`, scenario: { _tag: "File", size } as const }
  ]
  for (let round = 0; round < settings.stream.rounds; round++) {
    log(`stream: round ${round + 1}/${settings.stream.rounds}`)
    for (const kind of kinds) {
      for (const client of round % 2 === 0 ? clients : [...clients].reverse()) {
        await one("stream", target, client, kind.label, round, kind.scenario, size)
      }
    }
  }
  print(`\n## (c) ${formatSize(size)} from disk: a stream of unknown length (${formatSize(chunk)} chunks, spooled), and a file\n`)
  print(table(
    ["target", "content", "client", "MiB/s", "peak RSS MiB", "RSS before MiB", "CPU s/GiB", "CPU x raw"],
    kinds.flatMap(({ label }) =>
      clients.map((client) => {
        const rs = results("stream", target.name, label, client)
        const cpu = ratios("stream", target.name, label, client, "raw", cpuPerGiB, settings.stream.rounds)
        return [
          target.name,
          label,
          client,
          formatSummary(summarize(rs.map(throughput)), 0),
          formatSummary(summarize(rs.map((r) => peak(r) / MiB)), 0),
          formatSummary(summarize(rs.map((r) => r.rssBefore / MiB)), 0),
          formatSummary(summarize(rs.map(cpuPerGiB))),
          client === "raw" ? "" : formatSummary(summarize(cpu))
        ]
      })
    )
  ))
}

// ---------------------------------------------------------------------------------------------------------------
// (d) multipart under a per-connection throttle

const throttle = async (target: Target) => {
  const { size, partSize, concurrencies, bytesPerSecond } = settings.throttle
  for (let round = 0; round < rounds; round++) {
    log(`throttle: round ${round + 1}/${rounds}`)
    for (const concurrency of rotate(concurrencies, round)) {
      await one("throttle", target, "ours", `c${concurrency}`, round, {
        _tag: "Multipart",
        size,
        partSize,
        concurrency
      }, size)
    }
  }
  const rows = concurrencies.map((c) => {
    const rs = results("throttle", target.name, `c${c}`, "ours")
    const speedup: Array<number> = []
    for (let round = 0; round < rounds; round++) {
      const base = runs.find((r) => r.section === "throttle" && r.label === "c1" && r.round === round)
      const this_ = runs.find((r) => r.section === "throttle" && r.label === `c${c}` && r.round === round)
      if (base?.outcome._tag === "Ok" && this_?.outcome._tag === "Ok") {
        speedup.push(perUploadMillis(base.outcome.result) / perUploadMillis(this_.outcome.result))
      }
    }
    return [
      String(c),
      formatSummary(summarize(rs.map(perUploadMillis)), 0),
      formatSummary(summarize(rs.map(throughput)), 1),
      formatSummary(summarize(speedup)),
      rs[0]?.note ?? ""
    ]
  })
  print(
    `\n## (d) multipart ${formatSize(size)} in ${formatSize(partSize)} parts, emulator throttling each connection to ${
      bytesPerSecond / 1e6
    } MB/s\n`
  )
  print(table(["part concurrency", "ms", "MiB/s", "x concurrency 1", "plan"], rows))
}

// ---------------------------------------------------------------------------------------------------------------
// The emulator's own memory for a large disk-mode upload

const emulatorMemory = async () => {
  const { size } = settings.emulatorMemory
  const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-cdf-bench-"))
  const { server, target } = await startEmulator("emulator-disk", { dataDir })
  try {
    const before = readRss(server.pid) ?? 0
    const reset = resetHwm(server.pid)
    let sampled = before
    const timer = setInterval(() => {
      sampled = Math.max(sampled, readRss(server.pid) ?? 0)
    }, 5)
    const outcome = await one("emulator", target, "raw", formatSize(size), 0, { _tag: "Single", size, reps: 1, warmups: 1 }, size)
    clearInterval(timer)
    const hwm = reset ? readHwm(server.pid) ?? 0 : 0
    const peakRss = Math.max(sampled, hwm)
    print(`\n## Emulator memory, one ${formatSize(size)} upload in disk mode (raw client)\n`)
    print(table(["emulator RSS before MiB", "peak MiB", "growth MiB", "client MiB/s"], [[
      (before / MiB).toFixed(0),
      (peakRss / MiB).toFixed(0),
      ((peakRss - before) / MiB).toFixed(0),
      outcome._tag === "Ok" ? throughput(outcome.result).toFixed(0) : "failed"
    ]]))
  } finally {
    await server.stop()
    Fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------------------------------------------

const machine = () => {
  const cpu = Os.cpus()[0]?.model ?? "unknown"
  return `${Os.cpus().length} x ${cpu}, ${(Os.totalmem() / GiB).toFixed(1)} GiB RAM, Node ${process.version}, ${Os.platform()} ${Os.release()}`
}

const main = async () => {
  const started = Date.now()
  print(`# effect-cdf benchmarks (${full ? "full" : "quick"}, ${rounds} rounds), ${new Date().toISOString()}`)
  print(`machine: ${machine()}`)
  print(`load average at start: ${Os.loadavg().map((l) => l.toFixed(2)).join(" ")}`)
  print(`command: node packages/bench/dist/main.js ${process.argv.slice(2).join(" ")}`.trimEnd())
  if (clientNodeFlags.length > 0) print(`client processes run under: ${clientNodeFlags.join(" ")}`)
  const servers: Array<Server<Endpoint>> = []
  try {
    const sink = await startSink()
    servers.push(sink.server)
    serverPids.set(sink.target.name, sink.server.pid)
    const needsEmulator = useEmulator && (sections.has("single") || sections.has("many"))
    const emulator = needsEmulator ? await startEmulator("emulator", {}) : undefined
    if (emulator !== undefined) {
      servers.push(emulator.server)
      serverPids.set(emulator.target.name, emulator.server.pid)
    }
    const targets = emulator === undefined ? [sink.target] : [sink.target, emulator.target]
    if (sections.has("single")) await single(targets)
    if (sections.has("many")) await many(targets)
    if (sections.has("stream")) await stream(sink.target)
    if (sections.has("throttle")) {
      const throttled = await startEmulator("emulator-throttled", {
        faults: [{ route: "storage.put", action: { _tag: "Throttle", bytesPerSecond: settings.throttle.bytesPerSecond } }]
      })
      servers.push(throttled.server)
      await throttle(throttled.target)
    }
    if (sections.has("emulator")) await emulatorMemory()
    if (sections.has("cli")) {
      const cli = await cliBench({ target: sink.target, sinkPid: sink.server.pid, rounds, settings: settings.cli, log })
      cliRuns.push(...cli.runs)
      failures.push(...cli.failures)
      print(`\n## ${cli.title}\n`)
      print(cli.table)
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()))
    closeControl()
  }
  if (failures.length > 0) {
    print(`\n## Failed runs (${failures.length})\n`)
    for (const f of failures) print(`- ${f}`)
  }
  print(`\nload average at end: ${Os.loadavg().map((l) => l.toFixed(2)).join(" ")}; total ${((Date.now() - started) / 1000).toFixed(0)} s`)
  Fs.mkdirSync(Path.dirname(jsonOut), { recursive: true })
  Fs.writeFileSync(jsonOut, JSON.stringify({ machine: machine(), full, rounds, settings, runs, cliRuns, output }, null, 2))
  log(`every run: ${jsonOut}`)
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  process.exit(1)
})
