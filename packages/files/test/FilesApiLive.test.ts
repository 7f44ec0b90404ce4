/**
 * The Files API around an upload on a real loopback port (undici, live clock, millisecond schedules): the same
 * calls as FilesApi.test.ts, through the Effect API and the Promise client.
 */
import { Emulator } from "@effect-cdf/emulator"
import { Files } from "@effect-cdf/files"
import { makeFilesClient } from "@effect-cdf/files/NodeFilesClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted, Schedule } from "effect"
import { onPort } from "./FilesFixtures.js"

const millis = {
  apiRetrySchedule: Schedule.exponential("5 millis").pipe(Schedule.intersect(Schedule.recurs(3))),
  transferRetrySchedule: Schedule.exponential("5 millis").pipe(Schedule.intersect(Schedule.recurs(3))),
  maxRetryDelay: "50 millis" as const
}

const routeCount = (route: string) =>
  Effect.flatMap(Emulator.Emulator, (emulator) =>
    Effect.map(emulator.requests, (requests) => requests.filter((r) => r.route === route).length))

describe("Files API on a real port", () => {
  it.live("retrieveMany of 1200 files: 2 byids requests, order kept; delete of them: 2 delete requests", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const ids = yield* Effect.forEach(Array.from({ length: 1200 }, (_, i) => i), (i) =>
        Effect.map(emulator.createInstanceFile({ instanceId: { space: "sp", externalId: `n_${i}` } }), (f) => f.id))
      const asked = [...ids].reverse().map((id) => ({ id }))
      const records = yield* Files.retrieveMany(asked)
      expect(records.map((r) => r.id)).toEqual(asked.map((a) => a.id))
      expect(yield* routeCount("files.byids")).toBe(2)
      yield* Files.delete(asked)
      expect(yield* routeCount("files.delete")).toBe(2)
      expect((yield* emulator.files).length).toBe(0)
    }).pipe(Effect.provide(onPort({}, millis))), 60_000)

  it.live("the Promise client: retrieveMany and delete", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const client = makeFilesClient({ baseUrl: emulator.baseUrl, project: emulator.project, token: Redacted.value(emulator.token) })
      yield* Effect.addFinalizer(() => Effect.promise(() => client.dispose()))
      const file = yield* Effect.promise(() => client.uploadBytes("p", { name: "p.txt", externalId: "promise-p" }))
      const found = yield* Effect.promise(() =>
        client.retrieveMany([{ externalId: "promise-p" }, { externalId: "promise-none" }], { ignoreUnknownIds: true }))
      expect(found.map((f) => f.id)).toEqual([file.id])
      yield* Effect.promise(() => client.delete([{ id: file.id }]))
      expect((yield* emulator.files).length).toBe(0)
      const rejected = yield* Effect.promise(() => client.retrieveMany([{ id: file.id }]).then(() => undefined, (e) => e))
      expect(rejected?._tag).toBe("CdfApiError")
    }).pipe(Effect.scoped, Effect.provide(onPort({}, millis))), 60_000)
})
