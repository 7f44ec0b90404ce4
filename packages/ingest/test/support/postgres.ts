/**
 * A throwaway PostgreSQL server for tests: `initdb` in a temp dir, run as an unprivileged user (PostgreSQL refuses to
 * run as root), listening on a free loopback port, removed when the scope closes. Nothing depends on a database that
 * was already running. The server binaries come from Debian's `postgresql` package, which `scripts/provision.mjs`
 * installs when they are missing (it runs before the tests in `npm test`).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { Clock, Context, Data, Effect, Layer, Redacted, Schedule } from "effect"

export class PostgresSetupError extends Data.TaggedError("PostgresSetupError")<{ readonly message: string }> {}

/** The binaries' directory of the newest installed PostgreSQL, e.g. `/usr/lib/postgresql/15/bin`. */
export const binDir = (): string | undefined => {
  const root = "/usr/lib/postgresql"
  if (!Fs.existsSync(root)) return undefined
  const versions = Fs.readdirSync(root).filter((v) => Fs.existsSync(Path.join(root, v, "bin", "initdb")))
  versions.sort((a, b) => Number(b) - Number(a))
  return versions[0] === undefined ? undefined : Path.join(root, versions[0], "bin")
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as Net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

/** As root, run PostgreSQL's programs as the `postgres` user (or `nobody`); otherwise as ourselves. */
const runAs = (): { uid: number; gid: number } | undefined => {
  if (process.getuid?.() !== 0) return undefined
  for (const name of ["postgres", "nobody"]) {
    try {
      const uid = Number(execFileSync("id", ["-u", name]).toString().trim())
      const gid = Number(execFileSync("id", ["-g", name]).toString().trim())
      return { uid, gid }
    } catch {
      // try the next one
    }
  }
  return undefined
}

/**
 * @since 0.1.0
 */
export interface PostgresServer {
  /** `postgres://effect@127.0.0.1:PORT/postgres`: trust authentication on loopback only */
  readonly url: Redacted.Redacted<string>
  readonly host: string
  readonly port: number
  readonly database: string
  readonly username: string
  /** SIGKILL-free stop and start of the same data directory, to test a lost database connection */
  readonly stop: Effect.Effect<void>
  readonly start: Effect.Effect<void, PostgresSetupError>
}

export class Postgres extends Context.Tag("test/Postgres")<Postgres, PostgresServer>() {}

const spawnServer = (bin: string, data: string, socketDir: string, port: number, user: ReturnType<typeof runAs>) =>
  spawn(
    Path.join(bin, "postgres"),
    [
      "-D",
      data,
      "-p",
      String(port),
      "-h",
      "127.0.0.1",
      "-k",
      socketDir,
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
      "-c",
      "max_connections=200"
    ],
    { stdio: ["ignore", "ignore", "pipe"], ...(user ?? {}) }
  )

const waitReady = (bin: string, port: number) =>
  Effect.try({
    try: () => execFileSync(Path.join(bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port), "-q"]),
    catch: () => new PostgresSetupError({ message: `PostgreSQL on port ${port} did not become ready` })
  }).pipe(
    Effect.retry(Schedule.spaced("50 millis").pipe(Schedule.upTo("20 seconds"))),
    Effect.asVoid,
    // the server starts in real time, also under a test's TestClock
    Effect.withClock(Clock.make())
  )

/**
 * A scoped PostgreSQL server: initdb, start, and on release stop and delete its directory.
 */
export const make = Effect.gen(function*() {
  const bin = binDir()
  if (bin === undefined) {
    return yield* new PostgresSetupError({
      message: "PostgreSQL server binaries not found under /usr/lib/postgresql: run `node scripts/provision.mjs`"
    })
  }
  const user = runAs()
  const root = yield* Effect.acquireRelease(
    Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-cdf-pg-"))),
    (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
  )
  const data = Path.join(root, "data")
  Fs.mkdirSync(data, { mode: 0o700 })
  if (user !== undefined) {
    Fs.chmodSync(root, 0o755)
    Fs.chownSync(root, user.uid, user.gid)
    Fs.chownSync(data, user.uid, user.gid)
  }
  const username = "effect"
  yield* Effect.try({
    try: () =>
      execFileSync(
        Path.join(bin, "initdb"),
        ["-D", data, "-U", username, "-A", "trust", "--no-sync", "-E", "UTF8", "--locale", "C"],
        { stdio: "pipe", ...(user ?? {}) }
      ),
    catch: (error) => new PostgresSetupError({ message: `initdb failed: ${String(error)}` })
  })
  const port = yield* Effect.promise(freePort)
  let child: ChildProcess | undefined
  const stop = Effect.promise(async () => {
    const running = child
    child = undefined
    if (running === undefined || running.exitCode !== null) return
    await new Promise<void>((resolve) => {
      running.once("exit", () => resolve())
      running.kill("SIGINT") // "fast" shutdown: clients are disconnected
    })
  })
  const start = Effect.suspend(() => {
    if (child !== undefined) return Effect.void
    child = spawnServer(bin, data, root, port, user)
    return waitReady(bin, port)
  })
  yield* Effect.acquireRelease(start, () => stop)
  const server: PostgresServer = {
    url: Redacted.make(`postgres://${username}@127.0.0.1:${port}/postgres`),
    host: "127.0.0.1",
    port,
    database: "postgres",
    username,
    stop,
    start
  }
  return server
})

/** The server as a layer, for `it.layer`. */
export const layer = Layer.scoped(Postgres, make)
