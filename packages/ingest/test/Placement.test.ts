/**
 * The spread of a job's batches over the engine's shards (`internal/placement.ts`), with a stand-in for the
 * engine's hash: a shard from the sha256 of the candidate id, as evenly distributed as the engine's own.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect } from "effect"
import { createHash } from "node:crypto"
import { batchCount, batchSpreads, spreadOverShards } from "../src/internal/placement.js"

const shards = 300
const shardOfId = (id: string) => createHash("sha256").update(id).digest().readUInt32BE(0) % shards
const shardOf = (batch: number, spread: number) => Effect.sync(() => shardOfId(`job/1/${batch}/${spread}`))

/** Batches per runner, for three runners holding every third shard (the hash ring gives each 100 shards). */
const shares = (placed: ReadonlyArray<number>) => {
  const counts = [0, 0, 0]
  for (const shard of placed) counts[shard % 3]++
  return counts
}

describe("spreading a job's batches over the engine's shards", () => {
  it("a job of a shard's worth of batches or more gets a multiple of the shard count; a smaller one, one per size", () => {
    expect(batchCount(4320, 10, shards)).toBe(300)
    expect(batchCount(10_000, 10, shards)).toBe(900)
    expect(batchCount(100_000, 100, shards)).toBe(900)
    expect(batchCount(720, 10, shards)).toBe(72)
    expect(batchCount(0, 10, shards)).toBe(0)
  })

  it.effect("300 and 900 batches fill 300 shards one round at a time: every shard holds 1, then 3", () =>
    Effect.gen(function*() {
      for (const batches of [300, 900]) {
        const spreads = yield* spreadOverShards(batches, shards, shardOf)
        const placed = spreads.map((spread, batch) => shardOfId(`job/1/${batch}/${spread}`))
        const perShard = new Map<number, number>()
        for (const shard of placed) perShard.set(shard, (perShard.get(shard) ?? 0) + 1)
        expect(perShard.size).toBe(shards)
        expect(new Set(perShard.values())).toEqual(new Set([batches / shards]))
        // three runners holding 100 shards each get the same number of batches
        expect(shares(placed)).toEqual([batches / 3, batches / 3, batches / 3])
        // by the hash alone (every spread 0) the same batches do not
        const byHash = shares(spreads.map((_, batch) => shardOfId(`job/1/${batch}/0`)))
        expect(Math.max(...byHash) - Math.min(...byHash)).toBeGreaterThan(0)
      }
    }))

  it.effect("the same job gives the same spreads (a Plan executed again gives the same batch ids)", () =>
    Effect.gen(function*() {
      const first = yield* spreadOverShards(900, shards, shardOf)
      expect(yield* spreadOverShards(900, shards, shardOf)).toEqual(first)
      expect(first.every((spread) => Number.isInteger(spread) && spread >= 0)).toBe(true)
    }))

  it.effect("with no sharding (the in-memory engine) every spread is 0", () =>
    Effect.map(batchSpreads(3, Context.empty(), () => Effect.succeed("unused")), (spreads) => expect(spreads).toEqual([0, 0, 0])))
})
