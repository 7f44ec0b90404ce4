/**
 * The official JavaScript SDK, `@cognite/sdk` `files.upload` with Buffer content (the content type it sends
 * correctly).
 *
 * @cognite/sdk 10.5.0's type declarations do not resolve under `moduleResolution: NodeNext` (its `index.d.ts`
 * re-exports `./src/index` without an extension), so the few members used here are described by a small interface
 * and checked at run time.
 */
import type { Target } from "./protocol.js"

export interface SdkClient {
  readonly authenticate: () => Promise<unknown>
  readonly files: { readonly upload: (info: { readonly name: string }, content: Buffer) => Promise<unknown> }
}

const hasFunction = (u: unknown, key: string): boolean =>
  typeof u === "object" && u !== null && typeof Reflect.get(u, key) === "function"

const isSdkClient = (u: unknown): u is SdkClient =>
  hasFunction(u, "authenticate") && typeof u === "object" && u !== null && hasFunction(Reflect.get(u, "files"), "upload")

export const makeClient = async (target: Target): Promise<SdkClient> => {
  const sdk: unknown = await import("@cognite/sdk")
  const CogniteClient: unknown = typeof sdk === "object" && sdk !== null ? Reflect.get(sdk, "CogniteClient") : undefined
  if (typeof CogniteClient !== "function") throw new Error("@cognite/sdk exports no CogniteClient")
  const client: unknown = Reflect.construct(CogniteClient, [{
    appId: "effect-cdf-bench",
    project: target.project,
    baseUrl: target.baseUrl,
    oidcTokenProvider: () => Promise.resolve(target.token)
  }])
  if (!isSdkClient(client)) throw new Error("@cognite/sdk CogniteClient lacks authenticate or files.upload")
  await client.authenticate()
  return client
}

export const upload = async (client: SdkClient, name: string, content: Buffer): Promise<void> => {
  await client.files.upload({ name }, content)
}
