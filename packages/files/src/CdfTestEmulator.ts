/**
 * The `Files` stack on the CDF Files API emulator, for tests of code that uses `Files`: `layer()` runs it in memory
 * (no socket; the emulator sleeps on the Effect clock, so `TestClock` drives retries and timeouts).
 *
 * Import it as `@effect-cdf/files/CdfTestEmulator`. It needs `@effect-cdf/emulator`, an optional peer dependency
 * (install it as a dev dependency). The main entry of this package does not export this module, so the library
 * never loads the emulator: only tests that import this module do.
 *
 * @since 0.1.0
 */
import { Emulator } from "@effect-cdf/emulator"
import type * as HttpClient from "@effect/platform/HttpClient"
import { Effect, Layer } from "effect"
import * as CdfAuth from "./CdfAuth.js"
import * as CdfClient from "./CdfClient.js"
import * as CdfConfig from "./CdfConfig.js"
import type { InvalidConfigError } from "./CdfError.js"
import * as Files from "./Files.js"

/**
 * How to build the stack: the emulator's options (`layer` only), client settings other than the base URL and project
 * (e.g. small part sizes or millisecond retry schedules), and credentials other than the emulator's static token
 * (e.g. `CdfAuth.layerClientCredentials` against the emulator's token endpoint).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly emulator?: Emulator.Options | undefined
  readonly config?: Partial<Omit<CdfConfig.Options, "baseUrl" | "project">> | undefined
  readonly auth?: Layer.Layer<CdfAuth.CdfAuth, InvalidConfigError, Emulator.Emulator | HttpClient.HttpClient> | undefined
}

/**
 * What the layers provide: the `Files` service and what it is built on, and the `Emulator` to inspect (stored files
 * with their sha256, requests, faults).
 *
 * @since 0.1.0
 * @category models
 */
export type Services =
  | Files.Files
  | CdfClient.CdfClient
  | CdfConfig.CdfConfig
  | CdfAuth.CdfAuth
  | Emulator.Emulator
  | HttpClient.HttpClient

/**
 * `Files`, `CdfClient`, `CdfConfig` and `CdfAuth` pointed at whatever `Emulator` and `HttpClient` are provided: use it
 * with `Emulator.layerServer()` and a real transport (`NodeTransport.layer`, merged) for tests over a loopback port.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerOver = (
  options: Omit<Options, "emulator"> = {}
): Layer.Layer<Exclude<Services, Emulator.Emulator | HttpClient.HttpClient>, InvalidConfigError, Emulator.Emulator | HttpClient.HttpClient> =>
  Files.layer.pipe(
    Layer.provideMerge(CdfClient.layer),
    Layer.provideMerge(Layer.unwrapEffect(Effect.map(Emulator.Emulator, (emulator) =>
      Layer.merge(
        CdfConfig.layer({
          baseUrl: emulator.baseUrl,
          project: emulator.project,
          allowInsecureHttp: true, // the in-memory origin is http://emulator.cdf.test
          ...options.config
        }),
        options.auth ?? CdfAuth.layerToken(emulator.token)
      ))))
  )

/**
 * The whole stack in memory: `layerOver(options)` on `Emulator.layerInMemory(options.emulator)`.
 *
 * @example
 * const id = await CdfTest.runPromise(archiveReport("a,b\n").pipe(Effect.provide(CdfTestEmulator.layer())))
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Services, InvalidConfigError> =>
  layerOver(options).pipe(Layer.provideMerge(Emulator.layerInMemory(options.emulator)))
