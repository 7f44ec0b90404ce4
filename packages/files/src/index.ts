/**
 * @since 0.1.0
 */
export * as CdfError from "./CdfError.js"
