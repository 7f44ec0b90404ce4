/**
 * Where the time of one upload goes, phase by phase (`internal/phases.ts`: undici's own diagnostics channels): uploads
 * one after another against the sink, each client in a fresh process per round. It separates the client's own work
 * (before the POST, between the POST's answer and the PUT, after the PUT's answer) from the requests' time on the
 * wire and the wait for the server, and gives the process's CPU time during that wait (near zero: a wait, not
 * work). For the clients on undici only: the plain undici loop, the Effect-runtime floor, the bare
 * `@effect/platform` client (`NodeHttpClient.layerUndici`) and ours; raw `node:http` and the SDK publish none of
 * these events.
 *
 * Usage: `node packages/bench/dist/timeline.js [--size BYTES] [--uploads N] [--warmup N] [--rounds N]
 * [--clients undici,floor,platform,ours]` (after `npm run build`). Rounds run the clients in turn, so that the
 * machine's drift falls on all of them; each figure is a median over the uploads of a round (`putWaitP90` the 90th
 * percentile), and the table gives the median of the rounds with their range.
 *
 * @since 0.1.0
 */
import * as ChildProcess from "node:child_process"
import { parseArgs } from "node:util"
import { measure, type RoundSummary, summarizeRound } from "./internal/phases.js"
import { script } from "./internal/processes.js"
import type { Target } from "./internal/protocol.js"
import { startSink } from "./internal/servers.js"
import { formatSize, formatSummary, summarize, table } from "./internal/stats.js"
import type { Uploader } from "./internal/uploader.js"

const { values: flags } = parseArgs({
  options: {
    size: { type: "string", default: "1024" },
    uploads: { type: "string", default: "600" },
    warmup: { type: "string", default: "300" },
    rounds: { type: "string", default: "3" },
    clients: { type: "string", default: "undici,floor,platform,ours" },
    child: { type: "string" },
    target: { type: "string" }
  }
})

/** A flag's value as a whole number of at least `min`, or a clear error. */
const whole = (name: "size" | "uploads" | "warmup" | "rounds", min: number): number => {
  const value = Number(flags[name])
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`--${name} must be a whole number >= ${min}, not ${flags[name]}`)
  return value
}

const clientNames = ["undici", "floor", "platform", "ours"] as const
type ClientName = typeof clientNames[number]
const isClientName = (s: string): s is ClientName => (clientNames as ReadonlyArray<string>).includes(s)

/** The columns of the table, in order. */
const columns: ReadonlyArray<keyof RoundSummary> = [
  "total",
  "beforePost",
  "post",
  "between",
  "putSend",
  "putWait",
  "putWaitP90",
  "putWaitCpu",
  "putRead",
  "after"
]

const makeUploader = async (client: ClientName, target: Target): Promise<Uploader> => {
  switch (client) {
    case "undici":
      return (await import("./internal/undici.js")).undici(target)
    case "floor":
      return (await import("./internal/floor.js")).floor(target)
    case "platform":
      return (await import("./internal/platform.js")).platform(target)
    case "ours":
      return (await import("./internal/ours.js")).make(target, { checksum: false })
  }
}

/** One client's round, in this process: prints its `RoundSummary` as one JSON line. */
const runChild = async (client: ClientName, target: Target): Promise<void> => {
  const uploader = await makeUploader(client, target)
  const rows = await measure(uploader, Buffer.alloc(whole("size", 1), "effect-cdf"), {
    warmup: whole("warmup", 0),
    uploads: whole("uploads", 1)
  })
  await uploader.close()
  process.stdout.write(`${JSON.stringify(summarizeRound(rows))}\n`)
}

const runRound = (client: ClientName, target: Target): Promise<RoundSummary> =>
  new Promise((resolve, reject) => {
    const child = ChildProcess.spawn(process.execPath, [
      script("timeline"),
      "--child",
      client,
      "--target",
      JSON.stringify(target),
      "--size",
      String(flags.size),
      "--uploads",
      String(flags.uploads),
      "--warmup",
      String(flags.warmup)
    ], { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8")
    })
    child.once("error", reject)
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`timeline ${client} exited with ${code}`))
      resolve(JSON.parse(out) as RoundSummary)
    })
  })

const main = async (): Promise<void> => {
  if (flags.child !== undefined) {
    if (!isClientName(flags.child) || flags.target === undefined) throw new Error("--child needs a client and --target")
    return runChild(flags.child, JSON.parse(flags.target) as Target)
  }
  const size = whole("size", 1)
  const rounds = whole("rounds", 1)
  whole("uploads", 1)
  whole("warmup", 0)
  const clients = flags.clients.split(",").map((s) => s.trim())
  const unknown = clients.find((c) => !isClientName(c))
  if (unknown !== undefined) throw new Error(`unknown client ${unknown}: one of ${clientNames.join(", ")}`)
  const { server, target } = await startSink()
  const results = new Map<ClientName, Array<RoundSummary>>()
  try {
    for (let round = 0; round < rounds; round++) {
      for (const client of clients.filter(isClientName)) {
        const phases = await runRound(client, target)
        results.set(client, [...(results.get(client) ?? []), phases])
      }
    }
  } finally {
    await server.stop()
  }
  process.stdout.write(
    `${formatSize(size)} uploads one after another against the sink, ${flags.uploads} per round after ` +
      `${flags.warmup}, ${flags.rounds} round(s); milliseconds, the median of the rounds' medians (range)\n\n`
  )
  process.stdout.write(`${
    table(
      ["client", ...columns],
      [...results].map(([client, rounds]) => [
        client,
        ...columns.map((name) => formatSummary(summarize(rounds.map((r) => r[name])), 3))
      ])
    )
  }\n`)
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`)
  process.exit(1)
})
