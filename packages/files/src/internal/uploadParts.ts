/**
 * The parts of a multipart upload: content split into parts (`toParts`) and sent `partConcurrency` at a time, each
 * part a PUT retried on its own (`uploadPut`).
 *
 * @internal
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { Effect, FiberSet, Stream } from "effect"
import { type CdfTimeoutError, type InvalidContentError, UploadError } from "../CdfError.js"
import type { OnProgress } from "../Progress.js"
import { streamOf } from "./content.js"
import { exactly, readFailed } from "./contentValidation.js"
import { Tracker } from "./progress.js"
import { sha256Factory } from "./sha256.js"
import { progressIntervalOf, type TransferSettings } from "./transferSettings.js"
import { type Body, hashBytes, rangeOf } from "./uploadBody.js"
import { contentError, implOf, type Prepared, sizeOfSource } from "./uploadPlan.js"
import { putOne, type TransferResult } from "./uploadPut.js"

/**
 * Splits a byte stream into parts of exactly `partSize` bytes (the last may be shorter; an empty stream gives one
 * empty part). A part's buffer is allocated when its first byte arrives.
 *
 * @internal
 */
export const toParts = <E>(stream: Stream.Stream<Uint8Array, E>, partSize: number): Stream.Stream<Uint8Array, E> =>
  Stream.suspend(() => {
    let buffer: Uint8Array | undefined
    let filled = 0
    let emitted = 0
    return stream.pipe(
      Stream.mapConcat((chunk) => {
        const out: Array<Uint8Array> = []
        let offset = 0
        while (offset < chunk.byteLength) {
          buffer ??= new Uint8Array(partSize)
          const n = Math.min(partSize - filled, chunk.byteLength - offset)
          buffer.set(chunk.subarray(offset, offset + n), filled)
          filled += n
          offset += n
          if (filled === partSize) {
            out.push(buffer)
            emitted++
            buffer = undefined
            filled = 0
          }
        }
        return out
      }),
      Stream.concat(Stream.suspend(() => {
        if (buffer !== undefined && filled > 0) return Stream.succeed(buffer.subarray(0, filled))
        return emitted === 0 ? Stream.succeed(new Uint8Array(0)) : Stream.empty
      }))
    )
  })

/**
 * Sends every part of a multipart plan, `partConcurrency` at a time, each retried on its own, without Content-Type.
 * Random-access content (bytes; a Blob or a file unless `checksum` is on, which reads them once, in order) is read
 * part by part from its ranges, so a retry re-reads its range. Other content is read once, in order, into part buffers: at most `partConcurrency + 1` parts are held,
 * and a retry resends from the buffer. The parts in `skip` (acknowledged by an earlier run) are not sent (a stream
 * is read through them; they count as acknowledged in progress and in the checksum); `onPart` runs after each part
 * storage acknowledged.
 *
 * @internal
 */
export const putParts = (args: {
  readonly storage: HttpClient.HttpClient
  readonly urls: ReadonlyArray<string>
  readonly prepared: Prepared
  readonly settings: TransferSettings
  readonly onProgress?: OnProgress | undefined
  readonly skip?: ReadonlySet<number> | undefined
  readonly onPart?: ((part: number) => Effect.Effect<void>) | undefined
}): Effect.Effect<TransferResult, UploadError | InvalidContentError | CdfTimeoutError> =>
  Effect.gen(function*() {
    const { settings } = args
    const content = implOf(args.prepared.content)
    const plan = args.prepared.plan
    const size = sizeOfSource(content.source) ?? content.size ?? 0
    const { partSize, parts } = plan._tag === "Multipart" ? plan : { partSize: Math.max(size, 1), parts: 1 }
    if (args.urls.length !== parts) {
      return yield* Effect.fail(
        new UploadError({
          message: `the plan has ${parts} part(s) but ${args.urls.length} upload URL(s) were given`,
          reason: "Incomplete"
        })
      )
    }
    const tracker = new Tracker(size, args.onProgress, progressIntervalOf(settings))
    const concurrency = Math.max(1, settings.partConcurrency)
    const skip = args.skip
    const onPart = args.onPart
    const put = (part: number, body: Body) =>
      putOne({
        storage: args.storage,
        url: args.urls[part]!,
        part,
        contentType: undefined,
        body,
        settings,
        tracker,
        hash: undefined
      })
    const sendPart = onPart === undefined ? put : (part: number, body: Body) =>
      Effect.zipLeft(put(part, body), onPart(part))
    const partBytes = (part: number) => Math.max(0, Math.min(partSize, size - part * partSize))
    if (skip !== undefined) {
      for (const part of skip) yield* tracker.ack(part, partBytes(part))
    }
    const source = content.source
    let sha256: string | undefined
    if (source._tag === "Bytes" || (source._tag === "Ranged" && !settings.checksum)) {
      yield* Effect.forEach(
        Array.from({ length: parts }, (_, i) => i).filter((part) => skip === undefined || !skip.has(part)),
        (part) => {
          const start = part * partSize
          const end = Math.min(start + partSize, size)
          const body: Body = source._tag === "Bytes"
            ? { _tag: "Bytes", bytes: source.bytes.subarray(start, end) }
            : rangeOf(source, start, end)
          return sendPart(part, body)
        },
        { concurrency, discard: true }
      )
      if (settings.checksum && source._tag === "Bytes") sha256 = hashBytes(yield* sha256Factory, source.bytes)
    } else {
      const hasher = settings.checksum ? (yield* sha256Factory)() : undefined
      let index = 0
      const partsStream = toParts(
        streamOf(source).pipe(
          exactly(size),
          Stream.tap((chunk) => Effect.sync(() => hasher?.update(chunk)))
        ),
        partSize
      ).pipe(Stream.mapError(readFailed))
      yield* Effect.scoped(Effect.gen(function*() {
        const running = yield* FiberSet.make<unknown, UploadError | InvalidContentError | CdfTimeoutError>()
        const permits = yield* Effect.makeSemaphore(concurrency)
        const produce = partsStream.pipe(
          Stream.runForEach((bytes) =>
            Effect.gen(function*() {
              const part = index++
              if (part >= parts) {
                return yield* Effect.fail(contentError(`the content has more than the planned ${parts} parts`))
              }
              if (skip !== undefined && skip.has(part)) return
              yield* permits.take(1)
              yield* FiberSet.run(running, sendPart(part, { _tag: "Bytes", bytes }).pipe(Effect.ensuring(permits.release(1))))
            })
          ),
          Effect.zipRight(permits.take(concurrency))
        )
        yield* Effect.raceFirst(produce, FiberSet.join(running))
      }))
      if (index !== parts) {
        return yield* Effect.fail(contentError(`the content has ${index} part(s), not the planned ${parts}`))
      }
      sha256 = hasher?.digestHex()
    }
    yield* tracker.final
    return { bytes: size, sha256 }
  }).pipe(Effect.withSpan("effect-cdf.files.putParts", {
    attributes: { "cdf.parts": args.urls.length },
    captureStackTrace: false
  }))

