/**
 * `cdf-files runner` and `cdf-files sync|jobs --state postgres://…`, the real binary as child processes: two runners
 * share a throwaway PostgreSQL and upload to an emulator in this process. The `sync` process only submits and
 * follows: SIGKILLed, the job goes on; run again, it attaches to the same run.
 */
import { Emulator } from "@effect-cdf/emulator"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Redacted, Scope } from "effect"
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as Postgres from "../../ingest/test/support/postgres.js"
import { binary, finish, requireBuilt, sha256 } from "./helpers/binary.js"

let work: string
const { run, start } = binary(() => work)
const scope = Effect.runSync(Scope.make())
const children: Array<ChildProcess> = []

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

/** Resolves once `child` wrote `text` on stderr (or stdout). */
const said = (child: ChildProcess, text: string, timeout = 60_000) =>
  new Promise<void>((resolve, reject) => {
    let seen = ""
    const timer = setTimeout(() => reject(new Error(`no "${text}" after ${timeout} ms: ${seen}`)), timeout)
    const on = (chunk: Buffer) => {
      seen += String(chunk)
      if (seen.includes(text)) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stderr!.on("data", on)
    child.stdout!.on("data", on)
    child.once("exit", (code) => reject(new Error(`exited ${code} before "${text}": ${seen}`)))
  })

const until = async (check: () => Promise<boolean>, timeout: number) => {
  const end = Date.now() + timeout
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`not so after ${timeout} ms`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/**
 * A throwaway PostgreSQL and an emulator whose PUTs each wait `putDelay` ms (so that a job lasts long enough to act
 * mid-way), both closed with the file's scope; `env` points a runner at the emulator, `url` is the database's.
 */
const servers = async (putDelay: number) => {
  const pg = await Effect.runPromise(Scope.extend(Postgres.make, scope))
  const cdf = await Effect.runPromise(Scope.extend(Emulator.makeServer({ port: 0 }), scope))
  await Effect.runPromise(cdf.addFault({ route: "storage.put", action: { _tag: "Delay", millis: putDelay } }))
  const env = { CDF_URL: cdf.baseUrl, CDF_PROJECT: cdf.project, CDF_TOKEN: Redacted.value(cdf.token) }
  return { cdf, env, url: Redacted.value(pg.url) }
}

beforeAll(() => {
  requireBuilt()
  work = fs.mkdtempSync(path.join(os.tmpdir(), "cdf-files-cluster-"))
})

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL")
  await Effect.runPromise(Scope.close(scope, Exit.void))
  fs.rmSync(work, { recursive: true, force: true })
})

describe("cdf-files sync on runners sharing PostgreSQL (the binary)", { timeout: 300_000 }, () => {
  it("runner refuses a state that is not a postgres:// URL", async () => {
    const result = await run(["runner", "--state", "sync.db"], { env: { CDF_URL: "http://127.0.0.1:1", CDF_PROJECT: "p", CDF_TOKEN: "t" } })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("--state must be a postgres:// URL")
  })

  it("runners upload a submitted job; a killed sync leaves the job going; a rerun attaches; jobs lists it", async () => {
    const { cdf, env, url: plain } = await servers(300)
    // trust authentication on loopback takes any password: this one must never be printed
    const url = plain.replace("postgres://effect@", "postgres://effect:s3cret-pw@")
    const runners = await Promise.all([0, 1].map(async () => {
      const child = start(["runner", "--state", url, "--port", String(await freePort())], { env })
      children.push(child)
      await said(child, "taking work")
      return child
    }))

    const contents = new Map<string, Uint8Array>()
    for (let i = 0; i < 40; i++) {
      const rel = `d${i % 3}/f${i}.bin`
      const bytes = new Uint8Array(4096).map((_, j) => (i * 7 + j) % 253)
      fs.mkdirSync(path.join(work, "tree", path.dirname(rel)), { recursive: true })
      fs.writeFileSync(path.join(work, "tree", rel), bytes)
      contents.set(rel, bytes)
    }
    const args = ["sync", "tree", "--external-id-prefix", "c/", "--state", url, "--json", "--concurrency", "1"]
    const stored = async () => (await Effect.runPromise(cdf.files)).filter((f) => f.externalId?.startsWith("c/"))

    // the follower is killed once files are coming in: the job goes on without it
    const follower = start(args, { env })
    await said(follower, "\"status\":\"uploaded\"")
    follower.kill("SIGKILL")
    const atKill = (await stored()).filter((f) => f.uploaded).length
    await until(async () => (await stored()).filter((f) => f.uploaded).length >= atKill + 3, 60_000)
    expect((await stored()).filter((f) => f.uploaded).length).toBeLessThan(40)

    // Ctrl-C: the job goes on; the command to follow it again names the database without its password
    const interrupted = start(args, { env })
    await said(interrupted, "\"status\":\"uploaded\"")
    interrupted.kill("SIGINT")
    const stoppedFollowing = await finish(interrupted)
    expect(stoppedFollowing.code).toBe(130)
    expect(stoppedFollowing.stderr + stoppedFollowing.stdout).not.toContain("s3cret-pw")
    expect(stoppedFollowing.stderr).toContain(
      `to follow it again: cdf-files ${args.map((arg) => arg === url ? `'${url.replace("s3cret-pw", "***")}'` : arg).join(" ")}\n`
    )

    // the same command attaches to the running run (never a second one) and reports the whole run
    const again = await run(args, { env })
    expect(again.code, again.stderr).toBe(0)
    const lines = again.stdout.trim().split("\n").map((line) => JSON.parse(line))
    expect(lines.at(-1)).toEqual({
      summary: {
        uploaded: 40,
        skipped: 0,
        failed: 0,
        bytes: 40 * 4096,
        seconds: expect.any(Number),
        resumed: true,
        wholeRun: { jobId: expect.stringMatching(/^[0-9a-f]{16}$/), run: 1, uploaded: 40, skipped: 0, failed: 0, bytes: 40 * 4096 }
      }
    })
    expect(again.stderr + again.stdout).not.toContain("s3cret-pw")

    // once done, the same command is a new run that skips everything: no PUT
    const putsBefore = (await Effect.runPromise(cdf.requests)).filter((r) => r.route === "storage.put").length
    const third = await run(args, { env })
    expect(third.code, third.stderr).toBe(0)
    expect(third.stdout.trim().split("\n").map((line) => JSON.parse(line)).at(-1)).toMatchObject({
      summary: { uploaded: 0, skipped: 40, failed: 0 }
    })
    expect((await Effect.runPromise(cdf.requests)).filter((r) => r.route === "storage.put").length).toBe(putsBefore)

    const files = await stored()
    expect(new Set(files.map((f) => f.externalId)).size).toBe(40)
    for (const file of files) {
      expect(file.sha256).toBe(sha256(contents.get(file.externalId!.slice(2))!))
      expect(file.puts.length).toBe(1)
    }

    const jobs = await run(["jobs", "--state", url, "--json"])
    expect(jobs.code, jobs.stderr).toBe(0)
    const listed = jobs.stdout.trim().split("\n").map((line) => JSON.parse(line))
    expect(listed).toHaveLength(1)
    expect(listed[0]).toMatchObject({ prefix: "c/", run: 2, state: "done", uploaded: 0, skipped: 40, failed: 0 })

    // SIGTERM: a runner hands its work back and exits
    for (const runner of runners) runner.kill("SIGTERM")
    const ends = await Promise.all(runners.map((runner) => finish(runner)))
    for (const end of ends) expect(end.code).toBe(130)
  })

  it("a runner stopped with SIGTERM mid-job exits 130 and hands its work back: the other finishes, byte-exact, one record each", async () => {
    const { cdf, env, url } = await servers(400)
    const ports = [await freePort(), await freePort()]
    const runners = await Promise.all(ports.map(async (port) => {
      const child = start(["runner", "--state", url, "--port", String(port)], { env })
      children.push(child)
      await said(child, "taking work")
      return child
    }))
    const contents = new Map<string, Uint8Array>()
    for (let i = 0; i < 120; i++) {
      const rel = `f${String(i).padStart(3, "0")}.bin`
      const bytes = new Uint8Array(2048).map((_, j) => (i * 11 + j) % 251)
      fs.mkdirSync(path.join(work, "handback"), { recursive: true })
      fs.writeFileSync(path.join(work, "handback", rel), bytes)
      contents.set(rel, bytes)
    }
    const args = ["sync", "handback", "--external-id-prefix", "h/", "--state", url, "--json", "--concurrency", "2", "--batch-size", "5"]
    const sync = start(args, { env })
    const ended = finish(sync)
    const uploaded = async () => (await Effect.runPromise(cdf.files)).filter((f) => f.externalId?.startsWith("h/") && f.uploaded)
    // under way on both runners, far from done: stop one the way a service manager does
    await until(async () => (await uploaded()).length >= 8, 60_000)
    const stoppedAt = Date.now()
    runners[0]!.kill("SIGTERM")
    const stopped = await finish(runners[0]!)
    expect(stopped.code).toBe(130)
    // it stopped without running the job to its end: the other runner finishes it
    expect((await uploaded()).length, `stopped after ${Date.now() - stoppedAt} ms`).toBeLessThan(120)

    const result = await ended
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout.trim().split("\n").map((line) => JSON.parse(line)).at(-1)).toMatchObject({
      summary: { uploaded: 120, skipped: 0, failed: 0, bytes: 120 * 2048 }
    })
    const files = (await Effect.runPromise(cdf.files)).filter((f) => f.externalId?.startsWith("h/"))
    expect(files.map((f) => f.externalId).sort()).toEqual([...contents.keys()].map((rel) => `h/${rel}`).sort())
    for (const file of files) {
      expect(file.uploaded).toBe(true)
      expect(file.sha256).toBe(sha256(contents.get(file.externalId!.slice(2))!))
      // a file in flight on the stopped runner is sent again by the other: at most twice, never a second record
      expect(file.puts.length).toBeLessThanOrEqual(2)
    }
    runners[1]!.kill("SIGTERM")
    expect((await finish(runners[1]!)).code).toBe(130)
  })

  it("a file the runner cannot read fails with its path and the runner's address; the others are stored", async () => {
    const { cdf, env, url } = await servers(200)
    const port = await freePort()
    const runner = start(["runner", "--state", url, "--port", String(port)], { env })
    children.push(runner)
    await said(runner, "taking work")
    const tree = path.join(work, "unreadable")
    for (let i = 0; i < 12; i++) {
      fs.mkdirSync(tree, { recursive: true })
      fs.writeFileSync(path.join(tree, `f${i}.bin`), new Uint8Array(1024).fill(i))
    }
    const failures = path.join(work, "unreadable-failures.jsonl")
    const args = ["sync", "unreadable", "--external-id-prefix", "u/", "--state", url, "--json", "--concurrency", "1"]
    const sync = start([...args, "--failures", failures], { env })
    const ended = finish(sync)
    // the runner walked the tree (a file is being sent): a file it has not touched yet goes missing on its machine,
    // as when a mount is missing on one runner
    await until(async () => (await Effect.runPromise(cdf.requests)).some((r) => r.route === "storage.put"), 60_000)
    const touched = JSON.stringify(await Effect.runPromise(cdf.requests))
    const gone = Array.from({ length: 12 }, (_, i) => `f${i}.bin`).reverse().find((name) => !touched.includes(`u/${name}`))!
    fs.rmSync(path.join(tree, gone))
    const result = await ended
    expect(result.code).toBe(4)
    const lines = result.stdout.trim().split("\n").map((line) => JSON.parse(line))
    expect(lines.at(-1)).toMatchObject({ summary: { uploaded: 11, skipped: 0, failed: 1 } })
    const [failure, ...more] = fs.readFileSync(failures, "utf8").trim().split("\n").map((line) => JSON.parse(line))
    expect(more).toEqual([])
    expect(failure).toMatchObject({ path: gone, externalId: `u/${gone}` })
    expect(failure.message).toContain(path.join(tree, gone))
    expect(failure.message).toContain(`on runner 127.0.0.1:${port}`)
    const stored = (await Effect.runPromise(cdf.files)).filter((f) => f.externalId?.startsWith("u/"))
    expect(stored.filter((f) => f.uploaded).map((f) => f.externalId).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `u/f${i}.bin`).filter((id) => id !== `u/${gone}`).sort()
    )
    runner.kill("SIGTERM")
    expect((await finish(runner)).code).toBe(130)
  })
})
