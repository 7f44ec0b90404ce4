/**
 * The Promise entry point, for code that is not an Effect program: `makeFilesClient(config)` gives an object whose
 * methods return Promises. Behind it is a `ManagedRuntime` of the library's layers (`Files`, `CdfClient`,
 * `CdfConfig`, `CdfAuth`, an `HttpClient`), built on the first call and closed by `dispose()`.
 *
 * - Failures reject with the library's own errors (`CdfApiError`, `AuthError`, `UploadError`, ...), not with
 *   `runPromise`'s `FiberFailure` wrapper: `_tag` and every field are there, and `instanceof` works.
 * - `signal` (an `AbortSignal`) interrupts the call: in-flight requests are aborted, a record the call created is
 *   deleted (best effort), and the Promise rejects with the signal's reason (an `AbortError` by default).
 * - `onProgress` is a plain callback (`{ sent, acknowledged, total }`, at most every 100 ms and once at the end).
 *
 * This module is platform-agnostic: it uses `FetchHttpClient` and sends every body from a buffer (portable to
 * browsers, Deno and Bun). On Node use `NodeFilesClient`: undici, streamed bodies, proxies and `uploadFile`.
 *
 * ```ts
 * import { FilesClient } from "@effect-cdf/files"
 *
 * const client = FilesClient.makeFilesClient({ baseUrl, project, token })
 * const file = await client.uploadBytes("hello", { name: "hello.txt", externalId: "greeting" })
 * await client.dispose()
 * ```
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type { Layer, ManagedRuntime, Redacted, Schedule } from "effect"
import { ManagedRuntime as Runtime } from "effect"
import type * as CdfConfig from "./CdfConfig.js"
import type { InvalidConfigError } from "./CdfError.js"
import type * as Content from "./Content.js"
import type * as FileMetadata from "./FileMetadata.js"
import type * as Files from "./Files.js"
import * as internal from "./internal/promise.js"

/**
 * How the client reaches CDF:
 * - `{ baseUrl, project, token, ...CdfConfig.Options }`: a static token (string or `Redacted`), or a function
 *   returning a Promise of one (called once, then kept; called again when the API refuses the token with a 401);
 * - `{ baseUrl, project, clientCredentials: { tokenUrl, clientId, clientSecret, scopes?, audience? }, ... }`: OAuth2
 *   client credentials, cached and refreshed before expiry (`scopes` default to `{baseUrl}/.default`);
 * - `{ fromEnv: true, env?, ...overrides }`: the environment names of `CdfConfig.layerConfig` and
 *   `CdfAuth.layerConfig` (`CDF_URL`/`CDF_CLUSTER`, `CDF_PROJECT`, `CDF_TOKEN`, `IDP_*`, `LOGIN_FLOW`), read from
 *   `env` (default `process.env`), with any `CdfConfig.Options` given overriding them.
 *
 * Every `CdfConfig.Options` (timeouts, retry schedules, part size, ...) can be given too.
 *
 * @since 0.1.0
 * @category models
 */
export type Config = internal.Config

/**
 * The options of `uploadBytes`: every option of `Files.uploadBytes` (the Python SDK's `upload_bytes` parameters),
 * with `onProgress` as a plain callback, and a `signal` to cancel.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadOptions extends internal.UploadOptions {}

/**
 * The options of `uploadContentBytes`: `multipart`, `checksum`, with `onProgress` as a plain callback, and a
 * `signal` to cancel.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadContentOptions extends internal.UploadContentOptions {}

/**
 * A client with Promise methods.
 *
 * @since 0.1.0
 * @category models
 */
export interface FilesClient {
  /** `Files.uploadBytes` as a Promise: creates the record, uploads `content`, resolves with the record. */
  readonly uploadBytes: (content: Content.Input, options: UploadOptions) => Promise<FileMetadata.FileMetadata>
  /** `Files.upload` as a Promise: `uploadBytes` that also gives the bytes sent and (`checksum: "sha256"`) their sha256. */
  readonly upload: (content: Content.Input, options: UploadOptions) => Promise<Files.UploadResult>
  /** `Files.uploadContentBytes` as a Promise: new content for an existing file, by `{ externalId }` or `{ instanceId }`. */
  readonly uploadContentBytes: (
    content: Content.Input,
    file: FileMetadata.ContentIdentifier,
    options?: UploadContentOptions
  ) => Promise<FileMetadata.FileMetadata>
  /** `Files.waitUntilAcknowledged` as a Promise: polls until the file's `uploaded` is true. */
  readonly waitUntilAcknowledged: (
    file: Files.FileIdentifier,
    options?: {
      readonly signal?: AbortSignal | undefined
      readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
    }
  ) => Promise<FileMetadata.FileMetadata>
  /** `Files.retrieve` as a Promise: one record by `{ id }`, `{ externalId }` or `{ instanceId }`. */
  readonly retrieve: (
    file: Files.FileIdentifier,
    options?: { readonly signal?: AbortSignal | undefined }
  ) => Promise<FileMetadata.FileMetadata>
  /** `Files.retrieveMany` as a Promise: many records, 1000 per request, in the order of `ids`. */
  readonly retrieveMany: (
    ids: ReadonlyArray<Files.FileIdentifier>,
    options?: Files.RetrieveManyOptions & { readonly signal?: AbortSignal | undefined }
  ) => Promise<Array<FileMetadata.FileMetadata>>
  /** `Files.list` as a Promise: every matching record (give `limit` to bound them), all pages followed. */
  readonly list: (
    filter?: Files.FileFilter,
    options?: Files.ListOptions & { readonly signal?: AbortSignal | undefined }
  ) => Promise<Array<FileMetadata.FileMetadata>>
  /** `Files.update` as a Promise: the updated records, in the order of `changes`. */
  readonly update: (
    changes: ReadonlyArray<Files.FileChange>,
    options?: { readonly signal?: AbortSignal | undefined }
  ) => Promise<Array<FileMetadata.FileMetadata>>
  /** `Files.delete` as a Promise. */
  readonly delete: (
    ids: ReadonlyArray<Files.DeleteIdentifier>,
    options?: Files.DeleteOptions & { readonly signal?: AbortSignal | undefined }
  ) => Promise<void>
  /** `Files.downloadUrl` as a Promise: the URL, `Redacted` (read it with `Redacted.value`). */
  readonly downloadUrl: (
    file: Files.FileIdentifier,
    options?: Files.DownloadOptions & { readonly signal?: AbortSignal | undefined }
  ) => Promise<Redacted.Redacted<string>>
  /** `Files.download` as a Promise of the whole content (resumed after failures, as the stream is). */
  readonly download: (
    file: Files.FileIdentifier,
    options?: Files.DownloadOptions & { readonly signal?: AbortSignal | undefined }
  ) => Promise<Uint8Array>
  /** Closes the runtime (connections, token refresh); calls made after it reject with an `Error` saying so. */
  readonly dispose: () => Promise<void>
  /** The runtime, to run your own Effects against the same layers (`client.runtime.runPromise(effect)`). */
  readonly runtime: ManagedRuntime.ManagedRuntime<internal.Services, InvalidConfigError>
}

/**
 * Makes a client with the given transport and defaults (for other platforms or tests).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeWith = (
  config: Config,
  transport: Layer.Layer<HttpClient.HttpClient>,
  defaults: Partial<CdfConfig.Options> = {}
): FilesClient => {
  const runtime = Runtime.make(internal.layer(config, transport, defaults))
  const { run: _run, runWith: _runWith, ...methods } = internal.make(runtime)
  return { ...methods, runtime }
}

/**
 * Makes a client on `FetchHttpClient` (bodies sent from buffers, `bodyMode: "buffer"`, unless `config` says
 * otherwise). Throws `InvalidConfigError` at once for an unusable setting (a malformed URL, plain `http://` to a host
 * that is not loopback without `allowInsecureHttp`, a missing environment name with `fromEnv`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeFilesClient = (config: Config): FilesClient =>
  makeWith(config, FetchHttpClient.layer, { bodyMode: "buffer" })
