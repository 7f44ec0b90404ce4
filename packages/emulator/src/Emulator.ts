/**
 * A local CDF Files API: one `@effect/platform` HTTP app, served on a real Node port (`layerServer`) or answered
 * in memory by an `HttpClient` (`layerInMemory`), with OAuth2 client credentials, strict validation, upload URLs,
 * multipart uploads, list / search / aggregate / update / delete, signed download URLs with `Range`, fault injection
 * and inspection.
 *
 * This module holds the signatures and docs; the code is in `internal/`: `server.ts` starts the emulator (in memory
 * or on Node listeners), `app.ts` wires the routes and says where each one lives, and `state.ts` holds what it keeps
 * (files, tokens, upload sessions, faults, the request log).
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as FaultSchema from "./internal/faultSchema.js"
import * as Server from "./internal/server.js"

/**
 * The name of every route the emulator serves, as used by faults and the request log.
 *
 * @since 0.1.0
 * @category models
 */
export const RouteName = FaultSchema.RouteName

/**
 * @since 0.1.0
 * @category models
 */
export type RouteName = typeof RouteName.Type

/**
 * What a fault does to the request it matches.
 *
 * @since 0.1.0
 * @category models
 */
export const FaultAction = FaultSchema.FaultAction

/**
 * @since 0.1.0
 * @category models
 */
export type FaultAction = typeof FaultAction.Type

/**
 * A fault: for the given route (and, if `attempts` is set, only for those 1-based attempt numbers of that route),
 * do `action` instead of (or around) the normal handling. The first matching fault wins.
 *
 * @since 0.1.0
 * @category models
 */
export const Fault = FaultSchema.Fault

/**
 * @since 0.1.0
 * @category models
 */
export interface Fault extends Schema.Schema.Type<typeof Fault> {}

/**
 * One PUT to an upload URL of a file.
 *
 * @since 0.1.0
 * @category models
 */
export interface PutRecord {
  /** 0-based part for multipart, undefined for a single PUT */
  readonly part: number | undefined
  /** what the emulator answered (0: no answer, the connection was dropped or hung) */
  readonly status: number
  /** body bytes received */
  readonly bytes: number
  /** an Authorization header was present */
  readonly authorization: boolean
  /** names of x-cdp-* and cdf-version headers received (should be empty) */
  readonly cdfHeaders: ReadonlyArray<string>
  readonly contentType: string | undefined
  readonly contentLength: number | undefined
  /** transfer-encoding: chunked */
  readonly chunked: boolean
}

/**
 * A file record as the emulator holds it.
 *
 * @since 0.1.0
 * @category models
 */
export interface StoredFile {
  readonly id: number
  readonly externalId: string | undefined
  readonly name: string
  /** the FilesMetadata JSON the API returns for it */
  readonly record: Readonly<Record<string, unknown>>
  readonly uploaded: boolean
  /** of the stored content; undefined until content arrives */
  readonly size: number | undefined
  /** hex */
  readonly sha256: string | undefined
  /** every PUT to its upload URL(s), in arrival order */
  readonly puts: ReadonlyArray<PutRecord>
}

/**
 * One request as it arrived, secrets masked.
 *
 * @since 0.1.0
 * @category models
 */
export interface LoggedRequest {
  readonly route: RouteName | "unknown"
  readonly method: string
  /** no query string */
  readonly path: string
  /** what the emulator answered (0: no answer, the connection was dropped or hung) */
  readonly status: number
  /** 1-based count of requests to this route so far */
  readonly attempt: number
  readonly requestId: string | undefined
  /** authorization and other secrets masked as "<redacted>" */
  readonly headers: Readonly<Record<string, string>>
}

/**
 * A file as Data Modeling creates it (a CogniteFile node): it has an `instanceId`, is found by it (`byids`,
 * `uploadlink`, `multiuploadlink`, `completemultipartupload`) and is named "untitled" unless given a name.
 *
 * @since 0.1.0
 * @category models
 */
export interface InstanceFileOptions {
  readonly instanceId: { readonly space: string; readonly externalId: string }
  readonly name?: string
  readonly mimeType?: string
  readonly directory?: string
}

/**
 * Settings of an emulator; all optional.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** default "emulator" */
  readonly project?: string
  /** default "emulator-client" */
  readonly clientId?: string
  /** default "emulator-secret" */
  readonly clientSecret?: string
  /** default "1 hour" */
  readonly tokenLifetime?: Duration.DurationInput
  /** where upload URLs point; default "same" */
  readonly storageOrigin?: "same" | "separate"
  /** content on disk (Node); default: memory */
  readonly dataDir?: string
  /**
   * With `dataDir`: keep the records across restarts (`<dataDir>/records.json`, written when the server stops, read
   * when it starts). Default false: every start is empty.
   */
  readonly persist?: boolean
  /** default 5_000_000_000; larger single PUTs get 413 without the body being read */
  readonly singlePutLimit?: number
  /** multipart: every part but the last must be at least this; default 5 MiB */
  readonly minPartSize?: number
  /** completion with fewer parts than asked for; default false */
  readonly allowFewerParts?: boolean
  /** `uploaded` turns true this long after the bytes arrive; default 0 */
  readonly uploadedDelay?: Duration.DurationInput
  /**
   * How long an upload URL (of a single PUT or of a part) is valid after it was handed out; a PUT after that gets
   * storage's 403 (AuthenticationFailed, expired signature). Default "7 days", as real upload URLs.
   */
  readonly uploadUrlLifetime?: Duration.DurationInput
  /** faults set at start */
  readonly faults?: ReadonlyArray<Fault>
  /** the control routes (`/_emulator/...`) need a valid bearer token, as API routes do; default false */
  readonly protectControlRoutes?: boolean
  /**
   * CORS for web pages on other origins (API, token and storage routes): `true` (default) allows loopback origins
   * (`http://127.0.0.1:<port>`, `http://localhost:<port>`, `http://[::1]:<port>`); `false` turns it off; a list
   * allows exactly those origins (`"*"`: any). Preflights are answered 204 (not logged, no faults); the headers a
   * preflight asks for are allowed; `x-request-id`, `Retry-After`, `cdf-is-auto-retryable` and `Content-Range`
   * are exposed.
   */
  readonly cors?: boolean | ReadonlyArray<string>
}

/**
 * Options of `layerServer`: the emulator options plus where to listen.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerOptions extends Options {
  /** default 0: any free port */
  readonly port?: number
  /** default "127.0.0.1" */
  readonly host?: string
  /** port of the separate storage listener when `storageOrigin` is "separate"; default 0 */
  readonly storagePort?: number
  /**
   * Serve clients on other machines: needed to listen on a host that is not loopback. With it the control routes
   * need a valid bearer token and the client secret is random unless given. Default false.
   */
  readonly allowRemote?: boolean
}

/**
 * The running emulator: its addresses, credentials, inspection and fault control.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** API origin, no trailing slash */
  readonly baseUrl: string
  /** origin of upload URLs (=== baseUrl when storageOrigin is "same") */
  readonly storageUrl: string
  readonly project: string
  /** OAuth2 client-credentials endpoint (form body or HTTP Basic) */
  readonly tokenUrl: string
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /** a valid token issued at start */
  readonly token: Redacted.Redacted<string>
  readonly issueToken: (options?: { readonly lifetime?: Duration.DurationInput }) => Effect.Effect<Redacted.Redacted<string>>
  /** every record, in id order */
  readonly files: Effect.Effect<ReadonlyArray<StoredFile>>
  /** every request, in arrival order */
  readonly requests: Effect.Effect<ReadonlyArray<LoggedRequest>>
  /** creates (or finds) the file of a Data Modeling instance; the emulator has no Data Modeling of its own */
  readonly createInstanceFile: (options: InstanceFileOptions) => Effect.Effect<StoredFile>
  readonly addFault: (fault: Fault) => Effect.Effect<void>
  readonly clearFaults: Effect.Effect<void>
  /** drop files, request log, faults, attempt counters */
  readonly reset: Effect.Effect<void>
}

/**
 * The emulator service.
 *
 * @since 0.1.0
 * @category tags
 */
export class Emulator extends Context.Tag("@effect-cdf/emulator/Emulator")<Emulator, Service>() {}

/**
 * The origin the in-memory emulator answers for the API.
 *
 * @since 0.1.0
 * @category constants
 */
export const inMemoryBaseUrl: "http://emulator.cdf.test" = Server.inMemoryBaseUrl

/**
 * The origin the in-memory emulator answers for upload URLs when `storageOrigin` is "separate".
 *
 * @since 0.1.0
 * @category constants
 */
export const inMemoryStorageUrl: "http://storage.emulator.cdf.test" = Server.inMemoryStorageUrl

/**
 * An emulator without a socket: the provided `HttpClient` answers every URL of the emulator's origins (API, token,
 * storage) from the same HTTP app the server uses. Sized bodies carry content-length, unsized streams look chunked;
 * a dropped connection is a `RequestError` with reason "Transport"; the Effect clock (and so `TestClock`) drives
 * delays, throttling, token expiry and `uploadedDelay`. Any other origin fails with a "Transport" `RequestError`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerInMemory = (options: Options = {}): Layer.Layer<Emulator | HttpClient.HttpClient> =>
  Layer.scopedContext(
    Effect.map(
      Server.makeInMemory(options),
      ({ client, service }) => Context.make(Emulator, service).pipe(Context.add(HttpClient.HttpClient, client))
    )
  )

/**
 * Starts the emulator on real Node listeners (loopback by default) inside the current scope. A host that is not
 * loopback fails with a `ServeError` unless `allowRemote` is set.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeServer = (serverOptions: ServerOptions = {}): Effect.Effect<Service, ServeError, Scope.Scope> =>
  Server.makeServer(serverOptions)

/**
 * A real Node HTTP server on 127.0.0.1 (port 0 = any free port); "separate" storage is a second listener on
 * another port. Clients use `NodeHttpClient.layerUndici`. The control is also exposed over HTTP under
 * `/_emulator/...` (faults, files, requests, reset).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerServer = (options: ServerOptions = {}): Layer.Layer<Emulator, ServeError> =>
  Layer.scoped(Emulator, makeServer(options))
