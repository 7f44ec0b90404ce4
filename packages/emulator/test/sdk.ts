/**
 * @cognite/sdk 10.5.0's type declarations do not resolve under `moduleResolution: NodeNext` (its `index.d.ts`
 * re-exports `./src/index` without an extension), so the members used here are described by a small interface
 * and checked at run time.
 */
export interface SdkFileInfo {
  readonly id: number
  readonly externalId?: string
  readonly name: string
  readonly uploaded: boolean
  readonly source?: string
  readonly metadata?: Readonly<Record<string, string>>
  readonly labels?: ReadonlyArray<{ readonly externalId: string }>
  /** the SDK turns epoch milliseconds into Dates */
  readonly lastUpdatedTime: Date
}

type SdkId = { readonly id: number } | { readonly externalId: string }

/** What `files.list` answers: a promise of the first page that also pages through everything. */
export interface SdkList extends Promise<{ readonly items: ReadonlyArray<SdkFileInfo>; readonly nextCursor?: string }> {
  readonly autoPagingToArray: (options?: { readonly limit?: number }) => Promise<ReadonlyArray<SdkFileInfo>>
}

export interface SdkClient {
  readonly authenticate: () => Promise<unknown>
  readonly files: {
    readonly upload: (
      info: {
        readonly name: string
        readonly externalId?: string
        readonly mimeType?: string
        readonly geoLocation?: Record<string, unknown>
      },
      content?: string | Buffer,
      overwrite?: boolean,
      waitUntilAcknowledged?: boolean
    ) => Promise<SdkFileInfo>
    readonly list: (scope?: { readonly filter?: Record<string, unknown>; readonly limit?: number }) => SdkList
    readonly retrieve: (ids: ReadonlyArray<SdkId>, params?: { readonly ignoreUnknownIds?: boolean }) => Promise<
      ReadonlyArray<SdkFileInfo>
    >
    readonly update: (
      changes: ReadonlyArray<SdkId & { readonly update: Record<string, unknown> }>
    ) => Promise<ReadonlyArray<SdkFileInfo>>
    readonly getDownloadUrls: (ids: ReadonlyArray<SdkId>) => Promise<ReadonlyArray<SdkId & { readonly downloadUrl: string }>>
    readonly delete: (ids: ReadonlyArray<SdkId>) => Promise<unknown>
    readonly search: (query: {
      readonly filter?: Record<string, unknown>
      readonly search?: { readonly name?: string }
      readonly limit?: number
    }) => Promise<ReadonlyArray<SdkFileInfo>>
    readonly aggregate: (query: { readonly filter?: Record<string, unknown> }) => Promise<ReadonlyArray<{ readonly count: number }>>
  }
}

const hasFunction = (u: unknown, key: string): boolean =>
  typeof u === "object" && u !== null && typeof Reflect.get(u, key) === "function"

const FILES_METHODS = ["upload", "list", "retrieve", "update", "getDownloadUrls", "delete", "search", "aggregate"]

const isSdkClient = (u: unknown): u is SdkClient =>
  hasFunction(u, "authenticate") && typeof u === "object" && u !== null &&
  FILES_METHODS.every((method) => hasFunction(Reflect.get(u, "files"), method))

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
  if (!isSdkClient(client)) throw new Error(`@cognite/sdk CogniteClient lacks authenticate or files.${FILES_METHODS.join("/")}`)
  await client.authenticate()
  return client
}
