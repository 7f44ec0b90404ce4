/**
 * The `cdf-emulator` executable: starts the emulator on a real port and prints how to reach it.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Emulator from "./Emulator.js"

const parseDuration = (input: string): Either.Either<Duration.Duration, string> => {
  if (/^\d+$/.test(input.trim())) return Either.right(Duration.seconds(Number(input)))
  return Option.match(Duration.decodeUnknown(input.trim()), {
    onNone: () => Either.left(`invalid duration "${input}" (seconds, or e.g. "10 minutes")`),
    onSome: Either.right
  })
}

const port = Options.integer("port").pipe(
  Options.withDefault(4000),
  Options.withDescription("API port (0 = any free port)")
)
const host = Options.text("host").pipe(Options.withDefault("127.0.0.1"), Options.withDescription("address to bind"))
const storageOrigin = Options.choice("storage-origin", ["same", "separate"]).pipe(
  Options.withDefault("same" as const),
  Options.withDescription("upload URLs on the API origin, or on a second listener")
)
const dataDir = Options.directory("data-dir").pipe(
  Options.optional,
  Options.withDescription("store uploaded content in this directory instead of memory")
)
const tokenLifetime = Options.text("token-lifetime").pipe(
  Options.mapEffect((input) =>
    Either.mapLeft(parseDuration(input), (message) => ValidationError.invalidValue(HelpDoc.p(message)))
  ),
  Options.optional,
  Options.withDescription("lifetime of issued tokens: seconds, or e.g. \"1 hour\" (default 1 hour)")
)
const uploadUrlLifetime = Options.text("upload-url-lifetime").pipe(
  Options.mapEffect((input) =>
    Either.mapLeft(parseDuration(input), (message) => ValidationError.invalidValue(HelpDoc.p(message)))
  ),
  Options.optional,
  Options.withDescription(
    "how long upload URLs stay valid: seconds, or e.g. \"500 millis\" (default 7 days); a later PUT gets 403"
  )
)
const project = Options.text("project").pipe(Options.withDefault("emulator"), Options.withDescription("project name"))
const json = Options.boolean("json").pipe(
  Options.withDescription("print one JSON line {baseUrl, project, token, tokenUrl, clientId, clientSecret}")
)

/**
 * The command line of `cdf-emulator`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "cdf-emulator",
  { port, host, storageOrigin, dataDir, tokenLifetime, uploadUrlLifetime, project, json },
  (args) =>
    Effect.scoped(
      Effect.gen(function*() {
        const emulator = yield* Emulator.makeServer({
          port: args.port,
          host: args.host,
          project: args.project,
          storageOrigin: args.storageOrigin,
          ...Option.match(args.dataDir, { onNone: () => ({}), onSome: (dir) => ({ dataDir: dir }) }),
          ...Option.match(args.tokenLifetime, { onNone: () => ({}), onSome: (d) => ({ tokenLifetime: d }) }),
          ...Option.match(args.uploadUrlLifetime, { onNone: () => ({}), onSome: (d) => ({ uploadUrlLifetime: d }) })
        })
        const info = {
          baseUrl: emulator.baseUrl,
          project: emulator.project,
          token: Redacted.value(emulator.token),
          tokenUrl: emulator.tokenUrl,
          clientId: emulator.clientId,
          clientSecret: Redacted.value(emulator.clientSecret)
        }
        if (args.json) {
          yield* Console.log(JSON.stringify(info))
        } else {
          yield* Console.log(
            [
              `CDF Files emulator listening (Ctrl-C to stop)`,
              `  base URL:      ${info.baseUrl}`,
              `  project:       ${info.project}`,
              `  token:         ${info.token}`,
              `  token URL:     ${info.tokenUrl}`,
              `  client id:     ${info.clientId}`,
              `  client secret: ${info.clientSecret}`,
              ...(emulator.storageUrl === emulator.baseUrl ? [] : [`  storage URL:   ${emulator.storageUrl}`])
            ].join("\n")
          )
        }
        return yield* Effect.never
      })
    )
)

const cli = Command.run(command, { name: "cdf-emulator", version: "0.1.0" })

cli(process.argv).pipe(
  // @effect/cli has already printed a validation error with the usage
  Effect.catchIf(ValidationError.isValidationError, () => Effect.sync(() => void (process.exitCode = 2))),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disablePrettyLogger: true })
)
