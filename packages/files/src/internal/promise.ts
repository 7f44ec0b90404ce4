/**
 * The machinery of the Promise entry points (`FilesClient`, `NodeFilesClient`): a `ManagedRuntime` of the library's
 * layers, and the conversion of an Effect into a Promise that rejects with the library's own errors.
 *
 * @internal
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import {
  Cause,
  Chunk,
  Config,
  ConfigProvider,
  Effect,
  Exit,
  FiberId,
  Layer,
  ManagedRuntime,
  Redacted,
  Schedule,
  Stream
} from "effect"
import * as CdfAuth from "../CdfAuth.js"
import * as CdfClient from "../CdfClient.js"
import * as CdfConfig from "../CdfConfig.js"
import type { CdfError } from "../CdfError.js"
import { AuthError, InvalidConfigError, InvalidFileMetadataError } from "../CdfError.js"
import type * as Content from "../Content.js"
import type * as FileMetadata from "../FileMetadata.js"
import * as Files from "../Files.js"
import type * as Progress from "../Progress.js"
import * as Auth from "./auth.js"

/** @internal */
export type Secret = string | Redacted.Redacted<string>

/** @internal */
export interface ClientCredentials {
  readonly tokenUrl: string
  readonly clientId: string
  readonly clientSecret: Secret
  readonly scopes?: ReadonlyArray<string> | undefined
  readonly audience?: string | undefined
}

/** @internal */
export type Config =
  | (CdfConfig.Options & { readonly token: Secret | (() => Promise<string>) })
  | (CdfConfig.Options & { readonly clientCredentials: ClientCredentials })
  | (Partial<CdfConfig.Options> & {
    readonly fromEnv: true
    readonly env?: Readonly<Record<string, string | undefined>> | undefined
  })

/** @internal */
export interface CallOptions {
  readonly signal?: AbortSignal | undefined
  readonly onProgress?: ((progress: Progress.Progress) => void) | undefined
}

/** @internal */
export interface UploadOptions extends Omit<Files.UploadBytesOptions, "onProgress">, CallOptions {}

/** @internal */
export interface UploadContentOptions extends Omit<Files.UploadContentOptions, "onProgress">, CallOptions {}

/** @internal */
export type Services = Files.Files | CdfClient.CdfClient | CdfConfig.CdfConfig

const redact = (secret: Secret): Redacted.Redacted<string> =>
  typeof secret === "string" ? Redacted.make(secret) : secret

const envProvider = (env: Readonly<Record<string, string | undefined>>) => {
  const map = new Map<string, string>()
  for (const [name, value] of Object.entries(env)) if (value !== undefined) map.set(name, value)
  return ConfigProvider.fromMap(map)
}

const throwFailure = <A, E>(exit: Exit.Exit<A, E>): A => {
  if (Exit.isSuccess(exit)) return exit.value
  throw rejection(exit.cause, undefined)
}

const readEnvironment = <A>(config: Config.Config<A>, provider: ConfigProvider.ConfigProvider): A =>
  throwFailure(Effect.runSyncExit(
    config.pipe(
      Effect.withConfigProvider(provider),
      Effect.mapError((error) =>
        new InvalidConfigError({
          message: `cannot read the settings from the environment: ${error.message}`,
          setting: [...new Set([...error.message.matchAll(/(?:Missing data at |Expected )([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]))]
            .join(", ") || "environment"
        })
      )
    )
  ))

const tokenLayer = (token: Secret | (() => Promise<string>)): Layer.Layer<CdfAuth.CdfAuth> => {
  if (typeof token !== "function") return CdfAuth.layerToken(redact(token))
  // called once, and again only when the API refuses the token it gave (a 401)
  return Layer.effect(CdfAuth.CdfAuth, Auth.makeKeptToken(Effect.map(
    Effect.tryPromise({
      try: token,
      catch: (error) =>
        new AuthError({
          reason: "TokenRequest",
          message: `the token function failed: ${error instanceof Error ? error.message : String(error)}`
        })
    }),
    Redacted.make
  )))
}

/**
 * The layers behind a Promise client. The `CdfConfig` settings are checked here, synchronously: a bad setting
 * throws `InvalidConfigError` from `makeFilesClient` itself, as `CdfConfig.layer` would fail with it. Auth settings
 * that need the network (client credentials) fail the first call instead.
 *
 * @internal
 */
export const layer = (
  config: Config,
  transport: Layer.Layer<HttpClient.HttpClient>,
  defaults: Partial<CdfConfig.Options>
): Layer.Layer<Services, InvalidConfigError> => {
  let settings: Layer.Layer<CdfConfig.CdfConfig | CdfAuth.CdfAuth, InvalidConfigError, HttpClient.HttpClient>
  if ("fromEnv" in config) {
    const { env, fromEnv: _fromEnv, ...overrides } = config
    const provider = env === undefined ? ConfigProvider.fromEnv() : envProvider(env)
    const checked = check({ ...defaults, ...readEnvironment(CdfConfig.environment, provider), ...overrides })
    const environment = readEnvironment(CdfAuth.environment, provider)
    settings = Layer.merge(
      Layer.succeed(CdfConfig.CdfConfig, checked),
      Layer.effect(CdfAuth.CdfAuth, CdfAuth.fromEnvironment(environment, overrides))
    )
  } else if ("clientCredentials" in config) {
    const { clientCredentials, ...options } = config
    const checked = check({ ...defaults, ...options })
    settings = Layer.merge(
      Layer.succeed(CdfConfig.CdfConfig, checked),
      CdfAuth.layerClientCredentials({
        tokenUrl: clientCredentials.tokenUrl,
        clientId: clientCredentials.clientId,
        clientSecret: redact(clientCredentials.clientSecret),
        scopes: clientCredentials.scopes ?? [`${checked.baseUrl}/.default`],
        audience: clientCredentials.audience,
        allowInsecureHttp: options.allowInsecureHttp
      })
    )
  } else {
    const { token, ...options } = config
    settings = Layer.merge(Layer.succeed(CdfConfig.CdfConfig, check({ ...defaults, ...options })), tokenLayer(token))
  }
  return Files.layer.pipe(
    Layer.provideMerge(CdfClient.layer),
    Layer.provideMerge(settings),
    Layer.provide(transport)
  )
}

const check = (options: CdfConfig.Options): CdfConfig.Service => throwFailure(Effect.runSyncExit(CdfConfig.make(options)))

/**
 * What a Promise rejects with for the failure of a call: the library's own error (the `FiberFailure` wrapper of
 * `runPromise` removed: `_tag`, fields and `instanceof` kept), the signal's reason when the caller aborted, else the
 * defect.
 *
 * @internal
 */
export const rejection = (cause: Cause.Cause<unknown>, signal: AbortSignal | undefined): unknown => {
  if (Cause.isInterruptedOnly(cause)) {
    return signal?.aborted === true && signal.reason !== undefined
      ? signal.reason
      : new DOMException("The operation was aborted.", "AbortError")
  }
  const failure = Cause.failureOption(cause)
  if (failure._tag === "Some") return failure.value
  const defect = Cause.squash(cause)
  // a Promise rejects with an Error, never a bare string or object (a defect may be either)
  return defect instanceof Error ? defect : new Error(typeof defect === "string" ? defect : "unexpected failure", {
    cause: defect
  })
}

/**
 * What a call on a disposed client rejects with.
 *
 * @internal
 */
export const disposedError = (): Error =>
  new Error("this client was disposed: calls after dispose() are refused; make a new client")

/**
 * The methods every Promise client has, on a `ManagedRuntime` of `layer`.
 *
 * @internal
 */
export const make = <R>(runtime: ManagedRuntime.ManagedRuntime<R | Files.Files, InvalidConfigError>) => {
  let disposed = false
  const run = <A>(effect: Effect.Effect<A, CdfError, R | Files.Files>, signal: AbortSignal | undefined): Promise<A> => {
    if (disposed) return Promise.reject(disposedError())
    if (signal?.aborted === true) return Promise.reject(rejection(Cause.interrupt(FiberId.none), signal))
    return runtime.runPromiseExit(effect, signal === undefined ? undefined : { signal }).then((exit) => {
      if (Exit.isSuccess(exit)) return exit.value
      throw rejection(exit.cause, signal)
    })
  }
  /**
   * Runs the Effect call `f` with a Promise call's options: its `signal` taken out, a plain `onProgress` wrapped so
   * that a throw is ignored. Options that cannot be read (not an object, a getter that throws) and an `onProgress`
   * that is not a function are handed on as they are, for the Effect call's validation to refuse: the promise then
   * rejects with an `InvalidFileMetadataError`, and never throws.
   */
  const runWith = <O extends CallOptions, A>(
    options: O,
    f: (options: Omit<O, keyof CallOptions> & { readonly onProgress?: Progress.OnProgress }) => Effect.Effect<
      A,
      CdfError,
      R | Files.Files
    >
  ): Promise<A> => {
    let split: { readonly options: Omit<O, keyof CallOptions>; readonly signal: unknown }
    try {
      const { onProgress: callback, signal, ...rest } = options
      split = {
        options: typeof callback === "function"
          ? { ...rest, onProgress: onProgress(callback) }
          : callback === undefined
          ? rest
          : { ...rest, onProgress: callback },
        signal
      }
    } catch {
      // not an object: the Effect call's validation says so
      if (typeof options !== "object" || options === null) {
        return run(f(options as unknown as Omit<O, keyof CallOptions>), undefined)
      }
      return Promise.reject(
        new InvalidFileMetadataError({
          option: "options",
          limit: "an object whose properties can be read",
          message: "Invalid option options: must be an object whose properties can be read"
        })
      )
    }
    if (split.signal !== undefined && !isAbortSignal(split.signal)) {
      return Promise.reject(
        new InvalidFileMetadataError({
          option: "signal",
          limit: "an AbortSignal",
          message: "Invalid option signal: must be an AbortSignal"
        })
      )
    }
    return run(f(split.options), split.signal)
  }
  return {
    run,
    runWith,
    uploadBytes: (content: Content.Input, options: UploadOptions): Promise<FileMetadata.FileMetadata> =>
      runWith(options, (options) => Files.uploadBytes(content, options)),
    upload: (content: Content.Input, options: UploadOptions): Promise<Files.UploadResult> =>
      runWith(options, (options) => Files.upload(content, options)),
    uploadContentBytes: (
      content: Content.Input,
      file: FileMetadata.ContentIdentifier,
      options: UploadContentOptions = {}
    ): Promise<FileMetadata.FileMetadata> =>
      runWith(options, (options) => Files.uploadContentBytes(content, file, options)),
    retrieve: (
      file: Files.FileIdentifier,
      options?: { readonly signal?: AbortSignal | undefined }
    ): Promise<FileMetadata.FileMetadata> => run(Files.retrieve(file), options?.signal),
    waitUntilAcknowledged: (
      file: Files.FileIdentifier,
      options?: {
        readonly signal?: AbortSignal | undefined
        readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
      }
    ): Promise<FileMetadata.FileMetadata> =>
      run(
        Files.waitUntilAcknowledged(file, options?.schedule === undefined ? undefined : { schedule: options.schedule }),
        options?.signal
      ),
    retrieveMany: (
      ids: ReadonlyArray<Files.FileIdentifier>,
      options: Files.RetrieveManyOptions & { readonly signal?: AbortSignal | undefined } = {}
    ): Promise<Array<FileMetadata.FileMetadata>> => run(Files.retrieveMany(ids, options), options.signal),
    list: (
      filter?: Files.FileFilter,
      options: Files.ListOptions & { readonly signal?: AbortSignal | undefined } = {}
    ): Promise<Array<FileMetadata.FileMetadata>> => {
      const { signal, ...paging } = options
      return run(Effect.map(Stream.runCollect(Files.list(filter, paging)), Chunk.toArray), signal)
    },
    update: (
      changes: ReadonlyArray<Files.FileChange>,
      options?: { readonly signal?: AbortSignal | undefined }
    ): Promise<Array<FileMetadata.FileMetadata>> => run(Files.update(changes), options?.signal),
    delete: (
      ids: ReadonlyArray<Files.DeleteIdentifier>,
      options: Files.DeleteOptions & { readonly signal?: AbortSignal | undefined } = {}
    ): Promise<void> => run(Files.delete(ids, options), options.signal),
    downloadUrl: (
      file: Files.FileIdentifier,
      options: Files.DownloadOptions & { readonly signal?: AbortSignal | undefined } = {}
    ): Promise<Redacted.Redacted<string>> => run(Files.downloadUrl(file, options), options.signal),
    download: (
      file: Files.FileIdentifier,
      options: Files.DownloadOptions & { readonly signal?: AbortSignal | undefined } = {}
    ): Promise<Uint8Array> => run(collectBytes(Files.download(file, options)), options.signal),
    dispose: (): Promise<void> => {
      disposed = true
      return runtime.dispose()
    }
  }
}

/** A stream of bytes as one buffer (the chunks joined by a `Blob`). @internal */
export const collectBytes = <E, R>(stream: Stream.Stream<Uint8Array, E, R>): Effect.Effect<Uint8Array, E, R> =>
  Effect.flatMap(Stream.runCollect(stream), (chunks) =>
    Effect.promise(() => new Blob(Chunk.toArray(chunks) as Array<BlobPart>).arrayBuffer()).pipe(
      Effect.map((buffer) => new Uint8Array(buffer))
    ))

/** Whether `u` can be listened to as an `AbortSignal` (of this realm or another). */
const isAbortSignal = (u: unknown): u is AbortSignal =>
  typeof u === "object" && u !== null && typeof (u as AbortSignal).aborted === "boolean" &&
  typeof (u as AbortSignal).addEventListener === "function"

/**
 * The effectful progress callback for a plain one; a callback that throws is ignored, never fails the upload.
 *
 * @internal
 */
export const onProgress = (callback: (progress: Progress.Progress) => void): Progress.OnProgress => (progress) =>
  Effect.sync(() => {
    try {
      callback(progress)
    } catch {
      // a throwing callback must not break the upload
    }
  })
