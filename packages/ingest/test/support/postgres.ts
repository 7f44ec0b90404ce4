/**
 * A throwaway PostgreSQL server for tests, as an Effect resource over `scripts/postgres.mjs` (initdb in a temp dir,
 * an unprivileged user, a free loopback port), removed when the scope closes.
 */
import { Context, Data, Effect, Layer, Redacted, type Scope } from "effect"
import { startPostgres } from "../../../../scripts/postgres.mjs"

export class PostgresSetupError extends Data.TaggedError("PostgresSetupError")<{ readonly message: string }> {}

export interface PostgresServer {
  /** `postgres://effect@127.0.0.1:PORT/postgres`: trust authentication on loopback only */
  readonly url: Redacted.Redacted<string>
  readonly port: number
  /** stop and start the same data directory, to test a lost database connection */
  readonly stop: Effect.Effect<void>
  readonly start: Effect.Effect<void, PostgresSetupError>
}

export class Postgres extends Context.Tag("test/Postgres")<Postgres, PostgresServer>() {}

/** A scoped PostgreSQL server: created and started, then stopped and deleted when the scope closes. */
export const make: Effect.Effect<PostgresServer, PostgresSetupError, Scope.Scope> = Effect.map(
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => startPostgres(),
      catch: (error) => new PostgresSetupError({ message: String(error) })
    }),
    (server) => Effect.promise(() => server.remove())
  ),
  (server) => ({
    url: Redacted.make(server.url),
    port: server.port,
    stop: Effect.promise(() => server.stop()),
    start: Effect.tryPromise({
      try: () => server.start(),
      catch: (error) => new PostgresSetupError({ message: String(error) })
    })
  })
)

/** The server as a layer, for `layer(...)` of @effect/vitest. */
export const layer = Layer.scoped(Postgres, make)
