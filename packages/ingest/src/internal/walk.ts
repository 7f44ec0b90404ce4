/**
 * The sources of a sync: a directory walked on Node (every regular file under the root, symlinks to files
 * followed, filtered by picomatch include/exclude globs on the relative POSIX path), or a `Stream` of items.
 *
 * @internal
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Effect, Option, Stream } from "effect"
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

const toPosix = (path: string) => path.split(nodePath.sep).join("/")

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

/**
 * The files under `source.root`, sorted by relative path.
 *
 * @internal
 */
export const walkDirectory = (source: DirectorySource): Effect.Effect<Array<Item>, IngestError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const root = nodePath.resolve(source.root)
    const fail = (message: string) => new IngestError({ reason: "Source", message })
    const info = yield* fs.stat(root).pipe(Effect.mapError((e) => fail(`cannot read ${source.root}: ${e.message}`)))
    if (info.type !== "Directory") return yield* fail(`${source.root} is not a directory`)
    const entries = yield* fs.readDirectory(root, { recursive: true }).pipe(
      Effect.mapError((e) => fail(`cannot list ${source.root}: ${e.message}`))
    )
    const keep = matcher(source.include ?? [], source.exclude ?? [])
    const candidates = entries.map(toPosix).filter(keep).sort()
    const items = yield* Effect.forEach(candidates, (path) => {
      const file = nodePath.join(root, path)
      // a file removed or unreadable since the listing is left out; so is anything that is not a regular file
      return fs.stat(file).pipe(
        Effect.map((stat) =>
          stat.type === "File"
            ? Option.some<Item>({
              path,
              file,
              size: Number(stat.size),
              mtime: Option.match(stat.mtime, { onNone: () => 0, onSome: (date) => date.getTime() })
            })
            : Option.none()
        ),
        Effect.orElseSucceed(() => Option.none<Item>())
      )
    }, { concurrency: 32 })
    return items.flatMap((item) => Option.isSome(item) ? [item.value] : [])
  })

/** Every item of a source. @internal */
export const items = (source: Source): Effect.Effect<Array<Item>, IngestError, FileSystem.FileSystem> =>
  source._tag === "Directory" ? walkDirectory(source) : Stream.runCollect(source.items).pipe(Effect.map((c) => [...c]))
