/**
 * `Ingest.sync` against the emulator on a loopback port, with the embedded SQLite engine (a state file in a
 * temporary directory) and, once, the in-memory engine.
 */
import { CdfAuth, CdfClient, CdfConfig, Files } from "@effect-cdf/files"
import { Emulator } from "@effect-cdf/emulator"
import { NodeFileSystem, NodeHttpClient } from "@effect/platform-node"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Metric, Stream } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Ingest } from "../src/index.js"
import * as Runtime from "../src/internal/runtime.js"
import * as Store from "../src/internal/store.js"
import { spreadBatchSize, transferBatch } from "../src/internal/workflows.js"

const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex")

const makeTree = () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "ingest-test-"))
  const write = (rel: string, content: string | Uint8Array) => {
    fs.mkdirSync(path.dirname(path.join(root, "tree", rel)), { recursive: true })
    fs.writeFileSync(path.join(root, "tree", rel), content)
  }
  write("a.txt", "alpha\n")
  write("b.pdf", "%PDF-b\n")
  write("sub/c.pdf", new Uint8Array(70_000).map((_, i) => i % 251))
  write("sub/deeper/d.txt", "delta\n")
  write("tmp/x.pdf", "temporary\n")
  write(".hidden", "dot\n")
  return { root, tree: path.join(root, "tree"), state: path.join(root, "state.db") }
}

const filesLayer = Layer.unwrapEffect(Effect.map(Emulator.Emulator, (emulator) =>
  Files.layer.pipe(
    Layer.provideMerge(CdfClient.layer),
    Layer.provideMerge(CdfConfig.layer({ baseUrl: emulator.baseUrl, project: emulator.project })),
    Layer.provide(CdfAuth.layerToken(emulator.token))
  ))).pipe(
    Layer.provideMerge(Layer.orDie(Emulator.layerServer({ port: 0 }))),
    Layer.provideMerge(NodeHttpClient.layerUndici),
    Layer.provideMerge(NodeFileSystem.layer)
  )

const collect = (source: Ingest.Source, options: Ingest.SyncOptions) =>
  Stream.runCollect(Ingest.sync(source, options)).pipe(Effect.map(Chunk.toArray))

const split = (events: ReadonlyArray<Ingest.SyncEvent>) => {
  const files = events.filter((e): e is Ingest.FileOutcome => e._tag === "File")
  const summary = events.filter((e): e is Ingest.Summary => e._tag === "Summary")
  expect(summary).toHaveLength(1)
  expect(events[events.length - 1]._tag).toBe("Summary")
  return { files, summary: summary[0] }
}

const statuses = (files: ReadonlyArray<Ingest.FileOutcome>) =>
  Object.fromEntries(files.map((f) => [f.externalId, f.status]).sort(([a], [b]) => a.localeCompare(b)))

const writes = (requests: ReadonlyArray<Emulator.LoggedRequest>) =>
  requests.filter((r) => r.route !== "files.byids" && r.route !== "token")

describe("Ingest.sync", () => {
  it.live("dry run: lists what would be uploaded, sends no write and writes no run", () => {
    const dirs = makeTree()
    return Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { files, summary } = split(
        yield* collect(Ingest.directory(dirs.tree), { externalIdPrefix: "t/", dryRun: true })
      )
      expect(statuses(files)).toEqual({
        "t/.hidden": "would-upload",
        "t/a.txt": "would-upload",
        "t/b.pdf": "would-upload",
        "t/sub/c.pdf": "would-upload",
        "t/sub/deeper/d.txt": "would-upload",
        "t/tmp/x.pdf": "would-upload"
      })
      expect(summary).toMatchObject({ dryRun: true, uploaded: 6, skipped: 0, failed: 0 })
      expect(writes(yield* emulator.requests)).toEqual([])
      expect(yield* emulator.files).toEqual([])
      expect(yield* Ingest.jobs).toEqual([])
    }).pipe(Effect.provide(Ingest.layerSqlite({ filename: dirs.state }).pipe(Layer.provideMerge(filesLayer))))
  })

  it.live("uploads with include/exclude, then a rerun skips everything, then a touched file is uploaded again", () => {
    const dirs = makeTree()
    const source = Ingest.directory(dirs.tree, { include: ["**/*.pdf", "**/*.txt"], exclude: ["tmp/**"] })
    const options = { externalIdPrefix: "t/", directory: "/docs", batchSize: 2 }
    return Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const first = split(yield* collect(source, options))
      expect(statuses(first.files)).toEqual({
        "t/a.txt": "uploaded",
        "t/b.pdf": "uploaded",
        "t/sub/c.pdf": "uploaded",
        "t/sub/deeper/d.txt": "uploaded"
      })
      expect(first.summary).toMatchObject({ run: 1, resumed: false, uploaded: 4, skipped: 0, failed: 0 })
      expect(first.summary.bytes).toBe(6 + 7 + 70_000 + 6)
      const stored = yield* emulator.files
      expect(stored.map((f) => [f.externalId, f.record.directory, f.sha256]).sort()).toEqual([
        ["t/a.txt", "/docs", sha256("alpha\n")],
        ["t/b.pdf", "/docs", sha256("%PDF-b\n")],
        ["t/sub/c.pdf", "/docs/sub", sha256(fs.readFileSync(path.join(dirs.tree, "sub/c.pdf")))],
        ["t/sub/deeper/d.txt", "/docs/sub/deeper", sha256("delta\n")]
      ])
      for (const f of stored) {
        const rel = f.externalId!.slice(2)
        expect(f.record.sourceModifiedTime).toBe(fs.statSync(path.join(dirs.tree, rel)).mtime.getTime())
      }

      const before = (yield* emulator.requests).length
      const second = split(yield* collect(source, options))
      expect(statuses(second.files)).toEqual({
        "t/a.txt": "skipped",
        "t/b.pdf": "skipped",
        "t/sub/c.pdf": "skipped",
        "t/sub/deeper/d.txt": "skipped"
      })
      expect(second.summary).toMatchObject({ run: 2, uploaded: 0, skipped: 4, failed: 0, bytes: 0 })
      const rerun = (yield* emulator.requests).slice(before)
      // one byids call per batch of 2, and nothing else
      expect(rerun.map((r) => r.route)).toEqual(["files.byids", "files.byids"])

      const later = new Date(Date.now() + 60_000)
      fs.utimesSync(path.join(dirs.tree, "b.pdf"), later, later)
      const third = split(yield* collect(source, options))
      expect(statuses(third.files)).toMatchObject({ "t/b.pdf": "uploaded", "t/a.txt": "skipped" })
      expect(third.summary).toMatchObject({ run: 3, uploaded: 1, skipped: 3 })
      const b = (yield* emulator.files).filter((f) => f.externalId === "t/b.pdf")
      expect(b).toHaveLength(1)
      expect(b[0].record.sourceModifiedTime).toBe(fs.statSync(path.join(dirs.tree, "b.pdf")).mtime.getTime())

      const jobs = yield* Ingest.jobs
      expect(jobs).toHaveLength(1)
      expect(jobs[0]).toMatchObject({ run: 3, state: "done", uploaded: 1, skipped: 3, failed: 0, prefix: "t/" })
      expect(jobs[0].jobId).toBe(third.summary.jobId)

      const counter = yield* Metric.value(Metric.tagged(Ingest.filesTotal, "outcome", "uploaded"))
      expect(counter.count).toBeGreaterThanOrEqual(5)
    }).pipe(Effect.provide(Ingest.layerSqlite({ filename: dirs.state }).pipe(Layer.provideMerge(filesLayer))))
  })

  it.live("the in-memory engine; a file that fails is an outcome with its error, the others go on", () => {
    const dirs = makeTree()
    return Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      // an external id over 255 characters fails before anything is sent
      const long = "p/".repeat(130)
      const { files, summary } = split(yield* collect(Ingest.directory(dirs.tree, { include: ["*.txt", "*.pdf"] }), {
        externalIdPrefix: long
      }))
      expect(files.map((f) => f.status)).toEqual(["failed", "failed"])
      expect(files[0].error?.tag).toBe("InvalidFileMetadataError")
      expect(summary).toMatchObject({ uploaded: 0, failed: 2 })
      // the dry run reports such a file the same way, beside one whose id the API takes (245 + 5 characters)
      const dry = split(yield* collect(Ingest.directory(dirs.tree, { include: ["**/*.txt"] }), {
        externalIdPrefix: "p".repeat(245),
        dryRun: true
      }))
      expect(dry.files.map((f) => [f.path, f.status, f.error?.tag])).toEqual([
        ["a.txt", "would-upload", undefined],
        ["sub/deeper/d.txt", "failed", "InvalidFileMetadataError"]
      ])
      expect(dry.summary).toMatchObject({ dryRun: true, uploaded: 1, failed: 1 })
      const ok = split(yield* collect(Ingest.directory(dirs.tree, { include: ["*.txt", "*.pdf"] }), {
        externalIdPrefix: "m/"
      }))
      expect(ok.summary).toMatchObject({ uploaded: 2, failed: 0 })
      expect((yield* emulator.files).map((f) => f.externalId).sort()).toEqual(["m/a.txt", "m/b.pdf"])
    }).pipe(Effect.provide(Ingest.layerMemory.pipe(Layer.provideMerge(filesLayer))))
  })
})

describe("a Transfer executed again (after a kill, or on another runner)", () => {
  // the batch of three planned and decided `upload`; b.pdf then stored in CDF as the stopped execution would have
  // left it: uploaded, with the file's mtime, and no outcome written. `begun` says whether the batch's Transfer had
  // begun before: only then are the files with no outcome put through the skip rule first.
  const transferAgain = (begun: boolean) => {
    const dirs = makeTree()
    const jobId = "job"
    const payload = { jobId, run: 1, batch: 0, checksum: false, concurrency: 4, bytesInFlight: 1 << 20 }
    const items = ["a.txt", "b.pdf", "sub/deeper/d.txt"].map((rel, seq): Store.PlannedItem => {
      const file = path.join(dirs.tree, rel)
      const stat = fs.statSync(file)
      return { path: rel, file, size: stat.size, mtime: stat.mtime.getTime(), seq, batch: 0, externalId: `r/${rel}`, directory: undefined }
    })
    return Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* Store.migrate
      yield* Store.startRun({ jobId, source: dirs.tree, prefix: "r/", target: "emulator", now: Date.now() })
      yield* Store.writePlan(jobId, 1, items)
      yield* Store.writeDecisions(jobId, 1, items.map((item) => ({ seq: item.seq, decision: "upload" as const })))
      if (begun) expect(yield* Store.beginTransfer(jobId, 1, 0)).toBe(false)
      const b = items[1]
      yield* Files.upload(fs.readFileSync(b.file), { name: "b.pdf", externalId: b.externalId, sourceModifiedTime: b.mtime, overwrite: true })
      const reported: Array<Ingest.FileOutcome> = []
      yield* Runtime.register(Runtime.jobKey(jobId, 1), {
        source: Ingest.directory(dirs.tree),
        limits: yield* Runtime.makeLimits(4, 1 << 20),
        emit: (outcomes) => Effect.sync(() => reported.push(...outcomes))
      })
      const putsBefore = (yield* emulator.requests).filter((r) => r.route === "storage.put").length
      yield* transferBatch(payload)
      const puts = (yield* emulator.requests).filter((r) => r.route === "storage.put").length - putsBefore
      const stored = yield* emulator.files
      expect(stored.map((f) => [f.externalId, f.sha256]).sort()).toEqual([
        ["r/a.txt", sha256("alpha\n")],
        ["r/b.pdf", sha256("%PDF-b\n")],
        ["r/sub/deeper/d.txt", sha256("delta\n")]
      ])
      const rows = yield* Store.batchItems(jobId, 1, 0)
      expect(rows.map((row) => row.outcome)).toEqual(["uploaded", "uploaded", "uploaded"])
      expect(reported.map((outcome) => [outcome.externalId, outcome.status, outcome.bytes]).sort()).toEqual(
        items.map((item) => [item.externalId, "uploaded", item.size])
      )
      // the Transfer is marked begun for the next execution
      expect(yield* Store.beginTransfer(jobId, 1, 0)).toBe(true)
      return puts
    }).pipe(
      Effect.scoped,
      Effect.provide(Layer.mergeAll(Runtime.layerRuntime, SqliteClient.layer({ filename: dirs.state }), filesLayer))
    )
  }

  it.live("the files stored in CDF before their outcomes were written are recorded, not sent again", () =>
    Effect.map(transferAgain(true), (puts) => expect(puts).toBe(2)))

  it.live("(the first execution sends every file it is given: b.pdf goes again, under its external id)", () =>
    Effect.map(transferAgain(false), (puts) => expect(puts).toBe(3)))
})

describe("the batch size of a job on runners (none given)", () => {
  it("about 1000 batches, of 10 files at least and 1000 at most", () => {
    const batches = (files: number) => Math.ceil(files / spreadBatchSize(files))
    expect(spreadBatchSize(1)).toBe(10)
    expect(batches(720)).toBe(72)
    expect(batches(10_000)).toBe(1000)
    expect([spreadBatchSize(100_000), batches(100_000)]).toEqual([100, 1000])
    expect([spreadBatchSize(5_000_000), batches(5_000_000)]).toEqual([1000, 5000])
  })
})
