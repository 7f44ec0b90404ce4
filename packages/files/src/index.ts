/**
 * `@effect-cdf/files`: uploads files to Cognite Data Fusion, as Effects (`Files`) or Promises (`FilesClient`).
 *
 * Map of the package. Public modules (`src/*.ts`) hold one concept each: signatures and docs; the code is in
 * `src/internal/`.
 * - Retry and timeout policy (which failures are retried, how often, how far apart; how long an attempt may take):
 *   `internal/retryPolicy.ts`, whose top comment also names the few timeouts that live with their one caller.
 * - A new content kind (what uploads accept): `internal/content.ts` (the `RawInput` union, how `make` tells the kind
 *   and the `Source` it reads), then the list of kinds in `Content.ts`'s docs and in the error of
 *   `internal/contentValidation.ts`'s `invalidKind`.
 * - A new body strategy (how the bytes of a PUT are sent): `internal/uploadBody.ts` (its picker, `attemptOf`, is
 *   there; what every attempt shares is in `internal/uploadRequest.ts`).
 * - The Node transport (undici agent, proxies): `internal/nodeTransport.ts`, exposed by `NodeTransport.ts`.
 * - The `Files` service: built in `internal/filesService.ts` from the upload orchestration
 *   (`internal/uploadFlow.ts`, `internal/multipartSession.ts`) and the API calls on records
 *   (`internal/fileRecords.ts`, bodies in `internal/fileWire.ts`; deleting a record a failed call created:
 *   `internal/recordCleanup.ts`).
 * - File records and their limits: `FileMetadata.ts` (model), `FileIdentifier.ts` (which file),
 *   `internal/metadataValidation.ts` (upload options checked against the spec).
 * - Settings and their defaults: `CdfConfig.ts`, code in `internal/config.ts`; the bearer token (static, OAuth2
 *   client credentials, from the environment): `CdfAuth.ts`, code in `internal/auth.ts`; files on disk and the
 *   spooling of unsized streams: `NodeFiles.ts`, code in `internal/nodeFiles.ts`.
 *
 * Import rule (no cycles, type-only imports included): a public module takes its code from `internal/`, and code in
 * `internal/` takes nothing from the public service modules (`Files`, `CdfClient`, `CdfConfig`, `CdfAuth`, ...) but
 * types, and only types that do not import it back: a type both sides need is declared in `internal/` and extended
 * by the public one (`interface Options extends internal.Options {}`). Values it takes only from the data and error
 * modules, which import nothing that imports them back: `CdfError.ts`, `FileMetadata.ts`, `FileIdentifier.ts`,
 * `Content.ts`, `MultipartCheckpoint.ts` (records and errors must be constructed). The one exception is
 * `internal/promise.ts`, the Promise facade, which builds and runs the services. ESLint enforces the values
 * (`eslint.config.js`) and `test/ImportCycles.test.ts` the cycles.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as CdfError from "./CdfError.js"

/**
 * The file records of the CDF Files API: `FileMetadata` (response, with its geometry) and the upload options with
 * every limit of the spec.
 *
 * @since 0.1.0
 */
export * as FileMetadata from "./FileMetadata.js"

/**
 * Which file: `{ id }`, `{ externalId }` or `{ instanceId: { space, externalId } }`, with the spec's limits, and
 * their validation.
 *
 * @since 0.1.0
 */
export * as FileIdentifier from "./FileIdentifier.js"

/**
 * The settings of a CDF client: base URL, project, client name, timeouts, retry schedules, transfer sizes.
 *
 * @since 0.1.0
 */
export * as CdfConfig from "./CdfConfig.js"

/**
 * How the client gets its bearer token: a static token, OAuth2 client credentials, or the environment.
 *
 * @since 0.1.0
 */
export * as CdfAuth from "./CdfAuth.js"

/**
 * What an upload sends: strings, bytes, Blobs, streams, async iterables, ReadableStreams, replayable factories.
 *
 * @since 0.1.0
 */
export * as Content from "./Content.js"

/**
 * Upload progress `{ sent, acknowledged, total }`, as an effectful callback or a `Stream`.
 *
 * @since 0.1.0
 */
export * as Progress from "./Progress.js"

/**
 * Permits shared by fibers, handed out first in, first out: the limit on concurrent transfers.
 *
 * @since 0.1.0
 */
export * as Permits from "./Permits.js"

/**
 * The one place that talks to the CDF API: base URL, auth, identification headers, typed errors, retries.
 *
 * @since 0.1.0
 */
export * as CdfClient from "./CdfClient.js"

/**
 * The CDF Files service: uploads (`uploadBytes`, `upload`, `uploadContentBytes`, the multipart sessions), records
 * (`retrieve`, `retrieveMany`, `list`, `update`, `delete`, `waitUntilAcknowledged`) and downloads (`downloadUrl`,
 * `download`).
 *
 * @since 0.1.0
 */
export * as Files from "./Files.js"

/**
 * Resumable multipart uploads: the JSON-serialisable `MultipartCheckpoint` of an upload in flight and the `resume`
 * option that hands checkpoints out and continues from one after a restart.
 *
 * @since 0.1.0
 */
export * as MultipartCheckpoint from "./MultipartCheckpoint.js"

/**
 * The Promise entry point: `makeFilesClient(config)` for code that is not an Effect program (Node: `NodeFilesClient`).
 *
 * @since 0.1.0
 */
export * as FilesClient from "./FilesClient.js"

/**
 * Helpers for tests of code that uses the library: a recorder of spans and log lines, and runners that give the typed
 * failure of an Effect to Promise-style test runners. The `Files` stack on the in-memory emulator is
 * `@effect-cdf/files/CdfTestEmulator` (not exported here: it needs `@effect-cdf/emulator`).
 *
 * @since 0.1.0
 */
export * as CdfTest from "./CdfTest.js"
