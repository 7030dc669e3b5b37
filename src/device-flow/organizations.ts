/**
 * How the audit trail keeps an organisation id (docs/deploy.md, "Audit trail and webhooks"):
 * under a keyed hash, so that rows can be looked up by an id an operator knows, and sealed, so
 * that the `logins` command and webhooks can name it; both keys are derived from the OAuth
 * app's client secret, so a copy of the database alone names no organisation.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { randomFromPool } from './codes.js';
import { hkdf32 } from './hkdf.js';

const KEY_INFO = 'postiz-cli-auth/v1/organization-key';
const SEAL_INFO = 'postiz-cli-auth/v1/organization-seal';
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** An organisation id as the audit trail stores it. */
export interface StoredOrganization {
  /** HMAC-SHA256 of the id: what a lookup by id compares. */
  key: Buffer;
  /** The id, sealed (AES-256-GCM). */
  sealed: Buffer;
}

/** Keys and seals organisation ids with keys derived from a secret (the OAuth client secret). */
export class Organizations {
  private readonly hmacKey: Buffer;
  private readonly sealKey: Buffer;

  constructor(secret: string) {
    this.hmacKey = hkdf32(secret, KEY_INFO);
    this.sealKey = hkdf32(secret, SEAL_INFO);
  }

  /** The keyed hash of an organisation id. */
  keyOf(id: string): Buffer {
    return createHmac('sha256', this.hmacKey).update(id, 'utf8').digest();
  }

  /** How the audit trail stores `id`. */
  store(id: string): StoredOrganization {
    const iv = randomFromPool(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    const body = Buffer.concat([cipher.update(id, 'utf8'), cipher.final()]);
    return {
      key: this.keyOf(id),
      sealed: Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]),
    };
  }

  /** The id a sealed value holds; undefined when it does not open (another secret). */
  open(sealed: Buffer | null | undefined): string | undefined {
    if (!sealed || sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== VERSION) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.sealKey, sealed.subarray(1, 1 + IV_BYTES));
      decipher.setAuthTag(sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
      return Buffer.concat([
        decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
