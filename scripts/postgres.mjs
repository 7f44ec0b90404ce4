// A throwaway PostgreSQL server, for the cluster tests and the cluster benchmark: `initdb` in a temp dir, run as an
// unprivileged user when we are root (PostgreSQL refuses to run as root), on a free loopback port, trust
// authentication on loopback only. The binaries are Debian's `postgresql` package (`node scripts/provision.mjs
// postgres` installs it). Nothing depends on a database that was already running.
import { execFileSync, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"

/** The binaries' directory of the newest installed PostgreSQL, e.g. `/usr/lib/postgresql/15/bin`, or undefined. */
export const binDir = () => {
  const root = "/usr/lib/postgresql"
  if (!Fs.existsSync(root)) return undefined
  const versions = Fs.readdirSync(root).filter((v) => Fs.existsSync(Path.join(root, v, "bin", "initdb")))
  versions.sort((a, b) => Number(b) - Number(a))
  return versions[0] === undefined ? undefined : Path.join(root, versions[0], "bin")
}

/** Whether `port` can be bound on loopback now. */
const canBind = (port) =>
  new Promise((resolve) => {
    const server = Net.createServer()
    server.once("error", () => resolve(false))
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)))
  })

/**
 * A free port for the server, below the kernel's ephemeral range (32768–60999 on Linux). A server that is stopped and
 * started again (the restart tests) leaves its port free meanwhile; a port from `listen(0)` is from that range, so a
 * process started in the meantime (a runner, an emulator, another test's PostgreSQL on port 0) never takes it, and
 * the clients that reconnect reach this server, not another. Seen in CI: a restarted database's port taken by
 * another test's server, and the runners of the restart test reconnecting to the wrong database.
 */
const freePort = async () => {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000)
    if (await canBind(port)) return port
  }
  throw new Error("no free port for PostgreSQL between 20000 and 32000")
}

/** As root: the uid and gid of `postgres` (or `nobody`) to run the server as. */
const unprivileged = () => {
  if (process.getuid?.() !== 0) return undefined
  for (const name of ["postgres", "nobody"]) {
    try {
      const uid = Number(execFileSync("id", ["-u", name]).toString().trim())
      const gid = Number(execFileSync("id", ["-g", name]).toString().trim())
      return { uid, gid }
    } catch {
      // the next one
    }
  }
  return undefined
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Creates and starts a server. `settings` are extra `-c name=value` settings (e.g. to load pg_stat_statements).
 * Returns its URL and `stop`, `start` (the same data directory again) and `remove` (stop, then delete it all).
 */
export const startPostgres = async (settings = {}) => {
  const bin = binDir()
  if (bin === undefined) {
    throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql: run `node scripts/provision.mjs postgres`")
  }
  const user = unprivileged()
  const root = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-cdf-pg-"))
  const data = Path.join(root, "data")
  Fs.mkdirSync(data, { mode: 0o700 })
  if (user !== undefined) {
    Fs.chmodSync(root, 0o755)
    Fs.chownSync(root, user.uid, user.gid)
    Fs.chownSync(data, user.uid, user.gid)
  }
  const username = "effect"
  execFileSync(Path.join(bin, "initdb"), ["-D", data, "-U", username, "-A", "trust", "--no-sync", "-E", "UTF8", "--locale", "C"], {
    stdio: "pipe",
    cwd: root,
    ...(user ?? {})
  })
  const port = await freePort()
  const options = { fsync: "off", synchronous_commit: "off", full_page_writes: "off", max_connections: "200", ...settings }
  let child
  const stop = async () => {
    const running = child
    child = undefined
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return
    await new Promise((resolve) => {
      running.once("exit", () => resolve())
      running.kill("SIGINT") // "fast" shutdown: clients are disconnected
    })
  }
  const start = async () => {
    if (child !== undefined) return
    const args = ["-D", data, "-p", String(port), "-h", "127.0.0.1", "-k", root]
    for (const [name, value] of Object.entries(options)) args.push("-c", `${name}=${value}`)
    child = spawn(Path.join(bin, "postgres"), args, { stdio: "ignore", cwd: root, ...(user ?? {}) })
    for (let waited = 0; ; waited += 50) {
      try {
        execFileSync(Path.join(bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port), "-q"])
        // ready, and it is this server answering: not another one that took the port while this one was stopped
        await sleep(100)
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`PostgreSQL could not listen on port ${port}: another server answers there`)
        }
        return
      } catch (error) {
        if (error instanceof Error && error.message.startsWith("PostgreSQL could not listen")) throw error
        if (waited > 20_000) throw new Error(`PostgreSQL on port ${port} did not become ready`)
        await sleep(50)
      }
    }
  }
  await start()
  return {
    url: `postgres://${username}@127.0.0.1:${port}/postgres`,
    port,
    stop,
    start,
    remove: async () => {
      await stop()
      Fs.rmSync(root, { recursive: true, force: true })
    }
  }
}
