/**
 * Where the CPU of a small upload goes, by component, measured in the uploading process itself after a warm-up: one
 * pass unprofiled (the process's CPU time per upload), one under V8's sampling CPU profiler (its self time per
 * upload, grouped by the package or runtime part each sampled function belongs to), and one under V8's sampling heap
 * profiler with collected objects included (the bytes allocated per upload, which is what the garbage collector's
 * share follows). Used by `profile.ts`; any `Uploader` can be measured.
 */
import * as Inspector from "node:inspector/promises"
import type { Uploader } from "./uploader.js"

/** The components a sampled function is counted in, in the order the table prints them. */
export const components = [
  "effect: fiber runtime",
  "effect: Schema",
  "effect: other modules",
  "@effect/platform",
  "the library",
  "undici",
  "node internals",
  "garbage collector",
  "native calls",
  "other JavaScript"
] as const

export type Component = typeof components[number]

/** The package directory of a file in `node_modules` (`effect`, `@effect/platform`, ...), or undefined. */
const packageOf = (url: string): { readonly name: string; readonly path: string } | undefined => {
  const at = url.lastIndexOf("/node_modules/")
  if (at < 0) return undefined
  const parts = url.slice(at + "/node_modules/".length).split("/")
  const scoped = parts[0]?.startsWith("@") === true
  const name = scoped ? `${parts[0]}/${parts[1]}` : parts[0] ?? ""
  return { name, path: parts.slice(scoped ? 2 : 1).join("/") }
}

const schemaFile = /(^|\/)(Schema|ParseResult|SchemaAST|JSONSchema|Arbitrary|Pretty)\.js$|\/internal\/schema\//

/**
 * The component of a sampled function, from its script's URL and name: the effect package split into its fiber
 * runtime (`internal/`), Schema and its other modules; this repository's `files` package is "the library".
 */
export const componentOf = (frame: { readonly url: string; readonly functionName: string }): Component | "idle" => {
  const { functionName, url } = frame
  if (url === "") {
    if (functionName === "(idle)") return "idle"
    if (functionName === "(garbage collector)") return "garbage collector"
    return "native calls"
  }
  if (url.startsWith("node:")) return "node internals"
  if (url.startsWith("wasm:")) return "undici" // undici's HTTP parser (llhttp) is its only WebAssembly
  const pkg = packageOf(url)
  if (pkg !== undefined) {
    if (pkg.name === "effect") {
      if (schemaFile.test(pkg.path)) return "effect: Schema"
      return pkg.path.includes("/internal/") ? "effect: fiber runtime" : "effect: other modules"
    }
    if (pkg.name.startsWith("@effect/platform")) return "@effect/platform"
    if (pkg.name === "undici") return "undici"
    if (pkg.name === "@effect-cdf/files") return "the library"
    return "other JavaScript"
  }
  // the workspace's own packages, linked rather than installed
  if (/\/packages\/files\/(dist|src)\//.test(url)) return "the library"
  return "other JavaScript"
}

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly url: string; readonly functionName: string }
}

/** A CPU profile's self time per component, in microseconds, divided by `uploads` (idle time left out). */
export const cpuByComponent = (
  profile: {
    readonly nodes: ReadonlyArray<ProfileNode>
    readonly samples?: ReadonlyArray<number> | undefined
    readonly timeDeltas?: ReadonlyArray<number> | undefined
  },
  uploads: number
): Record<Component, number> => {
  const componentById = new Map(profile.nodes.map((node) => [node.id, componentOf(node.callFrame)]))
  const totals = Object.fromEntries(components.map((c) => [c, 0])) as Record<Component, number>
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  for (let i = 0; i < samples.length; i++) {
    const component = componentById.get(samples[i]!)
    if (component === undefined || component === "idle") continue
    totals[component] += (deltas[i] ?? 0) / uploads
  }
  return totals
}

interface HeapNode {
  readonly selfSize: number
  readonly children: ReadonlyArray<HeapNode>
}

/** The bytes a sampling heap profile saw allocated, in all its nodes. */
export const allocatedBytes = (head: HeapNode): number =>
  head.children.reduce((sum, child) => sum + allocatedBytes(child), head.selfSize)

/** What one process measured of one client. */
export interface ProfileRound {
  /** Process CPU time (all threads) per upload, microseconds, without a profiler. */
  readonly cpu: number
  /** Sampled self time per upload by component, microseconds, under the CPU profiler. */
  readonly components: Record<Component, number>
  /** The sum of `components`: the profiled pass's busy time per upload. */
  readonly sampled: number
  /** Bytes allocated per upload on the JavaScript heap (sampled, collected objects included). */
  readonly allocated: number
}

export interface ProfileOptions {
  readonly warmup: number
  readonly uploads: number
  readonly concurrency: number
}

const cpuMicros = (): number => {
  const usage = process.cpuUsage()
  return usage.user + usage.system
}

/**
 * Runs `warmup` uploads, then three passes of `uploads` each (`uploader.many`, `concurrency` in flight): unprofiled,
 * under the CPU profiler (100 µs sampling), and under the heap profiler (one sample per 512 bytes on average).
 */
export const profileUploads = async (
  uploader: Uploader,
  content: Buffer,
  options: ProfileOptions
): Promise<ProfileRound> => {
  const { concurrency, uploads, warmup } = options
  if (warmup > 0) await uploader.many("warmup", content, warmup, concurrency)
  const before = cpuMicros()
  await uploader.many("plain", content, uploads, concurrency)
  const cpu = (cpuMicros() - before) / uploads

  const session = new Inspector.Session()
  session.connect()
  try {
    await session.post("Profiler.enable")
    await session.post("Profiler.setSamplingInterval", { interval: 100 })
    await session.post("Profiler.start")
    await uploader.many("cpu", content, uploads, concurrency)
    const { profile } = await session.post("Profiler.stop")
    await session.post("Profiler.disable")
    const byComponent = cpuByComponent(profile, uploads)

    // Collected objects are counted too (V8 accepts these flags; Node's types do not list them): without them the
    // profile holds only what is still alive at its end, not what the garbage collector had to sweep.
    const sampling = { samplingInterval: 512, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true }
    await session.post("HeapProfiler.startSampling", sampling)
    await uploader.many("heap", content, uploads, concurrency)
    const { profile: heap } = await session.post("HeapProfiler.stopSampling")
    return {
      cpu,
      components: byComponent,
      sampled: Object.values(byComponent).reduce((sum, micros) => sum + micros, 0),
      allocated: allocatedBytes(heap.head) / uploads
    }
  } finally {
    session.disconnect()
  }
}
