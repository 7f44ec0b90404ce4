/**
 * Where the engine runs the batches of a job. The engine puts a workflow execution on the shard of its id's hash, and
 * its hash ring gives every runner an equal number of shards. So the runners of a job get equal shares only when the
 * job's batches fill the shards evenly. By the hash alone they fill them at random, and the busiest runner holds the
 * whole job back (docs/benchmarks.md, "Cluster"). `Plan` therefore cuts a job into a multiple of the shard count
 * of batches (`batchCount`), and gives each batch a `spread`: a number in the batch's id, chosen so that the batch
 * lands on one of the shards that hold the fewest batches (`spreadOverShards`). Only the engine's
 * public functions are used (`Workflow.executionId`, `Sharding.getShardId`); the engine still places and runs
 * every batch.
 *
 * @internal
 */
import * as ClusterSchema from "@effect/cluster/ClusterSchema"
import * as EntityId from "@effect/cluster/EntityId"
import * as Sharding from "@effect/cluster/Sharding"
import * as ShardingConfig from "@effect/cluster/ShardingConfig"
import { Context, Effect, Option } from "effect"

/**
 * The number of batches of a job of `files` files cut into batches of about `size`, on an engine of `shards`
 * shards. With at least one batch per shard, it is a multiple of the shard count, so that `spreadOverShards` can put
 * the same number of batches on every shard, and every runner gets the same share give or take a file per batch.
 * A smaller job keeps one batch per `size` files, on as many different shards.
 *
 * @internal
 */
export const batchCount = (files: number, size: number, shards: number): number => {
  const bySize = Math.ceil(files / size)
  return bySize < shards ? bySize : shards * Math.round(bySize / shards)
}

/**
 * A `spread` for each of `batches` batches, by the shard of each candidate (`shardOf(batch, spread)`, spreads 0, 1,
 * 2, …): the first that lands on a shard holding fewer batches than the current round gives every shard. Shards are
 * thus filled one round at a time, each round one batch per shard; the last shards of a round take a few hundred
 * candidates each, so a job of 1000 batches on 300 shards tries about 6000 ids. The same inputs give the same
 * spreads, so a `Plan` executed again gives the same ids.
 *
 * @internal
 */
export const spreadOverShards = <E, R>(
  batches: number,
  shards: number,
  shardOf: (batch: number, spread: number) => Effect.Effect<number, E, R>
): Effect.Effect<Array<number>, E, R> =>
  Effect.gen(function*() {
    const filled = new Map<number, number>()
    const spreads: Array<number> = []
    // past this many candidates a batch takes the least filled shard it has seen (1 chance in 10^7 on 300 shards)
    const tries = 16 * shards
    for (let batch = 0; batch < batches; batch++) {
      const round = Math.floor(batch / shards)
      let best = { spread: 0, shard: -1, count: Number.POSITIVE_INFINITY }
      for (let spread = 0; spread < tries && best.count > round; spread++) {
        const shard = yield* shardOf(batch, spread)
        const count = filled.get(shard) ?? 0
        if (count < best.count) best = { spread, shard, count }
      }
      filled.set(best.shard, best.count + 1)
      spreads.push(best.spread)
    }
    return spreads
  })

/**
 * The shard count of the engine of this process (its `ShardingConfig`, else the engine's default).
 *
 * @internal
 */
export const shardCount: Effect.Effect<number> = Effect.map(
  Effect.serviceOption(ShardingConfig.ShardingConfig),
  Option.match({ onNone: () => ShardingConfig.defaults.shardsPerGroup, onSome: (config) => config.shardsPerGroup })
)

/**
 * The spreads of a job's batches on the engine of this process, given the id of a batch with a spread. With no
 * sharding (the in-memory engine) every spread is 0.
 *
 * @internal
 */
export const batchSpreads = (
  batches: number,
  annotations: Context.Context<never>,
  idOf: (batch: number, spread: number) => Effect.Effect<string>
): Effect.Effect<Array<number>> =>
  Effect.flatMap(Effect.serviceOption(Sharding.Sharding), (sharding) => {
    if (Option.isNone(sharding)) return Effect.succeed(Array.from({ length: batches }, () => 0))
    const group = Context.get(annotations, ClusterSchema.ShardGroup)
    return Effect.flatMap(shardCount, (shards) =>
      spreadOverShards(batches, shards, (batch, spread) =>
        Effect.map(idOf(batch, spread), (id) => {
          const entityId = EntityId.make(id)
          return sharding.value.getShardId(entityId, group(entityId)).id
        })))
  })
