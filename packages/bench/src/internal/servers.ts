/**
 * The servers the benchmarks upload to, each in its own process: the byte-counting sink (`dist/sink.js`) and the
 * emulator (`dist/emulator.js`), with the control requests the orchestrator sends them between runs.
 */
import { type Server, startServer } from "./processes.js"
import type { Target } from "./protocol.js"
import * as Raw from "./raw.js"

/** What a server prints once it listens. */
export interface Endpoint {
  readonly baseUrl: string
  readonly project?: string
  readonly token?: string
}

const decodeEndpoint = (line: string): Endpoint => {
  const parsed: unknown = JSON.parse(line)
  if (typeof parsed !== "object" || parsed === null || !("baseUrl" in parsed) || typeof parsed.baseUrl !== "string") {
    throw new Error(`not an endpoint: ${line}`)
  }
  const project = "project" in parsed && typeof parsed.project === "string" ? parsed.project : undefined
  const token = "token" in parsed && typeof parsed.token === "string" ? parsed.token : undefined
  return {
    baseUrl: parsed.baseUrl,
    ...(project === undefined ? {} : { project }),
    ...(token === undefined ? {} : { token })
  }
}

export const startSink = async (): Promise<{ server: Server<Endpoint>; target: Target }> => {
  const server = await startServer("sink", [], decodeEndpoint)
  return { server, target: { name: "sink", baseUrl: server.info.baseUrl, project: "bench", token: "sink-token" } }
}

/** The faults each emulator target was started with: a reset drops them, so they are set again after it. */
const targetFaults = new Map<string, ReadonlyArray<unknown>>()

/** The emulator in its own process (`dist/emulator.js`), with options as JSON. */
export const startEmulator = async (
  name: string,
  options: Record<string, unknown>
): Promise<{ server: Server<Endpoint>; target: Target }> => {
  const server = await startServer("emulator", [JSON.stringify(options)], decodeEndpoint)
  const faults = options["faults"]
  if (Array.isArray(faults)) targetFaults.set(name, faults)
  return {
    server,
    target: { name, baseUrl: server.info.baseUrl, project: server.info.project ?? "emulator", token: server.info.token ?? "" }
  }
}

/** The orchestrator's own connection for control requests. */
const control = Raw.makeAgent(1)

/** Closes the control connection (at the end of the run). */
export const closeControl = (): void => control.destroy()

/** Drops the emulator's stored files between runs, so memory-mode content does not pile up; keeps its faults. */
export const resetEmulator = async (target: Target): Promise<void> => {
  if (target.name === "sink") return
  await Raw.request(control, "POST", `${target.baseUrl}/_emulator/reset`, {}, undefined)
  const faults = targetFaults.get(target.name) ?? []
  if (faults.length === 0) return
  const body = Buffer.from(JSON.stringify(faults))
  const response = await Raw.request(control, "POST", `${target.baseUrl}/_emulator/faults`, {
    "content-type": "application/json",
    "content-length": body.length
  }, body)
  if (response.status !== 200) throw new Error(`setting the faults of ${target.name} again answered ${response.status}`)
}

/** The sink's counters so far: files created and bytes received (zeros for another target). */
export interface SinkCounts {
  readonly files: number
  readonly bytes: number
}

/** What the sink has received so far (a check that every client really sent what it reports). */
export const sinkCounts = async (target: Target): Promise<SinkCounts> => {
  if (target.name !== "sink") return { files: 0, bytes: 0 }
  const response = await Raw.request(control, "GET", `${target.baseUrl}/_sink/stats`, {}, undefined)
  const stats: unknown = JSON.parse(response.body.toString("utf8"))
  const field = (name: string): number => {
    const value: unknown = typeof stats === "object" && stats !== null ? Reflect.get(stats, name) : undefined
    return typeof value === "number" ? value : 0
  }
  return { files: field("files"), bytes: field("bytes") }
}
