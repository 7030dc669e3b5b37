/**
 * The secrets of a flow and how they are compared and stored: device codes (RFC 8628 §5.2),
 * user codes (§6.1), and the one-way hashes kept in the database instead of them.
 */
import { hash, randomBytes, randomFillSync, randomInt, timingSafeEqual } from 'node:crypto';

/** RFC 8628 §6.1: base-20, no vowels (no words), no look-alike digits. */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const USER_CODE_LENGTH = 8;

// Bytes from the CSPRNG are drawn 4 KiB at a time: a call to it costs the same whatever the
// size, and a flow start needs three draws (the figures: docs/performance.md, "Figures behind
// the code"). Node's randomUUID keeps a cache the same way. Bytes handed out are wiped from the pool.
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;

/** `bytes` fresh random bytes (at most 4096), from the pool. */
export function randomFromPool(bytes: number): Buffer {
  if (bytes > POOL_BYTES) return randomBytes(bytes);
  if (poolOffset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = Buffer.from(pool.subarray(poolOffset, poolOffset + bytes));
  pool.fill(0, poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return out;
}

/** A fresh device code: 256 bits from the CSPRNG, base64url (43 characters). */
export function newDeviceCode(): string {
  return randomFromPool(32).toString('base64url');
}

/** A fresh opaque random token (OAuth `state`, cookies, flow ids): `bytes` of entropy, base64url. */
export function newToken(bytes = 32): string {
  return randomFromPool(bytes).toString('base64url');
}

/** A fresh user code, 8 characters of the base-20 alphabet without the dash (≈ 34.6 bits). */
export function newUserCode(): string {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return code;
}

/** `BCDFGHJK` → `BCDF-GHJK`, the form people read and type. */
export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * What a person typed, in canonical form, or `undefined` when it cannot be a user code.
 * Case, spaces, dashes and other punctuation do not matter (§6.1).
 */
export function normalizeUserCode(input: unknown): string | undefined {
  if (typeof input !== 'string' || input.length > 64) return undefined;
  const code = input.toUpperCase().replace(/[^A-Z]/g, '');
  if (code.length !== USER_CODE_LENGTH) return undefined;
  for (const ch of code) if (!USER_CODE_ALPHABET.includes(ch)) return undefined;
  return code;
}

/**
 * SHA-256 of a secret in hex: the key of a flow in memory (`PendingMemory`), computed on every
 * poll, in one call (node:crypto's `hash`, about twice as fast as `createHash` for a short
 * input). `Buffer.from(key, 'hex')` is `hashSecret(secret)`.
 */
export function hashKey(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/** SHA-256 of a secret: what the database stores in its place. */
export function hashSecret(secret: string): Buffer {
  return hash('sha256', secret, 'buffer') as unknown as Buffer;
}

/** Constant-time equality of two byte strings (different lengths are simply unequal). */
export function safeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A device code as the CLI presents it: base64url, and no longer than any we issue. */
export function isWellFormedDeviceCode(value: unknown): value is string {
  return (
    typeof value === 'string' && value.length > 0 && value.length <= 128 && /^[A-Za-z0-9_-]+$/.test(value)
  );
}

/** The bytes of a provider code's key in the sightings record: a compact one-way key (128 bits). */
const CODE_KEY_BYTES = 16;

/**
 * A provider code's key in the record of codes that reached the callback (`Store.sightCodes`):
 * the first 128 bits of its SHA-256. Half the bytes of the whole hash, which under a flood of
 * junk codes is half the index; a collision between two codes would take about 2^64 of them,
 * and a code made to collide with a given one 2^128 attempts (docs/security.md).
 */
export function codeKey(code: string): Buffer {
  return hashSecret(code).subarray(0, CODE_KEY_BYTES);
}

/**
 * Whether a callback's `code` can be an authorization code at all: 1 to 512 visible ASCII
 * characters (RFC 6749 §A.11 allows any, and no provider's codes come near that length).
 * Anything else is refused without being recorded: it is never exchanged.
 */
export function isCodeText(value: string): boolean {
  return value.length > 0 && value.length <= 512 && /^[\x20-\x7e]+$/.test(value);
}
