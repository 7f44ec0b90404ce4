/**
 * `persist` with `dataDir`: the records of a server that stopped are there at the next start (ids, fields, content
 * and its sha256, external and instance ids), new ids do not reuse old ones, and a snapshot of another project or
 * one that does not decode stops the start; without `persist` every start is empty.
 */
import { Emulator } from "@effect-cdf/emulator"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { createFile, json, postJson, sha256 } from "./utils.js"

/** Runs `body` against a server on a real port, stopped (and so saved) at the end. */
const withServer = <A, E>(options: Emulator.ServerOptions, body: Effect.Effect<A, E, Emulator.Emulator | HttpClient.HttpClient>) =>
  body.pipe(
    Effect.provide(Layer.merge(Emulator.layerServer({ port: 0, ...options }), FetchHttpClient.layer)),
    Effect.orDie
  )

describe("persist", () => {
  it.effect("a restart keeps the records, their content and their ids; new ids follow the old ones", () =>
    Effect.gen(function*() {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "emulator-persist-"))
      const first = yield* withServer({ dataDir, persist: true }, Effect.gen(function*() {
        const a = yield* createFile({ name: "a.txt", externalId: "a", metadata: { k: "v" } }, "alpha\n")
        const b = yield* createFile({ name: "b.txt", externalId: "b" })
        return [a.id as number, b.id as number]
      }))
      expect(fs.existsSync(path.join(dataDir, "records.json"))).toBe(true)
      yield* withServer({ dataDir, persist: true }, Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const files = yield* emulator.files
        expect(files.map((f) => [f.id, f.externalId, f.uploaded, f.sha256])).toEqual([
          [first[0], "a", true, sha256("alpha\n")],
          [first[1], "b", false, undefined]
        ])
        const byIds = yield* json(yield* postJson("files/byids", { items: [{ externalId: "a" }] }))
        expect((byIds.items as Array<Record<string, unknown>>)[0]).toMatchObject({ name: "a.txt", metadata: { k: "v" } })
        // the bytes come back through a download link
        const link = yield* json(yield* postJson("files/downloadlink", { items: [{ externalId: "a" }] }))
        const url = (link.items as Array<{ downloadUrl: string }>)[0]!.downloadUrl
        const text = yield* Effect.promise(() => fetch(url).then((r) => r.text()))
        expect(text).toBe("alpha\n")
        const c = yield* createFile({ name: "c.txt", externalId: "c" })
        expect(c.id as number).toBeGreaterThan(Math.max(...first))
      }))
    }))

  it.effect("without persist a start is empty; a snapshot of another project, or a broken one, stops the start", () =>
    Effect.gen(function*() {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "emulator-persist-"))
      yield* withServer({ dataDir, persist: true }, createFile({ name: "a.txt", externalId: "a" }, "alpha\n"))
      const plain = yield* withServer({ dataDir }, Effect.flatMap(Emulator.Emulator, (emulator) => emulator.files))
      expect(plain).toEqual([])
      const other = yield* Effect.exit(withServer({ dataDir, persist: true, project: "other" }, Effect.void))
      expect(Exit.isFailure(other) && Cause.pretty(other.cause)).toContain("are of project emulator, not other")
      fs.writeFileSync(path.join(dataDir, "records.json"), "{ not json")
      const broken = yield* Effect.exit(withServer({ dataDir, persist: true }, Effect.void))
      expect(Exit.isFailure(broken) && Cause.pretty(broken.cause)).toContain("records.json cannot be read")
    }))
})
