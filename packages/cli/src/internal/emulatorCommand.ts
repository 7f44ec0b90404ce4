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
      }).pipe(Effect.mapError((error) => new UsageError(`cannot start the emulator: ${error.message}`)))
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
