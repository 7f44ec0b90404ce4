/**
 * The emulator's one HTTP app (an `HttpRouter`), shared by the Node server and the in-memory client: this file
 * only wires routes to their handlers. Where each lives:
 *
 * - routes/upload.ts: `POST files`, `uploadlink`, `initmultipartupload`, `multiuploadlink`, `completemultipartupload`
 * - routes/storage.ts: the PUTs to upload URLs
 * - routes/query.ts: `GET files/{id}`, `byids`, `list`, `search`, `aggregate`
 * - routes/update.ts: `files/update`; routes/delete.ts: `files/delete`
 * - routes/download.ts: `downloadlink` and the GETs of download URLs
 * - routes/token.ts: the OAuth2 token endpoint; routes/control.ts: `/_emulator/...`
 * - frame.ts: what every route shares (log, attempts, auth, faults); faults.ts: what faults do to the bytes
 * - fastPath.ts: on Node, the direct path of the routes below that have a `fast` form (the hot ones)
 */
import type * as HttpMethod from "@effect/platform/HttpMethod"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as Effect from "effect/Effect"
import type { RouteName } from "../Emulator.js"
import * as Cors from "./cors.js"
import type * as FastPath from "./fastPath.js"
import * as Frame from "./frame.js"
import type { FastHandler, Handler, Kind, View } from "./http.js"
import * as Control from "./routes/control.js"
import * as Delete from "./routes/delete.js"
import * as Download from "./routes/download.js"
import * as Query from "./routes/query.js"
import * as Storage from "./routes/storage.js"
import * as Token from "./routes/token.js"
import * as Update from "./routes/update.js"
import * as Upload from "./routes/upload.js"
import type { State } from "./state.js"

export { DROP_HEADER } from "./http.js"

/** One route of the app: the router serves `handler` through the frame; `fast`, if set, is its direct form. */
interface Route {
  readonly method: HttpMethod.HttpMethod
  readonly path: `/${string}`
  readonly name: RouteName
  readonly kind: Kind
  readonly handler: Handler
  readonly prepare?: (view: View) => void
  /** the direct Node path's form of the handler (fastPath.ts); only where it pays: the hot routes */
  readonly fast?: FastHandler
}

/**
 * The app and the routes of its table that have a direct form (served on Node by fastPath.ts, in front of the app).
 */
export const makeWithFast = (state: State, cors: Cors.Setting = true) => {
  const route = Frame.make(state)
  const upload = Upload.make(state)
  const storage = Storage.make(state)
  const query = Query.make(state)
  const download = Download.make(state)

  // The router ignores a trailing slash: `files/` (as @cognite/sdk sends it) is the same route as `files`.
  const files = "/api/v1/projects/:project/files" as const
  // The one list of the logged routes (the control routes are routes/control.ts's).
  const routes: ReadonlyArray<Route> = [
    { method: "POST", path: files, name: "files.create", kind: "api", handler: upload.create, fast: upload.createFast },
    { method: "POST", path: `${files}/uploadlink`, name: "files.uploadlink", kind: "api", handler: upload.uploadLink },
    { method: "POST", path: `${files}/byids`, name: "files.byids", kind: "api", handler: query.byIds },
    { method: "POST", path: `${files}/list`, name: "files.list", kind: "api", handler: query.list },
    { method: "POST", path: `${files}/search`, name: "files.search", kind: "api", handler: query.search },
    { method: "POST", path: `${files}/aggregate`, name: "files.aggregate", kind: "api", handler: query.aggregate },
    { method: "GET", path: `${files}/:id`, name: "files.get", kind: "api", handler: query.get },
    {
      method: "POST",
      path: `${files}/downloadlink`,
      name: "files.downloadlink",
      kind: "api",
      handler: download.downloadLink
    },
    { method: "POST", path: `${files}/update`, name: "files.update", kind: "api", handler: Update.make(state) },
    { method: "POST", path: `${files}/delete`, name: "files.delete", kind: "api", handler: Delete.make(state) },
    {
      method: "POST",
      path: `${files}/initmultipartupload`,
      name: "files.initmultipartupload",
      kind: "api",
      handler: upload.initMultipart
    },
    {
      method: "POST",
      path: `${files}/multiuploadlink`,
      name: "files.multiuploadlink",
      kind: "api",
      handler: upload.multiUploadLink
    },
    {
      method: "POST",
      path: `${files}/completemultipartupload`,
      name: "files.completemultipartupload",
      kind: "api",
      handler: upload.complete
    },
    {
      method: "PUT",
      path: "/storage/:project/files/:key",
      name: "storage.put",
      kind: "storage",
      handler: storage.single,
      prepare: storage.recordPut,
      // the direct form stores in memory: with a data dir, PUTs go the Effect way
      ...(state.dataDir === undefined ? { fast: storage.singleFast } : {})
    },
    {
      method: "PUT",
      path: "/storage/:project/parts/:key",
      name: "storage.put",
      kind: "storage",
      handler: storage.part,
      prepare: storage.recordPut
    },
    { method: "GET", path: "/storage/:project/download/:key", name: "storage.get", kind: "storage", handler: download.get },
    { method: "POST", path: "/oauth2/token", name: "token", kind: "token", handler: Token.make(state) }
  ]

  const router = HttpRouter.concat(
    Control.make(state),
    HttpRouter.fromIterable(
      routes.map((r) => HttpRouter.makeRoute(r.method, r.path, route(r.name, r.kind, r.handler, r.prepare)))
    )
  )
  const fast: ReadonlyArray<FastPath.FastRoute> = routes.flatMap((r) =>
    r.fast === undefined ?
      [] :
      [{ method: r.method, path: r.path, name: r.name, kind: r.kind, fast: r.fast, prepare: r.prepare }]
  )

  return Effect.map(
    HttpRouter.toHttpApp(router),
    (app) => ({
      app: app.pipe(
        Effect.catchTag("RouteNotFound", () => Frame.notFoundRoute(state)),
        Frame.answerFailures,
        Cors.middleware(cors)
      ),
      fast
    })
  )
}

export const make = (state: State, cors: Cors.Setting = true) =>
  Effect.map(makeWithFast(state, cors), ({ app }) => app)

export type App = Effect.Effect.Success<ReturnType<typeof make>>
