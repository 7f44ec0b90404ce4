/**
 * The library's layers as `cdf-files` builds them: from the settings (flags, environment, `.env`), or, with
 * `--emulator`, around an emulator started in this process. Both give `CdfConfig` too, to name the target.
 *
 * @internal
 */
import { CdfAuth, CdfClient, CdfConfig, Files } from "@effect-cdf/files"
import * as NodeTransport from "@effect-cdf/files/NodeTransport"
import type { Emulator } from "@effect-cdf/emulator"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type { InvalidConfigError } from "@effect-cdf/files/CdfError"
import type { ServeError } from "@effect/platform/HttpServerError"
import { Config, Effect, Layer, Option } from "effect"
import type * as ConfigError from "effect/ConfigError"
import { CliExit, ExitCode } from "./report.js"
import type { Output } from "./runner.js"
import { describeConfigError, type Settings } from "./settings.js"
import { UsageError } from "./usage.js"

const proxyOptions = (settings: Settings): NodeTransport.ProxyOptions => {
  const pick = (upper: string, lower: string) => settings.proxy.get(upper) ?? settings.proxy.get(lower)
  const httpsProxy = pick("HTTPS_PROXY", "https_proxy")
  const httpProxy = pick("HTTP_PROXY", "http_proxy")
  const noProxy = pick("NO_PROXY", "no_proxy")
  return {
    ...(httpsProxy === undefined ? {} : { httpsProxy }),
    ...(httpProxy === undefined ? {} : { httpProxy }),
    ...(noProxy === undefined ? {} : { noProxy })
  }
}

/**
 * `CDF_SINGLE_PUT_THRESHOLD` and `CDF_PART_SIZE` (bytes, optional): when uploads go multipart, and the size of the
 * parts (the library's defaults otherwise).
 */
const transferSizes = Config.all({
  singlePutThreshold: Config.integer("CDF_SINGLE_PUT_THRESHOLD").pipe(Config.option),
  partSize: Config.integer("CDF_PART_SIZE").pipe(Config.option)
}).pipe(Config.map(({ partSize, singlePutThreshold }) => ({
  ...(Option.isSome(singlePutThreshold) ? { singlePutThreshold: singlePutThreshold.value } : {}),
  ...(Option.isSome(partSize) ? { partSize: partSize.value } : {})
})))

/**
 * `Files` configured from the settings.
 *
 * @internal
 */
export const fromSettings = (settings: Settings, concurrency: number) => {
  const insecure = settings.allowInsecureHttp ? { allowInsecureHttp: true } : {}
  return Files.layer.pipe(
    Layer.provide(CdfClient.layer),
    Layer.provideMerge(Layer.mergeAll(
      CdfConfig.layerConfig(Config.map(Config.all([CdfConfig.environment, transferSizes]), ([options, sizes]) => ({
        ...options,
        ...sizes,
        clientName: options.clientName ?? "cdf-files",
        // --concurrency files at a time each get a PUT slot (the library caps PUTs client-wide)
        maxConcurrentTransfers: Math.max(concurrency, CdfConfig.defaults.maxConcurrentTransfers),
        ...insecure
      }))),
      CdfAuth.layerConfig(insecure)
    )),
    Layer.provide(NodeTransport.layerWith(proxyOptions(settings))),
    Layer.provide(Layer.setConfigProvider(settings.provider))
  )
}

/**
 * `Files` talking to an emulator started in this process (on a loopback port, gone when the command ends).
 * `notice` is told its address before anything is uploaded.
 *
 * @internal
 */
export const embedded = (
  notice: (emulator: Emulator.Service) => Effect.Effect<void>,
  concurrency: number,
  options: { readonly dataDir?: string; readonly persist?: boolean } = {}
) =>
  Layer.unwrapScoped(Effect.gen(function*() {
    // loaded only when asked for (`--emulator`): the emulator and its HTTP server are most of the CLI's start-up
    const { Emulator: EmulatorModule } = yield* Effect.promise(() => import("@effect-cdf/emulator"))
    const emulator = yield* EmulatorModule.makeServer(options)
    yield* notice(emulator)
    return Files.layer.pipe(
      Layer.provide(CdfClient.layer),
      Layer.provideMerge(Layer.mergeAll(
        CdfConfig.layer({
          baseUrl: emulator.baseUrl,
          project: emulator.project,
          clientName: "cdf-files",
          maxConcurrentTransfers: Math.max(concurrency, CdfConfig.defaults.maxConcurrentTransfers)
        }),
        CdfAuth.layerToken(emulator.token)
      )),
      // loopback: no proxy, whatever the environment says
      Layer.provide(NodeHttpClient.layerUndici)
    )
  }))

/** What a command says when it uploads to an emulator started in this process (`--emulator`). @internal */
export const describeEmbedded = (emulator: Emulator.Service): string =>
  [
    "cdf-files: --emulator: uploading to an EMBEDDED CDF EMULATOR started in this process:",
    `           ${emulator.baseUrl} (project ${emulator.project}). Nothing reaches CDF, and the files are gone when`,
    "           this command exits. Run `cdf-files emulator` for an emulator that stays up.",
    ""
  ].join("\n")

/**
 * What building these layers can fail with, in words, for `Effect.catchTags`: a missing or unusable setting is a
 * usage error; an embedded emulator that cannot start is printed and ends the command with exit code 1.
 *
 * @internal
 */
export const buildFailures = (output: Output) => ({
  ConfigError: (error: ConfigError.ConfigError) => Effect.fail(new UsageError(describeConfigError(error))),
  InvalidConfigError: (error: InvalidConfigError) =>
    Effect.fail(
      new UsageError(`configuration: ${error.message.replace("set allowInsecureHttp", "pass --allow-insecure-http")}`)
    ),
  ServeError: (error: ServeError) =>
    Effect.zipRight(
      output.err(`cdf-files: cannot start the embedded emulator: ${error.message}\n`),
      Effect.fail(new CliExit(ExitCode.failure))
    )
})
