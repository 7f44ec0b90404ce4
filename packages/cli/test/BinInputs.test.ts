/**
 * The real `cdf-files` binary with awkward input: a port already taken for `emulator`, a flag value the API's limits
 * refuse with many files, a day that does not exist, a path given twice, and a file name with a newline. Each test
 * runs bin/cdf-files.js as a child process, against an emulator started in this process on a loopback port.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { binary, emulators, noStackTrace, requireBuilt } from "./helpers/binary.js"

let work: string
const { run } = binary(() => work)
const running = emulators()
const servers: Array<net.Server> = []

beforeAll(() => {
  requireBuilt()
  work = fs.mkdtempSync(path.join(os.tmpdir(), "cdf-files-inputs-"))
  fs.mkdirSync(path.join(work, "many"))
  for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(work, "many", `f${String(i).padStart(2, "0")}.txt`), `${i}`)
  fs.mkdirSync(path.join(work, "t"))
  fs.writeFileSync(path.join(work, "t", "a.txt"), "a\n")
  fs.mkdirSync(path.join(work, "odd"))
  fs.writeFileSync(path.join(work, "odd", "new\nline.txt"), "nl")
  fs.writeFileSync(path.join(work, "odd", "plain.txt"), "p")
})

afterAll(async () => {
  await running.closeAll()
  for (const server of servers) server.close()
  fs.rmSync(work, { recursive: true, force: true })
})

/** A port on 127.0.0.1 that another server holds. */
const takenPort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer()
    servers.push(server)
    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port))
  })

describe.concurrent("cdf-files with awkward input (the binary)", { timeout: 90_000 }, () => {
  it("`emulator --port` on a port in use: exit code 2 and the reason, also with --json", async () => {
    const port = await takenPort()
    const [plain, json] = await Promise.all([
      run(["emulator", "--port", String(port)]),
      run(["emulator", "--port", String(port), "--json"])
    ])
    for (const result of [plain, json]) {
      expect(result.code).toBe(2)
      expect(result.stdout).toBe("")
      expect(result.stderr.split("\n")[0]).toBe(
        `cdf-files: cannot start the emulator: port ${port} is already in use (EADDRINUSE)`
      )
      noStackTrace(result.stderr)
    }
  })

  it("a flag value the API's limits refuse: one sentence naming the flag, exit code 2, nothing sent", async () => {
    const { env, service } = await emulator()
    const result = await run(["upload", "many", "--source", "x".repeat(129)], { env })
    expect(result.code).toBe(2)
    expect(result.stdout).toBe("")
    expect(result.stderr.trim().split("\n")).toEqual([
      "cdf-files: --source: must be a string of at most 128 characters (a limit of the CDF API)",
      "Run 'cdf-files upload --help' for help."
    ])
    expect(await Effect.runPromise(service.requests)).toEqual([])
  })

  it("a day that does not exist is not a time: exit code 2, nothing uploaded", async () => {
    const { env, stored } = await emulator()
    const result = await run(["upload", "t/a.txt", "--source-modified-time", "2024-02-30", "--json"], { env })
    expect(result.code).toBe(2)
    expect(JSON.parse(result.stdout.trim())).toMatchObject({
      type: "error",
      exitCode: 2,
      message: expect.stringContaining("--source-modified-time: '2024-02-30' is not a time")
    })
    expect(await stored()).toEqual([])
  })

  it("the same path given twice, or in a directory given too: uploaded once, the second listed as skipped", async () => {
    const { env } = await emulator()
    const [twice, inDirectory] = await Promise.all([
      run(["upload", "t/a.txt", "t/a.txt"], { env }),
      run(["upload", "t", "t/a.txt", "-r"], { env })
    ])
    for (const result of [twice, inDirectory]) {
      expect(result.code).toBe(0)
      const lines = result.stdout.trim().split("\n")
      expect(lines.slice(0, 3)).toEqual([
        expect.stringMatching(/^uploaded t\/a\.txt \(2 B\) id=\d+$/),
        "Skipped 1 entry:",
        "  t/a.txt: given twice: uploaded once"
      ])
      expect(lines[3]).toMatch(/^1 uploaded, 1 skipped, 0 failed;/)
    }
  })

  it("a name with a newline stays on its line of output (escaped as \\n); --json keeps the exact name", async () => {
    const { env } = await emulator()
    const [plain, json] = await Promise.all([
      run(["upload", "odd", "--external-id-prefix", "p/"], { env }),
      run(["upload", "odd", "--external-id-prefix", "q/", "--json"], { env })
    ])
    expect(plain.code).toBe(0)
    const lines = plain.stdout.trim().split("\n")
    expect(lines).toHaveLength(3)
    expect(lines).toContainEqual(expect.stringMatching(/^uploaded odd\/new\\nline\.txt \(2 B\) id=\d+ externalId=p\/new\\nline\.txt$/))
    expect(lines).toContainEqual(expect.stringMatching(/^uploaded odd\/plain\.txt /))
    expect(lines[2]).toMatch(/^2 uploaded, 0 skipped, 0 failed;/)
    const paths = json.stdout.trim().split("\n").map((line) => JSON.parse(line).path)
    expect(paths).toContain("odd/new\nline.txt")
  })
})

const emulator = () => running.start()
