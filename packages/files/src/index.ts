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
