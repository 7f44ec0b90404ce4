/**
 * Turns the paths and flags of `cdf-files upload` into the list of files to upload, each with its upload options.
 *
 * @internal
 */
import type { CdfError } from "@effect-cdf/files"
import { FileMetadata } from "@effect-cdf/files"
import { Effect, Option } from "effect"
import { guess } from "./mime.js"
import { UsageError } from "./usage.js"
import type { Found } from "./walk.js"
import { walk } from "./walk.js"

export {
  /** @internal */
  UsageError
}

/**
 * The metadata flags, parsed.
 *
 * @internal
 */
export interface MetadataFlags {
  readonly name: Option.Option<string>
  readonly externalId: Option.Option<string>
  readonly externalIdPrefix: Option.Option<string>
  readonly directory: Option.Option<string>
  readonly source: Option.Option<string>
  readonly mimeType: Option.Option<string>
  readonly metadata: Option.Option<Record<string, string>>
  readonly overwrite: boolean
  readonly labels: ReadonlyArray<string>
  readonly assetIds: ReadonlyArray<number>
  readonly dataSetId: Option.Option<number>
  readonly sourceCreatedTime: Option.Option<number>
  readonly sourceModifiedTime: Option.Option<number>
  readonly securityCategories: ReadonlyArray<number>
  readonly geoLocation: Option.Option<FileMetadata.GeoLocation>
}

/**
 * The options of one upload, in the library's names.
 *
 * @internal
 */
export interface UploadOptions {
  readonly name: string
  readonly externalId?: string
  readonly directory?: string
  readonly source?: string
  readonly mimeType?: string
  readonly metadata?: Record<string, string>
  readonly overwrite?: boolean
  readonly labels?: ReadonlyArray<{ readonly externalId: string }>
  readonly assetIds?: ReadonlyArray<number>
  readonly dataSetId?: number
  readonly sourceCreatedTime?: number
  readonly sourceModifiedTime?: number
  readonly securityCategories?: ReadonlyArray<number>
  readonly geoLocation?: FileMetadata.GeoLocation
}

/**
 * One file to upload.
 *
 * @internal
 */
export interface PlannedFile {
  /** The path to read. */
  readonly path: string
  /** The path as shown to the user (as given, or relative to the directory given). */
  readonly display: string
  /** Its size in bytes; unknown for standard input. */
  readonly size: number | undefined
  /** Whether to read standard input instead of `path`. */
  readonly stdin?: true
  readonly options: UploadOptions
}

const posixDirname = (relative: string): string => {
  const slash = relative.lastIndexOf("/")
  return slash === -1 ? "" : relative.slice(0, slash)
}

const joinDirectory = (base: string | undefined, sub: string): string | undefined => {
  const trimmed = base === undefined ? undefined : base.replace(/\/+$/, "")
  if (sub === "") return trimmed === "" ? "/" : trimmed
  return `${trimmed ?? ""}/${sub}`
}

/** The metadata every file gets alike from the flags: all but its name, external id, directory and mime type. */
const sharedOptions = (flags: MetadataFlags) => ({
  ...(Option.isSome(flags.source) ? { source: flags.source.value } : {}),
  ...(Option.isSome(flags.metadata) ? { metadata: flags.metadata.value } : {}),
  ...(flags.labels.length > 0 ? { labels: flags.labels.map((externalId) => ({ externalId })) } : {}),
  ...(flags.assetIds.length > 0 ? { assetIds: flags.assetIds } : {}),
  ...(Option.isSome(flags.dataSetId) ? { dataSetId: flags.dataSetId.value } : {}),
  ...(Option.isSome(flags.sourceCreatedTime) ? { sourceCreatedTime: flags.sourceCreatedTime.value } : {}),
  ...(Option.isSome(flags.sourceModifiedTime) ? { sourceModifiedTime: flags.sourceModifiedTime.value } : {}),
  ...(flags.securityCategories.length > 0 ? { securityCategories: flags.securityCategories } : {}),
  ...(Option.isSome(flags.geoLocation) ? { geoLocation: flags.geoLocation.value } : {})
})

/** The flag each upload option comes from. */
const flagOfOption: Record<string, string> = {
  name: "--name",
  externalId: "--external-id",
  directory: "--directory",
  source: "--source",
  mimeType: "--mime-type",
  metadata: "--metadata",
  overwrite: "--overwrite",
  labels: "--label",
  assetIds: "--asset-id",
  dataSetId: "--data-set-id",
  sourceCreatedTime: "--source-created-time",
  sourceModifiedTime: "--source-modified-time",
  securityCategories: "--security-category",
  geoLocation: "--geo-location"
}

/** A name for the check of the flags when `--name` is not given (each file's own name is checked at its upload). */
const placeholderName = "file"

/**
 * The sentence for a value of a flag that the API's limits refuse: the flag, then the limit, e.g.
 * `--source: must be a string of at most 128 characters (a limit of the CDF API)`.
 */
const refusedFlag = (error: CdfError.InvalidFileMetadataError, prefixed: boolean): UsageError => {
  const root = /^[A-Za-z]+/.exec(error.option)?.[0] ?? error.option
  const flag = root === "externalId" && prefixed ? "--external-id-prefix" : flagOfOption[root] ?? error.option
  // a repeated flag's value by its place (`--label: value 2 must be ...`), not by the library's `labels[1].externalId`
  const index = /^[A-Za-z]+\[(\d+)\]/.exec(error.option)?.[1]
  const what = root === "externalId" && prefixed
    ? "each external id it makes (the prefix and a path) must be "
    : error.option === root
    ? "must be "
    : index !== undefined
    ? `value ${Number(index) + 1} must be `
    : `${error.option} must be `
  return new UsageError(`${flag}: ${what}${error.limit} (a limit of the CDF API)`)
}

/**
 * Checks the metadata that comes from the flags against the API's limits with the library's own validation, once,
 * before any file is uploaded: a value that every file would fail with gives one sentence naming its flag. The
 * external ids `--external-id-prefix` makes are checked as the prefix and one more character.
 *
 * @internal
 */
export const validateFlags = (flags: MetadataFlags): Effect.Effect<void, UsageError> => {
  const prefix = Option.getOrUndefined(flags.externalIdPrefix)
  const externalId = Option.isSome(flags.externalId) ? flags.externalId.value : prefix === undefined ? undefined : `${prefix}x`
  const options = {
    name: Option.getOrElse(flags.name, () => placeholderName),
    ...(externalId === undefined ? {} : { externalId }),
    ...(Option.isSome(flags.directory) ? { directory: flags.directory.value } : {}),
    ...(Option.isSome(flags.mimeType) ? { mimeType: flags.mimeType.value } : {}),
    ...sharedOptions(flags)
  }
  return FileMetadata.validateUploadOptions(options).pipe(
    Effect.asVoid,
    Effect.mapError((error) => refusedFlag(error, Option.isNone(flags.externalId) && prefix !== undefined))
  )
}

/**
 * The files under `paths` (see `walk`), without what was skipped.
 *
 * @internal
 */
export const collect = (
  paths: ReadonlyArray<string>,
  recursive: boolean
): Effect.Effect<ReadonlyArray<Found>, UsageError> =>
  Effect.map(walk(paths, { recursive, followSymlinks: false }), (walked) => walked.files)

/**
 * What `-` (standard input) becomes on the command line given to @effect/cli, which takes a lone `-` as the end of
 * the flags.
 *
 * @internal
 */
export const stdinArgument = "\u0000stdin"

/**
 * How standard input is shown.
 *
 * @internal
 */
export const stdinDisplay = "(standard input)"

/**
 * `-` as the only path: standard input, uploaded under `--name`. `None` when the paths are files and directories.
 *
 * @internal
 */
export const stdinFile = (
  paths: ReadonlyArray<string>,
  name: Option.Option<string>
): Effect.Effect<Option.Option<Found>, UsageError> => {
  if (!paths.includes("-") && !paths.includes(stdinArgument)) return Effect.succeed(Option.none())
  if (paths.length > 1) {
    return Effect.fail(new UsageError("- (standard input) must be the only path: upload it in a command of its own"))
  }
  if (Option.isNone(name)) {
    return Effect.fail(
      new UsageError("reading standard input (-) needs --name, the file's name in CDF: e.g. --name report.csv")
    )
  }
  return Effect.succeed(Option.some({ path: "-", display: stdinDisplay, relative: name.value, size: undefined }))
}

/**
 * The upload options of each file from the flags. `--name` and `--external-id` name one file and so need exactly
 * one; `--external-id-prefix` gives `<prefix><relative path>`. A flag value the API's limits refuse fails here, once
 * (`validateFlags`), not at the upload of each file.
 *
 * @internal
 */
export const plan = (
  files: ReadonlyArray<Found>,
  flags: MetadataFlags
): Effect.Effect<ReadonlyArray<PlannedFile>, UsageError> => {
  if (files.length === 0) return Effect.fail(new UsageError("no files to upload (use --recursive for subdirectories)"))
  if (files.length > 1 && Option.isSome(flags.name)) {
    return Effect.fail(new UsageError(`--name names one file, but ${files.length} files were given`))
  }
  if (files.length > 1 && Option.isSome(flags.externalId)) {
    return Effect.fail(
      new UsageError(`--external-id names one file, but ${files.length} files were given: use --external-id-prefix`)
    )
  }
  if (Option.isSome(flags.externalId) && Option.isSome(flags.externalIdPrefix)) {
    return Effect.fail(new UsageError("--external-id and --external-id-prefix cannot be used together"))
  }
  if (Option.isSome(flags.directory) && !flags.directory.value.startsWith("/")) {
    return Effect.fail(new UsageError(`--directory must be an absolute path such as /reports (got ${flags.directory.value})`))
  }
  return Effect.flatMap(validateFlags(flags), () => planFiles(files, flags))
}

const planFiles = (
  files: ReadonlyArray<Found>,
  flags: MetadataFlags
): Effect.Effect<ReadonlyArray<PlannedFile>, UsageError> => {
  const base = Option.getOrUndefined(flags.directory)
  const planned = files.map((file): PlannedFile => {
    const name = Option.getOrElse(flags.name, () => file.relative.slice(file.relative.lastIndexOf("/") + 1))
    const externalId = Option.isSome(flags.externalId)
      ? flags.externalId.value
      : Option.isSome(flags.externalIdPrefix)
      ? flags.externalIdPrefix.value + file.relative
      : undefined
    const directory = joinDirectory(base, posixDirname(file.relative))
    const mimeType = Option.isSome(flags.mimeType) ? flags.mimeType.value : guess(name)
    const options: UploadOptions = {
      name,
      ...(externalId === undefined ? {} : { externalId }),
      ...(directory === undefined ? {} : { directory }),
      ...(mimeType === undefined ? {} : { mimeType }),
      ...(flags.overwrite ? { overwrite: true } : {}),
      ...sharedOptions(flags)
    }
    return {
      path: file.path,
      display: file.display,
      size: file.size,
      ...(file.path === "-" && file.size === undefined ? { stdin: true as const } : {}),
      options
    }
  })
  const owners = new Map<string, string>()
  for (const file of planned) {
    const externalId = file.options.externalId
    if (externalId === undefined) continue
    const other = owners.get(externalId)
    if (other !== undefined) {
      return Effect.fail(
        new UsageError(`${other} and ${file.display} would both get the external id ${externalId}: upload them separately`)
      )
    }
    owners.set(externalId, file.display)
  }
  return Effect.succeed(planned)
}
