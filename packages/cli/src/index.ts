/**
 * The `cdf-files` command (`cdf-files upload`, `cdf-files emulator`), as an @effect/cli command you can also run
 * from code.
 *
 * @since 0.1.0
 */
export * as Cli from "./Cli.js"
