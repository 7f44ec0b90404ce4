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
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as Effect from "effect/Effect"
import * as Cors from "./cors.js"
import * as Frame from "./frame.js"
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

export const make = (state: State, cors: Cors.Setting = true) => {
  const route = Frame.make(state)
  const upload = Upload.make(state)
  const storage = Storage.make(state)
  const query = Query.make(state)
  const download = Download.make(state)

  // The router ignores a trailing slash: `files/` (as @cognite/sdk sends it) is the same route as `files`.
  const files = "/api/v1/projects/:project/files" as const
  const router = Control.make(state).pipe(
    HttpRouter.post(files, route("files.create", "api", upload.create)),
    HttpRouter.post(`${files}/uploadlink`, route("files.uploadlink", "api", upload.uploadLink)),
    HttpRouter.post(`${files}/byids`, route("files.byids", "api", query.byIds)),
    HttpRouter.post(`${files}/list`, route("files.list", "api", query.list)),
    HttpRouter.post(`${files}/search`, route("files.search", "api", query.search)),
    HttpRouter.post(`${files}/aggregate`, route("files.aggregate", "api", query.aggregate)),
    HttpRouter.get(`${files}/:id`, route("files.get", "api", query.get)),
    HttpRouter.post(`${files}/downloadlink`, route("files.downloadlink", "api", download.downloadLink)),
    HttpRouter.post(`${files}/update`, route("files.update", "api", Update.make(state))),
    HttpRouter.post(`${files}/delete`, route("files.delete", "api", Delete.make(state))),
    HttpRouter.post(`${files}/initmultipartupload`, route("files.initmultipartupload", "api", upload.initMultipart)),
    HttpRouter.post(`${files}/multiuploadlink`, route("files.multiuploadlink", "api", upload.multiUploadLink)),
    HttpRouter.post(`${files}/completemultipartupload`, route("files.completemultipartupload", "api", upload.complete)),
    HttpRouter.put("/storage/:project/files/:key", route("storage.put", "storage", storage.single, storage.recordPut)),
    HttpRouter.put("/storage/:project/parts/:key", route("storage.put", "storage", storage.part, storage.recordPut)),
    HttpRouter.get("/storage/:project/download/:key", route("storage.get", "storage", download.get)),
    HttpRouter.post("/oauth2/token", route("token", "token", Token.make(state)))
  )

  return Effect.map(
    HttpRouter.toHttpApp(router),
    (app) =>
      app.pipe(
        Effect.catchTag("RouteNotFound", () => Frame.notFoundRoute(state)),
        Frame.answerFailures,
        Cors.middleware(cors)
      )
  )
}

export type App = Effect.Effect.Success<ReturnType<typeof make>>
