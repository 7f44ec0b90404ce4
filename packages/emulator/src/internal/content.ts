import * as NodeStream from "@effect/platform-node/NodeStream"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import { createHash, randomUUID } from "node:crypto"
import { createReadStream, createWriteStream, rmSync } from "node:fs"
import type { WriteStream } from "node:fs"
import { join } from "node:path"

/** Where stored bytes live: chunks in memory, a file in the data dir, or parts in order. */
export type Source =
  | { readonly _tag: "Memory"; readonly chunks: ReadonlyArray<Uint8Array> }
  | { readonly _tag: "File"; readonly path: string }
  | { readonly _tag: "Concat"; readonly parts: ReadonlyArray<StoredContent> }

export interface StoredContent {
  readonly size: number
  readonly sha256: string
  readonly source: Source
}

export type StoreResult =
  | { readonly _tag: "Stored"; readonly content: StoredContent }
  | { readonly _tag: "TooLarge"; readonly bytes: number }

const writeChunk = (stream: WriteStream, chunk: Uint8Array): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (stream.write(chunk)) {
      resume(Effect.void)
    } else {
      stream.once("drain", () => resume(Effect.void))
    }
  })

const endStream = (stream: WriteStream): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    stream.end(() => resume(Effect.void))
  })

const removeFile = (path: string) =>
  Effect.sync(() => {
    try {
      rmSync(path, { force: true })
    } catch (_) {
      // best effort
    }
  })

/** A body to store: as a stream, and as a fold (feeds chunks to `step` until it answers false or the body ends). */
export interface Body<E> {
  readonly stream: Stream.Stream<Uint8Array, E>
  readonly fold: (step: (chunk: Uint8Array) => boolean) => Effect.Effect<void, E>
}

/**
 * Stores a body in memory through sha256, chunk by chunk (one copy of each): `step` answers false as soon as more
 * than `limit` bytes have arrived; `result` once the body has ended (or stopped).
 */
export const memorySink = (limit: number | undefined) => {
  const hash = createHash("sha256")
  const chunks: Array<Uint8Array> = []
  let size = 0
  let tooLarge = false
  return {
    step: (chunk: Uint8Array): boolean => {
      size += chunk.byteLength
      if (limit !== undefined && size > limit) {
        tooLarge = true
        return false
      }
      hash.update(chunk)
      // a copy: a chunk may be a view of a larger buffer that it would keep alive
      const copy = new Uint8Array(chunk.byteLength)
      copy.set(chunk)
      chunks.push(copy)
      return true
    },
    result: (): StoreResult =>
      tooLarge
        ? { _tag: "TooLarge", bytes: size }
        : { _tag: "Stored", content: { size, sha256: hash.digest("hex"), source: { _tag: "Memory", chunks } } }
  }
}

/**
 * Streams a body through sha256 into memory (`memorySink`, read through the body's fold) or a file of `dataDir`
 * (read as a stream, written with backpressure). Stops reading, and answers `TooLarge`, as soon as more than
 * `limit` bytes have arrived.
 *
 * (`Stream.runFoldWhileEffect`, not `runForEachWhile`: in effect 3.22 the latter keeps every element alive until
 * the stream ends, i.e. a whole upload in memory.)
 */
export const store = <E>(
  dataDir: string | undefined,
  body: Body<E>,
  limit: number | undefined
): Effect.Effect<StoreResult, E> =>
  Effect.suspend(() => {
    if (dataDir === undefined) {
      const sink = memorySink(limit)
      return Effect.map(body.fold(sink.step), sink.result)
    }
    const hash = createHash("sha256")
    let size = 0
    let tooLarge = false
    const result = (source: Source): StoreResult =>
      tooLarge
        ? { _tag: "TooLarge", bytes: size }
        : { _tag: "Stored", content: { size, sha256: hash.digest("hex"), source } }
    const fold = (sink: (chunk: Uint8Array) => Effect.Effect<void>) =>
      Stream.runFoldWhileEffect(body.stream, true, (go) => go, (_, chunk) => {
        size += chunk.byteLength
        if (limit !== undefined && size > limit) {
          tooLarge = true
          return Effect.succeed(false)
        }
        hash.update(chunk)
        return Effect.as(sink(chunk), true)
      })
    const path = join(dataDir, `${randomUUID()}.bin`)
    return Effect.acquireUseRelease(
      // an upload aborted mid-body destroys the stream while a write is pending: that write's error must not be
      // an uncaught exception of the whole process
      Effect.sync(() => createWriteStream(path).on("error", () => {})),
      (file) =>
        fold((chunk) => writeChunk(file, chunk)).pipe(
          Effect.zipLeft(endStream(file)),
          Effect.map(() => result({ _tag: "File", path }))
        ),
      (file, exit) =>
        Exit.isSuccess(exit) && exit.value._tag === "Stored"
          ? Effect.void
          : Effect.zipRight(Effect.sync(() => file.destroy()), removeFile(path))
    )
  })

const hashFile = (path: string, update: (chunk: Uint8Array) => void): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    const stream = createReadStream(path)
    stream.on("data", (chunk) => update(typeof chunk === "string" ? Buffer.from(chunk) : chunk))
    stream.on("end", () => resume(Effect.void))
    stream.on("error", (error) => resume(Effect.die(error)))
    return Effect.sync(() => stream.destroy())
  })

const feed = (source: Source, update: (chunk: Uint8Array) => void): Effect.Effect<void> => {
  switch (source._tag) {
    case "Memory":
      return Effect.sync(() => source.chunks.forEach(update))
    case "File":
      return hashFile(source.path, update)
    case "Concat":
      return Effect.forEach(source.parts, (part) => feed(part.source, update), { discard: true })
  }
}

/** The parts in order, as one content, its sha256 computed by reading them through. */
export const concat = (parts: ReadonlyArray<StoredContent>): Effect.Effect<StoredContent> =>
  Effect.suspend(() => {
    const hash = createHash("sha256")
    const source: Source = { _tag: "Concat", parts }
    return Effect.map(feed(source, (chunk) => hash.update(chunk)), () => ({
      size: parts.reduce((total, part) => total + part.size, 0),
      sha256: hash.digest("hex"),
      source
    }))
  })

/** Frees what a content holds on disk. */
export const discard = (content: StoredContent | undefined): Effect.Effect<void> => {
  if (content === undefined) return Effect.void
  switch (content.source._tag) {
    case "Memory":
      return Effect.void
    case "File":
      return removeFile(content.source.path)
    case "Concat":
      return Effect.forEach(content.source.parts, discard, { discard: true })
  }
}

/** Reads of files on disk: 64 KiB at a time. */
const READ_CHUNK = 64 * 1024

/**
 * The bytes `start` to `end` (inclusive) of a content, streamed: slices of the chunks in memory, a ranged read of
 * the file on disk, or the parts in order. Never held whole.
 */
export const read = (content: StoredContent, start: number, end: number): Stream.Stream<Uint8Array> => {
  if (end < start) return Stream.empty
  const source = content.source
  switch (source._tag) {
    case "Memory":
      return Stream.suspend(() => Stream.fromIterable((function*() {
        let offset = 0
        for (const chunk of source.chunks) {
          const from = Math.max(start - offset, 0)
          const to = Math.min(end - offset + 1, chunk.byteLength)
          if (from < to) yield chunk.subarray(from, to)
          offset += chunk.byteLength
          if (offset > end) return
        }
      })()))
    case "File":
      return Stream.orDie(NodeStream.fromReadable<Error, Uint8Array>(
        () => createReadStream(source.path, { start, end, highWaterMark: READ_CHUNK }),
        (error) => error instanceof Error ? error : new Error(String(error))
      ))
    case "Concat": {
      let offset = 0
      const pieces: Array<Stream.Stream<Uint8Array>> = []
      for (const part of source.parts) {
        const from = Math.max(start, offset)
        const to = Math.min(end, offset + part.size - 1)
        if (from <= to) pieces.push(read(part, from - offset, to - offset))
        offset += part.size
      }
      return Stream.concatAll(Chunk.fromIterable(pieces))
    }
  }
}
