/**
 * The three published packages as a user gets them: `node scripts/pack.mjs` writes their tarballs (workspace
 * versions rewritten), plain `npm install` puts them into a scratch project outside the repository, with effect and
 * the rest from the npm registry. From that project: the docs' getting-started and Promise programs (compiled against
 * the installed types) upload to `cdf-emulator` started from the installed bin, `cdf-files --help` prints its help,
 * and `cdf-files upload` stores the bytes. Needs built packages (`npm test` builds first) and the npm registry (or
 * npm's cache).
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import { createHash, randomUUID } from "node:crypto"
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../../../", import.meta.url))
const published = {
  files: "@effect-cdf/files",
  emulator: "@effect-cdf/emulator",
  ingest: "@effect-cdf/ingest",
  cli: "@effect-cdf/cli"
} as const
const manifest = (path: string) => JSON.parse(readFileSync(join(root, path), "utf8")) as Record<string, Record<string, string>>
const workspace = manifest("package.json").devDependencies!
const filesDev = manifest("packages/files/package.json").devDependencies!

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** This process's environment without what `npm run` adds (npm_config_local_prefix would point npm at the repo). */
const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const clean: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("npm_") && !/^(CDF_|IDP_|LOGIN_FLOW$)/.test(name)) clean[name] = value
  }
  return { ...clean, NO_COLOR: "1", ...extra }
}

const run = (command: string, args: ReadonlyArray<string>, options: { cwd: string; env?: Record<string, string>; timeout: number }) =>
  new Promise<Run>((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: env(options.env), stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += chunk))
    child.stderr.on("data", (chunk) => (stderr += chunk))
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeout)
    child.on("error", reject)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex")

const scratch = mkdtempSync(join(tmpdir(), "effect-cdf-install-"))
const bin = (name: string) => join(scratch, "node_modules", ".bin", name)
let emulator: ChildProcess | undefined
let endpoint: { baseUrl: string; project: string; token: string }

interface StoredFile {
  readonly id: number
  readonly name: string
  readonly externalId?: string
  readonly sha256?: string
}
const storedFiles = async (): Promise<ReadonlyArray<StoredFile>> =>
  (await fetch(`${endpoint.baseUrl}/_emulator/files`)).json() as Promise<ReadonlyArray<StoredFile>>

beforeAll(async () => {
  // 1. The tarballs, as `npm run pack` writes them.
  const packed = await run(process.execPath, [join(root, "scripts", "pack.mjs"), join(scratch, "tarballs")], { cwd: root, timeout: 120_000 })
  expect(packed.code, packed.stderr).toBe(0)
  const tarballs = packed.stdout.trim().split("\n")
  const tarball = (pkg: keyof typeof published) => tarballs.find((t) => t.includes(`effect-cdf-${pkg}-`))!

  // 2. A project of a user: the tarballs, and effect & co. from the registry at the versions the workspace uses.
  writeFileSync(join(scratch, "package.json"), JSON.stringify({
    name: "effect-cdf-install-check",
    private: true,
    type: "module",
    dependencies: {
      [published.files]: `file:${tarball("files")}`,
      [published.emulator]: `file:${tarball("emulator")}`,
      [published.ingest]: `file:${tarball("ingest")}`,
      [published.cli]: `file:${tarball("cli")}`,
      effect: workspace.effect,
      "@effect/platform": workspace["@effect/platform"],
      "@effect/platform-node": workspace["@effect/platform-node"],
      undici: filesDev.undici,
      "@types/node": workspace["@types/node"]
    }
  }, null, 2))
  const npm = process.platform === "win32" ? "npm.cmd" : "npm"
  const installed = await run(npm, ["install", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: scratch, timeout: 240_000 })
  expect(installed.code, installed.stderr).toBe(0)

  // 3. The docs' programs, type-checked against the installed packages' types and compiled to JavaScript.
  mkdirSync(join(scratch, "src"))
  for (const example of ["getting-started.ts", "promise.ts"]) {
    copyFileSync(join(root, "docs", "examples", example), join(scratch, "src", example))
  }
  writeFileSync(join(scratch, "tsconfig.json"), JSON.stringify({
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      exactOptionalPropertyTypes: true,
      skipLibCheck: true,
      types: ["node"],
      outDir: "out"
    },
    include: ["src"]
  }))
  const compiled = await run(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", scratch], { cwd: scratch, timeout: 120_000 })
  expect(compiled.code, compiled.stdout + compiled.stderr).toBe(0)
  writeFileSync(join(scratch, "run.mjs"), [
    "const [example, env] = process.argv.slice(2)",
    "const { main } = await import(`./out/${example}.js`)",
    "console.log(`RESULT ${JSON.stringify(await main(JSON.parse(env)))}`)"
  ].join("\n"))

  // 4. The emulator from the installed bin, on a free loopback port.
  const child = spawn(bin("cdf-emulator"), ["--port", "0", "--json"], { cwd: scratch, env: env(), stdio: ["ignore", "pipe", "inherit"] })
  emulator = child
  const firstLine = await new Promise<string>((resolve, reject) => {
    child.on("error", reject)
    child.on("exit", (code) => reject(new Error(`cdf-emulator exited with ${code}`)))
    createInterface({ input: child.stdout }).once("line", resolve)
  })
  endpoint = JSON.parse(firstLine)
}, 300_000)

afterAll(() => {
  emulator?.kill()
  rmSync(scratch, { recursive: true, force: true })
})

describe("the packed packages, installed with npm outside the repository", () => {
  it("have no workspace: version left, and one copy of effect is installed", () => {
    for (const name of Object.values(published)) {
      const installed = JSON.parse(readFileSync(join(scratch, "node_modules", name, "package.json"), "utf8"))
      expect(JSON.stringify(installed)).not.toContain("workspace:")
    }
    const copies = (dir: string): Array<string> =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        if (!entry.isDirectory()) return []
        const path = join(dir, entry.name)
        return entry.name === "effect" && dir.endsWith("node_modules") ? [path, ...copies(path)] : copies(path)
      })
    expect(copies(join(scratch, "node_modules"))).toEqual([join(scratch, "node_modules", "effect")])
  })

  it("import every public module by its subpath", async () => {
    const specifiers = Object.entries(published).flatMap(([dir, name]) => [
      name,
      ...readdirSync(join(root, "packages", dir, "src"))
        .filter((f) => f.endsWith(".ts") && !["index.ts", "bin.ts", "demo.ts"].includes(f))
        .map((f) => `${name}/${f.replace(/\.ts$/, "")}`)
    ])
    expect(specifiers).toEqual(expect.arrayContaining(["@effect-cdf/files/NodeTransport", "@effect-cdf/files/Files"]))
    const script = `for (const s of ${JSON.stringify(specifiers)}) { const m = await import(s); if (Object.keys(m).length === 0) throw new Error(s) }`
    const imported = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: scratch, timeout: 60_000 })
    expect(imported.code, imported.stderr).toBe(0)
    for (const hidden of ["@effect-cdf/files/internal/api", "@effect-cdf/emulator/bin", "@effect-cdf/cli/demo"]) {
      const refused = await run(process.execPath, ["--input-type=module", "-e", `await import("${hidden}")`], { cwd: scratch, timeout: 60_000 })
      expect(refused.stderr, hidden).toContain("ERR_PACKAGE_PATH_NOT_EXPORTED")
    }
  }, 120_000)

  it("run the getting-started Effect program against the installed cdf-emulator", async () => {
    const result = await run(process.execPath, ["run.mjs", "getting-started", JSON.stringify(endpoint)], { cwd: scratch, timeout: 60_000 })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^uploaded hello\.txt as file \d+$/m)
    expect(result.stdout).toContain("failed with CdfApiError")
    const { file, handled } = JSON.parse(result.stdout.slice(result.stdout.indexOf("RESULT ") + 7))
    expect(handled).toBe("already there (409)")
    const stored = (await storedFiles()).find((f) => f.id === file.id)
    expect(stored).toMatchObject({ externalId: "getting-started-hello", sha256: sha256("hello, CDF") })
  }, 120_000)

  it("run the Promise program against the installed cdf-emulator", async () => {
    const result = await run(process.execPath, ["run.mjs", "promise", JSON.stringify(endpoint)], { cwd: scratch, timeout: 60_000 })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain("already there: ")
    const file = JSON.parse(result.stdout.slice(result.stdout.indexOf("RESULT ") + 7))
    expect(file).toMatchObject({ name: "hello.txt", metadata: { origin: "docs/examples/promise.ts" } })
    const stored = (await storedFiles()).find((f) => f.id === file.id)
    expect(stored?.sha256).toBe(sha256("hello from plain async code"))
  }, 120_000)

  it("cdf-files --help prints the help and exits 0", async () => {
    const help = await run(bin("cdf-files"), ["--help"], { cwd: scratch, timeout: 60_000 })
    expect(help.code, help.stderr).toBe(0)
    expect(help.stdout).toContain("cdf-files")
    expect(help.stdout).toContain("upload")
  }, 120_000)

  it("cdf-files upload stores the file's bytes in the emulator", async () => {
    const name = `install-${randomUUID()}.csv`
    const content = `site,value\noslo,${randomUUID()}\n`
    writeFileSync(join(scratch, "data.csv"), content)
    const upload = await run(bin("cdf-files"), ["upload", "data.csv", "--name", name], {
      cwd: scratch,
      env: { CDF_URL: endpoint.baseUrl, CDF_PROJECT: endpoint.project, CDF_TOKEN: endpoint.token },
      timeout: 60_000
    })
    expect(upload.code, upload.stdout + upload.stderr).toBe(0)
    const stored = (await storedFiles()).filter((f) => f.name === name)
    expect(stored.map((f) => f.sha256)).toEqual([sha256(content)])
  }, 120_000)

  it("cdf-files sync uploads a directory, then a second run skips it all (better-sqlite3 built on install)", async () => {
    const prefix = `install-sync-${randomUUID()}/`
    mkdirSync(join(scratch, "tree", "sub"), { recursive: true })
    writeFileSync(join(scratch, "tree", "a.txt"), "alpha\n")
    writeFileSync(join(scratch, "tree", "sub", "b.txt"), "beta\n")
    const sync = () =>
      run(bin("cdf-files"), ["sync", "tree", "--external-id-prefix", prefix, "--state", "sync.db", "--json"], {
        cwd: scratch,
        env: { CDF_URL: endpoint.baseUrl, CDF_PROJECT: endpoint.project, CDF_TOKEN: endpoint.token },
        timeout: 60_000
      })
    const summaryOf = (stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1)!).summary
    const first = await sync()
    expect(first.code, first.stdout + first.stderr).toBe(0)
    expect(summaryOf(first.stdout)).toMatchObject({ uploaded: 2, skipped: 0, failed: 0 })
    const second = await sync()
    expect(second.code, second.stdout + second.stderr).toBe(0)
    expect(summaryOf(second.stdout)).toMatchObject({ uploaded: 0, skipped: 2, failed: 0 })
    const stored = (await storedFiles()).filter((f) => f.externalId?.startsWith(prefix))
    expect(stored.map((f) => f.sha256).sort()).toEqual([sha256("alpha\n"), sha256("beta\n")].sort())
  }, 180_000)
})
