/**
 * Finds the files under the paths of `cdf-files upload`: regular files are kept, everything else is skipped on
 * purpose with a reason the summary lists (FIFOs, sockets, devices, and symbolic links unless `--follow-symlinks`).
 * A followed link that leads back to a directory being walked is a loop: it is skipped and named, never an error.
 *
 * One `readdir` (with entry types) per directory and one `stat` per regular file (for its size): no per-file
 * `realpath`.
 *
 * @internal
 */
import { Effect } from "effect"
import type { Dirent, Stats } from "node:fs"
import * as fs from "node:fs/promises"
import * as nodePath from "node:path"
import { UsageError } from "./usage.js"

/**
 * A file to upload.
 *
 * @internal
 */
export interface Found {
  readonly path: string
  readonly display: string
  /** Path of the file relative to its directory argument (posix separators); its base name for a file argument. */
  readonly relative: string
  /** Its size in bytes; unknown for standard input. */
  readonly size: number | undefined
}

/**
 * An entry that is not uploaded, and why.
 *
 * @internal
 */
export interface Skipped {
  readonly path: string
  readonly reason: string
}

/**
 * What a walk found.
 *
 * @internal
 */
export interface Walked {
  readonly files: ReadonlyArray<Found>
  readonly skipped: ReadonlyArray<Skipped>
}

/**
 * How to walk.
 *
 * @internal
 */
export interface WalkOptions {
  readonly recursive: boolean
  readonly followSymlinks: boolean
}

const notFollowed = "a symbolic link, not followed (pass --follow-symlinks to follow it)"

/** Why an entry that is neither a file, a directory nor a symbolic link is skipped. */
const special = (entry: Dirent | Stats): string | undefined =>
  entry.isFIFO()
    ? "a FIFO (named pipe): its content has no end to upload"
    : entry.isSocket()
    ? "a socket"
    : entry.isCharacterDevice()
    ? "a character device"
    : entry.isBlockDevice()
    ? "a block device"
    : undefined

const codeOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "code" in error ? String(error.code) : String(error)

const attempt = <A>(f: () => Promise<A>) => Effect.tryPromise({ try: f, catch: (error) => error })

/**
 * The files under `paths` (directories: their files; with `recursive`, their subdirectories' files too), in name
 * order, each once (a file reached again, by the same path or another, is listed as skipped). A path that does not
 * exist fails with a `UsageError`; anything else unusable is skipped. Symbolic links given as arguments are followed
 * (as `find -H` does); those met inside a directory only with `followSymlinks`.
 *
 * @internal
 */
export const walk = (paths: ReadonlyArray<string>, options: WalkOptions): Effect.Effect<Walked, UsageError> =>
  Effect.gen(function*() {
    const files: Array<Found> = []
    const skipped: Array<Skipped> = []
    /** The real path of each file found, and the path it was found at. */
    const seen = new Map<string, string>()
    const skip = (path: string, reason: string) => Effect.sync(() => void skipped.push({ path, reason }))

    const addFile = (full: string, relative: string, key: string, size: number) => {
      const first = seen.get(key)
      if (first !== undefined) {
        skipped.push({
          path: full,
          reason: first === full ? "given twice: uploaded once" : `the same file as ${first}, which is uploaded once`
        })
        return
      }
      seen.set(key, full)
      files.push({ path: full, display: full, relative, size })
    }

    /** `dir` (whose real path is `real`) with `ancestors`, the real paths of the directories above it in this walk. */
    const walkDirectory = (
      root: string,
      dir: string,
      real: string,
      ancestors: ReadonlySet<string>
    ): Effect.Effect<void> =>
      Effect.gen(function*() {
        const entries = yield* attempt(() => fs.readdir(dir, { withFileTypes: true })).pipe(Effect.either)
        if (entries._tag === "Left") return yield* skip(dir, `cannot read the directory (${codeOf(entries.left)})`)
        const inside = new Set(ancestors).add(real)
        const sorted = entries.right.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        for (const entry of sorted) {
          const full = nodePath.join(dir, entry.name)
          const relative = nodePath.relative(root, full).split(nodePath.sep).join("/")
          const key = nodePath.join(real, entry.name)
          if (entry.isFile()) {
            const info = yield* attempt(() => fs.stat(full)).pipe(Effect.either)
            if (info._tag === "Left") yield* skip(full, `cannot read it (${codeOf(info.left)})`)
            else addFile(full, relative, key, info.right.size)
          } else if (entry.isDirectory()) {
            if (options.recursive) yield* walkDirectory(root, full, key, inside)
          } else if (entry.isSymbolicLink()) {
            if (!options.followSymlinks) yield* skip(full, notFollowed)
            else yield* followLink(root, full, relative, inside)
          } else {
            const reason = special(entry)
            if (reason !== undefined) {
              yield* skip(full, reason)
            } else {
              // the file system did not say what the entry is: ask
              const info = yield* attempt(() => fs.lstat(full)).pipe(Effect.either)
              if (info._tag === "Left") yield* skip(full, `cannot read it (${codeOf(info.left)})`)
              else if (info.right.isFile()) addFile(full, relative, key, info.right.size)
              else if (info.right.isDirectory() && options.recursive) yield* walkDirectory(root, full, key, inside)
              else if (info.right.isSymbolicLink() && !options.followSymlinks) yield* skip(full, notFollowed)
              else if (info.right.isSymbolicLink()) yield* followLink(root, full, relative, inside)
              else if (!info.right.isDirectory()) yield* skip(full, special(info.right) ?? "not a regular file")
            }
          }
        }
      })

    const followLink = (
      root: string,
      full: string,
      relative: string,
      ancestors: ReadonlySet<string>
    ): Effect.Effect<void> =>
      Effect.gen(function*() {
        const target = yield* attempt(() => fs.realpath(full)).pipe(Effect.either)
        if (target._tag === "Left") {
          const code = codeOf(target.left)
          return yield* skip(
            full,
            code === "ELOOP"
              ? "a symbolic link loop: the link resolves to itself (ELOOP)"
              : code === "ENOENT"
              ? "a broken symbolic link: its target does not exist"
              : `a symbolic link that cannot be followed (${code})`
          )
        }
        const info = yield* attempt(() => fs.stat(target.right)).pipe(Effect.either)
        if (info._tag === "Left") return yield* skip(full, `a symbolic link to ${target.right}, which cannot be read`)
        if (info.right.isFile()) return addFile(full, relative, target.right, info.right.size)
        if (info.right.isDirectory()) {
          if (!options.recursive) return
          if (ancestors.has(target.right)) {
            return yield* skip(full, `a symbolic link loop: it points back to ${target.right}, a directory above it`)
          }
          return yield* walkDirectory(root, full, target.right, ancestors)
        }
        return yield* skip(full, `a symbolic link to ${special(info.right) ?? "something that is not a file"}`)
      })

    for (const given of paths) {
      const info = yield* attempt(() => fs.stat(given)).pipe(Effect.either)
      if (info._tag === "Left") {
        const code = codeOf(info.left)
        if (code === "ENOENT") return yield* Effect.fail(new UsageError(`${given}: no such file or directory`))
        if (code === "ELOOP") {
          yield* skip(given, "a symbolic link loop: the link resolves to itself (ELOOP)")
          continue
        }
        return yield* Effect.fail(new UsageError(`cannot read ${given} (${code})`))
      }
      if (info.right.isDirectory()) {
        const real = yield* attempt(() => fs.realpath(given)).pipe(
          Effect.mapError((error) => new UsageError(`cannot read ${given} (${codeOf(error)})`))
        )
        yield* walkDirectory(given, given, real, new Set())
      } else if (info.right.isFile()) {
        const real = yield* attempt(() => fs.realpath(given)).pipe(
          Effect.mapError((error) => new UsageError(`cannot read ${given} (${codeOf(error)})`))
        )
        addFile(given, nodePath.basename(given), real, info.right.size)
      } else {
        yield* skip(given, special(info.right) ?? "not a regular file")
      }
    }
    return { files, skipped }
  })
