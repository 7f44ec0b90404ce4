/**
 * The cluster benchmark (issue 15): `cdf-files sync --state postgres://…` on `cdf-files runner` processes sharing a
 * throwaway PostgreSQL, uploading to the emulator in its own process with a per-request throttle on PUTs (so that
 * the network, not the 2 CPUs, is the limit). Three figures:
 * - files/s of one runner against three runners, the same job;
 * - the job's time when one of three runners is SIGKILLed at 30 % against the same job undisturbed;
 * - the load on PostgreSQL per 10 000 files: statements (pg_stat_statements), rows written and read.
 *
 * Each run also prints how busy the machine's CPUs were during it (from `/proc/stat`): when three runners keep them
 * near full, the CPUs and not the network set the pace, and the throttle should be lower for a scaling figure.
 *
 * With `--rounds N` (default 1) the first figure is measured N times, one runner then three in each round (the two
 * extra runners stopped with SIGTERM between rounds), and the medians are compared. Without `--batch-size` the job
 * gets its own default on runners (`spreadBatchSize`), as a user's does.
 *
 * Usage: `node packages/bench/dist/cluster.js [--files N] [--size BYTES] [--throttle BYTES_PER_S] [--concurrency N]
 * [--batch-size N] [--pg-files N] [--rounds N] [--json file]` (after `npm run build`; PostgreSQL from
 * `node scripts/provision.mjs postgres`).
 *
 * @since 0.1.0
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { binDir, startPostgres } from "../../../scripts/postgres.mjs"
import { closeControl, resetEmulator, startEmulator } from "./internal/servers.js"

const { values: flags } = parseArgs({
  options: {
    files: { type: "string", default: "240" },
    size: { type: "string", default: String(256 * 1024) },
    throttle: { type: "string", default: String(1024 * 1024) },
    concurrency: { type: "string", default: "4" },
    // 0: none given, the job's own default on runners (`spreadBatchSize`)
    "batch-size": { type: "string", default: "0" },
    "pg-files": { type: "string", default: "10000" },
    rounds: { type: "string", default: "1" },
    json: { type: "string" }
  }
})
const files = Number(flags.files)
const size = Number(flags.size)
const throttle = Number(flags.throttle)
const concurrency = Number(flags.concurrency)
const batchSize = Number(flags["batch-size"])
const pgFiles = Number(flags["pg-files"])
const rounds = Math.max(1, Number(flags.rounds))
const cli = fileURLToPath(new URL("../../cli/bin/cdf-files.js", import.meta.url))

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = Net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as Net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

const waitFor = (child: ChildProcess, text: string) =>
  new Promise<void>((resolve, reject) => {
    let seen = ""
    const on = (chunk: Buffer) => {
      seen += String(chunk)
      if (seen.includes(text)) resolve()
    }
    child.stderr!.on("data", on)
    child.once("exit", (code) => reject(new Error(`exited ${code} before "${text}": ${seen}`)))
  })

/** The machine's CPU time so far, busy and in all (jiffies of `/proc/stat`): how busy both cores were during a run. */
const cpuTimes = () => {
  const fields = Fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number)
  const total = fields.reduce((sum, value) => sum + value, 0)
  // idle and iowait are not busy
  return { busy: total - fields[3]! - fields[4]!, total }
}

const tree = (count: number, bytes: number) => {
  const root = Fs.mkdtempSync(Path.join(Os.tmpdir(), "bench-cluster-"))
  for (let i = 0; i < count; i++) {
    const dir = Path.join(root, `d${i % 16}`)
    Fs.mkdirSync(dir, { recursive: true })
    const content = Buffer.alloc(bytes, i % 251)
    content.writeUInt32LE(i, 0)
    Fs.writeFileSync(Path.join(dir, `f${i}.bin`), content)
  }
  return root
}

const main = async () => {
  const pg = await startPostgres({ shared_preload_libraries: "pg_stat_statements", "pg_stat_statements.track": "all" })
  const psql = (sql: string) =>
    execFileSync(Path.join(binDir()!, "psql"), [pg.url, "-At", "-c", sql]).toString().trim()
  psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
  const { server: emulatorServer, target } = await startEmulator("emulator", {
    faults: [{ route: "storage.put", action: { _tag: "Throttle", bytesPerSecond: throttle } }]
  })
  const env = { ...process.env, CDF_URL: target.baseUrl, CDF_PROJECT: target.project, CDF_TOKEN: target.token, NO_COLOR: "1" }
  const runners: Array<ChildProcess> = []
  const startRunner = async () => {
    const child = spawn(process.execPath, [cli, "runner", "--state", pg.url, "--port", String(await freePort())], {
      env,
      stdio: ["ignore", "ignore", "pipe"]
    })
    runners.push(child)
    await waitFor(child, "taking work")
    return child
  }
  /** One `sync` of `root` under `prefix`; `onUploaded(n)` sees the count of uploaded files as they come. */
  const sync = (root: string, prefix: string, onUploaded?: (n: number) => void) =>
    new Promise<{ seconds: number; uploaded: number; cpuBusy: number }>((resolve, reject) => {
      const started = process.hrtime.bigint()
      const cpuBefore = cpuTimes()
      const child = spawn(process.execPath, [
        cli,
        "sync",
        root,
        "--external-id-prefix",
        prefix,
        "--state",
        pg.url,
        "--json",
        "--concurrency",
        String(concurrency),
        ...(batchSize > 0 ? ["--batch-size", String(batchSize)] : [])
      ], { env, stdio: ["ignore", "pipe", "pipe"] })
      let out = ""
      let err = ""
      let uploaded = 0
      child.stdout!.on("data", (chunk) => {
        out += String(chunk)
        const lines = out.split("\n")
        out = lines.pop()!
        for (const line of lines) {
          if (line.includes("\"status\":\"uploaded\"")) onUploaded?.(++uploaded)
          if (line.startsWith("{\"summary\"")) uploaded = JSON.parse(line).summary.uploaded
        }
      })
      child.stderr!.on("data", (chunk) => (err += String(chunk)))
      child.on("exit", (code) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9
        const cpuAfter = cpuTimes()
        const cpuBusy = (cpuAfter.busy - cpuBefore.busy) / Math.max(1, cpuAfter.total - cpuBefore.total)
        if (code === 0) resolve({ seconds, uploaded, cpuBusy })
        else reject(new Error(`sync exited ${code}: ${err}`))
      })
    })

  const machine = `${Os.cpus().length} cores, Node ${process.version}, load ${Os.loadavg().map((l) => l.toFixed(1)).join(" ")}`
  process.stdout.write(`cluster benchmark: ${files} files of ${size} bytes, PUTs throttled to ${throttle} B/s each, ` +
    `--concurrency ${concurrency} per runner, ${batchSize > 0 ? `--batch-size ${batchSize}` : "the default batch size"}; ${machine}\n`)
  const root = tree(files, size)
  const results: Record<string, unknown> = { files, size, throttle, concurrency, batchSize, machine }

  // 1. one runner, then three (in each round)
  // the job on the runners: from its submission (the run's start, written by `sync` once its process is up and
  // connected) to `Finish`; the difference from the end-to-end seconds is the `sync` process's start and follow-up
  const onRunners = (prefix: string) =>
    Number(psql(`SELECT finished_at - started_at FROM cdf_ingest_jobs WHERE prefix = '${prefix}'`)) / 1000
  const median = (values: ReadonlyArray<number>) => {
    const sorted = [...values].sort((x, y) => x - y)
    const mid = Math.floor(sorted.length / 2)
    return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  }
  const measured: Array<{ one: number; three: number; oneJob: number; threeJob: number; oneCpu: number; threeCpu: number }> = []
  await startRunner()
  let threePrefix = "three/"
  for (let round = 0; round < rounds; round++) {
    const suffix = rounds === 1 ? "" : `-${round + 1}`
    if (runners.length > 1) {
      // back to one runner: the other two hand their shards back (SIGTERM), and their processes are gone
      const extra = runners.splice(1)
      await Promise.all(extra.map((runner) => new Promise<void>((resolve) => {
        runner.once("exit", () => resolve())
        runner.kill("SIGTERM")
      })))
    }
    await resetEmulator(target)
    const one = await sync(root, `one${suffix}/`)
    await Promise.all([startRunner(), startRunner()])
    await resetEmulator(target)
    threePrefix = `three${suffix}/`
    const three = await sync(root, threePrefix)
    const oneJob = onRunners(`one${suffix}/`)
    const threeJob = onRunners(threePrefix)
    measured.push({ one: one.seconds, three: three.seconds, oneJob, threeJob, oneCpu: one.cpuBusy, threeCpu: three.cpuBusy })
    const busy = (share: number) => `CPUs ${(100 * share).toFixed(0)} % busy`
    process.stdout.write(`round ${round + 1}: 1 runner ${one.seconds.toFixed(1)} s (${oneJob.toFixed(1)} on the runners, ` +
      `${busy(one.cpuBusy)}), 3 runners ${three.seconds.toFixed(1)} s (${threeJob.toFixed(1)}, ${busy(three.cpuBusy)}): ` +
      `${(one.seconds / three.seconds).toFixed(2)}x (${(oneJob / threeJob).toFixed(2)}x)\n`)
  }
  const one = { seconds: median(measured.map((m) => m.one)) }
  const three = { seconds: median(measured.map((m) => m.three)) }
  const oneJob = median(measured.map((m) => m.oneJob))
  const threeJob = median(measured.map((m) => m.threeJob))
  const scale = one.seconds / three.seconds
  const jobScale = oneJob / threeJob
  const label = rounds === 1 ? "" : ` (medians of ${rounds} rounds)`
  process.stdout.write(
    `| runners${label} | files/s | seconds (sync start to summary) | job seconds on the runners (submitted to finished) |\n|---|---|---|---|\n` +
      `| 1 | ${(files / one.seconds).toFixed(1)} | ${one.seconds.toFixed(1)} | ${oneJob.toFixed(1)} |\n` +
      `| 3 | ${(files / three.seconds).toFixed(1)} | ${three.seconds.toFixed(1)} | ${threeJob.toFixed(1)} |\n` +
      `3 runners / 1 runner: ${scale.toFixed(2)}x (on the runners: ${jobScale.toFixed(2)}x)\n\n`
  )
  const spread = psql(
    "SELECT string_agg(n::text, ' / ' ORDER BY n DESC) FROM (SELECT count(*) AS n FROM cdf_ingest_items " +
      `WHERE external_id LIKE '${threePrefix}%' AND outcome = 'uploaded' GROUP BY runner) AS per_runner`
  )
  process.stdout.write(`files per runner in the (last) 3-runner job: ${spread} (the engine places batches by the hash of their ids)\n\n`)
  results["scale"] = { rounds: measured, one, three, ratio: scale, oneJob, threeJob, jobRatio: jobScale, spread }

  // 2. the same job undisturbed, and with a runner SIGKILLed at 30 %
  await resetEmulator(target)
  const calm = await sync(root, "calm/")
  await resetEmulator(target)
  let killedAt = 0
  const victim = runners[0]!
  const killed = await sync(root, "killed/", (n) => {
    if (killedAt === 0 && n >= files * 0.3) {
      killedAt = n
      victim.kill("SIGKILL")
    }
  })
  process.stdout.write(
    `| 3 runners | seconds | uploaded |\n|---|---|---|\n| undisturbed | ${calm.seconds.toFixed(1)} | ${calm.uploaded} |\n` +
      `| one SIGKILLed at ${killedAt} files | ${killed.seconds.toFixed(1)} | ${killed.uploaded} |\n` +
      `extra time: ${(killed.seconds - calm.seconds).toFixed(1)} s\n\n`
  )
  results["kill"] = { calm, killed, killedAt }
  await startRunner()

  // 3. PostgreSQL's load per 10 000 files (small files, the throttle is no limit for them)
  const small = tree(pgFiles, 1024)
  await resetEmulator(target)
  psql("SELECT pg_stat_statements_reset()")
  psql("SELECT pg_stat_reset()")
  const before = psql("SELECT pg_database_size('postgres')")
  const load = await sync(small, "load/")
  const statements = Number(psql("SELECT sum(calls) FROM pg_stat_statements"))
  const [inserted, updated, deleted, returned, fetched] = psql(
    "SELECT tup_inserted, tup_updated, tup_deleted, tup_returned, tup_fetched FROM pg_stat_database WHERE datname = 'postgres'"
  ).split("|").map(Number)
  const growth = Number(psql("SELECT pg_database_size('postgres')")) - Number(before)
  const per = 10_000 / pgFiles
  process.stdout.write(
    `PostgreSQL per 10 000 files (measured on ${pgFiles} files of 1 KiB, 3 runners, ${load.seconds.toFixed(1)} s):\n` +
      `| statements | rows inserted | rows updated | rows deleted | rows read (returned) | database growth |\n|---|---|---|---|---|---|\n` +
      `| ${Math.round(statements * per)} | ${Math.round(inserted! * per)} | ${Math.round(updated! * per)} | ` +
      `${Math.round(deleted! * per)} | ${Math.round(returned! * per)} | ${((growth * per) / 1024 / 1024).toFixed(1)} MiB |\n`
  )
  const top = psql(
    "SELECT calls, rows, shared_blks_hit + shared_blks_read, regexp_replace(left(query, 90), '\\s+', ' ', 'g') " +
      "FROM pg_stat_statements ORDER BY shared_blks_hit + shared_blks_read DESC LIMIT 6"
  )
  process.stdout.write(`the statements that read the most (calls | rows | blocks | statement):\n${top}\n`)
  results["postgres"] = { files: pgFiles, seconds: load.seconds, statements, inserted, updated, deleted, returned, fetched, growth }

  if (flags.json !== undefined) Fs.writeFileSync(flags.json, JSON.stringify(results, null, 2))
  for (const runner of runners) runner.kill("SIGTERM")
  await emulatorServer.stop()
  closeControl()
  await pg.remove()
  Fs.rmSync(root, { recursive: true, force: true })
  Fs.rmSync(small, { recursive: true, force: true })
}

main().catch((error) => {
  process.stderr.write(`cluster benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
