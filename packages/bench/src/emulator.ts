/**
 * The emulator as a benchmark target, in its own process: `node dist/emulator.js '<options JSON>'` starts
 * `Emulator.makeServer` on 127.0.0.1 and prints one JSON line `{ baseUrl, storageUrl, project, token, pid }` (the
 * token is the emulator's own, local and short-lived, for the benchmark clients). SIGTERM stops it.
 *
 * @since 0.1.0
 */
import { Emulator } from "@effect-cdf/emulator"
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Redacted, Schema } from "effect"

const Options = Schema.parseJson(Schema.Struct({
  dataDir: Schema.optionalWith(Schema.String, { exact: true }),
  storageOrigin: Schema.optionalWith(Schema.Literal("same", "separate"), { exact: true }),
  minPartSize: Schema.optionalWith(Schema.Number, { exact: true }),
  faults: Schema.optionalWith(Schema.Array(Emulator.Fault), { exact: true })
}))

const program = Effect.gen(function*() {
  const options = yield* Schema.decodeUnknown(Options)(process.argv[2] ?? "{}")
  const emulator = yield* Emulator.makeServer(options)
  process.stdout.write(
    JSON.stringify({
      baseUrl: emulator.baseUrl,
      storageUrl: emulator.storageUrl,
      project: emulator.project,
      token: Redacted.value(emulator.token),
      pid: process.pid
    }) + "\n"
  )
  return yield* Effect.never
}).pipe(Effect.scoped)

NodeRuntime.runMain(program)
