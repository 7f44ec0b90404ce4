/**
 * A local CDF Files API: one `@effect/platform` HTTP app, served on a real Node port (`layerServer`) or answered
 * in memory by an `HttpClient` (`layerInMemory`), with OAuth2 client credentials, strict validation, upload URLs,
 * multipart uploads, list / search / aggregate / update / delete, signed download URLs with `Range`, fault injection
 * and inspection.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import type * as HttpServer from "@effect/platform/HttpServer"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { createServer } from "node:http"
import * as App from "./internal/app.js"
import * as MemoryClient from "./internal/memoryClient.js"
import * as State from "./internal/state.js"

/**
 * The name of every route the emulator serves, as used by faults and the request log.
 *
 * @since 0.1.0
 * @category models
 */
export const RouteName = Schema.Literal(
  "token",
  "files.create",
  "files.uploadlink",
  "files.byids",
  "files.get",
  "files.delete",
  "files.initmultipartupload",
  "files.multiuploadlink",
  "files.completemultipartupload",
  "files.list",
  "files.search",
  "files.aggregate",
  "files.update",
  "files.downloadlink",
  "storage.put",
  "storage.get"
)

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
export const FaultAction = Schema.Union(
  Schema.TaggedStruct("Status", {
    status: Schema.Int.pipe(Schema.between(100, 599)),
    retryAfter: Schema.optionalWith(Schema.String, { exact: true }),
    headers: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), { exact: true })
  }),
  Schema.TaggedStruct("Delay", { millis: Schema.NonNegative }),
  Schema.TaggedStruct("Hang", {}),
  Schema.TaggedStruct("ResetAfterBytes", { bytes: Schema.NonNegativeInt }),
  Schema.TaggedStruct("MalformedJson", {}),
  Schema.TaggedStruct("Throttle", { bytesPerSecond: Schema.Positive }),
  Schema.TaggedStruct("CommitThenFail", { mode: Schema.Literal("status", "drop") }),
  Schema.TaggedStruct("CorruptDownload", { offset: Schema.optionalWith(Schema.NonNegativeInt, { exact: true }) })
)

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
export const Fault = Schema.Struct({
  route: RouteName,
  attempts: Schema.optionalWith(Schema.Array(Schema.Int.pipe(Schema.positive())), { exact: true }),
  action: FaultAction
})

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
export const inMemoryBaseUrl = "http://emulator.cdf.test"

/**
 * The origin the in-memory emulator answers for upload URLs when `storageOrigin` is "separate".
 *
 * @since 0.1.0
 * @category constants
 */
export const inMemoryStorageUrl = "http://storage.emulator.cdf.test"

const makeService = (state: State.State): Effect.Effect<Service> =>
  Effect.map(state.issueToken(undefined), (token) => ({
    baseUrl: state.baseUrl,
    storageUrl: state.storageUrl,
    project: state.project,
    tokenUrl: state.tokenUrl,
    clientId: state.clientId,
    clientSecret: state.clientSecret,
    token,
    issueToken: (options) => state.issueToken(options?.lifetime),
    files: state.listFiles,
    requests: state.listRequests,
    createInstanceFile: state.createInstanceFile,
    addFault: state.addFault,
    clearFaults: state.clearFaults,
    reset: state.reset
  }))

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
    Effect.gen(function*() {
      const storageUrl = options.storageOrigin === "separate" ? inMemoryStorageUrl : inMemoryBaseUrl
      const state = yield* State.make(options, { baseUrl: inMemoryBaseUrl, storageUrl })
      const app = yield* App.make(state)
      const client = yield* MemoryClient.make(app, [inMemoryBaseUrl, storageUrl])
      const service = yield* makeService(state)
      return Context.make(Emulator, service).pipe(Context.add(HttpClient.HttpClient, client))
    })
  )

const formatOrigin = (host: string, port: number) =>
  `http://${host.includes(":") ? `[${host}]` : host}:${port}`

/**
 * Starts the emulator on real Node listeners (loopback by default) inside the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeServer = (options: ServerOptions = {}): Effect.Effect<Service, ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const host = options.host ?? "127.0.0.1"
    // On shutdown, end every open connection first (a hung or throttled request, a keep-alive socket), so that
    // closing the listener does not wait for them. Finalizers run in reverse: these run before the server's.
    const listen = (port: number) =>
      Effect.gen(function*() {
        const node = createServer()
        const server = yield* NodeHttpServer.make(() => node, { port, host })
        yield* Effect.addFinalizer(() => Effect.sync(() => node.closeAllConnections()))
        return server
      })
    const apiServer = yield* listen(options.port ?? 0)
    const apiPort = apiServer.address._tag === "TcpAddress" ? apiServer.address.port : 0
    const baseUrl = formatOrigin(host, apiPort)
    let storageServer = apiServer
    let storageUrl = baseUrl
    if (options.storageOrigin === "separate") {
      storageServer = yield* listen(options.storagePort ?? 0)
      const storagePort = storageServer.address._tag === "TcpAddress" ? storageServer.address.port : 0
      storageUrl = formatOrigin(host, storagePort)
    }
    const state = yield* State.make(options, { baseUrl, storageUrl })
    const app = yield* App.make(state)
    // The emulator plays a remote server: no server spans in the caller's tracer (they would record upload URLs
    // with their signatures).
    const serve = (server: HttpServer.HttpServer) =>
      Effect.locally(server.serve(app), HttpMiddleware.currentTracerDisabledWhen, () => true)
    yield* serve(apiServer)
    if (storageServer !== apiServer) {
      yield* serve(storageServer)
    }
    return yield* makeService(state)
  })

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
