/**
 * Best-effort cleanup of a record a failed or interrupted call created: `withCleanupOf` gives the call a slot to
 * record the id in (the creates of `fileRecords.ts` fill it, atomically with their answer), and deletes the record
 * (`deleteCreated`) when the call fails or is interrupted after that.
 *
 * @internal
 */
import { Cause, Duration, Effect, Option, Ref, Schedule } from "effect"
import type * as CdfClient from "../CdfClient.js"
import { Cleanup, isCdfError, withCleanup } from "../CdfError.js"
import * as ApiClient from "./apiClient.js"
import * as FileWire from "./fileWire.js"

/** How long best-effort cleanup may take. @internal */
export const cleanupTimeout = Duration.seconds(15)

/**
 * Deletes a record the call created (best effort: uninterruptible, short timeout, retried only where no harm can
 * come of it) and says what happened.
 *
 * @internal
 */
export const deleteCreated = (client: CdfClient.Service, fileId: number): Effect.Effect<Cleanup> =>
  client.request({
    method: "POST",
    path: "files/delete",
    body: ApiClient.jsonBody(FileWire.UnknownItems, { items: [{ id: fileId }] }),
    response: ApiClient.ignoreBody,
    retry: "nonIdempotent",
    timeout: Duration.seconds(10),
    schedule: Schedule.exponential("200 millis").pipe(Schedule.intersect(Schedule.recurs(2)))
  }).pipe(
    Effect.timeoutFail({ duration: cleanupTimeout, onTimeout: () => "timed out" as const }),
    Effect.as(new Cleanup({ fileId, deleted: true })),
    Effect.catchAll((error) =>
      Effect.succeed(
        new Cleanup({
          fileId,
          deleted: false,
          reason: typeof error === "string" ? error : error.message
        })
      )
    ),
    Effect.withSpan("Files.cleanup", { attributes: { "cdf.file.id": fileId } }),
    Effect.uninterruptible
  )

/**
 * Runs `use` with a slot where it records the id of a record it created; if `use` fails (or is interrupted) after
 * that, deletes the record and, for a failure that is a `CdfError`, annotates it with `CdfError.withCleanup` (a
 * failure of the caller's own type, in a multipart session, is kept as it is).
 *
 * @internal
 */
export const withCleanupOf = <A, E, R>(
  client: CdfClient.Service,
  use: (created: Ref.Ref<Option.Option<number>>) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.flatMap(Ref.make(Option.none<number>()), (created) =>
    // One uninterruptible region: `use` runs interruptibly; on its failure or interruption, the record it created
    // (taken from the slot once) is deleted before the call ends.
    Effect.uninterruptibleMask((restore) =>
      Effect.matchCauseEffect(restore(use(created)), {
        onSuccess: Effect.succeed,
        onFailure: (cause) =>
          Effect.flatMap(Ref.getAndSet(created, Option.none()), (id) => {
            if (Option.isNone(id)) return Effect.failCause(cause)
            const failure = Cause.failureOption(cause)
            return Effect.flatMap(deleteCreated(client, id.value), (cleanup) =>
              // a typed failure carries what happened to the record; an interruption or a defect stays as it was
              Option.isSome(failure)
                ? Effect.fail(isCdfError(failure.value) ? withCleanup(failure.value, cleanup) : failure.value)
                : Effect.failCause(cause))
          })
      })
    ))
