/**
 * The phases of one upload, timed by undici's own diagnostics channels: the five events undici publishes for each
 * request (`undici:request:create`, `undici:client:sendHeaders`, `undici:request:bodySent`,
 * `undici:request:headers`, `undici:request:trailers`), the POST's and then the PUT's, split the upload's wall time
 * into what the client does before, between and after the requests and what the requests take. Used by
 * `timeline.ts`; any client on undici can be timed (the plain loop, the floor, the platform client, ours).
 */
import * as DiagnosticsChannel from "node:diagnostics_channel"
import { performance } from "node:perf_hooks"
import { summarize } from "./stats.js"
import type { Uploader } from "./uploader.js"

const events = ["create", "sendHeaders", "bodySent", "headers", "trailers"] as const
type Event = typeof events[number]

const channels: Record<Event, string> = {
  create: "undici:request:create",
  sendHeaders: "undici:client:sendHeaders",
  bodySent: "undici:request:bodySent",
  headers: "undici:request:headers",
  trailers: "undici:request:trailers"
}

/** The events of one upload, in order: the POST's five, then the PUT's. */
const expected: ReadonlyArray<Event> = [...events, ...events]

/** One upload's phases, in milliseconds; all but `putWaitCpu` add up to `total`. */
export interface Phases {
  /** From the call to the POST's creation: validation, planning, the request's setup. */
  readonly beforePost: number
  /** The POST from its creation to its answer read. */
  readonly post: number
  /** From the POST's answer to the PUT's creation: decoding the answer, the PUT's setup. */
  readonly between: number
  /** The PUT from its creation until undici has written its body. */
  readonly putSend: number
  /** From the PUT's body written to its answer's headers: the server's time (and the wire's). */
  readonly putWait: number
  /** The PUT's answer from its headers to its end. */
  readonly putRead: number
  /** From the PUT's answer read to the upload's end. */
  readonly after: number
  /** CPU time of this process (all its threads) during `putWait`. */
  readonly putWaitCpu: number
  readonly total: number
}

/** The phases that add up to an upload's wall time. */
export const wallPhases = ["beforePost", "post", "between", "putSend", "putWait", "putRead", "after"] as const

interface Mark {
  readonly event: Event
  readonly at: number
  readonly cpu: number
}

const cpuMillis = (): number => {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}

/** `marks` as phases, or why they are not one POST then one PUT. */
const phasesOf = (marks: ReadonlyArray<Mark>, start: number, end: number): Phases => {
  const order = marks.map((mark) => mark.event)
  if (order.length !== expected.length || order.some((event, i) => event !== expected[i])) {
    throw new Error(`an upload published the undici events ${order.join(", ")}, not one POST's and one PUT's`)
  }
  const at = (i: number) => marks[i]!.at
  return {
    beforePost: at(0) - start,
    post: at(4) - at(0),
    between: at(5) - at(4),
    putSend: at(7) - at(5),
    putWait: at(8) - at(7),
    putRead: at(9) - at(8),
    after: end - at(9),
    putWaitCpu: marks[8]!.cpu - marks[7]!.cpu,
    total: end - start
  }
}

/**
 * Uploads `payload` `warmup` times, then `uploads` times one after another, and gives the phases of each measured
 * upload. Fails if an upload's requests are not exactly one POST and then one PUT.
 */
export const measure = async (
  uploader: Uploader,
  payload: Buffer,
  options: { readonly warmup: number; readonly uploads: number }
): Promise<Array<Phases>> => {
  let marks: Array<Mark> | undefined
  const listeners = events.map((event) => {
    const listener = () => marks?.push({ event, at: performance.now(), cpu: cpuMillis() })
    DiagnosticsChannel.subscribe(channels[event], listener)
    return () => DiagnosticsChannel.unsubscribe(channels[event], listener)
  })
  try {
    for (let i = 0; i < options.warmup; i++) await uploader.bytes(`warmup-${i}`, payload)
    const rows: Array<Phases> = []
    for (let i = 0; i < options.uploads; i++) {
      const upload: Array<Mark> = []
      marks = upload
      const start = performance.now()
      await uploader.bytes(`timeline-${i}`, payload)
      const end = performance.now()
      marks = undefined
      rows.push(phasesOf(upload, start, end))
    }
    return rows
  } finally {
    for (const unsubscribe of listeners) unsubscribe()
  }
}

/** A round's figures: the median of each phase over its uploads, and the 90th percentile of `putWait`. */
export type RoundSummary = Phases & { readonly putWaitP90: number }

export const summarizeRound = (rows: ReadonlyArray<Phases>): RoundSummary => {
  const median = (key: keyof Phases) => summarize(rows.map((row) => row[key]))?.median ?? Number.NaN
  const waits = rows.map((row) => row.putWait).sort((a, b) => a - b)
  return {
    beforePost: median("beforePost"),
    post: median("post"),
    between: median("between"),
    putSend: median("putSend"),
    putWait: median("putWait"),
    putRead: median("putRead"),
    after: median("after"),
    putWaitCpu: median("putWaitCpu"),
    total: median("total"),
    putWaitP90: waits[Math.floor(0.9 * waits.length)] ?? Number.NaN
  }
}
