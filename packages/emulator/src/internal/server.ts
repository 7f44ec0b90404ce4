/**
 * The code of `Emulator`'s two ways to run: in memory (the app answers an `HttpClient`) and on real Node listeners
 * (the app behind `NodeHttpServer`, with the fast path for the hot routes, persistence and the remote check).
 *
 * @internal
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { Options, ServerOptions, Service } from "../Emulator.js"
import * as App from "./app.js"
import * as Cors from "./cors.js"
import * as FastPath from "./fastPath.js"
import * as MemoryClient from "./memoryClient.js"
import * as Persist from "./persist.js"
import * as Remote from "./remote.js"
import * as State from "./state.js"

/** @internal */
export const inMemoryBaseUrl = "http://emulator.cdf.test"

/** @internal */
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

/** The emulator in memory: its service and the `HttpClient` that answers its origins. @internal */
export const makeInMemory = (
  options: Options
): Effect.Effect<{ readonly service: Service; readonly client: HttpClient.HttpClient }, never, Scope.Scope> =>
  Effect.gen(function*() {
    const storageUrl = options.storageOrigin === "separate" ? inMemoryStorageUrl : inMemoryBaseUrl
    const state = yield* State.make(options, { baseUrl: inMemoryBaseUrl, storageUrl })
    const app = yield* App.make(state, options.cors)
    const client = yield* MemoryClient.make(app, [inMemoryBaseUrl, storageUrl])
    const service = yield* makeService(state)
    return { service, client }
  })

const formatOrigin = (host: string, port: number) =>
  `http://${host.includes(":") ? `[${host}]` : host}:${port}`

/** @internal */
export const makeServer = (
  serverOptions: ServerOptions = {}
): Effect.Effect<Service, ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const host = serverOptions.host ?? "127.0.0.1"
    const options = yield* Remote.check(serverOptions, host)
    // On shutdown, end every open connection first (a hung or throttled request, a keep-alive socket), so that
    // closing the listener does not wait for them. Finalizers run in reverse: these run before the server's.
    const listen = (port: number) =>
      Effect.gen(function*() {
        const node = createServer()
        const server = yield* NodeHttpServer.make(() => node, { port, host })
        yield* Effect.addFinalizer(() => Effect.sync(() => node.closeAllConnections()))
        return { node, server }
      })
    const api = yield* listen(options.port ?? 0)
    const apiPort = api.server.address._tag === "TcpAddress" ? api.server.address.port : 0
    const baseUrl = formatOrigin(host, apiPort)
    let storage = api
    let storageUrl = baseUrl
    if (options.storageOrigin === "separate") {
      storage = yield* listen(options.storagePort ?? 0)
      const storagePort = storage.server.address._tag === "TcpAddress" ? storage.server.address.port : 0
      storageUrl = formatOrigin(host, storagePort)
    }
    const state = yield* State.make(options, { baseUrl, storageUrl })
    if (options.persist === true) {
      const dataDir = options.dataDir
      if (dataDir === undefined) return yield* Effect.dieMessage("Emulator: persist needs a dataDir")
      yield* Persist.load(state, dataDir)
      yield* Effect.addFinalizer(() => Persist.save(state, dataDir))
    }
    const { app, fast } = yield* App.makeWithFast(state, options.cors)
    // The emulator plays a remote server: no server spans in the caller's tracer (they would record upload URLs
    // with their signatures).
    const handler = yield* Effect.locally(
      NodeHttpServer.makeHandler(app),
      HttpMiddleware.currentTracerDisabledWhen,
      () => true
    )
    // The hot routes (`POST files`, single PUTs in memory) are answered straight from Node's request events
    // (internal/fastPath.ts) when no fault is set for them: the platform's per-request path costs more CPU than
    // the emulator's own work. Every other request goes to the app through the platform's handler.
    const direct = FastPath.make(state, fast, {
      corsHeaders: Cors.headersWithoutOrigin(options.cors),
      clock: yield* Effect.clock,
      runtime: yield* Effect.runtime<never>()
    })
    const listener = (request: IncomingMessage, response: ServerResponse) => {
      if (!direct(request, response)) handler(request, response)
    }
    const serve = (node: Server) =>
      Effect.acquireRelease(
        Effect.sync(() => node.on("request", listener)),
        () => Effect.sync(() => node.off("request", listener))
      )
    yield* serve(api.node)
    if (storage !== api) {
      yield* serve(storage.node)
    }
    return yield* makeService(state)
  })
