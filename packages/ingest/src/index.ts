/**
 * @effect-cdf/ingest: durable bulk ingestion of files into Cognite Data Fusion (see docs/ingest.md).
 *
 * Map of the package: `Ingest.ts` (signatures and docs); in `internal/`: `sync.ts` (runs a job, the layers),
 * `workflows.ts` (the job and batch workflows and their activities), `store.ts` (the ingest tables), `walk.ts`
 * (sources), `runtime.ts` (what the workflows of one process share; metrics), `model.ts` (schemas).
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as Ingest from "./Ingest.js"

/**
 * @since 0.1.0
 */
export * as IngestCluster from "./IngestCluster.js"
