/**
 * An incremental SHA-256 in plain TypeScript, so the checksum of what was sent works on every platform (WebCrypto
 * has no incremental digest). About 150-300 MB/s on one core: opt-in only.
 *
 * @internal
 */
import { Context, Effect, Option } from "effect"

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
])

/** @internal */
export class Sha256 {
  private readonly h = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
  ])
  private readonly w = new Uint32Array(64)
  private readonly block = new Uint8Array(64)
  private blockLength = 0
  private length = 0

  update(data: Uint8Array): this {
    this.length += data.byteLength
    let offset = 0
    if (this.blockLength > 0) {
      const n = Math.min(64 - this.blockLength, data.byteLength)
      this.block.set(data.subarray(0, n), this.blockLength)
      this.blockLength += n
      offset = n
      if (this.blockLength < 64) return this
      this.compress(this.block, 0)
      this.blockLength = 0
    }
    for (; offset + 64 <= data.byteLength; offset += 64) this.compress(data, offset)
    if (offset < data.byteLength) {
      this.block.set(data.subarray(offset), 0)
      this.blockLength = data.byteLength - offset
    }
    return this
  }

  digestHex(): string {
    const bits = this.length * 8
    const padLength = this.blockLength < 56 ? 56 - this.blockLength : 120 - this.blockLength
    const pad = new Uint8Array(padLength + 8)
    pad[0] = 0x80
    const view = new DataView(pad.buffer)
    view.setUint32(padLength, Math.floor(bits / 0x100000000))
    view.setUint32(padLength + 4, bits >>> 0)
    const length = this.length
    this.update(pad)
    this.length = length
    let out = ""
    for (let i = 0; i < 8; i++) out += this.h[i]!.toString(16).padStart(8, "0")
    return out
  }

  private compress(data: Uint8Array, offset: number): void {
    const w = this.w
    for (let i = 0; i < 16; i++) {
      const j = offset + i * 4
      w[i] = (data[j]! << 24) | (data[j + 1]! << 16) | (data[j + 2]! << 8) | data[j + 3]!
    }
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15]!
      const b = w[i - 2]!
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3)
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10)
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0
    }
    const h = this.h
    let a = h[0]!, b = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, hh = h[7]!
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
      const ch = (e & f) ^ (~e & g)
      const t1 = (hh + S1 + ch + K[i]! + w[i]!) | 0
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
      const maj = (a & b) ^ (a & c) ^ (b & c)
      const t2 = (S0 + maj) | 0
      hh = g
      g = f
      f = e
      e = (d + t1) | 0
      d = c
      c = b
      b = a
      a = (t1 + t2) | 0
    }
    h[0] = (h[0]! + a) | 0
    h[1] = (h[1]! + b) | 0
    h[2] = (h[2]! + c) | 0
    h[3] = (h[3]! + d) | 0
    h[4] = (h[4]! + e) | 0
    h[5] = (h[5]! + f) | 0
    h[6] = (h[6]! + g) | 0
    h[7] = (h[7]! + hh) | 0
  }
}

/** An incremental hash. @internal */
export interface Hash {
  readonly update: (data: Uint8Array) => void
  readonly digestHex: () => string
}

/**
 * Makes SHA-256 hashes; a platform entry point may provide a native one (`NodeFiles.layer`: node:crypto). Without
 * it, the portable `Sha256` above is used.
 *
 * @internal
 */
export class Sha256Factory extends Context.Tag("@effect-cdf/files/Sha256Factory")<Sha256Factory, () => Hash>() {}

const portable = (): Hash => {
  const hash = new Sha256()
  return { update: (data) => void hash.update(data), digestHex: () => hash.digestHex() }
}

/** The factory in the context, or the portable one. @internal */
export const sha256Factory: Effect.Effect<() => Hash> = Effect.map(
  Effect.serviceOption(Sha256Factory),
  Option.getOrElse(() => portable)
)
