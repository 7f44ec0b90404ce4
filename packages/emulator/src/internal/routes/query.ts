/**
 * The read routes of the API: `GET files/{id}`, `files/byids`, `files/list` (filter and cursor), `files/search`
 * and `files/aggregate`.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type { Handler } from "../http.js"
import { ApiError, ok, readJson } from "../http.js"
import * as Filter from "../filter.js"
import * as Q from "../querySchema.js"
import * as Records from "../records.js"
import * as S from "../schema.js"
import type { FileEntry, State } from "../state.js"

type FileRecord = Record<string, unknown>

/** How well a record's name answers a search (0: not at all): exact, prefix, substring, then shared words. */
const relevance = (query: string, name: string): number => {
  const q = query.toLowerCase().trim()
  const n = name.toLowerCase()
  if (q === "") return 1
  if (n === q) return 100
  if (n.startsWith(q)) return 50
  if (n.includes(q)) return 20
  const words = q.split(/[^\p{L}\p{N}]+/u).filter((word) => word.length > 0)
  return words.filter((word) => n.includes(word)).length
}

export const make = (state: State) => {
  const byIds: Handler = (ctx) =>
    Effect.gen(function*() {
      const { ignoreUnknownIds, items } = yield* readJson(ctx, S.decodeByIds)
      yield* Records.checkUnique(items)
      const found = yield* Records.findAll(state, items, ignoreUnknownIds === true)
      const now = yield* Clock.currentTimeMillis
      return ok({ items: found.map(({ entry }) => state.renderRecord(entry, now)) })
    })

  const get: Handler = (ctx) =>
    Effect.gen(function*() {
      const raw = ctx.params["id"] ?? ""
      const id = /^\d+$/.test(raw) ? Number(raw) : NaN
      if (!Number.isSafeInteger(id) || id < 1) {
        return yield* new ApiError({ status: 400, message: `id: must be an integer between 1 and 9007199254740991` })
      }
      const entry = state.files.get(id)
      if (entry === undefined) return yield* Records.notFound([{ id }])
      return ok(yield* Records.render(state, entry))
    })

  /** Every record in id order (the stable order of list pages), rendered now. */
  const records = Effect.map(Clock.currentTimeMillis, (now) =>
    [...state.files.values()]
      .sort((a, b) => a.id - b.id)
      .map((entry): [FileEntry, FileRecord] => [entry, state.renderRecord(entry, now)]))

  const list: Handler = (ctx) =>
    Effect.gen(function*() {
      const body = yield* readJson(ctx, Q.decodeList)
      const matches = yield* Filter.compile(body.filter)
      const inPartition = yield* Filter.partition(body.partition)
      const after = yield* Filter.decodeCursor(body.cursor)
      const limit = body.limit ?? 100
      const items: Array<FileRecord> = []
      let lastId = after
      for (const [entry, record] of yield* records) {
        if (entry.id <= after || !inPartition(entry.id) || !matches(record)) continue
        // one more match than the page holds: there is a next page, starting after the last id given
        if (items.length === limit) return ok({ items, nextCursor: Filter.encodeCursor(lastId) })
        items.push(record)
        lastId = entry.id
      }
      return ok({ items })
    })

  const search: Handler = (ctx) =>
    Effect.gen(function*() {
      const body = yield* readJson(ctx, Q.decodeSearch)
      const matches = yield* Filter.compile(body.filter)
      const name = body.search?.name ?? undefined
      const scored = (yield* records)
        .filter(([, record]) => matches(record))
        .map(([entry, record]) => ({
          id: entry.id,
          record,
          score: name === undefined ? 1 : relevance(name, entry.fields.name)
        }))
        .filter((item) => item.score > 0)
        .sort((a, b) => b.score - a.score || a.id - b.id)
      return ok({ items: scored.slice(0, body.limit ?? 100).map((item) => item.record) })
    })

  const aggregate: Handler = (ctx) =>
    Effect.gen(function*() {
      const body = yield* readJson(ctx, Q.decodeAggregate)
      const matches = yield* Filter.compile(body.filter)
      const count = (yield* records).filter(([, record]) => matches(record)).length
      return ok({ items: [{ count }] })
    })

  return { byIds, get, list, search, aggregate }
}
