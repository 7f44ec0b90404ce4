/**
 * Planning an upload before any request: its size (read, counted or spooled when not given), one PUT or multipart,
 * the parts (as the Python SDK plans them). The content helpers the senders share are in `content.ts` (`collect`,
 * `concat`) and `contentValidation.ts` (`exactly`, `readFailed`).
 *
 * @internal
 */
import { Chunk, Effect, Option, type Scope, Stream } from "effect"
import { FileSizeLimitError, type InvalidContentError, UploadError } from "../CdfError.js"
import type * as Content from "../Content.js"
import { collect, concat, ContentImpl, ContentReadError, fromBytes, isContent, type Source, streamOf } from "./content.js"
import { exactly, readFailed } from "./contentValidation.js"
import { Spooler } from "./spool.js"
import { limits, type TransferSettings } from "./transferSettings.js"

/** @internal */
export type Plan =
  | { readonly _tag: "Single"; readonly size: number | undefined }
  | { readonly _tag: "Multipart"; readonly size: number; readonly partSize: number; readonly parts: number }

/** @internal */
export interface Prepared {
  readonly plan: Plan
  readonly content: Content.Content
}

/**
 * Part size and count as the Python SDK plans them (`calculate_part_size_and_count`), with `partSize` in place of
 * its 50 MiB default: one part up to `partSize`; otherwise max(partSize, ceil(size / 250)) capped at 4000 MiB.
 *
 * @internal
 */
export const planParts = (
  size: number,
  partSize: number
): Effect.Effect<{ readonly partSize: number; readonly parts: number }, FileSizeLimitError> => {
  if (size > limits.multipart) {
    return Effect.fail(
      new FileSizeLimitError({
        message: `${size} bytes is more than a multipart upload can take (250 parts of at most 4000 MiB)`,
        size,
        limit: limits.multipart,
        path: "multipart"
      })
    )
  }
  if (size <= partSize) return Effect.succeed({ partSize: Math.max(size, 1), parts: 1 })
  const part = Math.min(Math.max(partSize, Math.ceil(size / limits.maxParts)), limits.maxPartSize)
  return Effect.succeed({ partSize: part, parts: Math.ceil(size / part) })
}

/** @internal */
export const contentError = (message: string) => new UploadError({ message, reason: "Content" })

/** @internal */
export const sizeOfSource = (source: Source): number | undefined =>
  source._tag === "Bytes" ? source.bytes.byteLength : source._tag === "Ranged" ? source.size : undefined

/** @internal */
export const implOf = (content: Content.Content): ContentImpl =>
  isContent(content)
    ? content
    : new ContentImpl({ _tag: "OneShot", stream: Stream.fail(new Error("not made by Content.make")) }, undefined)

const planSized = (
  content: ContentImpl,
  size: number,
  settings: TransferSettings,
  multipart: boolean | undefined
): Effect.Effect<Prepared, FileSizeLimitError> => {
  const useMultipart = multipart ?? size > settings.singlePutThreshold
  if (!useMultipart) {
    if (size > limits.singlePut) {
      return Effect.fail(
        new FileSizeLimitError({
          message: `${size} bytes is more than a single PUT can take (${limits.singlePut} bytes)`,
          size,
          limit: limits.singlePut,
          path: "single"
        })
      )
    }
    return Effect.succeed({ plan: { _tag: "Single", size }, content })
  }
  return Effect.map(planParts(size, settings.partSize), ({ partSize, parts }) => ({
    plan: { _tag: "Multipart", size, partSize, parts },
    content
  }))
}

/**
 * How much of a one-shot stream of unknown length is buffered before it is handed to the `Spooler` (when one is
 * provided): a stream that ends within it goes in one PUT from memory, a longer one is spooled.
 *
 * @internal
 */
export const spoolThreshold = 8 * 1024 * 1024

/**
 * Decides the path before any request. A stream of unknown length is read up to one part (`partSize` bytes): if it
 * ends there it is sent from that buffer in one PUT with Content-Length. Past one part: a replayable factory is
 * read once to count its bytes; a one-shot stream is spooled by the `Spooler` in the context (on Node:
 * `NodeFiles.layer`, to a temporary file; then only `spoolThreshold` bytes are buffered first) or fails with `FileSizeLimitError` (path `stream`, limit `partSize`).
 *
 * @internal
 */
export const prepare = (
  content: Content.Content,
  settings: TransferSettings,
  options?: { readonly multipart?: boolean | undefined }
): Effect.Effect<Prepared, FileSizeLimitError | UploadError | InvalidContentError, Scope.Scope> =>
  Effect.gen(function*() {
    const impl = implOf(content)
    if (impl.invalid !== undefined) return yield* Effect.fail(impl.invalid)
    const known = sizeOfSource(impl.source) ?? impl.size
    if (known !== undefined) {
      if (impl.source._tag === "OneShot" && known <= settings.partSize) {
        // A one-shot stream of declared size within one part is read into a buffer first, so a failed PUT can be
        // sent again (from the buffer); the memory bound (one part) holds.
        const bytes = yield* collect(impl.source.stream.pipe(exactly(known))).pipe(
          Effect.mapError(readFailed)
        )
        return yield* planSized(fromBytes(bytes), known, settings, options?.multipart)
      }
      return yield* planSized(impl, known, settings, options?.multipart)
    }
    // Unknown length: buffer up to one part; a one-shot stream that a Spooler will take only up to
    // `spoolThreshold`, so memory stays low however long the stream is.
    const spooler = yield* Effect.serviceOption(Spooler)
    const limit = Option.isSome(spooler) && impl.source._tag === "OneShot"
      ? Math.min(settings.partSize, spoolThreshold)
      : settings.partSize
    const pull = yield* Stream.toPull(streamOf(impl.source).pipe(Stream.mapError((e) => e instanceof ContentReadError ? e : new ContentReadError(e))))
    const chunks: Array<Uint8Array> = []
    let seen = 0
    let ended = false
    while (!ended && seen <= limit) {
      const next = yield* Effect.either(pull)
      if (next._tag === "Left") {
        if (Option.isNone(next.left)) ended = true
        else return yield* Effect.fail(readFailed(next.left.value))
      } else {
        for (const chunk of next.right) {
          chunks.push(chunk)
          seen += chunk.byteLength
        }
      }
    }
    if (ended) return yield* planSized(fromBytes(concat(chunks, seen)), seen, settings, options?.multipart)
    if (impl.source._tag === "Factory") {
      // Replayable: count the rest, then read it again part by part.
      const rest = yield* Stream.repeatEffectChunkOption(pull).pipe(
        Stream.runFold(seen, (n, chunk) => n + chunk.byteLength),
        Effect.mapError(readFailed)
      )
      return yield* planSized(new ContentImpl(impl.source, rest), rest, settings, options?.multipart)
    }
    if (Option.isNone(spooler)) {
      return yield* Effect.fail(
        new FileSizeLimitError({
          message: `a one-shot stream of unknown length can be sent only up to one part (${limit} bytes) ` +
            "without spooling: give its size, use Content.fromFactory, or provide NodeFiles.layer",
          size: seen,
          limit,
          path: "stream"
        })
      )
    }
    // The chunks read so far go first, in one chunk, and are let go of as soon as the spooler has taken them (not
    // held until the whole stream is written).
    let head: Chunk.Chunk<Uint8Array> | undefined = Chunk.unsafeFromArray(chunks.splice(0))
    const spooled = yield* spooler.value.spool(
      Stream.repeatEffectChunkOption(Effect.suspend(() => {
        const first = head
        head = undefined
        return first === undefined ? pull : Effect.succeed(first)
      })),
      limits.multipart
    )
    return yield* planSized(spooled.content, spooled.size, settings, options?.multipart)
  })

/**
 * The plan of `prepare` for content held in memory (bytes, a string): nothing to read, so no scope is needed;
 * `undefined` for any other content, which goes through `prepare`.
 *
 * @internal
 */
export const prepareInMemory = (
  content: Content.Content,
  settings: TransferSettings,
  options?: { readonly multipart?: boolean | undefined }
): Effect.Effect<Prepared, FileSizeLimitError> | undefined => {
  const impl = implOf(content)
  return impl.source._tag === "Bytes"
    ? planSized(impl, impl.source.bytes.byteLength, settings, options?.multipart)
    : undefined
}
