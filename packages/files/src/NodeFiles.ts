/**
 * The Node entry point of `@effect-cdf/files` (`@effect-cdf/files/NodeFiles`): files on disk as replayable content
 * of known size read by range (so a failed part is re-read from the file, not held in memory), `uploadFile`, and
 * spooling of one-shot streams of unknown length to a temporary file, so that they can go through multipart.
 *
 * @since 0.1.0
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Effect, Layer } from "effect"
import type { CdfError, UploadError } from "./CdfError.js"
import type * as Content from "./Content.js"
import type * as FileMetadata from "./FileMetadata.js"
import * as Files from "./Files.js"
import * as internal from "./internal/nodeFiles.js"
import { Sha256Factory } from "./internal/sha256.js"
import { Spooler, type SpoolerService } from "./internal/spool.js"

/**
 * A file as replayable `Content` of known size (its size when this runs). The file is opened once here, so a file
 * that cannot be read (missing, a directory, no permission) fails now, with the code of the failure (`ENOENT`,
 * `EACCES`), before any request; every read (an attempt, a part) opens the file again at the range it needs.
 *
 * @since 0.1.0
 * @category constructors
 */
export const content: (path: string) => Effect.Effect<Content.Content, UploadError, FileSystem.FileSystem> =
  internal.content

/**
 * A file as replayable `Content` of a size the caller already measured (a directory walk, say), without another
 * `stat`. A file that cannot be read fails now (`UploadError` `Content`, with the code of the failure), before any
 * request. A file of up to 64 KiB is read whole here and its bytes are sent (on every attempt the same bytes); a
 * larger one is opened here and read only when the upload runs, range by range or, up to 1 MiB in one PUT, whole. If
 * the file is then no longer `size` bytes long (it changed since it was measured), the upload fails with
 * `UploadError` `Content` rather than sending other bytes than were planned.
 *
 * @since 0.1.0
 * @category constructors
 */
export const contentOfSize: (
  path: string,
  size: number
) => Effect.Effect<Content.Content, UploadError, FileSystem.FileSystem> = internal.contentOfSize

/**
 * The spooler `NodeFiles.layer` provides: writes a one-shot stream of unknown length to a temporary file (removed
 * when the upload ends), failing with `FileSizeLimitError` (path `stream`) as soon as it passes the limit.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeSpooler: Effect.Effect<SpoolerService, never, FileSystem.FileSystem> = internal.makeSpooler

/**
 * Provides spooling (to the `FileSystem`'s temporary directory) to uploads of one-shot streams of unknown length.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSpool: Layer.Layer<Spooler, never, FileSystem.FileSystem> = Layer.effect(Spooler, makeSpooler)

/**
 * The sha256 of `checksum: "sha256"` from node:crypto (native, about ten times the portable one's speed).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSha256: Layer.Layer<Sha256Factory> = Layer.succeed(Sha256Factory, internal.nodeSha256)

/**
 * Node's `FileSystem`, spooling to `os.tmpdir()` and node:crypto's sha256: provide it to uploads (or to your program)
 * on Node.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Spooler | Sha256Factory | FileSystem.FileSystem> = Layer.merge(
  layerSpool.pipe(Layer.provideMerge(NodeFileSystem.layer)),
  layerSha256
)

/**
 * Uploads a file from disk, streamed with its known size: one PUT up to the single-PUT threshold, multipart above
 * it, every part re-read from the file if it has to be sent again.
 *
 * @since 0.1.0
 * @category uploads
 */
export const uploadFile = (
  path: string,
  options: Files.UploadBytesOptions
): Effect.Effect<FileMetadata.FileMetadata, CdfError, Files.Files | FileSystem.FileSystem> =>
  Effect.flatMap(content(path), (c) => Files.uploadBytes(c, options)).pipe(
    Effect.withSpan("NodeFiles.uploadFile")
  )
