/**
 * docs/cli.md shows what the commands print: each output block there follows a marker
 * `<!-- output: <scenario> -->`, and this test runs the real binary for each scenario (against an emulator of its
 * own) and compares. What differs from run to run (ports, tokens, request ids, times, rates) is replaced by fixed
 * values first. `CLI_DOCS_WRITE=1 npx vitest run --project cli test/CliDocs.test.ts` rewrites the blocks.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { binary, emulators, requireBuilt } from "./helpers/binary.js"

const page = fileURLToPath(new URL("../../../docs/cli.md", import.meta.url))

let work: string
const { run, start } = binary(() => work)
const running = emulators()

beforeAll(() => {
  requireBuilt()
  work = fs.mkdtempSync(path.join(os.tmpdir(), "cdf-files-docs-"))
  fs.mkdirSync(path.join(work, "reports", "2024"), { recursive: true })
  fs.writeFileSync(path.join(work, "reports", "a.csv"), "site,value\noslo,4\n")
  fs.writeFileSync(path.join(work, "reports", "b.csv"), "site,value\nbergen,7\n")
  fs.writeFileSync(path.join(work, "reports", "2024", "summary.pdf"), "%PDF-1.4\n")
  fs.symlinkSync(path.join(work, "reports", "a.csv"), path.join(work, "reports", "latest.csv"))
  execFileSync("mkfifo", [path.join(work, "reports", "incoming")])
})

afterAll(async () => {
  await running.closeAll()
  fs.rmSync(work, { recursive: true, force: true })
})

const normalize = (text: string) =>
  text
    .replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:4000")
    .replace(/in \d+\.\d s \(\d+\.\d+ MB\/s, \d+\.\d+ files\/s\)/g, "in 0.2 s (0.00 MB/s, 9.52 files/s)")
    .replace(/x-request-id [0-9a-f-]+/g, "x-request-id 5f0c2a6e-1d7b-4c3e-9a51-0b6f1e2d3c4a")
    .replace(/CDF_TOKEN=\S+/g, "CDF_TOKEN=<token>")
    .replace(/"token":"[^"]+"/g, "\"token\":\"<token>\"")
    .replace(/"(createdTime|lastUpdatedTime)":\d+/g, "\"$1\":1733313600000")
    .replace(/"millis":\d+/g, "\"millis\":210")
    .replace(/"megabytesPerSecond":[\d.]+/g, "\"megabytesPerSecond\":0")
    .replace(/"filesPerSecond":[\d.]+/g, "\"filesPerSecond\":9.52")

/** The first lines `cdf-files emulator` prints, then Ctrl-C. */
const emulatorOutput = (args: ReadonlyArray<string>, lines: number) =>
  new Promise<string>((resolve, reject) => {
    const child = start(["emulator", "--port", "0", ...args])
    let out = ""
    child.stdout!.on("data", (chunk) => {
      out += chunk
      if (out.split("\n").length > lines) {
        child.kill("SIGINT")
        resolve(out)
      }
    })
    child.on("close", (code) => reject(new Error(`the emulator exited with ${code}`)))
  })

/** Each scenario: what the docs show, as the binary prints it (stderr first where both are shown). */
const scenarios: Record<string, () => Promise<string>> = {
  "help": async () => (await run(["--help"])).stdout,
  "upload-help": async () => (await run(["upload", "--help"])).stdout,
  "emulator-help": async () => (await run(["emulator", "--help"])).stdout,
  "sync-help": async () => (await run(["sync", "--help"])).stdout,
  "no-settings": async () => {
    const result = await run(["upload", "reports/a.csv"])
    expect(result.code).toBe(2)
    return result.stderr
  },
  "try-emulator": async () => {
    const result = await run(["upload", "reports", "-r", "--emulator", "--concurrency", "1"])
    expect(result.code).toBe(0)
    return result.stderr + result.stdout
  },
  "pipe": async () => {
    const { env, service } = await running.start()
    const taken = await fetch(`${service.baseUrl}/api/v1/projects/${service.project}/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${env.CDF_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "b.csv", externalId: "run-7/b.csv" })
    })
    expect(taken.status).toBe(201)
    const result = await run(["upload", "reports", "--external-id-prefix", "run-7/", "--concurrency", "1"], { env })
    expect(result.code).toBe(4)
    return result.stdout
  },
  "json": async () => {
    const { env } = await running.start()
    const result = await run(["upload", "reports/a.csv", "--external-id", "a-2024", "--json"], { env })
    expect(result.code).toBe(0)
    return result.stdout
  },
  "auth": async () => {
    const { service } = await running.start()
    const env = { CDF_URL: service.baseUrl, CDF_PROJECT: service.project, CDF_TOKEN: "expired" }
    const result = await run(["upload", "reports", "-r", "--concurrency", "1"], { env })
    expect(result.code).toBe(3)
    return result.stderr
  },
  "emulator": () => emulatorOutput([], 7),
  "emulator-json": () => emulatorOutput(["--json"], 1)
}

const marker = /<!-- output: ([a-z-]+) -->\n```text\n([\s\S]*?)```/g

describe("docs/cli.md", { timeout: 90_000 }, () => {
  it.concurrent("every output block is marked with its scenario, and every scenario is shown", () => {
    const text = fs.readFileSync(page, "utf8")
    const blocks = [...text.matchAll(/```text\n/g)].length
    const marked = [...text.matchAll(marker)].map((match) => match[1])
    expect(marked.length).toBe(blocks)
    expect([...new Set(marked)].sort()).toEqual(Object.keys(scenarios).sort())
  })

  it.concurrent("no command in it can resolve to an unrelated registry package", () => {
    const text = fs.readFileSync(page, "utf8")
    expect(text).not.toMatch(/npx +(cdf-|@effect-cdf)/)
    expect(text).toContain("npx --no-install cdf-files")
    expect(text).not.toMatch(/storageUrl/)
  })

  it.concurrent("each output block is what the binary prints", async () => {
    const actual = Object.fromEntries(
      await Promise.all(Object.entries(scenarios).map(async ([name, f]) => [name, normalize(await f())] as const))
    )
    const text = fs.readFileSync(page, "utf8")
    if (process.env.CLI_DOCS_WRITE === "1") {
      fs.writeFileSync(page, text.replace(marker, (_, name: string) => `<!-- output: ${name} -->\n\`\`\`text\n${actual[name]}\`\`\``))
    }
    for (const match of fs.readFileSync(page, "utf8").matchAll(marker)) {
      expect(match[2], `the block of ${match[1]}`).toBe(actual[match[1]])
    }
  })
})
