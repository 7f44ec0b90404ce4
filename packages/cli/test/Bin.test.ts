/**
 * The real `cdf-files` binary (packages/cli/bin/cdf-files.js, over the bundle that `npm run build` makes) run as a
 * child process, as a user runs it. Each test starts its own emulator (in this process on a loopback port, or the
 * `cdf-files emulator` command as a child) and passes its URL, project and token through the environment or `.env`.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { binary, emulators, finish, noStackTrace, requireBuilt, sha256 } from "./helpers/binary.js"

const { run, start } = binary(() => work)
const running = emulators()
const emulator = running.start

let work: string
beforeAll(() => {
  requireBuilt()
  work = fs.mkdtempSync(path.join(os.tmpdir(), "cdf-files-bin-"))
  fs.mkdirSync(path.join(work, "tree", "sub"), { recursive: true })
  fs.writeFileSync(path.join(work, "tree", "a.txt"), "alpha\n")
  fs.writeFileSync(path.join(work, "tree", "b.csv"), "x,y\n1,2\n")
  fs.writeFileSync(path.join(work, "tree", "sub", "c.bin"), new Uint8Array(70_000).map((_, i) => i % 253))
})

afterAll(async () => {
  await running.closeAll()
  fs.rmSync(work, { recursive: true, force: true })
})

/** The first line `cdf-files emulator --json` prints: its settings. */
const firstLine = (child: ChildProcess) =>
  new Promise<string>((resolve, reject) => {
    let out = ""
    child.stdout!.on("data", (chunk) => {
      out += chunk
      if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")))
    })
    child.on("close", (code) => reject(new Error(`the emulator exited with ${code}`)))
  })

// Node start-up dominates (about 0.5 s a process on an idle machine, several seconds on a loaded one): the tests
// run concurrently, with room for a loaded machine.
describe.concurrent("cdf-files (the binary)", { timeout: 90_000 }, () => {
  it("`emulator` takes cdf-emulator's flags: --upload-url-lifetime, --no-cors, --cors-origin, --allow-remote", async () => {
    /** Starts `cdf-files emulator --port 0 --json …`, gives its settings, and stops it after `use`. */
    const withEmulator = async (args: ReadonlyArray<string>, use: (info: Record<string, string>) => Promise<void>) => {
      const child = start(["emulator", "--port", "0", "--json", ...args])
      try {
        const line = await firstLine(child)
        await use(JSON.parse(line))
      } finally {
        child.kill("SIGTERM")
      }
    }
    const preflight = (info: Record<string, string>, origin: string) =>
      fetch(`${info.baseUrl}/api/v1/projects/${info.project}/files`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST" }
      }).then((response) => response.headers.get("access-control-allow-origin"))

    // upload URLs that expire: a PUT after the lifetime gets storage's 403, one in time 201
    await withEmulator(["--upload-url-lifetime", "300 millis"], async (info) => {
      const create = () =>
        fetch(`${info.baseUrl}/api/v1/projects/${info.project}/files`, {
          method: "POST",
          headers: { authorization: `Bearer ${info.token}`, "content-type": "application/json" },
          body: JSON.stringify({ name: "a.txt" })
        }).then((response) => response.json() as Promise<{ uploadUrl: string }>)
      const put = (url: string) => fetch(url, { method: "PUT", body: "abc" }).then((response) => response.status)
      expect(await put((await create()).uploadUrl)).toBe(201)
      const late = (await create()).uploadUrl
      await new Promise((resolve) => setTimeout(resolve, 400))
      expect(await put(late)).toBe(403)
      // the default CORS: loopback origins only
      expect(await preflight(info, "http://127.0.0.1:9")).toBe("http://127.0.0.1:9")
      expect(await preflight(info, "https://example.com")).toBeNull()
    })
    await withEmulator(["--no-cors"], async (info) => {
      expect(await preflight(info, "http://127.0.0.1:9")).toBeNull()
    })
    await withEmulator(["--cors-origin", "https://app.example.com"], async (info) => {
      expect(await preflight(info, "https://app.example.com")).toBe("https://app.example.com")
      expect(await preflight(info, "http://127.0.0.1:9")).toBeNull()
    })
    // --allow-remote: the client secret is random unless given, and the control routes need a token
    await withEmulator(["--allow-remote"], async (info) => {
      expect(info.clientSecret).not.toBe("emulator-secret")
      expect(info.clientSecret.length).toBeGreaterThanOrEqual(16)
      expect((await fetch(`${info.baseUrl}/_emulator/requests`)).status).toBe(401)
      const authorized = await fetch(`${info.baseUrl}/_emulator/requests`, { headers: { authorization: `Bearer ${info.token}` } })
      expect(authorized.status).toBe(200)
    })
    await withEmulator(["--client-secret", "s3cret-given"], async (info) => {
      expect(info.clientSecret).toBe("s3cret-given")
    })
    // refused before it starts: a host that is not loopback without --allow-remote; contradicting CORS flags
    const remote = await run(["emulator", "--port", "0", "--host", "0.0.0.0"])
    expect(remote.code).toBe(2)
    expect(remote.stderr).toContain("allow-remote")
    const both = await run(["emulator", "--port", "0", "--no-cors", "--cors-origin", "https://a.example"])
    expect(both.code).toBe(2)
    expect(both.stderr).toContain("--no-cors and --cors-origin contradict each other")
  })

  it("`emulator --json` starts an emulator; `upload -r --json` uploads a directory tree with its metadata", async () => {
    const child = start(["emulator", "--port", "0", "--json"])
    try {
      const line = await firstLine(child)
      const info = JSON.parse(line)
      expect(info).toMatchObject({ project: "emulator", clientId: "emulator-client" })
      expect(info.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)

      const result = await run(
        [
          "upload",
          "tree",
          "--recursive",
          "--json",
          "--external-id-prefix",
          "t/",
          "--directory",
          "/in",
          "--metadata",
          "site=oslo",
          "--metadata",
          "line=4",
          "--label",
          "lab",
          "--source",
          "cli-test",
          "--source-created-time",
          "2024-01-31T12:00:00Z"
        ],
        { env: { CDF_URL: info.baseUrl, CDF_PROJECT: info.project, CDF_TOKEN: info.token } }
      )
      expect(result.stderr).toBe("")
      expect(result.code).toBe(0)
      const lines = result.stdout.trim().split("\n").map((l) => JSON.parse(l))
      expect(lines).toHaveLength(4)
      const files = lines.filter((l) => l.type === "file")
      expect(files.map((f) => [f.path, f.status]).sort()).toEqual([
        [path.join("tree", "a.txt"), "uploaded"],
        [path.join("tree", "b.csv"), "uploaded"],
        [path.join("tree", "sub", "c.bin"), "uploaded"]
      ])
      const c = files.find((f) => f.path.endsWith("c.bin"))
      expect(c.file).toMatchObject({
        name: "c.bin",
        externalId: "t/sub/c.bin",
        directory: "/in/sub",
        source: "cli-test",
        metadata: { site: "oslo", line: "4" },
        labels: [{ externalId: "lab" }],
        sourceCreatedTime: Date.UTC(2024, 0, 31, 12)
      })
      expect(lines[3]).toMatchObject({ type: "summary", files: 3, uploaded: 3, failed: 0, exitCode: 0 })

      // what the emulator stored is byte for byte what is on disk
      const stored: Array<{ name: string; sha256: string; record: Record<string, unknown> }> =
        await (await fetch(`${info.baseUrl}/_emulator/files`)).json()
      const byName = Object.fromEntries(stored.map((s) => [s.name, s]))
      for (const [name, file] of [["a.txt", "a.txt"], ["b.csv", "b.csv"], ["c.bin", "sub/c.bin"]]) {
        expect(byName[name].sha256).toBe(sha256(fs.readFileSync(path.join(work, "tree", file))))
      }
      expect(byName["b.csv"].record).toMatchObject({ mimeType: "text/csv", directory: "/in" })
    } finally {
      child.kill("SIGINT")
      await finish(child)
    }
  })

  it("on a pipe: one plain line per finished file and a summary; a failed file gives exit code 4", async () => {
    const { env, service } = await emulator()
    // someone else's file already has the external id that b.csv would get
    const taken = await fetch(`${service.baseUrl}/api/v1/projects/${service.project}/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${env.CDF_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "other", externalId: "p/b.csv" })
    })
    expect(taken.status).toBe(201)
    const result = await run(["upload", "tree/a.txt", "tree/b.csv", "--external-id-prefix", "p/"], { env })
    expect(result.code).toBe(4)
    const lines = result.stdout.trim().split("\n")
    expect(lines).toHaveLength(3)
    expect(lines).toContainEqual(expect.stringMatching(/^uploaded tree\/a\.txt \(6 B\) id=\d+ externalId=p\/a\.txt$/))
    expect(lines).toContainEqual(expect.stringMatching(/^failed tree\/b\.csv: CdfApiError: .*409/))
    expect(lines[2]).toMatch(
      /^1 uploaded, 0 skipped, 1 failed; 6 B in \d+\.\d s \(\d+\.\d\d MB\/s, \d+\.\d+ files\/s\) to http:\/\/127\.0\.0\.1:\d+, project emulator$/
    )
    expect(result.stdout).not.toContain("\x1b[") // no progress bars on a pipe
  })

  it("a file that cannot be read: failed with its code (EACCES), no request for it, the other file uploaded", async () => {
    const { env, service } = await emulator()
    // a regular file that even root may not open for reading (a write-only sysctl): EACCES at open
    const unreadable = "/proc/sys/vm/drop_caches"
    expect(fs.statSync(unreadable).isFile()).toBe(true)
    const result = await run(["upload", "tree/a.txt", unreadable], { env })
    expect(result.code).toBe(4)
    expect(result.stdout).toContain(`failed ${unreadable}: UploadError: cannot read the file ${unreadable}: EACCES`)
    expect(result.stdout).toMatch(/^uploaded tree\/a\.txt /m)
    const requests = await Effect.runPromise(service.requests)
    // one file, one record, one PUT: the unreadable file was refused before its record was created
    expect(requests.map((r) => r.route).sort()).toEqual(["files.create", "storage.put"])
    noStackTrace(result.stderr)
  })

  it("a bad flag or argument: exit code 2, a usage message, no stack trace", async () => {
    const [unknown, value, missing, geo] = await Promise.all([
      run(["upload", "--bogus", "tree"]),
      run(["upload", "tree", "--source-created-time", "yesterday"]),
      run(["upload", "no-such-file.txt"]),
      run(["upload", "tree", "--geo-location", "{\"type\":\"Feature\"}"])
    ])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("unknown flag --bogus")
    expect(value.code).toBe(2)
    expect(value.stderr).toContain("--source-created-time: 'yesterday' is not a time")
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("no-such-file.txt: no such file or directory")
    expect(geo.code).toBe(2)
    expect(geo.stderr).toContain("--geo-location")
    for (const r of [unknown, value, missing, geo]) {
      expect(r.stdout).toBe("")
      noStackTrace(r.stderr)
    }
  })

  it("a wrong token (read from ./.env): exit code 3, nothing stored, the token not printed", async () => {
    const { service, stored } = await emulator()
    const dir = fs.mkdtempSync(path.join(work, "dotenv-"))
    fs.writeFileSync(path.join(dir, "a.txt"), "a")
    fs.writeFileSync(
      path.join(dir, ".env"),
      `CDF_URL=${service.baseUrl}\nCDF_PROJECT=${service.project}\nCDF_TOKEN="wrong-token-123"\n`
    )
    const result = await run(["upload", "a.txt"], { cwd: dir })
    expect(result.code).toBe(3)
    expect(result.stdout).toContain("failed a.txt: AuthError")
    expect(result.stderr).not.toContain("EMBEDDED") // the .env settings were used
    expect(result.stdout + result.stderr).not.toContain("wrong-token-123")
    noStackTrace(result.stderr)
    expect(await stored()).toHaveLength(0)
  })

  it("with no CDF settings: exit code 2 naming the settings, nothing uploaded, also in the --json output", async () => {
    const dir = fs.mkdtempSync(path.join(work, "bare-"))
    fs.writeFileSync(path.join(dir, "hello.txt"), "hello")
    const [plain, json] = await Promise.all([run(["upload", "hello.txt"], { cwd: dir }), run(["upload", "hello.txt", "--json"], { cwd: dir })])
    for (const result of [plain, json]) {
      expect(result.code).toBe(2)
      expect(result.stderr).toContain("no CDF settings found")
      for (const name of ["CDF_URL", "CDF_CLUSTER", "CDF_PROJECT", "CDF_TOKEN", "IDP_CLIENT_ID", "IDP_CLIENT_SECRET", "IDP_TOKEN_URL"]) {
        expect(result.stderr).toContain(name)
      }
      expect(result.stderr).toContain("--emulator")
      expect(result.stdout).not.toContain("uploaded")
    }
    expect(plain.stdout).toBe("")
    expect(JSON.parse(json.stdout)).toMatchObject({ type: "error", exitCode: 2, message: expect.stringContaining("CDF_PROJECT") })
  })

  it("--emulator uploads to an embedded emulator and says so on stderr and in the summary", async () => {
    const dir = fs.mkdtempSync(path.join(work, "bare-"))
    fs.writeFileSync(path.join(dir, "hello.txt"), "hello")
    const [result, json] = await Promise.all([
      run(["upload", "hello.txt", "--emulator"], { cwd: dir }),
      run(["upload", "hello.txt", "--emulator", "--json"], { cwd: dir })
    ])
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/EMBEDDED CDF EMULATOR started in this process:\s+http:\/\/127\.0\.0\.1:\d+/)
    expect(result.stdout).toMatch(/^uploaded hello\.txt \(5 B\) id=1\n1 uploaded, 0 skipped, 0 failed; 5 B in .* to the emulator in this process/)
    expect(json.code).toBe(0)
    const summary = JSON.parse(json.stdout.trim().split("\n")[1])
    expect(summary.target).toMatchObject({ project: "emulator", emulator: true })
    expect(summary.target.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  })

  it("Ctrl-C cancels: exit code 130, the in-flight upload's record deleted, what was left listed", async () => {
    const { env, service, stored } = await emulator()
    // storage takes 20 KB/s: c.bin (70 KB) is in flight when SIGINT arrives
    await Effect.runPromise(service.addFault({ route: "storage.put", action: { _tag: "Throttle", bytesPerSecond: 20_000 } }))
    const child = start(["upload", "tree/sub/c.bin", "tree/a.txt", "--concurrency", "1"], { env })
    const result = finish(child)
    for (let i = 0; i < 500 && (await stored()).length === 0; i++) await new Promise((r) => setTimeout(r, 20))
    await new Promise((r) => setTimeout(r, 300)) // the create answer is read, the PUT is under way
    child.kill("SIGINT")
    const { code, stderr, stdout } = await result
    expect(code).toBe(130)
    expect(stderr).toContain("cdf-files: interrupted. 0 of 2 uploaded; 1 in flight cancelled")
    expect(stderr).toContain("Not uploaded:\n  tree/sub/c.bin\n  tree/a.txt")
    expect(stdout).toContain("(interrupted)")
    noStackTrace(stderr)
    expect(await stored()).toHaveLength(0)
  })
  it("a reader that goes away (`| head -1`): no EPIPE crash, every file still uploaded, exit code 0", async () => {
    const { env, stored } = await emulator()
    const child = start(["upload", "tree", "--recursive"], { env })
    // The reader closes its end at once, as `head -1` does after one line: every later write fails with EPIPE.
    child.stdout!.destroy()
    const { code, stderr } = await finish(child)
    expect(stderr).not.toMatch(/EPIPE|unexpected failure/)
    expect(code).toBe(0)
    const files = await stored()
    expect(files.map((f) => [f.name, f.size]).sort()).toEqual([["a.txt", 6], ["b.csv", 8], ["c.bin", 70_000]])
    expect(files.find((f) => f.name === "c.bin")?.sha256).toBe(
      sha256(new Uint8Array(70_000).map((_, i) => i % 253))
    )
  })
})
