/**
 * The code of `NodeFiles`: files on disk as replayable content (read by range, or whole when small) and the spooler
 * of one-shot streams of unknown length to a temporary file.
 *
 * @internal
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Chunk, Effect, Option, Predicate, type Scope, Stream } from "effect"
import { FileSizeLimitError, type InvalidContentError, UploadError } from "../CdfError.js"
import type * as Content from "../Content.js"
import { type ContentImpl, ContentReadError, fromBytes, fromRanged, type RangeReader } from "./content.js"
import { readFailed, readFailureOf } from "./contentValidation.js"
import type { Hash } from "./sha256.js"
import type { SpoolerService } from "./spool.js"
import { createHash } from "node:crypto"
import { constants as FsConstants } from "node:fs"
import * as FsPromises from "node:fs/promises"

/**
 * Bytes per read from a file. Each read goes into a fresh buffer that lives only until the request has sent it, and
 * nothing is read ahead: `FileSystem.stream` (1 MiB reads, 16 chunks of read-ahead per stream) kept about 50 MiB in
 * flight for three parts, long enough for the GC to move it to the old generation.
 */
const readSize = 256 * 1024

/**
 * The bytes `[start, end)` of the file at `path`, read through the platform's `FileSystem` into fresh `readSize`
 * buffers, one read per pull (`File.readAlloc`; `FileSystem.stream` would read 16 chunks ahead); the file is opened
 * when the stream starts and closed when it ends, fails or is interrupted. A file that ends early fails the stream.
 */
const readRange = (
  fs: FileSystem.FileSystem,
  path: string,
  start: number,
  end: number
): Stream.Stream<Uint8Array, unknown> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const file = yield* fs.open(path, { flag: "r" })
    yield* file.seek(FileSystem.Size(start), "start")
    let position = start
    return Stream.repeatEffectOption(Effect.suspend(() => {
      if (position >= end) return Effect.fail(Option.none())
      return file.readAlloc(FileSystem.Size(Math.min(readSize, end - position))).pipe(
        Effect.mapError(Option.some),
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(Option.some(`the file ended ${end - position} bytes early`)),
          onSome: (bytes) => {
            position += bytes.length
            return Effect.succeed(bytes)
          }
        }))
      )
    }))
  }))

/**
 * Opens `path` for reading without blocking, and checks that it is a regular file. A FIFO (or a device) put in the
 * place of a file since it was measured would otherwise block the open until something writes to it, inside the
 * uninterruptible acquisition of the file: a hang that not even Ctrl-C ends. On a regular file `O_NONBLOCK` changes
 * nothing.
 */
const openRegular = (path: string): Effect.Effect<OpenFile, unknown, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => FsPromises.open(path, FsConstants.O_RDONLY | (FsConstants.O_NONBLOCK ?? 0)),
      catch: (e) => e
    }),
    (handle) => Effect.promise(() => handle.close().catch(() => undefined))
  ).pipe(
    Effect.flatMap((handle) =>
      Effect.tryPromise({ try: () => handle.stat(), catch: (e) => e }).pipe(
        Effect.filterOrFail((info) => info.isFile(), () => new Error("not a regular file (any more)")),
        Effect.map((info): OpenFile => ({ handle, size: info.size }))
      )
    )
  )

/** A regular file open for reading, and its size when it was opened. */
interface OpenFile {
  readonly handle: FsPromises.FileHandle
  readonly size: number
}

/**
 * The bytes `[start, end)` of the file at `path` opened for an HTTP client that reads the body itself (a PUT or a
 * part through `NodeTransport`): node:fs/promises reads into fresh `readSize` buffers, one promise per chunk, the
 * file closed with the scope. Measured on 1 GiB sent in 50 MiB parts (docs/benchmarks-history.md, "Files sent by
 * range"): the same range as an Effect stream (`readRange`) handed to undici as a Node `Readable` cost about three
 * times the CPU of a hand-written `node:http` client, and most of the difference was the stream's per-chunk work and
 * the adapter between the two.
 */
const openRange = (path: string, start: number, end: number): Effect.Effect<RangeReader, unknown, Scope.Scope> =>
  Effect.map(
    openRegular(path),
    ({ handle }): RangeReader => {
      let position = start
      return async () => {
        if (position >= end) return undefined
        const buffer = Buffer.allocUnsafeSlow(Math.min(readSize, end - position))
        const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, position)
        if (bytesRead === 0) throw new ContentReadError(`the file ended ${end - position} bytes early`)
        position += bytesRead
        return bytesRead === buffer.byteLength ? buffer : buffer.subarray(0, bytesRead)
      }
    }
  )

/**
 * Reads go through the platform's `FileSystem`, each range (an attempt, a part) from its own file descriptor; or,
 * for an HTTP client that reads bodies itself, through `openRange`.
 */
const rangedFile = (fs: FileSystem.FileSystem, path: string, size: number): ContentImpl =>
  fromRanged(size, (start, end) => end <= start ? Stream.empty : readRange(fs, path, start, end), {
    // a small file sent in one PUT is read whole, once per attempt (one read, no stream)
    readAll: () => readWhole(path),
    open: (start, end) => openRange(path, start, end)
  })

/**
 * A file as replayable `Content` of known size (its size when this runs). The file is opened once here, so a file
 * that cannot be read (missing, a directory, no permission) fails now, with the code of the failure (`ENOENT`,
 * `EACCES`), before any request; every read (an attempt, a part) opens the file again at the range it needs.
 *
 * @internal
 */
export const content = (path: string): Effect.Effect<Content.Content, UploadError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const info = yield* fs.stat(path).pipe(Effect.mapError(unreadable(path)))
    if (info.type !== "File") {
      return yield* new UploadError({ message: `${path} is not a file`, reason: "Content" })
    }
    yield* checkReadable(path)
    return rangedFile(fs, path, Number(info.size))
  })

/** The `UploadError` of a file that cannot be read, with the code and message of the failure. */
const unreadable = (path: string) => (e: unknown): UploadError => {
  const { code, message } = readFailureOf(Predicate.hasProperty(e, "cause") && e.cause !== undefined ? e.cause : e)
  return new UploadError({
    message: `cannot read the file ${path}: ${message.replace(/^reading the content failed: ?/, "") || "unknown error"}`,
    reason: "Content",
    ...(code === undefined ? {} : { code })
  })
}

/** Opens and closes the file: the check that it can be read (and is still a regular file), before any request. */
const checkReadable = (path: string): Effect.Effect<void, UploadError> =>
  Effect.scoped(openRegular(path)).pipe(Effect.asVoid, Effect.mapError(unreadable(path)))

/**
 * The file at `path` read whole, at the size it has when opened: four calls to the file system (open, fstat, read,
 * close), as `readFile` makes.
 */
const readWhole = (path: string): Effect.Effect<Uint8Array, unknown> =>
  Effect.scoped(Effect.flatMap(openRegular(path), ({ handle, size }) =>
    Effect.tryPromise({
      try: async () => {
        const buffer = Buffer.allocUnsafe(size)
        const { bytesRead } = size === 0 ? { bytesRead: 0 } : await handle.read(buffer, 0, size, 0)
        return buffer.subarray(0, bytesRead)
      },
      catch: (e) => e
    })))

/**
 * Files up to this size are read whole by `contentOfSize` when it runs: the read is the check that the file can be
 * read, and the upload sends those bytes. For a bulk upload of small files that is four file-system calls a file
 * instead of six (an open and a close to check, then a whole read per attempt), each a round trip through Node's
 * thread pool.
 */
const readNowUpTo = 64 * 1024

/**
 * A file as replayable `Content` of a size the caller already measured (a directory walk, say), without another
 * `stat`. A file that cannot be read fails now (`UploadError` `Content`, with the code of the failure), before any
 * request. A file of up to 64 KiB is read whole here and its bytes are sent (on every attempt the same bytes); a
 * larger one is opened here and read only when the upload runs, range by range or, up to 1 MiB in one PUT, whole. If
 * the file is then no longer `size` bytes long (it changed since it was measured), the upload fails with
 * `UploadError` `Content` rather than sending other bytes than were planned.
 *
 * @internal
 */
export const contentOfSize = (
  path: string,
  size: number
): Effect.Effect<Content.Content, UploadError, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    size > readNowUpTo
      ? Effect.as(checkReadable(path), rangedFile(fs, path, size))
      : readWhole(path).pipe(
        Effect.mapError(unreadable(path)),
        // not the size measured: the ranged reads report the change when the upload runs
        Effect.map((bytes): Content.Content => bytes.byteLength === size ? fromBytes(bytes) : rangedFile(fs, path, size))
      ))

const spoolBufferSize = 1024 * 1024

/**
 * The spooler `NodeFiles.layer` provides: writes a one-shot stream of unknown length to a temporary file (removed
 * when the upload ends), failing with `FileSizeLimitError` (path `stream`) as soon as it passes the limit.
 *
 * @internal
 */
export const makeSpooler: Effect.Effect<SpoolerService, never, FileSystem.FileSystem> = Effect.map(
  FileSystem.FileSystem,
  (fs): SpoolerService => ({
    spool: (stream, limit) =>
      Effect.gen(function*() {
        const failed = (e: { readonly message: string }) =>
          new UploadError({ message: `spooling to a temporary file failed: ${e.message}`, reason: "Content" })
        const dir = yield* fs.makeTempDirectoryScoped({ prefix: "effect-cdf-spool-" }).pipe(Effect.mapError(failed))
        const path = `${dir}/content`
        const size = yield* Effect.scoped(Effect.gen(function*() {
          const file = yield* fs.open(path, { flag: "w" })
          return yield* writeAll(stream, limit, (bytes) => file.writeAll(bytes))
        })).pipe(
          Effect.catchTag("SystemError", (e) => Effect.fail(failed(e))),
          Effect.catchTag("BadArgument", (e) => Effect.fail(failed(e)))
        )
        return { content: rangedFile(fs, path, size), size }
      }).pipe(Effect.withSpan("effect-cdf.files.spool"))
  })
)

/**
 * Copies `stream` into one reused buffer and hands it to `write` each time it is full (and once at the end), so
 * `write` must be done with the bytes when its effect completes; returns the number of bytes.
 */
const writeAll = <E>(
  stream: Stream.Stream<Uint8Array, ContentReadError>,
  limit: number,
  write: (bytes: Uint8Array) => Effect.Effect<void, E>
): Effect.Effect<number, E | FileSizeLimitError | UploadError | InvalidContentError> =>
  Effect.suspend(() => {
    const buffer = new Uint8Array(spoolBufferSize)
    let filled = 0
    let size = 0
    const flush = (): Effect.Effect<void, E> => {
      const n = filled
      filled = 0
      return n === 0 ? Effect.void : write(buffer.subarray(0, n))
    }
    // Copies `bytes` from `offset` into the buffer: undefined when all of it fit, else the effect that writes the
    // full buffer and goes on with the rest.
    const take = (bytes: Uint8Array, offset: number): Effect.Effect<void, E> | undefined => {
      while (offset < bytes.byteLength) {
        const n = Math.min(buffer.byteLength - filled, bytes.byteLength - offset)
        buffer.set(n === bytes.byteLength ? bytes : bytes.subarray(offset, offset + n), filled)
        filled += n
        offset += n
        if (filled === buffer.byteLength) {
          const rest = offset
          return Effect.flatMap(flush(), () => take(bytes, rest) ?? Effect.void)
        }
      }
      return undefined
    }
    const takeAll = (chunk: Chunk.Chunk<Uint8Array>): Effect.Effect<void, E | FileSizeLimitError> => {
      let i = 0
      const next = (): Effect.Effect<void, E | FileSizeLimitError> => {
        while (i < chunk.length) {
          const bytes = Chunk.unsafeGet(chunk, i++)
          size += bytes.byteLength
          if (size > limit) {
            return Effect.fail(
              new FileSizeLimitError({
                message: `the stream passed ${limit} bytes, the most a multipart upload can take`,
                size,
                limit,
                path: "stream"
              })
            )
          }
          const writing = take(bytes, 0)
          if (writing !== undefined) return Effect.flatMap(writing, next)
        }
        return Effect.void
      }
      return next()
    }
    return stream.pipe(
      Stream.mapError(readFailed),
      Stream.runForEachChunk(takeAll),
      Effect.zipRight(Effect.suspend(flush)),
      Effect.map(() => size)
    )
  })

/** node:crypto's sha256. @internal */
export const nodeSha256 = (): Hash => {
  const hash = createHash("sha256")
  return { update: (data) => void hash.update(data), digestHex: () => hash.digest("hex") }
}
