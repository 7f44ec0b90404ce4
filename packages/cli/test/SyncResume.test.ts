/**
 * `cdf-files sync` interrupted and resumed, the real binary (packages/cli/bin/cdf-files.js) as a child process against
 * an emulator in this process whose PUTs are throttled: what the interrupted command prints (no secret, nothing but
 * JSON on stdout with `--json`), the refusal of a rerun whose options differ from the interrupted run's, and the
 * summary of the resumed run (this command's counts, and the whole run's labelled).
 */
import { Emulator } from "@effect-cdf/emulator"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Redacted, Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { binary, finish, requireBuilt } from "./helpers/binary.js"

let work: string
const { run, start } = binary(() => work)
const scope = Effect.runSync(Scope.make())

beforeAll(() => {
  requireBuilt()
  work = fs.mkdtempSync(path.join(os.tmpdir(), "cdf-files-resume-"))
})

afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  fs.rmSync(work, { recursive: true, force: true })
})

/** Each stdout line parsed as JSON: fails on any line that is not (a log line, say). */
const jsonLines = (stdout: string) => stdout.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line))

describe("cdf-files sync, interrupted then resumed (the binary)", { timeout: 300_000 }, () => {
  it("Ctrl-C prints no token and only JSON on stdout; a rerun with other filters is refused; the resumed run's summary counts what it did", async () => {
    const cdf = await Effect.runPromise(Scope.extend(
      Emulator.makeServer({ port: 0, faults: [{ route: "storage.put", action: { _tag: "Throttle", bytesPerSecond: 64 * 1024 } }] }),
      scope
    ))
    const token = Redacted.value(cdf.token)
    // the token only on the command line
    const env = { CDF_URL: cdf.baseUrl, CDF_PROJECT: cdf.project }
    fs.mkdirSync(path.join(work, "tree"))
    for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(work, "tree", `f${String(i).padStart(2, "0")}.bin`), new Uint8Array(8192).fill(i))
    const args = ["sync", "tree", "--external-id-prefix", "r/", "--state", "r.db", "--exclude", "f3*", "--json", "--concurrency", "2"]
    const puts = async () => (await Effect.runPromise(cdf.requests)).filter((r) => r.route === "storage.put").length

    // interrupted once a file is uploaded, with files in flight
    const child = start([...args, "--token", token], { env })
    let seen = ""
    let interrupted = false
    child.stdout!.on("data", (chunk) => {
      seen += chunk
      if (!interrupted && seen.includes("\"status\":\"uploaded\"")) {
        interrupted = true
        child.kill("SIGINT")
      }
    })
    const stopped = await finish(child)
    expect(stopped.code, stopped.stderr).toBe(130)
    // stdout: the file lines only (the engine's log lines go nowhere near it)
    const first = jsonLines(stopped.stdout)
    expect(first.length).toBeGreaterThanOrEqual(1)
    for (const line of first) expect(Object.keys(line)).toEqual(["path", "externalId", "status", "bytes"])
    expect(stopped.stdout + stopped.stderr).not.toContain(token)
    expect(stopped.stderr.split("\n")).toEqual(expect.arrayContaining([
      "  To continue, run the same command again: cdf-files sync tree --external-id-prefix r/ --state r.db --exclude 'f3*' " +
      "--json --concurrency 2 --token ***"
    ]))
    expect(stopped.stderr).not.toMatch(/level=|No healthy runners/)

    // the same job with other filters: refused, nothing sent; a dry run says the same
    const before = await puts()
    const otherArgs = ["sync", "tree", "--external-id-prefix", "r/", "--state", "r.db", "--include", "f0*", "--json"]
    for (const extra of [[], ["--dry-run"]]) {
      const other = await run([...otherArgs, ...extra], { env: { ...env, CDF_TOKEN: token } })
      expect(other.code, other.stderr).toBe(2)
      const lines = other.stderr.split("\n")
      expect(lines[0]).toMatch(
        new RegExp(
          `^cdf-files: ${path.join(work, "r.db").replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} holds an interrupted run of this job ` +
            `\\(job [0-9a-f]{16}, run 1\\) started with a different --include, --exclude: resumed, it would go on with those, ` +
            `not with the ones given now\\.$`
        )
      )
      expect(lines.slice(1, 4)).toEqual([
        "  started with: --exclude 'f3*'",
        "  given now:    --include 'f0*'",
        "  To finish the interrupted run, rerun with the flags it started with; to sync with the new ones instead, use " +
        "another state file (--state): files already uploaded and unchanged are skipped."
      ])
      expect(jsonLines(other.stdout)).toEqual([{ type: "error", exitCode: 2, message: expect.stringContaining("holds an interrupted run") }])
    }
    expect(await puts()).toBe(before)

    // the same flags: the run resumes; its summary counts the files of this command, the whole run's apart
    await Effect.runPromise(cdf.clearFaults)
    const resumed = await run(args, { env: { ...env, CDF_TOKEN: token } })
    expect(resumed.code, resumed.stderr).toBe(0)
    const lines = jsonLines(resumed.stdout)
    const files = lines.slice(0, -1)
    const uploadedNow = files.filter((line) => line.status === "uploaded")
    expect(uploadedNow.length).toBeLessThan(30)
    expect(lines.at(-1)).toEqual({
      summary: {
        uploaded: uploadedNow.length,
        skipped: 0,
        failed: 0,
        bytes: uploadedNow.length * 8192,
        seconds: expect.any(Number),
        resumed: true,
        wholeRun: { jobId: expect.stringMatching(/^[0-9a-f]{16}$/), run: 1, uploaded: 30, skipped: 0, failed: 0, bytes: 30 * 8192 }
      }
    })
  })

  it("one sync at a time on a state file: a second is refused while the first runs; after a SIGKILL the next takes over and resumes", async () => {
    const cdf = await Effect.runPromise(Scope.extend(
      Emulator.makeServer({ port: 0, faults: [{ route: "storage.put", action: { _tag: "Throttle", bytesPerSecond: 64 * 1024 } }] }),
      scope
    ))
    const env = { CDF_URL: cdf.baseUrl, CDF_PROJECT: cdf.project, CDF_TOKEN: Redacted.value(cdf.token) }
    fs.mkdirSync(path.join(work, "locked"))
    for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(work, "locked", `f${String(i).padStart(2, "0")}.bin`), new Uint8Array(8192).fill(i))
    const args = ["sync", "locked", "--external-id-prefix", "l/", "--state", "l.db", "--json", "--concurrency", "2"]
    const first = start(args, { env })
    let seen = ""
    await new Promise<void>((resolve) => {
      first.stdout!.on("data", (chunk) => {
        seen += chunk
        if (seen.includes("\"status\":\"uploaded\"")) resolve()
      })
    })
    // the same job, and another job on the same state file: both refused while the first runs
    for (const other of [args, ["sync", "locked", "--external-id-prefix", "o/", "--state", "l.db", "--json"]]) {
      const second = await run(other, { env })
      expect(second.code, second.stderr).toBe(2)
      expect(second.stderr).toContain(
        `cdf-files: another cdf-files sync (process ${first.pid}) is using the state file ${path.join(work, "l.db")}`
      )
    }
    first.kill("SIGKILL")
    await finish(first)
    expect(fs.existsSync(path.join(work, "l.db.lock"))).toBe(true)
    const third = await run(args, { env })
    expect(third.code, third.stderr).toBe(0)
    expect(jsonLines(third.stdout).at(-1).summary).toMatchObject({ resumed: true, failed: 0 })
    expect(fs.existsSync(path.join(work, "l.db.lock"))).toBe(false)
    const stored = (await Effect.runPromise(cdf.files)).filter((f) => f.externalId?.startsWith("l/"))
    expect(stored).toHaveLength(30)
  })
})
