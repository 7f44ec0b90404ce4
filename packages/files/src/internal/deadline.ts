/**
 * The client's overall deadline (`CdfConfig.deadline`) applied to one call.
 *
 * @internal
 */
import { Duration, Effect, Option } from "effect"
import type * as CdfClient from "../CdfClient.js"
import { CdfTimeoutError } from "../CdfError.js"

/**
 * Runs `effect` within the client's overall deadline, if one is set: past it, the work is interrupted and the call
 * fails with `CdfTimeoutError` kind `deadline`.
 *
 * @internal
 */
export const withDeadline = (client: CdfClient.Service) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | CdfTimeoutError, R> =>
  Option.match(client.config.deadline, {
    onNone: () => effect,
    onSome: (deadline) =>
      Effect.timeoutFail(effect, {
        duration: deadline,
        onTimeout: () =>
          new CdfTimeoutError({
            message: `The call did not finish within its deadline of ${Duration.format(deadline)}`,
            kind: "deadline",
            timeoutMillis: Duration.toMillis(deadline)
          })
      })
  })
