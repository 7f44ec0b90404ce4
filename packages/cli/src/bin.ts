/**
 * The `cdf-files` executable: runs `Cli.run` on `process.argv` and exits with its code (130 after Ctrl-C).
 *
 * @since 0.1.0
 */
// Deep imports: the package index loads every module of @effect/platform-node (servers, workers, sockets), a large
// share of the start-up of a one-file upload.
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit } from "effect"
import * as Cli from "./Cli.js"

// A reader that goes away (`cdf-files upload ... | head -1`) must not crash the command with EPIPE: the uploads go
// on, and what cannot be written is dropped.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {})

Cli.run(process.argv).pipe(
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    disablePrettyLogger: true,
    teardown: (exit, onExit) => {
      if (Exit.isSuccess(exit)) return onExit(typeof exit.value === "number" ? exit.value : 0)
      if (Cause.isInterruptedOnly(exit.cause)) return onExit(130)
      process.stderr.write(`cdf-files: unexpected failure: ${Cause.squash(exit.cause)}\n`)
      onExit(1)
    }
  })
)
