/**
 * Spooling of one-shot streams of unknown length (to learn their size), provided by a platform entry point
 * (`NodeFiles.layer` on Node). Without it, such a stream can be sent only up to one part.
 *
 * @internal
 */
import { Context, type Effect, type Scope, type Stream } from "effect"
import type { FileSizeLimitError, InvalidContentError, UploadError } from "../CdfError.js"
import type { ContentImpl, ContentReadError } from "./content.js"

/** @internal */
export interface SpoolerService {
  /**
   * Writes the whole stream to a temporary place removed when the scope closes, and returns it as replayable
   * content of known size. Fails with `FileSizeLimitError` (path `stream`) as soon as the stream passes `limit`.
   */
  readonly spool: (
    stream: Stream.Stream<Uint8Array, ContentReadError>,
    limit: number
  ) => Effect.Effect<{ readonly content: ContentImpl; readonly size: number }, FileSizeLimitError | UploadError | InvalidContentError, Scope.Scope>
}

/** @internal */
export class Spooler extends Context.Tag("@effect-cdf/files/Spooler")<Spooler, SpoolerService>() {}
