/**
 * The client's overall deadline (`CdfConfig.deadline`) applied to one call: an effect (`withDeadline`) or a stream
 * (`streamWithinDeadline`), failing alike past it.
 *
 * @internal
 */
import { Duration, Effect, Option, Stream } from "effect"
import type * as CdfClient from "../CdfClient.js"
import { CdfTimeoutError } from "../CdfError.js"

/** The failure of a call past its deadline. */
const pastDeadline = (deadline: Duration.Duration): CdfTimeoutError =>
  new CdfTimeoutError({
    message: `The call did not finish within its deadline of ${Duration.format(deadline)}`,
    kind: "deadline",
    timeoutMillis: Duration.toMillis(deadline)
  })

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
      Effect.timeoutFail(effect, { duration: deadline, onTimeout: () => pastDeadline(deadline) })
  })

/** The client's overall deadline on a stream: past it, the stream fails with `CdfTimeoutError` kind `deadline`. @internal */
export const streamWithinDeadline = (client: CdfClient.Service) =>
<A, E, R>(stream: Stream.Stream<A, E, R>): Stream.Stream<A, E | CdfTimeoutError, R> =>
  Option.match(client.config.deadline, {
    onNone: () => stream,
    onSome: (deadline) =>
      Stream.interruptWhen(
        stream,
        Effect.zipRight(Effect.sleep(deadline), Effect.fail(pastDeadline(deadline)))
      )
  })
