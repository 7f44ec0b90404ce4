/**
 * Where the CPU of a small upload goes, by component (`internal/cpuProfile.ts`): the many-files workload (small
 * uploads with `--concurrency` in flight) against the sink, each client in a fresh process per round, profiled after
 * its warm-up. For each client it gives the CPU time per upload without a profiler, the profiled self time per upload
 * split into the Effect fiber runtime, Schema, effect's other modules, `@effect/platform`, the library, undici,
 * Node's internals, the garbage collector and native calls, and the bytes allocated per upload. The last column
 * compares two clients (by default ours against the Effect-runtime floor), component by component.
 *
 * Usage: `node packages/bench/dist/profile.js [--size BYTES] [--uploads N] [--warmup N] [--concurrency N]
 * [--rounds N] [--clients floor,platform,ours] [--compare ours,floor]` (after `npm run build`). Each figure is the
 * median of the rounds, with their range; the clients take turns, so the machine's drift falls on all of them.
 *
 * @since 0.1.0
 */
import { parseArgs } from "node:util"
import { type ClientName, clientList, isClientName, makeUploader, runChildRound, wholeFlag } from "./internal/childRounds.js"
import { type Component, components, profileUploads, type ProfileRound } from "./internal/cpuProfile.js"
import type { Target } from "./internal/protocol.js"
import { startSink } from "./internal/servers.js"
import { formatSize, formatSummary, median, summarize, table } from "./internal/stats.js"

const { values: flags } = parseArgs({
  options: {
    size: { type: "string", default: "4096" },
    uploads: { type: "string", default: "3000" },
    warmup: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "16" },
    rounds: { type: "string", default: "3" },
    clients: { type: "string", default: "undici,floor,platform,ours" },
    compare: { type: "string", default: "ours,floor" },
    child: { type: "string" },
    target: { type: "string" }
  }
})

type NumberFlag = "size" | "uploads" | "warmup" | "concurrency" | "rounds"

const whole = (name: NumberFlag, min: number): number => wholeFlag(flags, name, min)

/** One client's round, in this process: prints its `ProfileRound` as one JSON line. */
const runChild = async (client: ClientName, target: Target): Promise<void> => {
  const concurrency = whole("concurrency", 1)
  // as the bench's many-files run: the client-wide transfer limit raised to the concurrency
  const uploader = await makeUploader(client, target, { checksum: false, maxConcurrentTransfers: concurrency })
  try {
    const round = await profileUploads(uploader, Buffer.alloc(whole("size", 1), "effect-cdf"), {
      warmup: whole("warmup", 0),
      uploads: whole("uploads", 1),
      concurrency
    })
    process.stdout.write(`${JSON.stringify(round)}\n`)
  } finally {
    await uploader.close()
  }
}

const runRound = (client: ClientName, target: Target): Promise<ProfileRound> =>
  runChildRound(
    "profile",
    client,
    target,
    (["size", "uploads", "warmup", "concurrency"] as const).flatMap((name) => [`--${name}`, String(flags[name])])
  )

const main = async (): Promise<void> => {
  if (flags.child !== undefined) {
    if (!isClientName(flags.child) || flags.target === undefined) throw new Error("--child needs a client and --target")
    return runChild(flags.child, JSON.parse(flags.target) as Target)
  }
  for (const name of ["size", "uploads", "concurrency"] as const) whole(name, 1)
  whole("warmup", 0)
  const roundCount = whole("rounds", 1)
  const clients = clientList(flags.clients, "clients")
  const compare = clientList(flags.compare, "compare")
  if (compare.length !== 2 || compare.some((c) => !clients.includes(c))) {
    throw new Error("--compare takes two of the clients measured, e.g. ours,floor")
  }
  const { server, target } = await startSink()
  const results = new Map<ClientName, Array<ProfileRound>>()
  try {
    for (let round = 0; round < roundCount; round++) {
      for (const client of clients) results.set(client, [...(results.get(client) ?? []), await runRound(client, target)])
    }
  } finally {
    await server.stop()
  }
  const rounds = (client: ClientName) => results.get(client) ?? []
  const cell = (client: ClientName, f: (r: ProfileRound) => number, digits: number) =>
    formatSummary(summarize(rounds(client).map(f)), digits)
  const [a, b] = compare as [ClientName, ClientName]
  const difference = (f: (r: ProfileRound) => number) => (median(rounds(a).map(f)) - median(rounds(b).map(f))).toFixed(1)
  const row = (label: string, f: (r: ProfileRound) => number, digits: number) => [
    label,
    ...clients.map((client) => cell(client, f, digits)),
    difference(f)
  ]
  process.stdout.write(
    `${flags.uploads} uploads of ${formatSize(whole("size", 1))} @${flags.concurrency} against the sink per pass, ` +
      `after ${flags.warmup}; ${flags.rounds} round(s), a fresh process per client and round; medians (range). ` +
      `CPU per upload in µs: the process's without a profiler, then the profiled self time by component ` +
      `(100 µs sampling, idle left out; the profiler adds its own overhead). Allocated: KiB per upload on the heap.\n\n`
  )
  process.stdout.write(`${
    table(["", ...clients, `${a} - ${b}`], [
      row("CPU µs/upload, no profiler", (r) => r.cpu, 1),
      row("profiled, all components", (r) => r.sampled, 1),
      ...components.map((component: Component) => row(`  ${component}`, (r) => r.components[component], 1)),
      row("allocated KiB/upload", (r) => r.allocated / 1024, 1)
    ])
  }\n`)
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`)
  process.exit(1)
})
