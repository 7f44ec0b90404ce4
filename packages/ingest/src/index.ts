/**
 * @effect-cdf/ingest: durable bulk ingestion of files into Cognite Data Fusion (see docs/ingest.md).
 *
 * Map of the package: `Ingest.ts` and `IngestCluster.ts` (signatures and docs); in `internal/`: `sync.ts` (runs a
 * job, the layers), `cluster.ts` (runners on PostgreSQL), `workflows.ts` (the job and batch workflows and their
 * activities), `skipRule.ts` (what exists in CDF, and what is skipped), `placement.ts` (batches over the engine's
 * shards), `store.ts` (the ingest tables), `walk.ts` (sources), `runtime.ts` (what the workflows of one process
 * share: limits, metrics), `model.ts` (schemas).
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
