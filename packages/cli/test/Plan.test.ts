import { NodeContext } from "@effect/platform-node"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Either, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { guess } from "../src/internal/mime.js"
import { parseEntry, parseId, parseTime } from "../src/internal/parse.js"
import type { MetadataFlags } from "../src/internal/plan.js"
import { collect, plan } from "../src/internal/plan.js"

const none: MetadataFlags = {
  name: Option.none(),
  externalId: Option.none(),
  externalIdPrefix: Option.none(),
  directory: Option.none(),
  source: Option.none(),
  mimeType: Option.none(),
  metadata: Option.none(),
  overwrite: false,
  labels: [],
  assetIds: [],
  dataSetId: Option.none(),
  sourceCreatedTime: Option.none(),
  sourceModifiedTime: Option.none(),
  securityCategories: [],
  geoLocation: Option.none()
}

const roots: Array<string> = []
afterAll(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true })
})

const tree = () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "cdf-files-plan-"))
  roots.push(root)
  fs.mkdirSync(path.join(root, "sub", "deeper"), { recursive: true })
  fs.writeFileSync(path.join(root, "b.csv"), "x,y\n")
  fs.writeFileSync(path.join(root, "a.txt"), "hello")
  fs.writeFileSync(path.join(root, "sub", "c.json"), "{}")
  fs.writeFileSync(path.join(root, "sub", "deeper", "d"), "1234567")
  return root
}

describe("planning an upload", () => {
  it.effect("a directory without --recursive gives its own files, in name order", () =>
    Effect.gen(function*() {
      const root = tree()
      const found = yield* collect([root], false)
      expect(found.map((f) => f.relative)).toEqual(["a.txt", "b.csv"])
      expect(found.map((f) => f.size)).toEqual([5, 4])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("--recursive descends, keeps subdirectories as CDF directories and prefixes external ids", () =>
    Effect.gen(function*() {
      const root = tree()
      const found = yield* collect([root, path.join(root, "a.txt")], true)
      expect(found.map((f) => f.relative)).toEqual(["a.txt", "b.csv", "sub/c.json", "sub/deeper/d"])
      const files = yield* plan(found, {
        ...none,
        externalIdPrefix: Option.some("run-1/"),
        directory: Option.some("/uploads/"),
        metadata: Option.some({ k: "v" }),
        labels: ["l1"],
        assetIds: [7],
        overwrite: true
      })
      expect(files.map((f) => f.options)).toEqual([
        {
          name: "a.txt",
          externalId: "run-1/a.txt",
          directory: "/uploads",
          mimeType: "text/plain",
          metadata: { k: "v" },
          overwrite: true,
          labels: [{ externalId: "l1" }],
          assetIds: [7]
        },
        {
          name: "b.csv",
          externalId: "run-1/b.csv",
          directory: "/uploads",
          mimeType: "text/csv",
          metadata: { k: "v" },
          overwrite: true,
          labels: [{ externalId: "l1" }],
          assetIds: [7]
        },
        {
          name: "c.json",
          externalId: "run-1/sub/c.json",
          directory: "/uploads/sub",
          mimeType: "application/json",
          metadata: { k: "v" },
          overwrite: true,
          labels: [{ externalId: "l1" }],
          assetIds: [7]
        },
        {
          name: "d",
          externalId: "run-1/sub/deeper/d",
          directory: "/uploads/sub/deeper",
          metadata: { k: "v" },
          overwrite: true,
          labels: [{ externalId: "l1" }],
          assetIds: [7]
        }
      ])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("without --directory, files in subdirectories get /<subdirectory>", () =>
    Effect.gen(function*() {
      const root = tree()
      const files = yield* plan(yield* collect([root], true), none)
      expect(files.map((f) => f.options.directory)).toEqual([undefined, undefined, "/sub", "/sub/deeper"])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("one file takes --name, --external-id, --mime-type and every other flag as given", () =>
    Effect.gen(function*() {
      const root = tree()
      const [file] = yield* plan(yield* collect([path.join(root, "a.txt")], false), {
        ...none,
        name: Option.some("renamed.bin"),
        externalId: Option.some("ext-1"),
        mimeType: Option.some("application/x-custom"),
        source: Option.some("scanner"),
        dataSetId: Option.some(42),
        sourceCreatedTime: Option.some(1000),
        sourceModifiedTime: Option.some(2000),
        securityCategories: [3, 4],
        geoLocation: Option.some({ type: "Feature", geometry: { type: "Point", coordinates: [10.7, 59.9] } })
      })
      expect(file.options).toEqual({
        name: "renamed.bin",
        externalId: "ext-1",
        source: "scanner",
        mimeType: "application/x-custom",
        dataSetId: 42,
        sourceCreatedTime: 1000,
        sourceModifiedTime: 2000,
        securityCategories: [3, 4],
        geoLocation: { type: "Feature", geometry: { type: "Point", coordinates: [10.7, 59.9] } }
      })
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("refuses --name or --external-id with several files, and a relative --directory", () =>
    Effect.gen(function*() {
      const found = yield* collect([tree()], false)
      const byName = yield* Effect.flip(plan(found, { ...none, name: Option.some("x") }))
      expect(byName.message).toContain("--name names one file, but 2 files were given")
      const byId = yield* Effect.flip(plan(found, { ...none, externalId: Option.some("x") }))
      expect(byId.message).toContain("--external-id-prefix")
      const relative = yield* Effect.flip(plan(found, { ...none, directory: Option.some("reports") }))
      expect(relative.message).toContain("--directory must be an absolute path")
      const twice = yield* Effect.flip(plan(
        yield* collect([tree(), tree()], false),
        { ...none, externalIdPrefix: Option.some("x/") }
      ))
      expect(twice.message).toContain("would both get the external id x/a.txt")
      const empty = yield* Effect.flip(plan([], none))
      expect(empty.message).toContain("no files to upload")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("a flag value the API's limits refuse: one sentence naming the flag, before any file is planned", () =>
    Effect.gen(function*() {
      const found = yield* collect([tree()], true)
      /** What the user is told, or "planned" when the flags pass. */
      const refused = (flags: Partial<MetadataFlags>, files = found) =>
        Effect.map(
          Effect.either(plan(files, { ...none, ...flags })),
          Either.match({ onLeft: (error) => error.message, onRight: () => "planned" })
        )
      expect(yield* refused({ source: Option.some("x".repeat(129)) })).toBe(
        "--source: must be a string of at most 128 characters (a limit of the CDF API)"
      )
      expect(yield* refused({ mimeType: Option.some("m".repeat(257)) })).toMatch(/^--mime-type: must be /)
      expect(yield* refused({ directory: Option.some("/" + "d".repeat(600)) })).toMatch(/^--directory: must be /)
      expect(yield* refused({ metadata: Option.some({ ["k".repeat(129)]: "v" }) })).toMatch(/^--metadata: must be /)
      expect(yield* refused({ labels: ["ok", "l".repeat(256)] })).toMatch(/^--label: value 2 must be /)
      expect(yield* refused({ externalIdPrefix: Option.some("p".repeat(255)) })).toMatch(
        /^--external-id-prefix: each external id it makes \(the prefix and a path\) must be /
      )
      const one = yield* collect([path.join(tree(), "a.txt")], false)
      expect(yield* refused({ externalId: Option.some("e".repeat(256)) }, one)).toMatch(/^--external-id: must be /)
      // values within the limits still plan every file
      const ok = yield* plan(found, { ...none, source: Option.some("x".repeat(128)), labels: ["l".repeat(255)] })
      expect(ok).toHaveLength(4)
    }).pipe(Effect.provide(NodeContext.layer)))
})

describe("flag values", () => {
  it("times are ISO 8601 or epoch milliseconds", () => {
    expect(parseTime("t", "1700000000000")).toEqual(Either.right(1_700_000_000_000))
    expect(parseTime("t", "2024-01-31T12:00:00Z")).toEqual(Either.right(Date.UTC(2024, 0, 31, 12)))
    expect(parseTime("t", "2024-01-31")).toEqual(Either.right(Date.UTC(2024, 0, 31)))
    expect(Either.isLeft(parseTime("t", "yesterday"))).toBe(true)
    expect(Either.isLeft(parseTime("t", "-5"))).toBe(true)
    expect(Either.isLeft(parseTime("t", "2024-13-45"))).toBe(true)
  })

  it("a day that does not exist is not a time (not rolled over into the next month)", () => {
    for (const text of ["2024-02-30", "2023-02-29", "2024-04-31", "1900-02-29", "2024-02-30T12:00:00Z", "2024-06-31 08:00"]) {
      expect(parseTime("source-modified-time", text)).toEqual(Either.left(
        `--source-modified-time: '${text}' is not a time (use ISO 8601, e.g. 2024-01-31T12:00:00Z, or epoch milliseconds)`
      ))
    }
    // leap days and the last day of each month stay accepted, in every documented form
    expect(parseTime("t", "2024-02-29")).toEqual(Either.right(Date.UTC(2024, 1, 29)))
    expect(parseTime("t", "2000-02-29T00:00:00Z")).toEqual(Either.right(Date.UTC(2000, 1, 29)))
    expect(parseTime("t", "2024-04-30T23:59:59.999+02:00")).toEqual(Either.right(Date.UTC(2024, 3, 30, 21, 59, 59, 999)))
    expect(parseTime("t", "2024-12-31")).toEqual(Either.right(Date.UTC(2024, 11, 31)))
  })

  it("metadata entries are key=value, the value may contain =", () => {
    expect(parseEntry("metadata", "a=b=c")).toEqual(Either.right(["a", "b=c"]))
    expect(parseEntry("metadata", "a=")).toEqual(Either.right(["a", ""]))
    expect(parseEntry("metadata", "noequals")).toEqual(Either.left("--metadata: 'noequals' is not key=value"))
    expect(Either.isLeft(parseEntry("metadata", "=v"))).toBe(true)
  })

  it("ids are positive integers", () => {
    expect(parseId("asset-id", "12")).toEqual(Either.right(12))
    expect(parseId("asset-id", "0")).toEqual(Either.left("--asset-id: '0' is not an id (a positive integer)"))
    expect(Either.isLeft(parseId("asset-id", "1.5"))).toBe(true)
    expect(Either.isLeft(parseId("asset-id", "abc"))).toBe(true)
  })

  it("MIME types are guessed from the extension, case-insensitively", () => {
    expect(guess("report.PDF")).toBe("application/pdf")
    expect(guess("dir/photo.jpeg")).toBe("image/jpeg")
    expect(guess("archive.tar.gz")).toBe("application/gzip")
    expect(guess("Makefile")).toBeUndefined()
    expect(guess(".env")).toBeUndefined()
    expect(guess("data.unknownext")).toBeUndefined()
  })
})
