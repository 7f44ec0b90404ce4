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
import { parseArgs } from "node:util"
import { type ClientName, clientList, isClientName, makeUploader, runChildRound, wholeFlag } from "./internal/childRounds.js"
import { measure, type RoundSummary, summarizeRound } from "./internal/phases.js"
import type { Target } from "./internal/protocol.js"
import { startSink } from "./internal/servers.js"
import { formatSize, formatSummary, summarize, table } from "./internal/stats.js"

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

const whole = (name: "size" | "uploads" | "warmup" | "rounds", min: number): number => wholeFlag(flags, name, min)

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

/** One client's round, in this process: prints its `RoundSummary` as one JSON line. */
const runChild = async (client: ClientName, target: Target): Promise<void> => {
  const uploader = await makeUploader(client, target, { checksum: false })
  const rows = await measure(uploader, Buffer.alloc(whole("size", 1), "effect-cdf"), {
    warmup: whole("warmup", 0),
    uploads: whole("uploads", 1)
  })
  await uploader.close()
  process.stdout.write(`${JSON.stringify(summarizeRound(rows))}\n`)
}

const runRound = (client: ClientName, target: Target): Promise<RoundSummary> =>
  runChildRound(
    "timeline",
    client,
    target,
    (["size", "uploads", "warmup"] as const).flatMap((name) => [`--${name}`, String(flags[name])])
  )

const main = async (): Promise<void> => {
  if (flags.child !== undefined) {
    if (!isClientName(flags.child) || flags.target === undefined) throw new Error("--child needs a client and --target")
    return runChild(flags.child, JSON.parse(flags.target) as Target)
  }
  const size = whole("size", 1)
  const rounds = whole("rounds", 1)
  whole("uploads", 1)
  whole("warmup", 0)
  const clients = clientList(flags.clients, "clients")
  const { server, target } = await startSink()
  const results = new Map<ClientName, Array<RoundSummary>>()
  try {
    for (let round = 0; round < rounds; round++) {
      for (const client of clients) {
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
