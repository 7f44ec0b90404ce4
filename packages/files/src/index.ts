/**
 * @since 0.1.0
 */
export * as CdfError from "./CdfError.js"

/**
 * The file records of the CDF Files API: `FileMetadata` (response) and the upload options with every limit of the spec.
 *
 * @since 0.1.0
 */
export * as FileMetadata from "./FileMetadata.js"

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
 * The one place that talks to the CDF API: base URL, auth, identification headers, typed errors, retries.
 *
 * @since 0.1.0
 */
export * as CdfClient from "./CdfClient.js"

/**
 * The CDF Files service: `uploadBytes` and `retrieve`.
 *
 * @since 0.1.0
 */
export * as Files from "./Files.js"

/**
 * The Promise entry point: `makeFilesClient(config)` for code that is not an Effect program (Node: `NodeFilesClient`).
 *
 * @since 0.1.0
 */
export * as FilesClient from "./FilesClient.js"
