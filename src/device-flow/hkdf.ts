/**
 * HKDF-SHA256 (RFC 5869) for one 32-byte output block: Extract then one round of Expand, as
 * two HMACs. The same bytes as `hkdfSync('sha256', ikm, salt, info, 32)` (a test checks),
 * at a third of its cost: `hkdfSync` re-validates its arguments and builds a key object on
 * every call, which showed in the profile of starting flows (docs/performance.md).
 */
import { createHmac } from 'node:crypto';

const HASH_BYTES = 32;
const EMPTY_SALT = Buffer.alloc(HASH_BYTES);
const BLOCK_1 = Buffer.from([1]);

/** 32 bytes of HKDF-SHA256 output; no (or an empty) salt means HashLen zero bytes (§2.2). */
export function hkdf32(ikm: string | Uint8Array, info: string | Uint8Array, salt?: Uint8Array): Buffer {
  const prk = createHmac('sha256', salt && salt.length > 0 ? salt : EMPTY_SALT)
    .update(ikm)
    .digest();
  return createHmac('sha256', prk).update(info).update(BLOCK_1).digest();
}
