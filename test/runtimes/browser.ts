/**
 * Headless Chromium (Debian's, driven by playwright-core; never a downloaded browser) with a page served on a
 * loopback origin of its own, which loads the program's browser bundle. Web security stays on: calls to the
 * emulator are cross-origin and go through CORS.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { chromium } from "playwright-core"
import { bundle } from "./bundle.js"
import type { Outcome, Target } from "./src/program.js"

/** The page: its origin and the program run in it. */
export class Page extends Context.Tag("test/runtimes/Page")<Page, {
  readonly origin: string
  readonly run: (
    target: Target,
    kinds?: ReadonlyArray<string> | null,
    bodyMode?: "stream" | "buffer" | null
  ) => Effect.Effect<ReadonlyArray<Outcome>>
  /** console errors and page errors seen so far */
  readonly errors: ReadonlyArray<string>
}>() {}

const html = `<!doctype html><html><head><meta charset="utf-8"><title>cdf upload</title></head>
<body><script type="module" src="/app.js"></script></body></html>`

/** The page server: `/` and `/app.js`, on 127.0.0.1 (another port than the emulator's, so another origin). */
const pageServer = (code: string) =>
  Effect.acquireRelease(
    Effect.async<{ readonly origin: string; readonly close: () => void }>((resume) => {
      const server = createServer((request, response) => {
        if (request.url === "/app.js") {
          response.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(code)
        } else if (request.url === "/") {
          response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html)
        } else {
          response.writeHead(404).end()
        }
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(Effect.succeed({
          origin: `http://127.0.0.1:${port}`,
          close: () => {
            server.closeAllConnections()
            server.close()
          }
        }))
      })
    }),
    (server) => Effect.sync(server.close)
  )

/** The flags the issue asks for: no sandbox (root in a container), no GPU, no calls home. */
export const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run"
]

export const layer = Layer.scoped(
  Page,
  Effect.gen(function*() {
    const { code } = yield* Effect.promise(() => bundle("page.ts"))
    const server = yield* pageServer(code)
    const userDataDir = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "cdf-chromium-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )
    const context = yield* Effect.acquireRelease(
      Effect.promise(() =>
        chromium.launchPersistentContext(userDataDir, {
          executablePath: "/usr/bin/chromium",
          headless: true,
          args: chromiumArgs
        })
      ),
      (context) => Effect.promise(() => context.close())
    )
    const page = context.pages()[0] ?? (yield* Effect.promise(() => context.newPage()))
    const errors: Array<string> = []
    page.on("pageerror", (error) => errors.push(error.message))
    yield* Effect.promise(() => page.goto(`${server.origin}/`))
    yield* Effect.promise(() => page.waitForFunction(() => "cdfRun" in globalThis))
    return {
      origin: server.origin,
      errors,
      run: (target, kinds, bodyMode) =>
        Effect.promise(() =>
          page.evaluate(
            ([target, kinds, bodyMode]) =>
              (globalThis as unknown as {
                cdfRun: (
                  t: Target,
                  k: ReadonlyArray<string> | null,
                  b: "stream" | "buffer" | null
                ) => Promise<ReadonlyArray<Outcome>>
              }).cdfRun(target, kinds, bodyMode),
            [target, kinds ?? null, bodyMode ?? null] as const
          )
        )
    }
  })
)
