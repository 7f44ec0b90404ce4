/**
 * `cdf-files emulator`: starts `@effect-cdf/emulator` (loaded only by this command) and prints how to point
 * `cdf-files` or the library at it.
 *
 * @internal
 */
import { Command } from "@effect/cli"
import { Effect, Option, Redacted } from "effect"
import * as Flags from "./flags.js"
import * as Help from "./help.js"
import { UsageError } from "./plan.js"
import type { Output } from "./runner.js"

const fieldOf = (value: unknown, key: string): unknown =>
  typeof value === "object" && value !== null && key in value ? (value as Record<string, unknown>)[key] : undefined

/**
 * Why the emulator's server could not listen, in words, from the cause of its `ServeError` (whose own message is
 * empty): usually Node's `listen` error, e.g. `port 4000 is already in use (EADDRINUSE)`.
 *
 * @internal
 */
export const whyNotStarted = (cause: unknown): string => {
  const code = fieldOf(cause, "code")
  const port = fieldOf(cause, "port")
  const address = fieldOf(cause, "address") ?? fieldOf(cause, "hostname")
  const message = fieldOf(cause, "message")
  const thePort = port === undefined ? "the port" : `port ${String(port)}`
  switch (code) {
    case "EADDRINUSE":
      return `${thePort} is already in use (EADDRINUSE)`
    case "EACCES":
      return `no permission to listen on ${thePort} (EACCES): ports below 1024 need privileges`
    case "EADDRNOTAVAIL":
      return `${address === undefined ? "the host" : String(address)} is not an address of this machine (EADDRNOTAVAIL)`
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `the host ${address === undefined ? "" : `${String(address)} `}cannot be resolved (${code})`
  }
  const text = typeof message === "string" && message !== "" ? message : cause === undefined ? "" : String(cause)
  return text === "" || text === "[object Object]" ? "its server could not listen (no reason given)" : text
}

/**
 * `cdf-files emulator`: a local CDF Files emulator on this machine until Ctrl-C.
 *
 * @internal
 */
export const emulatorCommand = (output: Output) =>
  Command.make("emulator", Flags.emulator, (flags) =>
    Effect.scoped(Effect.gen(function*() {
      // loaded only by this command: the emulator and its HTTP server are most of the CLI's start-up
      if (flags.noCors && flags.corsOrigin.length > 0) {
        return yield* Effect.fail(new UsageError("--no-cors and --cors-origin contradict each other: give one of them"))
      }
      const { Emulator: EmulatorModule } = yield* Effect.promise(() => import("@effect-cdf/emulator"))
      const emulator = yield* EmulatorModule.makeServer({
        port: flags.port,
        host: flags.host,
        project: flags.project,
        clientId: flags.clientId,
        storageOrigin: flags.storageOrigin,
        storagePort: flags.storagePort,
        allowRemote: flags.allowRemote,
        cors: flags.noCors ? false : flags.corsOrigin.length > 0 ? flags.corsOrigin : true,
        // without a secret given: the emulator's own default (random with --allow-remote)
        ...(Option.isSome(flags.clientSecret) ? { clientSecret: Redacted.value(flags.clientSecret.value) } : {}),
        ...(Option.isSome(flags.dataDir) ? { dataDir: flags.dataDir.value } : {}),
        ...(Option.isSome(flags.tokenLifetime) ? { tokenLifetime: flags.tokenLifetime.value } : {}),
        ...(Option.isSome(flags.uploadUrlLifetime) ? { uploadUrlLifetime: flags.uploadUrlLifetime.value } : {})
      }).pipe(Effect.mapError((error) => new UsageError(`cannot start the emulator: ${whyNotStarted(error.cause)}`)))
      const token = Redacted.value(emulator.token)
      if (flags.json) {
        yield* output.out(JSON.stringify({
          baseUrl: emulator.baseUrl,
          project: emulator.project,
          token,
          tokenUrl: emulator.tokenUrl,
          clientId: emulator.clientId,
          clientSecret: Redacted.value(emulator.clientSecret)
        }) + "\n")
      } else {
        yield* output.out([
          `CDF Files emulator listening on ${emulator.baseUrl} (project ${emulator.project}).`,
          "Point cdf-files (or the library) at it with:",
          `  CDF_URL=${emulator.baseUrl}`,
          `  CDF_PROJECT=${emulator.project}`,
          `  CDF_TOKEN=${token}`,
          `or client credentials: IDP_TOKEN_URL=${emulator.tokenUrl} IDP_CLIENT_ID=${emulator.clientId} ` +
          `IDP_CLIENT_SECRET=${Redacted.value(emulator.clientSecret)} IDP_SCOPES=${emulator.baseUrl}/.default`,
          "Stop it with Ctrl-C.",
          ""
        ].join("\n"))
      }
      return yield* Effect.never
    }))).pipe(Command.withDescription(Help.emulator.summary))
