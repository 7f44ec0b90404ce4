/**
 * The Promise entry point on Node: `FilesClient` with undici (`NodeTransport`: streamed bodies with
 * Content-Length, keep-alive, `HTTPS_PROXY`/`NO_PROXY`), spooling of unknown-length streams to a temporary file
 * (`NodeFiles.layer`), and `uploadFile(path, options)`.
 *
 * ```ts
 * import { makeFilesClient } from "@effect-cdf/files/NodeFilesClient"
 *
 * const client = makeFilesClient({ fromEnv: true })
 * const file = await client.uploadFile("./report.pdf", { name: "report.pdf", onProgress: (p) => console.log(p.sent) })
 * await client.dispose()
 * ```
 *
 * @since 0.1.0
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import { Layer, type ManagedRuntime } from "effect"
import { ManagedRuntime as Runtime } from "effect"
import type { InvalidConfigError } from "./CdfError.js"
import type * as FileMetadata from "./FileMetadata.js"
import type * as FilesClient from "./FilesClient.js"
import * as internal from "./internal/promise.js"
import type { Spooler } from "./internal/spool.js"
import * as NodeFiles from "./NodeFiles.js"
import * as NodeTransport from "./NodeTransport.js"

/**
 * A `FilesClient` with `uploadFile`, on Node.
 *
 * @since 0.1.0
 * @category models
 */
export interface NodeFilesClient extends Omit<FilesClient.FilesClient, "runtime"> {
  /**
   * `NodeFiles.uploadFile` as a Promise: streams the file from disk with its size known (one PUT, or parts above
   * the single-PUT threshold, each re-read from the file if it must be resent).
   */
  readonly uploadFile: (path: string, options: FilesClient.UploadOptions) => Promise<FileMetadata.FileMetadata>
  /** The runtime, to run your own Effects against the same layers. */
  readonly runtime: ManagedRuntime.ManagedRuntime<
    internal.Services | Spooler | FileSystem.FileSystem,
    InvalidConfigError
  >
}

/**
 * Makes a client on undici (`NodeTransport.layer`). Throws `InvalidConfigError` at once for an unusable setting.
 * See `FilesClient.Config` for the configurations.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeFilesClient = (config: FilesClient.Config): NodeFilesClient => {
  const runtime = Runtime.make(Layer.merge(internal.layer(config, NodeTransport.layer, {}), NodeFiles.layer))
  const { run: _run, runWith, ...methods } = internal.make(runtime)
  return {
    ...methods,
    uploadFile: (path, options) => runWith(options, (options) => NodeFiles.uploadFile(path, options)),
    runtime
  }
}
