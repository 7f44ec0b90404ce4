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
import * as Records from "../records.js"
import * as S from "../schema.js"
import type { State } from "../state.js"

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

  return { byIds, get }
}
