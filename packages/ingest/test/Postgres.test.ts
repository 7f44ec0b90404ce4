import { ClusterMetrics, ClusterWorkflowEngine, RunnerAddress } from "@effect/cluster"
import { NodeClusterSocket } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { assert, describe, layer } from "@effect/vitest"
import { Workflow } from "@effect/workflow"
import { Effect, Fiber, Layer, Metric, Option, Schema } from "effect"
import { IngestCluster } from "../src/index.js"
import * as Net from "node:net"
import * as Postgres from "./support/postgres.js"

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = Net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as Net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

const Sql = Layer.unwrapEffect(Effect.map(Postgres.Postgres, (pg) => PgClient.layer({ url: pg.url })))

const Double = Workflow.make({
  name: "Double",
  payload: { n: Schema.Number },
  success: Schema.Number,
  idempotencyKey: ({ n }) => String(n)
})

describe("a throwaway PostgreSQL for the cluster tests", () => {
  layer(Postgres.layer, { timeout: "60 seconds", excludeTestServices: true })("server", (it) => {
    it.effect("answers queries as a non-root server on a loopback port, and survives a restart", () =>
      Effect.gen(function*() {
        const pg = yield* Postgres.Postgres
        const sql = yield* PgClient.PgClient
        const rows = yield* sql<{ user: string; port: number }>`SELECT current_user AS user, inet_server_port() AS port`
        assert.deepStrictEqual(rows, [{ user: "effect", port: pg.port }])
        yield* pg.stop
        const down = yield* Effect.either(sql`SELECT 1`)
        assert.strictEqual(down._tag, "Left")
        yield* pg.start
        const up = yield* sql<{ one: number }>`SELECT 1 AS one`.pipe(Effect.retry({ times: 20 }))
        assert.deepStrictEqual(up, [{ one: 1 }])
      }).pipe(Effect.provide(Sql)), { timeout: 60_000 })

    it.effect("runs a workflow on a socket runner whose storage is PostgreSQL, and stores its reply there", () =>
      Effect.gen(function*() {
        const port = yield* Effect.promise(freePort)
        const Runner = NodeClusterSocket.layer({
          storage: "sql",
          shardingConfig: { runnerAddress: Option.some(RunnerAddress.make("127.0.0.1", port)) }
        })
        const Engine = ClusterWorkflowEngine.layer.pipe(Layer.provideMerge(Runner), Layer.provideMerge(Sql))
        const DoubleLive = Double.toLayer(({ n }) => Effect.succeed(n * 2))
        const result = yield* Double.execute({ n: 21 }).pipe(
          Effect.provide(DoubleLive.pipe(Layer.provideMerge(Engine)))
        )
        assert.strictEqual(result, 42)
        const sql = yield* PgClient.PgClient
        const tables = yield* sql<{ name: string }>`
          SELECT table_name AS name FROM information_schema.tables WHERE table_name LIKE 'cluster_%' ORDER BY 1`
        assert.includeMembers(tables.map((t) => t.name), ["cluster_messages", "cluster_replies", "cluster_runners"])
      }).pipe(Effect.provide(Sql)), { timeout: 60_000 })

    it.effect("processes starting at once create the tables one after the other: a start waits for the start-up lock", () =>
      Effect.gen(function*() {
        const pg = yield* Postgres.Postgres
        const sql = yield* PgClient.PgClient
        // another process is starting: it holds the lock ("cdf1") while it creates the tables
        const other = yield* sql.reserve
        yield* other.executeRaw("SELECT pg_advisory_lock($1)", [0x63646631])
        const starting = yield* Layer.build(IngestCluster.layerState({ url: pg.url })).pipe(Effect.fork)
        yield* Effect.sleep("700 millis")
        assert.isNull(starting.unsafePoll(), "the start went ahead while another held the lock")
        yield* other.executeRaw("SELECT pg_advisory_unlock($1)", [0x63646631])
        yield* Fiber.join(starting)
        const tables = yield* sql<{ name: string }>`
          SELECT table_name AS name FROM information_schema.tables WHERE table_name LIKE 'cdf_ingest_%' ORDER BY 1`
        assert.includeMembers(tables.map((t) => t.name), ["cdf_ingest_items", "cdf_ingest_jobs"])
        // and the lock is free again once the start is done
        const [free] = yield* sql<{ got: boolean }>`SELECT pg_try_advisory_lock(${0x63646631}) AS got`
        assert.isTrue(free!.got)
      }).pipe(Effect.scoped, Effect.provide(Sql)), { timeout: 60_000 })

    // the runner's watch (IngestCluster.watchRunner) reads the engine's shard gauge of this process: set here
    it.effect("watchRunner fails once the runner holds no shard while its database answers, and only then", () =>
      Effect.gen(function*() {
        const pg = yield* Postgres.Postgres
        const watch = IngestCluster.watchRunner({ stalledAfter: "1 second" })
        // holding shards: the runner works, the watch goes on
        yield* Metric.set(ClusterMetrics.shards, BigInt(12))
        assert.isTrue(Option.isNone(yield* Effect.timeoutOption(Effect.flip(watch), "5 seconds")))
        // no shard, and the database away: it cannot take shards, the watch waits for the database
        yield* Metric.set(ClusterMetrics.shards, BigInt(0))
        yield* pg.stop
        const whileDown = yield* Effect.timeoutOption(Effect.flip(watch), "5 seconds")
        yield* pg.start
        assert.isTrue(Option.isNone(whileDown))
        // no shard with the database answering: stuck, restart it
        const stuck = yield* Effect.flip(watch).pipe(Effect.timeout("15 seconds"))
        assert.strictEqual(stuck._tag, "IngestError")
        assert.strictEqual(stuck.reason, "State")
        assert.include(stuck.message, "has held no shard for 1 s while its database answers")
      }).pipe(Effect.provide(Sql)), { timeout: 60_000 })
  })
})
