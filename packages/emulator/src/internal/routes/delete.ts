/**
 * `POST files/delete`: removes records and their content.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { Handler } from "../http.js"
import { ok, readJson } from "../http.js"
import * as Records from "../records.js"
import * as S from "../schema.js"
import type { State } from "../state.js"

export const make = (state: State): Handler => (ctx) =>
  Effect.gen(function*() {
    const { ignoreUnknownIds, items } = yield* readJson(ctx, S.decodeDeleteIds)
    const found = yield* Records.findAll(state, items, ignoreUnknownIds === true)
    for (const { entry } of found) {
      // the same file twice (by id and by externalId) is removed once
      if (state.files.has(entry.id)) yield* Records.remove(state, entry)
    }
    return ok({})
  })
