/**
 * The progress display of the real `cdf-files` binary on a pseudo-terminal (util-linux `script`): what it shows while
 * files are in flight, and that every ending (success, Ctrl-C) leaves the terminal clean: no bar, no stray `^C`.
 * `NO_COLOR` turns the display into plain lines, with no escape code at all.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { bin, emulators, finish, requireBuilt } from "./helpers/binary.js"
import { screen, startOnTerminal } from "./helpers/terminal.js"

let work: string
const running = emulators()
const names = Array.from({ length: 6 }, (_, i) => `some-rather-long-file-name-${i + 1}.bin`)

beforeAll(() => {
  requireBuilt()
  work = fs.mkdtempSync(path.join(os.tmpdir(), "cdf-files-tty-"))
  fs.mkdirSync(path.join(work, "big", "deep", "er"), { recursive: true })
  for (const name of names) {
    fs.writeFileSync(path.join(work, "big", "deep", "er", name), new Uint8Array(100_000).map((_, i) => i % 251))
  }
})

afterAll(async () => {
  await running.closeAll()
  fs.rmSync(work, { recursive: true, force: true })
})

/** An emulator whose storage takes `bytesPerSecond`, so that frames are drawn while files are in flight. */
const slowEmulator = async (bytesPerSecond: number) => {
  const emulator = await running.start()
  await Effect.runPromise(emulator.service.addFault({ route: "storage.put", action: { _tag: "Throttle", bytesPerSecond } }))
  return emulator
}

const bars = /\[[#.]{5,}\]/

describe.concurrent("cdf-files on a terminal (the binary)", { timeout: 90_000 }, () => {
  it("shows the path tail, files done out of the total, bytes and rate; ends with a clean screen", async () => {
    const { env } = await slowEmulator(400_000)
    const child = startOnTerminal([bin, "upload", "big", "-r"], { env: { ...env, NO_COLOR: "" }, cwd: work, columns: 100 })
    child.stdin!.end()
    const { code, stdout } = await finish(child)
    expect(code).toBe(0)
    // while in flight: the tail of each path, `n/6 files` (never cut), percent, bytes, rates
    expect(stdout).toMatch(/…[a-z-]*-name-\d\.bin \[[#.]+\] +\d+% {2}[\d.]+ KiB\/97\.7 KiB {2}[\d.]+ [KM]iB\/s/)
    expect(stdout).toMatch(/\n\d\/6 files +\[[#.]+\] +\d+% {2}[\d.]+ KiB\/585\.9 KiB {2}[\d.]+ [KM]?i?B\/s {2}[\d:-]+ left {2}[\d.]+ files\/s/)
    const shown = screen(stdout).filter((line) => line.trim() !== "")
    expect(shown.filter((line) => bars.test(line))).toEqual([])
    expect(shown.filter((line) => line.startsWith("uploaded big/deep/er/")).length).toBe(6)
    expect(shown.at(-1)).toMatch(/^6 uploaded, 0 skipped, 0 failed; 585\.9 KiB in [\d.]+ s \([\d.]+ MB\/s, [\d.]+ files\/s\) to /)
    for (const line of shown) expect(line.length).toBeLessThan(160)
  })

  it("Ctrl-C: exit code 130, what was left listed, and no bar or stray ^C left on the screen", async () => {
    const { env, stored } = await slowEmulator(20_000)
    const child = startOnTerminal([bin, "upload", "big", "-r"], { env: { ...env, NO_COLOR: "" }, cwd: work, columns: 100 })
    const result = finish(child)
    let seen = ""
    await new Promise<void>((resolve) => {
      child.stdout!.on("data", (chunk) => {
        seen += chunk
        if (/\d\/6 files/.test(seen)) resolve()
      })
    })
    await new Promise((r) => setTimeout(r, 300))
    child.stdin!.write("\x03")
    const { code, stdout } = await result
    child.stdin!.end()
    expect(code).toBe(130)
    expect(stdout).toContain("^C") // the terminal echoed it ...
    const shown = screen(stdout).filter((line) => line.trim() !== "")
    expect(shown.filter((line) => bars.test(line) || line.includes("^C"))).toEqual([]) // ... and it was erased
    expect(shown[0]).toMatch(/^cdf-files: interrupted\. 0 of 6 uploaded; \d in flight cancelled/)
    expect(shown.at(-1)).toMatch(/^0 uploaded, 0 skipped, 0 failed, \d cancelled, \d not started; .*\(interrupted\)$/)
    expect(await stored()).toEqual([])
  })

  it("NO_COLOR on a terminal: no escape code, a plain line per file", async () => {
    const { env } = await slowEmulator(2_000_000)
    const child = startOnTerminal([bin, "upload", "big", "-r"], { env: { ...env, NO_COLOR: "1" }, cwd: work, columns: 100 })
    child.stdin!.end()
    const { code, stdout } = await finish(child)
    expect(code).toBe(0)
    expect(stdout).not.toContain("\x1b")
    const lines = stdout.trim().split(/\r?\n/)
    expect(lines).toHaveLength(7)
    expect(lines.at(-1)).toMatch(/^6 uploaded, 0 skipped, 0 failed; 585\.9 KiB in /)
  })
})
