/**
 * What the orchestrator (`main.ts`) tells a client process (`client.ts`) to do, and what the client answers, as
 * JSON on argv / stdout.
 */
import { Schema } from "effect"

/** The server a client talks to. The token is a local emulator or sink token, never a real credential. */
export const Target = Schema.Struct({
  name: Schema.String,
  baseUrl: Schema.String,
  project: Schema.String,
  token: Schema.String
})
export type Target = typeof Target.Type

export const ClientName = Schema.Literal("ours", "ours-sha256", "ours-verify", "ours-1put", "raw", "sdk", "undici", "platform", "floor")
export type ClientName = typeof ClientName.Type

export const Scenario = Schema.Union(
  /** `reps` uploads of `size` bytes, one after another, after `warmups` (at least 1) uploads of the same size. */
  Schema.TaggedStruct("Single", { size: Schema.Number, reps: Schema.Number, warmups: Schema.Number }),
  /** `count` files of `size` bytes with `concurrency` in flight, after a warm-up of `warmup` files, as many at once. */
  Schema.TaggedStruct("Many", {
    size: Schema.Number,
    count: Schema.Number,
    concurrency: Schema.Number,
    warmup: Schema.Number
  }),
  /** One stream of `size` bytes in `chunk`-byte chunks whose length is not told to the client. */
  Schema.TaggedStruct("Stream", { size: Schema.Number, chunk: Schema.Number }),
  /** One file of `size` bytes on disk (written before the timing), read from the disk as it is sent. */
  Schema.TaggedStruct("File", { size: Schema.Number }),
  /** One multipart upload of `size` bytes in parts of `partSize` with `concurrency` parts in flight. */
  Schema.TaggedStruct("Multipart", { size: Schema.Number, partSize: Schema.Number, concurrency: Schema.Number })
)
export type Scenario = typeof Scenario.Type

export const ClientSpec = Schema.Struct({ client: ClientName, target: Target, scenario: Scenario })
export type ClientSpec = typeof ClientSpec.Type

export const ClientResult = Schema.Struct({
  /** Wall time of each measured operation, milliseconds. */
  durations: Schema.Array(Schema.Number),
  /** Bytes uploaded in the measured operations (all reps together). */
  bytes: Schema.Number,
  /** Files uploaded in the measured operations. */
  files: Schema.Number,
  /** CPU time of the process during the measured operations, microseconds. */
  cpuUser: Schema.Number,
  cpuSystem: Schema.Number,
  /** RSS right before the measured operations (payload allocated, connection warm), bytes. */
  rssBefore: Schema.Number,
  /** Highest RSS sampled (every few ms) during the measured operations, bytes. */
  rssPeak: Schema.Number,
  /** RSS with the payload allocated, before the warm-up upload (no connection yet), bytes. */
  rssIdle: Schema.optionalWith(Schema.Number, { exact: true }),
  /** Highest RSS sampled during the warm-up upload, bytes. */
  rssWarmPeak: Schema.optionalWith(Schema.Number, { exact: true }),
  /** The kernel's peak RSS (VmHWM) over the measured operations, when it could be reset first; bytes. */
  hwm: Schema.optionalWith(Schema.Number, { exact: true }),
  /**
   * The cold start, in a fresh process: the wall time of the first warm-up upload (Single), or of the whole warm-up
   * batch (Many), milliseconds.
   */
  first: Schema.optionalWith(Schema.Number, { exact: true }),
  /** How the client planned the upload, e.g. "single" or "multipart 11 x 50 MiB", when it tells. */
  note: Schema.optionalWith(Schema.String, { exact: true })
})
export type ClientResult = typeof ClientResult.Type

export const decodeSpec = Schema.decodeUnknownSync(Schema.parseJson(ClientSpec))
export const encodeSpec = Schema.encodeSync(Schema.parseJson(ClientSpec))
export const decodeResult = Schema.decodeUnknownSync(Schema.parseJson(ClientResult))
export const encodeResult = Schema.encodeSync(Schema.parseJson(ClientResult))
