/**
 * The walk of `cdf-files upload`'s paths: a file reached twice is uploaded once, and the second path is listed as
 * skipped, whether it is the same path given twice or another path to the same file.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { walk } from "../src/internal/walk.js"

const roots: Array<string> = []
afterAll(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true })
})

const tree = () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "cdf-files-walk-"))
  roots.push(root)
  fs.mkdirSync(path.join(root, "t"))
  fs.writeFileSync(path.join(root, "t", "a.txt"), "a")
  fs.writeFileSync(path.join(root, "t", "b.txt"), "b")
  return root
}

const options = { recursive: true, followSymlinks: false }

describe("walking the paths", () => {
  it.effect("the same path given twice: uploaded once, the second listed as skipped", () =>
    Effect.gen(function*() {
      const a = path.join(tree(), "t", "a.txt")
      const walked = yield* walk([a, a], options)
      expect(walked.files.map((f) => f.path)).toEqual([a])
      expect(walked.skipped).toEqual([{ path: a, reason: "given twice: uploaded once" }])
    }))

  it.effect("a directory and a file in it: the file once, its second path listed, like another path to it", () =>
    Effect.gen(function*() {
      const root = tree()
      const dir = path.join(root, "t")
      const a = path.join(dir, "a.txt")
      const other = `${dir}${path.sep}.${path.sep}a.txt`
      const walked = yield* walk([dir, a, other], options)
      expect(walked.files.map((f) => f.path)).toEqual([a, path.join(dir, "b.txt")])
      expect(walked.skipped).toEqual([
        { path: a, reason: "given twice: uploaded once" },
        { path: other, reason: `the same file as ${a}, which is uploaded once` }
      ])
    }))

  it.effect("a directory given twice: each of its files listed once as skipped", () =>
    Effect.gen(function*() {
      const dir = path.join(tree(), "t")
      const walked = yield* walk([dir, dir], options)
      expect(walked.files).toHaveLength(2)
      expect(walked.skipped.map((s) => s.path)).toEqual([path.join(dir, "a.txt"), path.join(dir, "b.txt")])
    }))
})
