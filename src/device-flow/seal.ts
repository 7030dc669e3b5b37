/**
 * Sealing access tokens to the CLI that asked for them, so the database never holds a
 * readable token (docs/security.md). HPKE-style, with node:crypto only:
 *
 * - at the start, an X25519 key pair is derived from the device code with HKDF and only
 *   the public key is stored;
 * - at the callback, the token is sealed to that public key: an ephemeral X25519 key, the
 *   shared secret through HKDF, then AES-256-GCM;
 * - at the poll, the device code the CLI presents re-derives the private key and opens it.
 *
 * There is no server-side key to manage, rotate or leak.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { hkdf32 } from './hkdf.js';
import { publicKeyHere, publicKeyOffThread } from './key-worker.js';

const VERSION = 1;
const KEY_INFO = 'postiz-cli-auth/v1/x25519-key';
const SEAL_INFO = 'postiz-cli-auth/v1/seal';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/**
 * An X25519 private key in PKCS#8 DER is this fixed 16-byte header and the 32-byte key
 * (RFC 8410 §7). Importing it is as fast as a JWK on the supported Node.js majors (OpenSSL's DER
 * decoder was ten times slower on Node 20: docs/performance.md, "Figures behind the code"),
 * and it needs no public key, which a JWK import must carry and Node 24 checks against the
 * private one.
 */
const PKCS8_X25519_HEADER = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** The device code's X25519 private key in PKCS#8 DER. */
function privateKeyDer(deviceCode: string): Buffer {
  return Buffer.concat([PKCS8_X25519_HEADER, hkdf32(deviceCode, KEY_INFO)]);
}

function privateKeyFromDeviceCode(deviceCode: string): KeyObject {
  return createPrivateKey({ key: privateKeyDer(deviceCode), format: 'der', type: 'pkcs8' });
}

/** The raw 32 bytes of a key's public half (a private key's JWK carries it as `x`). */
function rawPublicKey(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).x as string, 'base64url');
}

function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') },
    format: 'jwk',
  });
}

function sealingKey(shared: Buffer, ephemeral: Uint8Array, recipient: Uint8Array): Buffer {
  const salt = Buffer.concat([ephemeral, recipient]);
  return hkdf32(shared, SEAL_INFO, salt);
}

/** The 32-byte X25519 public key that tokens for this device code are sealed to. */
export function recipientKey(deviceCode: string): Buffer {
  return publicKeyHere(privateKeyDer(deviceCode));
}

/** `recipientKey`, the same 32 bytes, with its scalar multiplication on a worker thread (key-worker.ts). */
export function recipientKeyOffThread(deviceCode: string): Promise<Buffer> {
  return publicKeyOffThread(privateKeyDer(deviceCode));
}

/**
 * Seal `plaintext` to `recipient`; `context` (e.g. the device-code hash) is authenticated
 * too, so a sealed blob cannot be moved to another flow's row.
 * Layout: version(1) ‖ ephemeral public key(32) ‖ iv(12) ‖ tag(16) ‖ ciphertext.
 */
export function seal(plaintext: string, recipient: Uint8Array, context: Uint8Array): Buffer {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const ephemeral = rawPublicKey(publicKey);
  const shared = diffieHellman({ privateKey, publicKey: publicKeyFromRaw(recipient) });
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(shared, ephemeral, recipient), iv);
  cipher.setAAD(context);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.of(VERSION), ephemeral, iv, cipher.getAuthTag(), ciphertext]);
}

/** Open what `seal` made, with the device code the CLI presented; throws if anything differs. */
export function open(sealed: Uint8Array, deviceCode: string, context: Uint8Array): string {
  const blob = Buffer.from(sealed);
  if (blob.length < 1 + KEY_BYTES + IV_BYTES + TAG_BYTES || blob[0] !== VERSION) {
    throw new Error('sealed token has an unknown format');
  }
  const ephemeral = blob.subarray(1, 1 + KEY_BYTES);
  const iv = blob.subarray(1 + KEY_BYTES, 1 + KEY_BYTES + IV_BYTES);
  const tag = blob.subarray(1 + KEY_BYTES + IV_BYTES, 1 + KEY_BYTES + IV_BYTES + TAG_BYTES);
  const ciphertext = blob.subarray(1 + KEY_BYTES + IV_BYTES + TAG_BYTES);
  const privateKey = privateKeyFromDeviceCode(deviceCode);
  const recipient = rawPublicKey(privateKey);
  const shared = diffieHellman({ privateKey, publicKey: publicKeyFromRaw(ephemeral) });
  const decipher = createDecipheriv('aes-256-gcm', sealingKey(shared, ephemeral, recipient), iv);
  decipher.setAAD(context);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
}
