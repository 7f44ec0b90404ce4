/**
 * The sources of a sync: a directory walked on Node, or a `Stream` of items.
 *
 * The walk keeps every regular file under the root whose relative POSIX path passes the picomatch include/exclude
 * globs. It never follows a symbolic link, whether to a file or to a directory: as `cdf-files upload` does by
 * default, and so a link to a directory above it (`ln -s . loop`) cannot make it go round. What it does not sync is
 * reported with the reason, as an outcome of its own (`Walked.passed`):
 *
 * - `skipped`, on purpose: a symbolic link (tag `SymbolicLinkNotFollowed`), a FIFO, socket or device
 *   (`NotARegularFile`);
 * - `failed`: an entry whose name is not valid UTF-8 (`InvalidFileNameError`: it has no external id, and a name
 *   decoded with replacement characters names no file), a file or directory that cannot be read
 *   (`UnreadableEntryError`). A directory in either case stands for its files, which are not synced.
 *
 * One `readdir` per directory, with the entries' types and their names as bytes (node:fs: `FileSystem`'s
 * `readDirectory` gives neither, and decodes names lossily), one `stat` per regular file and per link, through
 * `FileSystem`.
 *
 * @internal
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Effect, Option, Stream } from "effect"
import type { Dirent } from "node:fs"
import * as nodeFs from "node:fs/promises"
import * as nodePath from "node:path"
import picomatch from "picomatch"
import { IngestError, type Item } from "./model.js"

/** @internal */
export interface DirectorySource {
  readonly _tag: "Directory"
  readonly root: string
  readonly include?: ReadonlyArray<string> | undefined
  readonly exclude?: ReadonlyArray<string> | undefined
}

/** @internal */
export interface ItemsSource {
  readonly _tag: "Items"
  /** Names the source in the job id: the same name, prefix and target make the same job. */
  readonly name: string
  readonly items: Stream.Stream<Item, IngestError>
}

/** @internal */
export type Source = DirectorySource | ItemsSource

/**
 * An entry of the directory that the walk does not sync, and why: `skipped` on purpose or `failed`, with a tag and
 * a message that says what it is. `path` is relative (POSIX); the bytes of a name that is not UTF-8 show as `\xNN`.
 *
 * @internal
 */
export interface Passed {
  readonly path: string
  readonly file: string
  readonly status: "skipped" | "failed"
  readonly error: { readonly tag: string; readonly message: string }
}

/** What a walk found: the items to sync, in path order, and the entries it passed over. @internal */
export interface Walked {
  readonly items: Array<Item>
  readonly passed: Array<Passed>
}

/** What names a source in its job id. @internal */
export const sourceName = (source: Source): string =>
  source._tag === "Directory" ? nodePath.resolve(source.root) : `items:${source.name}`

/**
 * A predicate on relative POSIX paths: matches one of `include` (when any is given) and none of `exclude`
 * (picomatch semantics, dotfiles included).
 *
 * @internal
 */
export const matcher = (include: ReadonlyArray<string>, exclude: ReadonlyArray<string>): (path: string) => boolean => {
  const included = include.length === 0 ? () => true : picomatch([...include], { dot: true })
  const excluded = exclude.length === 0 ? () => false : picomatch([...exclude], { dot: true })
  return (path) => included(path) && !excluded(path)
}

/**
 * Fails with `IngestError` `Source` unless the source's root is a readable directory (an items source: always ok).
 *
 * @internal
 */
export const checkSource = (source: Source): Effect.Effect<void, IngestError, FileSystem.FileSystem> =>
  source._tag === "Items" ? Effect.void : Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const info = yield* fs.stat(source.root).pipe(
      Effect.mapError((e) => new IngestError({ reason: "Source", message: `cannot read ${source.root}: ${e.message}` }))
    )
    if (info.type !== "Directory") {
      return yield* new IngestError({ reason: "Source", message: `${source.root} is not a directory` })
    }
  })

const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

/** A name's bytes as UTF-8, or undefined when they are not UTF-8. */
const decodeName = (bytes: Uint8Array): string | undefined => {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    return undefined
  }
}

/** How long the UTF-8 sequence that `lead` starts is (0: it starts none). */
const sequenceLength = (lead: number) =>
  lead < 0x80 ? 1 : lead >= 0xc2 && lead < 0xe0 ? 2 : lead >= 0xe0 && lead < 0xf0 ? 3 : lead >= 0xf0 && lead < 0xf5 ? 4 : 0

/**
 * A name that is not UTF-8, shown: its UTF-8 characters as they are, each other byte as `\xNN` (`caf\xe9.txt`).
 *
 * @internal
 */
export const showName = (bytes: Uint8Array): string => {
  let shown = ""
  let at = 0
  while (at < bytes.length) {
    const length = sequenceLength(bytes[at]!)
    const char = length === 0 ? undefined : decodeName(bytes.subarray(at, at + length))
    if (char !== undefined && at + length <= bytes.length) {
      shown += char
      at += length
    } else {
      shown += `\\x${bytes[at]!.toString(16).padStart(2, "0")}`
      at += 1
    }
  }
  return shown
}

const codeOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "code" in error ? String(error.code) : String(error)

/** Why an entry that is neither a file, a directory nor a symbolic link is skipped. */
const special = (entry: Pick<Dirent, "isFIFO" | "isSocket" | "isCharacterDevice" | "isBlockDevice">): string =>
  entry.isFIFO()
    ? "a FIFO (named pipe): its content has no end to upload"
    : entry.isSocket()
    ? "a socket"
    : entry.isCharacterDevice()
    ? "a character device"
    : entry.isBlockDevice()
    ? "a block device"
    : "not a regular file (the file system does not say what it is)"

/** An entry found by the listing that needs a `stat`: a regular file (for its size and mtime) or a link. */
interface Found {
  readonly path: string
  readonly file: string
  readonly link: boolean
}

/**
 * The files under `source.root`, sorted by relative path, and the entries passed over (see the module's comment).
 * Fails with `IngestError` `Source` only when the root itself cannot be read.
 *
 * @internal
 */
export const walkDirectory = (source: DirectorySource): Effect.Effect<Walked, IngestError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const root = nodePath.resolve(source.root)
    const fail = (message: string) => new IngestError({ reason: "Source", message })
    const info = yield* fs.stat(root).pipe(Effect.mapError((e) => fail(`cannot read ${source.root}: ${e.message}`)))
    if (info.type !== "Directory") return yield* fail(`${source.root} is not a directory`)
    const keep = matcher(source.include ?? [], source.exclude ?? [])
    // a directory's problem stands for files the globs may take: it is reported unless it is excluded
    const notExcluded = matcher([], source.exclude ?? [])
    const found: Array<Found> = []
    const passed: Array<Passed> = []
    const pass = (path: string, file: string, status: Passed["status"], tag: string, message: string) =>
      void passed.push({ path, file, status, error: { tag, message } })
    const notFollowed = (path: string, file: string, message: string) =>
      pass(path, file, "skipped", "SymbolicLinkNotFollowed", message)

    // depth first, one directory at a time; the root's own listing failing fails the walk
    const pending: Array<{ readonly dir: string; readonly relative: string }> = [{ dir: root, relative: "" }]
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      const { dir, relative } = next
      const listed = yield* Effect.either(Effect.tryPromise({
        try: () => nodeFs.readdir(dir, { withFileTypes: true, encoding: "buffer" }),
        catch: codeOf
      }))
      if (listed._tag === "Left") {
        if (relative === "") return yield* fail(`cannot list ${source.root}: ${listed.left}`)
        if (notExcluded(relative)) {
          pass(relative, dir, "failed", "UnreadableEntryError", `cannot read the directory (${listed.left}): its files are not synced`)
        }
        continue
      }
      for (const entry of listed.right) {
        const bytes: Uint8Array = entry.name
        const name = decodeName(bytes)
        const shown = name ?? showName(bytes)
        const path = relative === "" ? shown : `${relative}/${shown}`
        const file = nodePath.join(dir, name ?? Buffer.from(bytes).toString())
        if (name === undefined) {
          if (entry.isDirectory() ? notExcluded(path) : keep(path)) {
            pass(
              path,
              file,
              "failed",
              "InvalidFileNameError",
              entry.isDirectory()
                ? "a directory whose name is not valid UTF-8 (a byte that is not shows as \\xNN): its files are not synced; rename it to sync them"
                : "its name is not valid UTF-8 (a byte that is not shows as \\xNN): rename the file to sync it"
            )
          }
        } else if (entry.isDirectory()) {
          pending.push({ dir: file, relative: path })
        } else if (!keep(path)) {
          continue
        } else if (entry.isFile() || entry.isSymbolicLink()) {
          found.push({ path, file, link: entry.isSymbolicLink() })
        } else {
          pass(path, file, "skipped", "NotARegularFile", special(entry))
        }
      }
    }

    const items: Array<Item> = []
    yield* Effect.forEach(found, ({ file, link, path }) =>
      // a file removed or unreadable since the listing is reported failed, never left out without a word
      Effect.match(fs.stat(file), {
        onFailure: (e) =>
          link
            ? notFollowed(
              path,
              file,
              e._tag === "SystemError" && e.reason === "NotFound"
                ? "a broken symbolic link (its target does not exist), not followed"
                : `a symbolic link whose target cannot be read (${e._tag === "SystemError" ? e.reason : e.message}), not followed`
            )
            : pass(path, file, "failed", "UnreadableEntryError", `cannot read it: ${e.message}`),
        onSuccess: (stat) =>
          link
            ? notFollowed(
              path,
              file,
              `a symbolic link to ${stat.type === "Directory" ? "a directory" : stat.type === "File" ? "a file" : "something that is not a file"}, not followed: sync does not follow symbolic links`
            )
            : stat.type !== "File"
            ? pass(path, file, "skipped", "NotARegularFile", `not a regular file any more (now: ${stat.type})`)
            : void items.push({
              path,
              file,
              size: Number(stat.size),
              mtime: Option.match(stat.mtime, { onNone: () => 0, onSome: (date) => date.getTime() })
            })
      }), { concurrency: 32, discard: true })
    const byPath = <A extends { readonly path: string }>(a: A, b: A) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
    return { items: items.sort(byPath), passed: passed.sort(byPath) }
  })

/** Every item of a source, and the entries of a directory that its walk passed over. @internal */
export const items = (source: Source): Effect.Effect<Walked, IngestError, FileSystem.FileSystem> =>
  source._tag === "Directory"
    ? walkDirectory(source)
    : Stream.runCollect(source.items).pipe(Effect.map((c) => ({ items: [...c], passed: [] })))
