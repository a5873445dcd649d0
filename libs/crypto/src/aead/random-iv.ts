import { randomFillSync } from 'node:crypto';

/** Random bytes drawn per refill: one OpenSSL call serves 341 AES-GCM IVs. */
const POOL_BYTES = 4096;

let pool = Buffer.allocUnsafeSlow(0);
let offset = 0;

/**
 * A fresh random IV of `bytes` bytes from OpenSSL's CSPRNG, like `randomBytes(bytes)`, but drawn
 * from a pool refilled 4 KiB at a time: `randomBytes` costs a native call and an OpenSSL DRBG lock
 * per IV, which showed as the dearest single step of an encrypt under load. Every byte of the pool
 * is handed out once (GCM needs unique IVs, not secret ones); the IV is a copy, so a caller may keep
 * or overwrite it. Key material never comes from here.
 */
export function randomIv(bytes: number): Buffer {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 64) throw new RangeError(`an IV has 1 to 64 bytes, not ${bytes}`);
  if (offset + bytes > pool.length) {
    if (pool.length === 0) pool = Buffer.allocUnsafeSlow(POOL_BYTES);
    randomFillSync(pool);
    offset = 0;
  }
  const iv = Buffer.allocUnsafe(bytes);
  pool.copy(iv, 0, offset, offset + bytes);
  offset += bytes;
  return iv;
}
