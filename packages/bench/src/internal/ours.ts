/**
 * Our client: `Files.uploadBytes` over undici (`NodeTransport.layer`: `NodeHttpClient.layerUndici` on undici's
 * environment-proxy agent), with `NodeFiles.layer` (spooling of long one-shot streams), checksum off unless asked, run
 * from a `ManagedRuntime` built once per process, as an application would.
 */
import { CdfAuth, CdfClient, CdfConfig } from "@effect-cdf/files"
import * as Files from "@effect-cdf/files/Files"
import * as NodeFiles from "@effect-cdf/files/NodeFiles"
import * as NodeTransport from "@effect-cdf/files/NodeTransport"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import type { Target } from "./protocol.js"
import type { Uploader } from "./uploader.js"

export interface OursOptions {
  readonly checksum: boolean
  readonly partSize?: number
  readonly partConcurrency?: number
  /** Client-wide limit on concurrent PUTs (default 5); the many-files run raises it to its concurrency. */
  readonly maxConcurrentTransfers?: number
  /** Bytes sent in one PUT at most (default 100 MiB, multipart above). */
  readonly singlePutThreshold?: number
  /** `verify: true` on every single upload: read the file back and compare its sha256 (the emulator target only). */
  readonly verify?: boolean
}

const layerFor = (target: Target, options: OursOptions) =>
  Files.layer.pipe(
    Layer.provideMerge(NodeFiles.layer),
    Layer.provide(CdfClient.layer),
    Layer.provide(CdfConfig.layer({
      baseUrl: target.baseUrl,
      project: target.project,
      checksum: options.checksum,
      ...(options.partSize === undefined ? {} : { partSize: options.partSize, singlePutThreshold: options.partSize }),
      ...(options.singlePutThreshold === undefined ? {} : { singlePutThreshold: options.singlePutThreshold }),
      ...(options.partConcurrency === undefined ? {} : { partConcurrency: options.partConcurrency }),
      ...(options.maxConcurrentTransfers === undefined ? {} : { maxConcurrentTransfers: options.maxConcurrentTransfers })
    })),
    Layer.provide(CdfAuth.layerToken(Redacted.make(target.token))),
    Layer.provide(NodeTransport.layer),
    Layer.orDie
  )

export const make = async (target: Target, options: OursOptions): Promise<Uploader> => {
  const runtime = ManagedRuntime.make(layerFor(target, options))
  // The layers are built before the first upload, as an application builds them at start (and as the SDK's client is
  // constructed and authenticated before its first upload).
  await runtime.runtime()
  return {
    bytes: async (name, content) => {
      await runtime.runPromise(Files.uploadBytes(content, { name, ...(options.verify === true ? { verify: true } : {}) }))
      return undefined
    },
    many: (prefix, content, count, concurrency) =>
      runtime.runPromise(Effect.forEach(
        Array.from({ length: count }, (_, i) => i),
        (i) => Files.uploadBytes(content, { name: `${prefix}-${i}` }),
        { concurrency, discard: true }
      )),
    stream: async (name, source) => {
      await runtime.runPromise(Files.uploadBytes(source(), { name }))
      return undefined
    },
    file: async (name, path) => {
      await runtime.runPromise(NodeFiles.uploadFile(path, { name }))
      return undefined
    },
    /** Part size and concurrency are the runtime's (`options`), as an application configures them. */
    multipart: async (name, content, partSize, concurrency) => {
      await runtime.runPromise(Files.uploadBytes(content, { name }))
      return `${Math.ceil(content.length / partSize)} parts, ${concurrency} at a time`
    },
    close: () => runtime.dispose()
  }
}
