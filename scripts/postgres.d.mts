export declare const binDir: () => string | undefined
export interface PostgresServer {
  /** `postgres://effect@127.0.0.1:PORT/postgres` (trust authentication on loopback) */
  readonly url: string
  readonly port: number
  /** a fast shutdown: clients are disconnected */
  readonly stop: () => Promise<void>
  /** the same data directory again, on the same port */
  readonly start: () => Promise<void>
  /** stop, then delete the data directory */
  readonly remove: () => Promise<void>
}
export declare const startPostgres: (settings?: Readonly<Record<string, string>>) => Promise<PostgresServer>
