/**
 * @effect-cdf/ingest: durable bulk ingestion of files into Cognite Data Fusion (the package is being built: see
 * issue 14 and docs/ingest.md).
 *
 * @since 0.1.0
 */
export {}
