/**
 * The walk of a directory source, over real directories, seen as a user of `Ingest.sync` sees it: the records the
 * emulator holds and the outcomes reported. Symbolic links are never followed (a loop made by `ln -s . loop` or a
 * link to a parent uploads nothing twice) and are reported skipped; a name that is not valid UTF-8 and an entry that
 * cannot be read are reported failed, never left out without a word.
 */
import { CdfAuth, CdfClient, CdfConfig, Files } from "@effect-cdf/files"
import { Emulator } from "@effect-cdf/emulator"
import * as FileSystem from "@effect/platform/FileSystem"
import { SystemError } from "@effect/platform/Error"
import { NodeFileSystem, NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Stream } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Ingest } from "../src/index.js"

/** A temporary directory holding `tree/` (built by `build`) and room for a state file. */
const makeDirs = (build: (tree: string) => void) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "ingest-walk-"))
  const tree = path.join(root, "tree")
  fs.mkdirSync(tree)
  build(tree)
  return { tree, state: path.join(root, "state.db") }
}

const write = (file: string, content: string | Uint8Array) => {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, content)
}

/** `name` as raw bytes: a path node:fs takes as is, with no UTF-8 encoding (so it may be invalid UTF-8). */
const rawPath = (dir: string, ...bytes: ReadonlyArray<number>) =>
  Buffer.concat([Buffer.from(dir + "/"), Buffer.from(bytes)])

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

const run = (source: Ingest.Source, options: Ingest.SyncOptions) =>
  Stream.runCollect(Ingest.sync(source, options)).pipe(
    Effect.map(Chunk.toArray),
    Effect.map((events) => {
      const summary = events.filter((e): e is Ingest.Summary => e._tag === "Summary")
      expect(summary).toHaveLength(1)
      return { files: events.filter((e): e is Ingest.FileOutcome => e._tag === "File"), summary: summary[0] }
    })
  )

/** Each reported path with its status and, for an entry of the walk, its tag. */
const reported = (files: ReadonlyArray<Ingest.FileOutcome>) =>
  Object.fromEntries(files.map((f) => [f.path, f.error === undefined ? f.status : `${f.status} ${f.error.tag}`]))

const storedIds = Effect.map(
  Effect.flatMap(Emulator.Emulator, (emulator) => emulator.files),
  (files) => files.map((f) => f.externalId).sort()
)

describe("the walk of a directory: symbolic links", () => {
  it.live("a loop (ln -s . loop) is not followed: every file is uploaded once, the link is reported skipped", () => {
    const dirs = makeDirs((tree) => {
      write(path.join(tree, "a.txt"), "hi\n")
      write(path.join(tree, "sub", "b.txt"), "bee\n")
      fs.symlinkSync(".", path.join(tree, "loop"))
    })
    return Effect.gen(function*() {
      const first = yield* run(Ingest.directory(dirs.tree), { externalIdPrefix: "lp/" })
      expect(reported(first.files)).toEqual({
        "a.txt": "uploaded",
        "sub/b.txt": "uploaded",
        loop: "skipped SymbolicLinkNotFollowed"
      })
      const loop = first.files.find((f) => f.path === "loop")
      expect(loop?.externalId).toBe("lp/loop")
      expect(loop?.error?.message).toBe("a symbolic link to a directory, not followed: sync does not follow symbolic links")
      expect(first.summary).toMatchObject({ uploaded: 2, skipped: 1, failed: 0, bytes: 3 + 4 })
      expect(yield* storedIds).toEqual(["lp/a.txt", "lp/sub/b.txt"])
      // the next run skips the unchanged files and passes the link again, recorded in the job's counts
      const second = yield* run(Ingest.directory(dirs.tree), { externalIdPrefix: "lp/" })
      expect(reported(second.files)).toEqual({
        "a.txt": "skipped",
        "sub/b.txt": "skipped",
        loop: "skipped SymbolicLinkNotFollowed"
      })
      expect(second.summary).toMatchObject({ run: 2, uploaded: 0, skipped: 3, failed: 0 })
      expect((yield* Ingest.jobs)[0]).toMatchObject({ run: 2, state: "done", uploaded: 0, skipped: 3, failed: 0 })
      expect(yield* storedIds).toEqual(["lp/a.txt", "lp/sub/b.txt"])
    }).pipe(Effect.provide(Ingest.layerSqlite({ filename: dirs.state }).pipe(Layer.provideMerge(filesLayer))))
  })

  it.live("a link to a parent directory, a link to a file and a FIFO are passed over: only regular files are uploaded", () => {
    const dirs = makeDirs((tree) => {
      write(path.join(tree, "a.txt"), "alpha\n")
      write(path.join(tree, "sub", "c.txt"), "gamma\n")
      fs.symlinkSync("..", path.join(tree, "sub", "up"))
      fs.symlinkSync("../a.txt", path.join(tree, "sub", "to-file"))
      fs.symlinkSync("missing", path.join(tree, "broken"))
      execFileSync("mkfifo", [path.join(tree, "pipe")])
    })
    return Effect.gen(function*() {
      const { files, summary } = yield* run(Ingest.directory(dirs.tree), { externalIdPrefix: "p/" })
      expect(reported(files)).toEqual({
        "a.txt": "uploaded",
        "sub/c.txt": "uploaded",
        "sub/up": "skipped SymbolicLinkNotFollowed",
        "sub/to-file": "skipped SymbolicLinkNotFollowed",
        broken: "skipped SymbolicLinkNotFollowed",
        pipe: "skipped NotARegularFile"
      })
      const message = (p: string) => files.find((f) => f.path === p)?.error?.message
      expect(message("sub/up")).toMatch(/^a symbolic link to a directory, not followed/)
      expect(message("sub/to-file")).toMatch(/^a symbolic link to a file, not followed/)
      expect(message("broken")).toMatch(/^a broken symbolic link/)
      expect(message("pipe")).toMatch(/^a FIFO/)
      expect(summary).toMatchObject({ uploaded: 2, skipped: 4, failed: 0 })
      expect(yield* storedIds).toEqual(["p/a.txt", "p/sub/c.txt"])
      // the include/exclude globs apply to the links as to the files
      const only = yield* run(Ingest.directory(dirs.tree, { exclude: ["sub/**"] }), { externalIdPrefix: "p/", dryRun: true })
      expect(reported(only.files)).toEqual({
        "a.txt": "skipped",
        broken: "skipped SymbolicLinkNotFollowed",
        pipe: "skipped NotARegularFile"
      })
    }).pipe(Effect.provide(Ingest.layerMemory.pipe(Layer.provideMerge(filesLayer))))
  })
})

describe("the walk of a directory: entries it cannot sync are reported failed", () => {
  it.live("a name that is not valid UTF-8 (a file, a directory) is a failed file named in the report", () => {
    const dirs = makeDirs((tree) => {
      write(path.join(tree, "ok.txt"), "ok")
      fs.writeFileSync(rawPath(tree, 0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74), "x") // caf\xe9.txt (latin-1)
      fs.mkdirSync(rawPath(tree, 0x64, 0xff)) // d\xff
      fs.writeFileSync(Buffer.concat([rawPath(tree, 0x64, 0xff), Buffer.from("/in.txt")]), "in")
    })
    return Effect.gen(function*() {
      const { files, summary } = yield* run(Ingest.directory(dirs.tree), { externalIdPrefix: "bad/" })
      expect(reported(files)).toEqual({
        "ok.txt": "uploaded",
        "caf\\xe9.txt": "failed InvalidFileNameError",
        "d\\xff": "failed InvalidFileNameError"
      })
      const cafe = files.find((f) => f.path === "caf\\xe9.txt")
      expect(cafe?.error?.message).toMatch(/^its name is not valid UTF-8 .*: rename the file to sync it$/)
      expect(files.find((f) => f.path === "d\\xff")?.error?.message).toMatch(/^a directory whose name is not valid UTF-8 .*: its files are not synced/)
      expect(summary).toMatchObject({ uploaded: 1, skipped: 0, failed: 2, bytes: 2 })
      expect(yield* storedIds).toEqual(["bad/ok.txt"])
      expect((yield* Ingest.jobs)[0]).toMatchObject({ state: "done", uploaded: 1, failed: 2 })
      // a dry run reports them the same way
      const dry = yield* run(Ingest.directory(dirs.tree), { externalIdPrefix: "bad/", dryRun: true })
      expect(reported(dry.files)).toEqual({
        "ok.txt": "skipped",
        "caf\\xe9.txt": "failed InvalidFileNameError",
        "d\\xff": "failed InvalidFileNameError"
      })
      expect(dry.summary).toMatchObject({ dryRun: true, skipped: 1, failed: 2 })
    }).pipe(Effect.provide(Ingest.layerSqlite({ filename: dirs.state }).pipe(Layer.provideMerge(filesLayer))))
  })

  it.live("a file whose stat fails during the walk is reported failed with the error", () => {
    const dirs = makeDirs((tree) => {
      write(path.join(tree, "a.txt"), "alpha\n")
      write(path.join(tree, "gone.txt"), "removed since the listing\n")
    })
    // the file system answers the listing, then fails the file's stat (a file removed since, say)
    const failingStat = Layer.effect(
      FileSystem.FileSystem,
      Effect.map(FileSystem.FileSystem, (real) => ({
        ...real,
        stat: (p: string) =>
          p.endsWith("gone.txt")
            ? Effect.fail(new SystemError({ reason: "NotFound", module: "FileSystem", method: "stat", pathOrDescriptor: p }))
            : real.stat(p)
      }))
    )
    return Effect.gen(function*() {
      const { files, summary } = yield* run(Ingest.directory(dirs.tree), { externalIdPrefix: "s/", dryRun: true })
      expect(reported(files)).toEqual({ "a.txt": "would-upload", "gone.txt": "failed UnreadableEntryError" })
      expect(files.find((f) => f.path === "gone.txt")?.error?.message).toMatch(/^cannot read it: NotFound/)
      expect(summary).toMatchObject({ uploaded: 1, failed: 1 })
    }).pipe(
      Effect.provide(failingStat),
      Effect.provide(Ingest.layerMemory.pipe(Layer.provideMerge(filesLayer)))
    )
  })
})
