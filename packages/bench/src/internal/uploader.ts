/**
 * One interface over the clients under test, so the scenarios are written once.
 */

export interface Uploader {
  /** Uploads bytes as one file; may answer a note on how it did it (e.g. its upload plan). */
  readonly bytes: (name: string, content: Buffer) => Promise<string | undefined>
  /** Uploads `count` copies of `content` with `concurrency` in flight. */
  readonly many: (prefix: string, content: Buffer, count: number, concurrency: number) => Promise<void>
  /** Uploads a stream whose length the client is not told. */
  readonly stream?: (name: string, source: () => AsyncIterable<Uint8Array>) => Promise<string | undefined>
  /** Uploads the file at `path` (of `size` bytes) from the disk, in the client's default plan. */
  readonly file?: (name: string, path: string, size: number) => Promise<string | undefined>
  /** Uploads bytes as a multipart upload of `partSize` parts, `concurrency` in flight. */
  readonly multipart?: (name: string, content: Buffer, partSize: number, concurrency: number) => Promise<string | undefined>
  readonly close: () => Promise<void>
}

/** `count` calls of `f` with at most `concurrency` running: a plain promise pool. */
export const pool = async (count: number, concurrency: number, f: (i: number) => Promise<unknown>): Promise<void> => {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++
      await f(i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, () => worker()))
}
