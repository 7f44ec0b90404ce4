/**
 * The settings of a CDF client: where the API is (base URL and project), how it identifies itself, and how hard it
 * tries (timeouts, retry schedules, transfer sizes and concurrency).
 *
 * Schedules are given through `layer` options, never through the environment.
 *
 * @since 0.1.0
 */
import { Config, Context, Effect, Layer, type Schedule } from "effect"
import type * as ConfigError from "effect/ConfigError"
import type { InvalidConfigError } from "./CdfError.js"
import * as internal from "./internal/config.js"

/**
 * The options of `layer` (and of `layerConfig`, read from a `Config`). Each is documented on its field, with its
 * default (declared in `internal/config.ts`; an editor shows it on hover), and docs/configuration.md lists them all.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends internal.Options {}

/**
 * The resolved settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends internal.Service {}

/**
 * @since 0.1.0
 * @category tags
 */
export class CdfConfig extends Context.Tag("@effect-cdf/files/CdfConfig")<CdfConfig, Service>() {}

/**
 * The default retry schedule of API requests: jittered exponential backoff from 500 ms (doubling), at most 8 retries.
 * Every delay is further capped by `maxRetryDelay`, and raised to a `Retry-After` up to `maxRetryAfter`.
 *
 * @since 0.1.0
 * @category schedules
 */
export const defaultApiRetrySchedule: Schedule.Schedule<unknown, unknown> = internal.defaultApiRetrySchedule

/**
 * The default retry schedule of each transfer (PUT or part): jittered exponential backoff from 1 s (doubling), at
 * most 6 retries. Every delay is further capped by `maxRetryDelay`, and raised to a `Retry-After` up to `maxRetryAfter`.
 *
 * @since 0.1.0
 * @category schedules
 */
export const defaultTransferRetrySchedule: Schedule.Schedule<unknown, unknown> = internal.defaultTransferRetrySchedule

/**
 * The defaults of every optional setting.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: typeof internal.defaults = internal.defaults

/**
 * Validates options and fills in the defaults. Fails with `InvalidConfigError` on a malformed base URL, on plain
 * `http://` to a non-loopback host without `allowInsecureHttp`, on an empty project, and on a non-positive size,
 * count or duration.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: Options) => Effect.Effect<Service, InvalidConfigError> = internal.make

/**
 * A layer of the given settings.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<CdfConfig, InvalidConfigError> =>
  Layer.effect(CdfConfig, make(options))

/**
 * The settings read from the environment names Cognite users already have (cognite-toolkit `.env`):
 * `CDF_URL` (or `CDF_CLUSTER`, giving `https://{cluster}.cognitedata.com`), `CDF_PROJECT` and `CDF_CLIENT_NAME`
 * (optional).
 *
 * @since 0.1.0
 * @category config
 */
export const environment: Config.Config<Options> = internal.environment

/**
 * A layer of settings read through `Config`, by default from the environment names of `environment`.
 * Pass a `Config.Wrap<Options>` to read other names or to add settings, e.g.
 * `layerConfig(Config.map(CdfConfig.environment, (o) => ({ ...o, apiTimeout: "10 seconds" })))`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options> = environment
): Layer.Layer<CdfConfig, ConfigError.ConfigError | InvalidConfigError> =>
  Layer.effect(CdfConfig, Effect.flatMap(Config.unwrap(config), make))
