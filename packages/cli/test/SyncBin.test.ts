/**
 * `cdf-files sync` and `cdf-files jobs`, the real binary (packages/cli/bin/cdf-files.js) as a child process, against an
 * emulator in this process on a loopback port. The kill test stops the binary with SIGKILL at several points of a
 * job (the emulator throttles the PUTs so that the kills land mid-transfer) and checks that the reruns finish the
 * job with every file byte-exact, one record per external id, and no finished file sent again; a second kill test
 * lets the upload URLs of the killed multipart session expire before the rerun.
 */
import { Emulator } from "@effect-cdf/emulator"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Redacted, Scope } from "effect"
import type { ChildProcess } from "node:child_process"
import { createRequire } from "node:module"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { binary, finish, requireBuilt, sha256 } from "./helpers/binary.js"

/** better-sqlite3 as @effect-cdf/ingest has it, to read a job's state file as it is written. */
const Database = createRequire(new URL("../../ingest/package.json", import.meta.url))("better-sqlite3") as new(
  file: string,
  options: { readonly readonly: boolean; readonly timeout: number }
) => {
  prepare: (sql: string) => { all: () => Array<unknown> }
  close: () => void
}

let work: string
const { run, start } = binary(() => work)
const scopes: Array<Scope.CloseableScope> = []

const emulator = async (options: Emulator.ServerOptions = {}) => {
  const scope = Effect.runSync(Scope.make())
  scopes.push(scope)
  const service = await Effect.runPromise(Scope.extend(Emulator.makeServer({ port: 0, ...options }), scope))
  return {
    service,
    env: { CDF_URL: service.baseUrl, CDF_PROJECT: service.project, CDF_TOKEN: Redacted.value(service.token) },
    stored: () => Effect.runPromise(service.files),
    requests: () => Effect.runPromise(service.requests)
  }
}

const tree = (name: string, files: Record<string, string | Uint8Array>) => {
  const root = path.join(work, name)
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true })
    fs.writeFileSync(path.join(root, rel), content)
  }
  return root
}

const lines = (stdout: string) => stdout.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))

/** The parts of `externalId` the job's state file holds as acknowledged (its multipart checkpoint), if any. */
const checkpointed = (db: string, externalId: string): Array<number> => {
  const file = path.join(work, db)
  if (!fs.existsSync(file)) return []
  const handle = new Database(file, { readonly: true, timeout: 5_000 })
  try {
    const rows = handle.prepare("SELECT checkpoint FROM cdf_ingest_checkpoints").all() as Array<{ checkpoint: string }>
    return rows.flatMap((row) => {
      const checkpoint = JSON.parse(row.checkpoint)
      return checkpoint.externalId === externalId ? checkpoint.acknowledged : []
    })
  } catch {
    return [] // the tables are not there yet
  } finally {
    handle.close()
  }
}

type Outcome = { readonly externalId: string; readonly status: string }

/** Runs `cdf-files` and SIGKILLs it once `when` holds (checked on each `--json` output line and every 100 ms). */
const killedWhen = (
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  when: (outcomes: ReadonlyArray<Outcome>) => Promise<boolean>
) =>
  new Promise<{ outcomes: Array<Outcome>; killed: boolean }>((resolve) => {
    const child: ChildProcess = start(args, { env })
    const outcomes: Array<Outcome> = []
    let buffer = ""
    let killed = false
    const check = () => {
      if (killed) return
      void when(outcomes).then((yes) => {
        if (yes && !killed) {
          killed = true
          child.kill("SIGKILL")
        }
      })
    }
    child.stdout!.on("data", (chunk) => {
      buffer += chunk
      let nl: number
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = JSON.parse(buffer.slice(0, nl))
        buffer = buffer.slice(nl + 1)
        if (line.externalId !== undefined) outcomes.push(line)
      }
      check()
    })
    const poll = setInterval(check, 100)
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000)
    child.on("close", () => {
      clearInterval(poll)
      clearTimeout(timer)
      resolve({ outcomes, killed })
    })
  })

beforeAll(() => {
  requireBuilt()
  work = fs.mkdtempSync(path.join(os.tmpdir(), "cdf-files-sync-"))
})

afterAll(async () => {
  for (const scope of scopes) await Effect.runPromise(Scope.close(scope, Exit.void))
  fs.rmSync(work, { recursive: true, force: true })
})

// one test at a time: each starts several Node processes, and a loaded machine makes each start take seconds
describe("cdf-files sync (the binary)", { timeout: 300_000 }, () => {
  it("dry run sends no write; a run uploads (include/exclude); a rerun only asks; a touched file goes again; jobs lists the job", async () => {
    const cdf = await emulator()
    const root = tree("basic", { "a.txt": "alpha\n", "b.pdf": "%PDF\n", "sub/c.pdf": "see\n", "tmp/d.pdf": "tmp\n" })
    const args = ["sync", "basic", "--external-id-prefix", "b/", "--include", "**/*.pdf", "--exclude", "tmp/**", "--state", "basic.db", "--json"]

    const dry = await run([...args, "--dry-run"], { env: cdf.env })
    expect(dry.code, dry.stderr).toBe(0)
    expect(lines(dry.stdout)).toEqual([
      { path: "b.pdf", externalId: "b/b.pdf", status: "would-upload", bytes: 5 },
      { path: "sub/c.pdf", externalId: "b/sub/c.pdf", status: "would-upload", bytes: 4 },
      { summary: { uploaded: 2, skipped: 0, failed: 0, bytes: 9, seconds: expect.any(Number), resumed: false } }
    ])
    expect((await cdf.requests()).filter((r) => r.route !== "files.byids")).toEqual([])
    expect(fs.existsSync(path.join(work, "basic.db"))).toBe(false)

    const first = await run(args, { env: cdf.env })
    expect(first.code, first.stderr).toBe(0)
    const firstLines = lines(first.stdout)
    expect(firstLines.slice(0, -1).map((l) => [l.path, l.status]).sort()).toEqual([["b.pdf", "uploaded"], ["sub/c.pdf", "uploaded"]])
    expect(firstLines.at(-1)).toEqual({ summary: { uploaded: 2, skipped: 0, failed: 0, bytes: 9, seconds: expect.any(Number), resumed: false } })
    expect((await cdf.stored()).map((f) => [f.externalId, f.sha256]).sort()).toEqual([
      ["b/b.pdf", sha256("%PDF\n")],
      ["b/sub/c.pdf", sha256("see\n")]
    ])

    const before = (await cdf.requests()).length
    const second = await run(args, { env: cdf.env })
    expect(second.code, second.stderr).toBe(0)
    expect(lines(second.stdout).at(-1).summary).toMatchObject({ uploaded: 0, skipped: 2, failed: 0, bytes: 0 })
    expect((await cdf.requests()).slice(before).map((r) => r.route)).toEqual(["files.byids"])

    const later = new Date(Date.now() + 120_000)
    fs.utimesSync(path.join(root, "sub", "c.pdf"), later, later)
    const third = await run(args, { env: cdf.env })
    expect(third.code, third.stderr).toBe(0)
    expect(lines(third.stdout).slice(0, -1).map((l) => [l.path, l.status]).sort()).toEqual([
      ["b.pdf", "skipped"],
      ["sub/c.pdf", "uploaded"]
    ])
    expect((await cdf.stored()).filter((f) => f.externalId === "b/sub/c.pdf")).toHaveLength(1)

    const jobs = await run(["jobs", "--state", "basic.db", "--json"])
    expect(jobs.code, jobs.stderr).toBe(0)
    expect(lines(jobs.stdout)).toEqual([
      expect.objectContaining({ run: 3, state: "done", uploaded: 1, skipped: 1, failed: 0, prefix: "b/", source: root })
    ])
  })

  it("--emulator twice: everything uploaded, then everything skipped (the embedded emulator keeps its records)", async () => {
    const root = tree("docs", { "guide.md": "# guide\n", "api/files.md": "files\n", "img/logo.svg": "<svg/>\n" })
    const env = { XDG_STATE_HOME: path.join(work, "xdg-state") }
    const args = ["sync", "docs", "--external-id-prefix", "docs/", "--emulator", "--json"]
    const first = await run(args, { env })
    expect(first.code, first.stderr).toBe(0)
    expect(lines(first.stdout).at(-1).summary).toMatchObject({ uploaded: 3, skipped: 0, failed: 0, bytes: 21 })
    const home = path.join(work, "xdg-state", "effect-cdf", "emulator")
    expect(fs.existsSync(path.join(home, "files", "records.json"))).toBe(true)
    const second = await run(args, { env })
    expect(second.code, second.stderr).toBe(0)
    expect(lines(second.stdout).slice(0, -1).map((l) => [l.path, l.status]).sort()).toEqual([
      ["api/files.md", "skipped"],
      ["guide.md", "skipped"],
      ["img/logo.svg", "skipped"]
    ])
    // a changed file goes again, to the same record
    const later = new Date(Date.now() + 120_000)
    fs.writeFileSync(path.join(root, "guide.md"), "# guide, v2\n")
    fs.utimesSync(path.join(root, "guide.md"), later, later)
    const third = await run(args, { env })
    expect(third.code, third.stderr).toBe(0)
    expect(lines(third.stdout).at(-1).summary).toMatchObject({ uploaded: 1, skipped: 2, failed: 0 })
    // one job, run three times: the embedded emulator's port (another each run) does not name the job, so that a
    // killed run would be resumed, not started over as a new job
    const jobs = await run(["jobs", "--state", path.join(home, "sync.db"), "--json"])
    expect(jobs.code, jobs.stderr).toBe(0)
    expect(lines(jobs.stdout)).toEqual([expect.objectContaining({ run: 3, state: "done", uploaded: 1, skipped: 2 })])
    // what the emulator kept: one record per external id, the new bytes
    const kept = await Effect.runPromise(Effect.scoped(Effect.flatMap(
      Emulator.makeServer({ port: 0, dataDir: path.join(home, "files"), persist: true }),
      (service) => service.files
    )))
    expect(kept.map((f) => [f.externalId, f.sha256]).sort()).toEqual([
      ["docs/api/files.md", sha256("files\n")],
      ["docs/guide.md", sha256("# guide, v2\n")],
      ["docs/img/logo.svg", sha256("<svg/>\n")]
    ])
  })

  it("--failures lists the failed files; exit code 2 for a value the API refuses; no setting is a usage error", async () => {
    const cdf = await emulator()
    tree("failing", { "ok.txt": "fine\n", [`${"x".repeat(250)}.txt`]: "too long an external id\n" })
    const result = await run(
      ["sync", "failing", "--external-id-prefix", "f/", "--state", "failing.db", "--failures", "failed.jsonl", "--json"],
      { env: cdf.env }
    )
    expect(result.code).toBe(2)
    expect(lines(result.stdout).at(-1).summary).toMatchObject({ uploaded: 1, failed: 1 })
    const failures = lines(fs.readFileSync(path.join(work, "failed.jsonl"), "utf8"))
    expect(failures).toEqual([
      expect.objectContaining({ path: `${"x".repeat(250)}.txt`, tag: "InvalidFileMetadataError" })
    ])
    const none = await run(["sync", "failing", "--external-id-prefix", "f/", "--state", "failing.db"])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain("no CDF settings found")
  })

  it("Ctrl-C (SIGINT) stops with exit code 130 and says how to continue; the same command then finishes the job", async () => {
    const cdf = await emulator({ faults: [{ route: "storage.put", action: { _tag: "Throttle", bytesPerSecond: 32 * 1024 } }] })
    const contents: Record<string, string> = {}
    for (let i = 0; i < 12; i++) contents[`f${i}.txt`] = `file ${i}\n`.repeat(1000)
    tree("interrupted", contents)
    const args = ["sync", "interrupted", "--external-id-prefix", "i/", "--state", "interrupted.db", "--concurrency", "2"]
    const child = start(args, { env: cdf.env })
    let out = ""
    let interrupted = false
    child.stdout!.on("data", (chunk) => {
      out += chunk
      // once: a second Ctrl-C is a hard stop
      if (!interrupted && out.includes("uploaded  ")) {
        interrupted = true
        child.kill("SIGINT")
      }
    })
    const stopped = await finish(child)
    expect(stopped.code).toBe(130)
    expect(stopped.stderr).toContain("cdf-files: interrupted. Files finished so far are recorded in")
    expect(stopped.stderr).toContain(`To continue, run the same command again: cdf-files ${args.join(" ")}`)
    const jobs = lines((await run(["jobs", "--state", "interrupted.db", "--json"])).stdout)
    expect(jobs).toEqual([expect.objectContaining({ run: 1, state: "running" })])
    expect(jobs[0].uploaded).toBeGreaterThanOrEqual(1)

    const rerun = await run(args, { env: cdf.env })
    expect(rerun.code, rerun.stderr).toBe(0)
    // the summary counts the files this command uploaded (those it lists); the whole run's counts are labelled
    const listed = rerun.stdout.split("\n").filter((line) => line.startsWith("uploaded  ")).length
    expect(listed).toBeLessThan(12)
    expect(rerun.stdout.split("\n").slice(-3)).toEqual([
      expect.stringMatching(new RegExp(`^${listed} uploaded \\(.*\\), 0 skipped, 0 failed in .* s \\(.*/s, .* files/s\\)$`)),
      expect.stringMatching(
        /^resumed run 1 of job [0-9a-f]{16}; the whole run, files done before the interruption included: 12 uploaded \(.*\), 0 skipped, 0 failed$/
      ),
      ""
    ])
    const stored = await cdf.stored()
    expect(stored.map((f) => [f.externalId, f.sha256]).sort()).toEqual(
      Object.entries(contents).map(([rel, text]) => [`i/${rel}`, sha256(text)]).sort()
    )
  })

  it("SIGKILL mid-way through a multipart file whose upload URLs then expire: the rerun starts it again under its external id, one record, byte-exact", async () => {
    // upload URLs live 4 s; the PUTs are throttled so that the kill lands with some of big.bin's parts acknowledged
    const cdf = await emulator({
      dataDir: path.join(work, "expired-data"),
      minPartSize: 16 * 1024,
      uploadUrlLifetime: "4 seconds",
      faults: [{ route: "storage.put", action: { _tag: "Throttle", bytesPerSecond: 64 * 1024 } }]
    })
    const env = { ...cdf.env, CDF_SINGLE_PUT_THRESHOLD: String(128 * 1024), CDF_PART_SIZE: String(64 * 1024) }
    const contents: Record<string, Uint8Array> = {
      "big.bin": new Uint8Array(512 * 1024).map((_, j) => (j * 13) % 251),
      "small.txt": new TextEncoder().encode("small")
    }
    tree("expired", contents)
    const args = ["sync", "expired", "--external-id-prefix", "x/", "--state", "expired.db", "--json"]

    const { killed } = await killedWhen(args, env, async () => checkpointed("expired.db", "x/big.bin").length >= 2)
    expect(killed).toBe(true)
    const acknowledged = checkpointed("expired.db", "x/big.bin")
    expect(acknowledged.length).toBeGreaterThanOrEqual(2)
    expect(acknowledged.length).toBeLessThan(8)
    const before = (await cdf.stored()).filter((f) => f.externalId === "x/big.bin")
    expect(before).toHaveLength(1)
    expect(before[0].uploaded).toBe(false)

    // every URL of the killed session is now past its lifetime; the rerun is not throttled
    await new Promise((resolve) => setTimeout(resolve, 4_500))
    await Effect.runPromise(cdf.service.clearFaults)
    const last = await finish(start(args, { env }))
    expect(last.code, last.stderr).toBe(0)
    expect(lines(last.stdout).at(-1).summary).toMatchObject({ failed: 0 })

    const stored = await cdf.stored()
    expect(stored.map((f) => f.externalId).sort()).toEqual(["x/big.bin", "x/small.txt"])
    const big = stored.find((f) => f.externalId === "x/big.bin")!
    // the same record, now uploaded with exactly the bytes of the file
    expect(big.id).toBe(before[0].id)
    expect(big.uploaded).toBe(true)
    expect(big.sha256).toBe(sha256(contents["big.bin"]))
    // the rerun tried the stored session, storage refused the expired URL, and every part went again to a new one
    const statuses = big.puts.map((p) => p.status)
    expect(statuses).toContain(403)
    const afterRefusal = big.puts.slice(statuses.indexOf(403) + 1)
    expect([...new Set(afterRefusal.filter((p) => p.status >= 200 && p.status < 300).map((p) => p.part))].sort((a, b) => a! - b!))
      .toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(checkpointed("expired.db", "x/big.bin")).toEqual([])
  })

  it("SIGKILL at several points, then a rerun: every file byte-exact, one record each, no finished file or acknowledged part sent again", async () => {
    // disk mode; every PUT throttled so that a kill lands while files are in flight; small parts allowed, so that
    // big.bin (512 KiB) goes in 8 parts of 64 KiB
    const cdf = await emulator({
      dataDir: path.join(work, "kill-data"),
      minPartSize: 16 * 1024,
      faults: [{ route: "storage.put", action: { _tag: "Throttle", bytesPerSecond: 64 * 1024 } }]
    })
    const env = { ...cdf.env, CDF_SINGLE_PUT_THRESHOLD: String(128 * 1024), CDF_PART_SIZE: String(64 * 1024) }
    const contents: Record<string, Uint8Array> = {}
    for (let i = 0; i < 40; i++) {
      contents[`d${i % 4}/f${String(i).padStart(2, "0")}.bin`] = new Uint8Array(8 * 1024).map((_, j) => (i * 31 + j) % 256)
    }
    contents["big.bin"] = new Uint8Array(512 * 1024).map((_, j) => (j * 7) % 251)
    tree("kill", contents)
    const args = ["sync", "kill", "--external-id-prefix", "k/", "--state", "kill.db", "--json", "--concurrency", "4"]

    /** The parts of big.bin storage answered 2xx to, one entry per PUT (an aborted PUT is logged with status 0). */
    const bigParts = async () => {
      const big = (await cdf.stored()).find((f) => f.externalId === "k/big.bin")
      return big === undefined ? [] : big.puts.filter((p) => p.part !== undefined && p.status >= 200 && p.status < 300).map((p) => p.part!)
    }
    const sentAt = async () => new Map((await cdf.stored()).map((f) => [f.externalId!, { id: f.id, puts: f.puts.length }]))
    const finished = new Map<string, { id: number; puts: number }>()
    let kills = 0
    const points: ReadonlyArray<(outcomes: ReadonlyArray<unknown>) => Promise<boolean>> = [
      async (outcomes) => outcomes.length >= 1,
      async (outcomes) => outcomes.length >= 5,
      // big.bin mid-way: the state holds some parts as acknowledged
      async () => checkpointed("kill.db", "k/big.bin").length >= 3
    ]
    const acknowledged = new Set<number>()
    for (const point of points) {
      const { killed, outcomes } = await killedWhen(args, env, point)
      if (killed) kills++
      for (const part of checkpointed("kill.db", "k/big.bin")) acknowledged.add(part)
      const stored = await sentAt()
      for (const outcome of outcomes) {
        if (outcome.status === "uploaded") finished.set(outcome.externalId, stored.get(outcome.externalId)!)
      }
    }
    expect(kills).toBe(3)
    expect(finished.size).toBeGreaterThanOrEqual(6)
    expect(acknowledged.size).toBeGreaterThanOrEqual(3)
    expect(acknowledged.size).toBeLessThan(8)

    const last = await finish(start(args, { env }))
    expect(last.code, last.stderr).toBe(0)
    expect(lines(last.stdout).at(-1).summary.failed).toBe(0)

    const stored = await cdf.stored()
    const byExternalId = new Map<string, Array<Emulator.StoredFile>>()
    for (const file of stored) byExternalId.set(file.externalId!, [...(byExternalId.get(file.externalId!) ?? []), file])
    expect([...byExternalId.keys()].sort()).toEqual(Object.keys(contents).map((rel) => `k/${rel}`).sort())
    for (const [rel, bytes] of Object.entries(contents)) {
      const records = byExternalId.get(`k/${rel}`)!
      expect(records, rel).toHaveLength(1)
      expect(records[0].uploaded, rel).toBe(true)
      expect(records[0].sha256, rel).toBe(sha256(bytes))
    }
    // a file finished before a kill was never sent again: same record, same PUTs
    const now = await sentAt()
    for (const [externalId, at] of finished) expect(now.get(externalId), externalId).toEqual(at)
    // a part the state held as acknowledged was PUT once over all the runs: never sent again; every part stored
    const puts = await bigParts()
    for (const part of acknowledged) expect(puts.filter((p) => p === part), `part ${part}`).toHaveLength(1)
    expect([...new Set(puts)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])

    const jobs = lines((await run(["jobs", "--state", "kill.db", "--json"])).stdout)
    expect(jobs).toEqual([expect.objectContaining({ run: 1, state: "done", uploaded: 41, failed: 0 })])
  })
})
