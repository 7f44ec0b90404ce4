/**
 * One client run, in its own process: `node --expose-gc dist/client.js < spec.json` (a `ClientSpec` on stdin). It builds the client,
 * warms it up (one connection, JIT), then measures wall time, CPU time (`process.cpuUsage`) and RSS (sampled every
 * 2 ms, and the kernel's peak) over the measured uploads, and prints one `ClientResult` JSON line on stdout.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { performance } from "node:perf_hooks"
import { sampleRss, readHwm, resetHwm } from "./internal/memory.js"
import type * as Ours from "./internal/ours.js"
import { type ClientResult, type ClientSpec, decodeSpec, encodeResult } from "./internal/protocol.js"
import { pool, type Uploader } from "./internal/uploader.js"

const MiB = 1024 * 1024

/** Settings of our client that a scenario implies (what an application would configure for that workload). */
const oursOptions = (scenario: ClientSpec["scenario"], checksum: boolean): Ours.OursOptions => {
  switch (scenario._tag) {
    case "Multipart":
      return {
        checksum,
        partSize: scenario.partSize,
        partConcurrency: scenario.concurrency,
        maxConcurrentTransfers: Math.max(5, scenario.concurrency)
      }
    case "Many":
      return { checksum, maxConcurrentTransfers: scenario.concurrency }
    default:
      return { checksum }
  }
}

/** Each client's modules are loaded only in its own process, so that its RSS carries no other client's code. */
const makeUploader = async (spec: ClientSpec): Promise<Uploader> => {
  switch (spec.client) {
    case "ours":
    case "ours-sha256": {
      const Ours = await import("./internal/ours.js")
      return Ours.make(spec.target, oursOptions(spec.scenario, spec.client === "ours-sha256"))
    }
    case "ours-verify": {
      // Ours with `verify: true`: each upload is downloaded again and its sha256 compared (what verify costs)
      const Ours = await import("./internal/ours.js")
      return Ours.make(spec.target, { ...oursOptions(spec.scenario, false), verify: true })
    }
    case "ours-1put": {
      // Ours with every size in one PUT (as raw and the SDK send it): the client's cost apart from its default plan
      // (multipart above 100 MiB: more requests, and the storage's completion).
      const Ours = await import("./internal/ours.js")
      return Ours.make(spec.target, { ...oursOptions(spec.scenario, false), singlePutThreshold: 4000 * MiB })
    }
    case "raw": {
      const Raw = await import("./internal/raw.js")
      const agent = Raw.makeAgent()
      return {
        bytes: async (name, content) => {
          await Raw.upload(agent, spec.target, name, content)
          return "single"
        },
        many: (prefix, content, count, concurrency) =>
          pool(count, concurrency, (i) => Raw.upload(agent, spec.target, `${prefix}-${i}`, content)),
        stream: (name, source) => Raw.uploadSpooled(agent, spec.target, name, source(), Raw.defaultSpoolPlan),
        file: (name, path, size) => Raw.uploadFile(agent, spec.target, name, path, size, Raw.defaultSpoolPlan),
        close: () => {
          agent.destroy()
          return Promise.resolve()
        }
      }
    }
    case "undici":
      return (await import("./internal/undici.js")).undici(spec.target)
    case "floor":
      return await (await import("./internal/floor.js")).floor(spec.target)
    case "platform":
      return await (await import("./internal/platform.js")).platform(spec.target)
    case "sdk": {
      const Sdk = await import("./internal/sdk.js")
      const client = await Sdk.makeClient(spec.target)
      return {
        bytes: async (name, content) => {
          await Sdk.upload(client, name, content)
          return "single"
        },
        many: (prefix, content, count, concurrency) =>
          pool(count, concurrency, (i) => Sdk.upload(client, `${prefix}-${i}`, content)),
        close: () => Promise.resolve()
      }
    }
  }
}

/** A stream of `size` bytes in fresh `chunk`-byte buffers, as a file or socket would hand them over. */
const generate = (size: number, chunk: number) =>
  async function*(): AsyncIterable<Uint8Array> {
    let left = size
    let n = 0
    while (left > 0) {
      const length = Math.min(chunk, left)
      const buffer = Buffer.allocUnsafe(length)
      buffer.fill(n++ & 0xff)
      left -= length
      yield buffer
    }
  }

const collectGarbage = (): void => {
  const gc: unknown = Reflect.get(globalThis, "gc")
  if (typeof gc === "function") gc()
}

/** Runs `body` once, measuring wall time of each step it reports, CPU time and memory. */
const measure = async (
  body: (time: <A>(step: () => Promise<A>) => Promise<A>) => Promise<{ bytes: number; files: number; note?: string | undefined }>
): Promise<ClientResult> => {
  collectGarbage()
  const hwmReset = resetHwm()
  const rssBefore = process.memoryUsage.rss()
  const durations: Array<number> = []
  const sampler = sampleRss(2)
  const cpu = process.cpuUsage()
  const outcome = await body(async (step) => {
    const start = performance.now()
    const a = await step()
    durations.push(performance.now() - start)
    return a
  })
  const used = process.cpuUsage(cpu)
  const rssPeak = sampler.stop()
  const hwm = hwmReset ? readHwm() : undefined
  return {
    durations,
    bytes: outcome.bytes,
    files: outcome.files,
    cpuUser: used.user,
    cpuSystem: used.system,
    rssBefore,
    rssPeak,
    ...(hwm === undefined ? {} : { hwm }),
    ...(outcome.note === undefined ? {} : { note: outcome.note })
  }
}

const run = async (spec: ClientSpec, uploader: Uploader): Promise<ClientResult> => {
  const scenario = spec.scenario
  switch (scenario._tag) {
    case "Single": {
      // The warm-up uploads the measured size itself, so every client runs its measured path warm (the first one is
      // timed: the cold start); memory is also watched from before the warm-up (payload allocated, no connection
      // yet), so the first upload's costs count.
      const payload = Buffer.alloc(scenario.size, "effect-cdf")
      collectGarbage()
      const rssIdle = process.memoryUsage.rss()
      const warm = sampleRss(2)
      const coldStart = performance.now()
      await uploader.bytes("warmup-0", payload)
      const first = performance.now() - coldStart
      for (let i = 1; i < scenario.warmups; i++) await uploader.bytes(`warmup-${i}`, payload)
      const rssWarmPeak = warm.stop()
      const result = await measure(async (time) => {
        let note: string | undefined
        for (let i = 0; i < scenario.reps; i++) {
          note = await time(() => uploader.bytes(`single-${i}`, payload))
        }
        return { bytes: scenario.size * scenario.reps, files: scenario.reps, note }
      })
      return { ...result, rssIdle, rssWarmPeak, first }
    }
    case "Many": {
      const payload = Buffer.alloc(scenario.size, "effect-cdf")
      const coldStart = performance.now()
      await uploader.many("warmup", payload, Math.max(scenario.warmup, scenario.concurrency), scenario.concurrency)
      const first = performance.now() - coldStart
      const result = await measure(async (time) => {
        await time(() => uploader.many("many", payload, scenario.count, scenario.concurrency))
        return { bytes: scenario.size * scenario.count, files: scenario.count }
      })
      return { ...result, first }
    }
    case "Stream": {
      const stream = uploader.stream
      if (stream === undefined) throw new Error(`${spec.client} cannot upload a stream of unknown length`)
      await stream("warmup", generate(scenario.chunk, scenario.chunk))
      return measure(async (time) => {
        const note = await time(() => stream("stream", generate(scenario.size, scenario.chunk)))
        return { bytes: scenario.size, files: 1, note }
      })
    }
    case "File": {
      const file = uploader.file
      if (file === undefined) throw new Error(`${spec.client} cannot upload a file`)
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "bench-file-"))
      try {
        const path = Path.join(dir, "content.bin")
        const chunk = Buffer.alloc(MiB, "effect-cdf")
        const fd = Fs.openSync(path, "w")
        for (let written = 0; written < scenario.size; written += chunk.length) {
          Fs.writeSync(fd, chunk, 0, Math.min(chunk.length, scenario.size - written))
        }
        Fs.closeSync(fd)
        const warmup = Path.join(dir, "warmup.bin")
        const warmupSize = Math.min(scenario.size, chunk.length)
        Fs.writeFileSync(warmup, chunk.subarray(0, warmupSize))
        await file("warmup", warmup, warmupSize)
        return await measure(async (time) => {
          const note = await time(() => file("file", path, scenario.size))
          return { bytes: scenario.size, files: 1, note }
        })
      } finally {
        Fs.rmSync(dir, { recursive: true, force: true })
      }
    }
    case "Multipart": {
      const multipart = uploader.multipart
      if (multipart === undefined) throw new Error(`${spec.client} has no multipart upload`)
      const payload = Buffer.alloc(scenario.size, "effect-cdf")
      await uploader.bytes("warmup", payload.subarray(0, Math.min(scenario.size, MiB)))
      return measure(async (time) => {
        const note = await time(() => multipart("multipart", payload, scenario.partSize, scenario.concurrency))
        return { bytes: scenario.size, files: 1, note }
      })
    }
  }
}

const main = async (): Promise<void> => {
  const chunks: Array<Buffer> = []
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
  const spec = decodeSpec(Buffer.concat(chunks).toString("utf8"))
  const uploader = await makeUploader(spec)
  const result = await run(spec, uploader)
  await uploader.close()
  process.stdout.write(encodeResult(result) + "\n")
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`client failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
    process.exit(1)
  }
)
