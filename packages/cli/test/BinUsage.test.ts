/**
 * The real `cdf-files` binary as people use it: its help, `--quiet`, standard input, the advice after an auth
 * failure, bad flag values, and special files and symbolic links in a tree. Each test runs bin/cdf-files.js as a child
 * process against an emulator started in this process on a loopback port.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { binary, emulators, noStackTrace, requireBuilt, sha256 } from "./helpers/binary.js"

let work: string
const { run } = binary(() => work)
const running = emulators()
const servers: Array<net.Server> = []

beforeAll(() => {
  requireBuilt()
  work = fs.mkdtempSync(path.join(os.tmpdir(), "cdf-files-usage-"))
  fs.mkdirSync(path.join(work, "many"))
  for (let i = 0; i < 12; i++) fs.writeFileSync(path.join(work, "many", `f${String(i).padStart(2, "0")}.txt`), `${i}`)
  fs.writeFileSync(path.join(work, "one.txt"), "one\n")
})

afterAll(async () => {
  await running.closeAll()
  for (const server of servers) server.close()
  fs.rmSync(work, { recursive: true, force: true })
})

/** A tree with a file, a FIFO, a socket, a link to a file, a link to a directory, a link loop and a broken link. */
const specialTree = async () => {
  const root = fs.mkdtempSync(path.join(work, "special-"))
  const tree = path.join(root, "tree")
  fs.mkdirSync(path.join(tree, "sub"), { recursive: true })
  fs.mkdirSync(path.join(root, "elsewhere"))
  fs.writeFileSync(path.join(tree, "plain.txt"), "plain")
  fs.writeFileSync(path.join(tree, "sub", "inner.txt"), "inner")
  fs.writeFileSync(path.join(root, "elsewhere", "far.txt"), "far")
  execFileSync("mkfifo", [path.join(tree, "pipe")])
  const server = net.createServer()
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(path.join(tree, "sock"), resolve))
  fs.symlinkSync(path.join(tree, "plain.txt"), path.join(tree, "link-to-file"))
  fs.symlinkSync(path.join(root, "elsewhere"), path.join(tree, "link-to-dir"))
  fs.symlinkSync("..", path.join(tree, "sub", "loop"))
  fs.symlinkSync("self", path.join(tree, "self"))
  fs.symlinkSync("missing", path.join(tree, "broken"))
  return { root, tree }
}

describe.concurrent("cdf-files for people (the binary)", { timeout: 90_000 }, () => {
  it("--help of each command: plain text, flags in plain words, repeatable flags optional, examples, exit codes", async () => {
    // no NO_COLOR, no TTY: as in `cdf-files --help | cat -v`; and FORCE_COLOR cannot bring colour back either
    const env = { NO_COLOR: "", FORCE_COLOR: "1" }
    const [root, upload, emulator, short] = await Promise.all([
      run(["--help"], { env }),
      run(["upload", "--help"], { env }),
      run(["emulator", "--help"], { env }),
      run(["upload", "-h"], { env })
    ])
    for (const result of [root, upload, emulator, short]) {
      expect(result.code).toBe(0)
      expect(result.stderr).toBe("")
      expect(result.stdout).not.toContain("\x1b")
      expect(result.stdout).not.toMatch(/user-defined piece of text|A true or false value|This setting is optional/)
      expect(result.stdout).toContain("\nUsage:\n")
      expect(result.stdout).toContain("\nExamples:\n")
      expect(result.stdout).toMatch(/\nExit codes:\n\s+\d+ {2}\w/)
    }
    expect(short.stdout).toBe(upload.stdout)
    expect(root.stdout.split("\n")[0]).toBe("Upload files to Cognite Data Fusion (CDF), or run a local CDF Files emulator.")
    expect(upload.stdout.split("\n")[0]).toBe("Upload files and directories to CDF Files.")
    expect(emulator.stdout.split("\n")[0]).toBe("Start a local CDF Files emulator (a real HTTP server) until Ctrl-C.")
    // repeatable flags are optional, and said to be repeatable
    expect(upload.stdout).toMatch(/--metadata <key=value> +a metadata entry \(repeatable\)/)
    expect(upload.stdout).toContain("Every flag is optional")
    expect(upload.stdout).not.toMatch(/--metadata text\.\.\./)
    // reruns: without an external id, every run creates new files; --external-id-prefix makes reruns safe
    expect(upload.stdout).toContain("Without an external id, every run creates new files in CDF")
    expect(upload.stdout).toMatch(/To make reruns safe, give\s+--external-id-prefix/)
    expect(root.stdout).toContain("Without an external id, every run creates new files in CDF")
    expect(upload.stdout).toMatch(/\n {4}3 {2}an authentication error: check CDF_TOKEN, or IDP_CLIENT_ID/)
    for (const line of upload.stdout.split("\n")) expect(line.length).toBeLessThanOrEqual(120)
  })

  it("no arguments: the help on stderr, exit code 2; an unknown command or a bad value: one sentence", async () => {
    const [none, unknown, geo, notJson, concurrency, flow] = await Promise.all([
      run([]),
      run(["uplod", "x"]),
      run(["upload", "one.txt", "--geo-location", "{\"type\":\"Feature\"}"]),
      run(["upload", "one.txt", "--geo-location", "10.7,59.9"]),
      run(["upload", "one.txt", "--concurrency", "lots"]),
      run(["upload", "one.txt", "--login-flow", "password"])
    ])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain("Usage:\n  cdf-files <command> [flags]")
    expect(unknown.stderr).toBe(
      "cdf-files: unknown command: use cdf-files upload, sync, jobs, runner or emulator\nRun 'cdf-files --help' for help.\n"
    )
    expect(geo.stderr.split("\n")[0]).toBe(
      "cdf-files: --geo-location: not a GeoJSON Feature with a geometry (at geometry: is missing); give one such as " +
        "'{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[10.7,59.9]}}'"
    )
    expect(notJson.stderr).toContain("--geo-location: '10.7,59.9' is not JSON; give a GeoJSON Feature such as")
    expect(concurrency.stderr).toContain("--concurrency: 'lots' is not a whole number from 1 to 64")
    expect(flow.stderr).toContain("--login-flow: 'password' is not one of client_credentials, token")
    for (const r of [unknown, geo, notJson, concurrency, flow]) {
      expect(r.code).toBe(2)
      expect(r.stdout).toBe("")
      expect(r.stderr).not.toMatch(/transformation failure|└─/)
      expect(r.stderr).not.toContain("\x1b")
      expect(r.stderr.trim().split("\n")).toHaveLength(2) // the message and where to find help
      noStackTrace(r.stderr)
    }
  })

  it("--quiet prints nothing on success, and only the errors on failure", async () => {
    const { env } = await running.start()
    const ok = await run(["upload", "many", "--quiet", "--external-id-prefix", "q/"], { env })
    expect(ok).toEqual({ code: 0, stdout: "", stderr: "" })
    // again: the 12 external ids are taken now, so every file fails with 409
    const again = await run(["upload", "many", "-q", "--external-id-prefix", "q/"], { env })
    expect(again.code).toBe(4)
    expect(again.stdout).toBe("")
    const lines = again.stderr.trim().split("\n")
    expect(lines).toHaveLength(14)
    for (const line of lines.slice(0, 12)) expect(line).toMatch(/^cdf-files: failed many\/f\d\d\.txt: CdfApiError: .*409/)
    // what to do, once
    expect(lines.slice(12)).toEqual([
      "cdf-files: 12 files failed because a file with the same external id exists.",
      "  What to do: pass --overwrite to replace their content, or choose another --external-id-prefix."
    ])
  })

  it("the summary: files uploaded, skipped and failed, bytes, elapsed time, MB/s and files/s, and the target", async () => {
    const { env, service } = await running.start()
    const [plain, json] = await Promise.all([
      run(["upload", "many"], { env }),
      run(["upload", "many", "--json"], { env })
    ])
    expect(plain.code).toBe(0)
    const last = plain.stdout.trim().split("\n").at(-1)
    expect(last).toMatch(
      new RegExp(
        `^12 uploaded, 0 skipped, 0 failed; 14 B in \\d+\\.\\d s \\(\\d+\\.\\d\\d MB/s, \\d+\\.\\d+ files/s\\) ` +
          `to ${service.baseUrl.replace(/\./g, "\\.")}, project emulator$`
      )
    )
    const summary = JSON.parse(json.stdout.trim().split("\n").at(-1)!)
    expect(summary).toMatchObject({
      type: "summary",
      files: 12,
      uploaded: 12,
      skipped: 0,
      failed: 0,
      bytes: 14,
      target: { baseUrl: service.baseUrl, project: "emulator", emulator: false }
    })
    expect(summary.filesPerSecond).toBeGreaterThan(0)
    expect(summary.filesPerSecond).toBeCloseTo(12 / (summary.millis / 1000), 1)
    expect(summary.megabytesPerSecond).toBeCloseTo(14 / 1e6 / (summary.millis / 1000), 2)
  })

  it("- reads standard input (stored byte for byte); without --name it says what to add", async () => {
    const { env, stored } = await running.start()
    const content = new Uint8Array(300_000).map((_, i) => (i * 7) % 251)
    const [ok, noName, mixed] = await Promise.all([
      run(["upload", "-", "--name", "from-stdin.bin", "--external-id", "stdin-1", "--json"], { env, stdin: content }),
      run(["upload", "-"], { env, stdin: "x" }),
      run(["upload", "-", "one.txt", "--name", "x"], { env, stdin: "x" })
    ])
    expect(ok.stderr).toBe("")
    expect(ok.code).toBe(0)
    const [line, summary] = ok.stdout.trim().split("\n").map((l) => JSON.parse(l))
    expect(line).toMatchObject({ path: "(standard input)", size: 300_000, status: "uploaded" })
    expect(line.file).toMatchObject({ name: "from-stdin.bin", externalId: "stdin-1" })
    expect(summary).toMatchObject({ uploaded: 1, bytes: 300_000 })
    const [file] = await stored()
    expect(file.sha256).toBe(sha256(content))
    expect(noName.code).toBe(2)
    expect(noName.stderr).toContain("reading standard input (-) needs --name, the file's name in CDF: e.g. --name report.csv")
    expect(mixed.code).toBe(2)
    expect(mixed.stderr).toContain("- (standard input) must be the only path")
    // a - that is the value of a flag is that value, not standard input
    const dash = await run(["upload", "one.txt", "--source", "-", "--json"], { env })
    expect(dash.code).toBe(0)
    expect(JSON.parse(dash.stdout.split("\n")[0]).file).toMatchObject({ name: "one.txt", source: "-" })
  })

  it("a wrong token with many files: exit code 3, the settings to check said once, no line per file not started", async () => {
    const { service, stored } = await running.start()
    const env = { CDF_URL: service.baseUrl, CDF_PROJECT: service.project, CDF_TOKEN: "wrong-token-456" }
    const result = await run(["upload", "many", "--concurrency", "1"], { env })
    expect(result.code).toBe(3)
    expect(result.stderr.match(/authentication failed/g)).toHaveLength(1)
    expect(result.stderr).toContain("CDF answered 401 Unauthorized")
    expect(result.stderr).toContain("check CDF_TOKEN (--token): it may be wrong or expired")
    expect(result.stderr).toContain("IDP_CLIENT_ID, IDP_CLIENT_SECRET, and IDP_TOKEN_URL or IDP_TENANT_ID")
    expect(result.stderr).toContain("cdf-files: 11 files were not started after the auth error.")
    expect(result.stdout + result.stderr).not.toMatch(/not started after an auth error|wrong-token-456/)
    expect(result.stdout.trim().split("\n")).toEqual([
      expect.stringMatching(/^failed many\/f00\.txt: AuthError: /),
      expect.stringMatching(/^0 uploaded, 0 skipped, 1 failed, 11 not started; 0 B in /)
    ])
    // with client credentials, the advice names the IDP_* settings
    const idp = await run(["upload", "one.txt"], {
      env: {
        CDF_URL: service.baseUrl,
        CDF_PROJECT: service.project,
        IDP_TOKEN_URL: service.tokenUrl,
        IDP_CLIENT_ID: "emulator-client",
        IDP_CLIENT_SECRET: "not-the-secret"
      }
    })
    expect(idp.code).toBe(3)
    expect(idp.stderr).toContain("the identity provider refused the token request")
    expect(idp.stderr).toContain("check IDP_CLIENT_ID, IDP_CLIENT_SECRET, and IDP_TOKEN_URL or IDP_TENANT_ID")
    expect(idp.stdout + idp.stderr).not.toContain("not-the-secret")
    expect(await stored()).toHaveLength(0)
  })

  it("FIFOs, sockets and symbolic links are skipped by default and listed with the reason", async () => {
    const { env, stored } = await running.start()
    const { root } = await specialTree()
    const result = await run(["upload", "tree", "-r"], { env, cwd: root })
    expect(result.code).toBe(0)
    const lines = result.stdout.trim().split("\n")
    expect(lines.filter((l) => l.startsWith("uploaded")).map((l) => l.split(" ")[1]).sort()).toEqual([
      "tree/plain.txt",
      "tree/sub/inner.txt"
    ])
    const notFollowed = "a symbolic link, not followed (pass --follow-symlinks to follow it)"
    expect(lines.slice(lines.indexOf("Skipped 7 entries:"))).toEqual([
      "Skipped 7 entries:",
      `  tree/broken: ${notFollowed}`,
      `  tree/link-to-dir: ${notFollowed}`,
      `  tree/link-to-file: ${notFollowed}`,
      "  tree/pipe: a FIFO (named pipe): its content has no end to upload",
      `  tree/self: ${notFollowed}`,
      "  tree/sock: a socket",
      `  tree/sub/loop: ${notFollowed}`,
      expect.stringMatching(/^2 uploaded, 7 skipped, 0 failed; 10 B in /)
    ])
    expect((await stored()).map((f) => f.name).sort()).toEqual(["inner.txt", "plain.txt"])
  })

  it("--follow-symlinks follows links to files and directories, and names loops and broken links", async () => {
    const { env, stored } = await running.start()
    const { root } = await specialTree()
    const result = await run(["upload", "tree", "-r", "--follow-symlinks", "--json"], { env, cwd: root })
    expect(result.stderr).toBe("")
    expect(result.code).toBe(0)
    const lines = result.stdout.trim().split("\n").map((l) => JSON.parse(l))
    const byPath = Object.fromEntries(lines.filter((l) => l.type === "file").map((l) => [l.path, l]))
    expect(byPath["tree/link-to-file"]).toMatchObject({ status: "uploaded", size: 5 })
    expect(byPath["tree/link-to-dir/far.txt"]).toMatchObject({ status: "uploaded", size: 3 })
    expect(byPath["tree/sub/loop"]).toMatchObject({
      status: "skipped",
      reason: `a symbolic link loop: it points back to ${fs.realpathSync(path.join(root, "tree"))}, a directory above it`
    })
    expect(byPath["tree/self"]).toMatchObject({
      status: "skipped",
      reason: "a symbolic link loop: the link resolves to itself (ELOOP)"
    })
    expect(byPath["tree/broken"]).toMatchObject({
      status: "skipped",
      reason: "a broken symbolic link: its target does not exist"
    })
    expect(byPath["tree/pipe"]).toMatchObject({ status: "skipped" })
    // the link to plain.txt comes first in name order: the file itself is the same file, uploaded once
    expect(byPath["tree/plain.txt"]).toMatchObject({
      status: "skipped",
      reason: "the same file as tree/link-to-file, which is uploaded once"
    })
    expect(lines.at(-1)).toMatchObject({ type: "summary", uploaded: 3, skipped: 6, failed: 0 })
    expect(result.stdout).not.toMatch(/BadResource|ELOOP:/)
    expect((await stored()).map((f) => f.name).sort()).toEqual(["far.txt", "inner.txt", "link-to-file"])
  })

  it("a FIFO given as the only path: exit code 2, saying why nothing was uploaded", async () => {
    const { env } = await running.start()
    const { tree } = await specialTree()
    const result = await run(["upload", path.join(tree, "pipe")], { env })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("no files to upload:")
    expect(result.stderr).toContain("is a FIFO (named pipe)")
  })
})
