/**
 * @cognite/sdk 10.5.0's type declarations do not resolve under `moduleResolution: NodeNext` (its `index.d.ts`
 * re-exports `./src/index` without an extension), so the members used here are described by a small interface
 * and checked at run time.
 */
export interface SdkFileInfo {
  readonly id: number
  readonly externalId?: string
  readonly uploaded: boolean
}

export interface SdkClient {
  readonly authenticate: () => Promise<unknown>
  readonly files: {
    readonly upload: (
      info: { readonly name: string; readonly externalId?: string; readonly mimeType?: string },
      content: string | Buffer,
      overwrite?: boolean,
      waitUntilAcknowledged?: boolean
    ) => Promise<SdkFileInfo>
  }
}

const hasFunction = (u: unknown, key: string): boolean =>
  typeof u === "object" && u !== null && typeof Reflect.get(u, key) === "function"

const isSdkClient = (u: unknown): u is SdkClient =>
  hasFunction(u, "authenticate") && typeof u === "object" && u !== null && hasFunction(Reflect.get(u, "files"), "upload")

/** A CogniteClient for the emulator at `baseUrl`. */
export const makeSdkClient = async (options: {
  readonly baseUrl: string
  readonly project: string
  readonly token: string
}): Promise<SdkClient> => {
  const sdk: unknown = await import("@cognite/sdk")
  const CogniteClient: unknown = typeof sdk === "object" && sdk !== null ? Reflect.get(sdk, "CogniteClient") : undefined
  if (typeof CogniteClient !== "function") throw new Error("@cognite/sdk exports no CogniteClient")
  const client: unknown = Reflect.construct(CogniteClient, [{
    appId: "emulator-test",
    project: options.project,
    baseUrl: options.baseUrl,
    oidcTokenProvider: () => Promise.resolve(options.token)
  }])
  if (!isSdkClient(client)) throw new Error("@cognite/sdk CogniteClient lacks authenticate or files.upload")
  await client.authenticate()
  return client
}
