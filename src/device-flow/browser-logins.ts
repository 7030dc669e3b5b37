/**
 * The last CLI login approved in each browser, shown to that browser only: its confirmation
 * pages say which login approving again may end, and its success page which one it may have
 * replaced (docs/security.md, "What is stored").
 *
 * A provider may keep one token per app, *person* and account, and this server never learns
 * who the person is (docs/providers.md): only a browser is known. So a login is remembered under a
 * secret that only the approving browser holds, a cookie of 256 random bits drawn anew at
 * every login approved in it (the row of the old one is deleted by the same statement): another
 * member of the organisation, another browser, or someone holding a copy of the cookie learns
 * nothing of any later login. The row is keyed by the secret's SHA-256 and its content sealed
 * with a key derived from the secret (AES-256-GCM), so the database alone holds no address, no
 * device and no organisation of anyone's login. Kept `LOGIN_HISTORY_DAYS`.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Store } from '../storage/store.js';
import type { Account } from '../upstream/upstream.js';
import { hashSecret, newToken, randomFromPool } from './codes.js';
import { hkdf32 } from './hkdf.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const VERSION = 1;
const KEY_INFO = 'postiz-cli-auth/v1/browser-login';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** A CLI login approved in a browser: when, the device (address, what it said it is), the organisation. */
export interface BrowserLogin {
  approvedAt: Date;
  clientIp: string | null;
  userAgent: string | null;
  /** What the token opened (`Account`; the field keeps its first name, for the sealed rows). */
  organization: Account;
}

export interface BrowserLoginsDeps {
  store: Store;
  /** How long a login is kept; 0 keeps none. */
  days: number;
  now: () => number;
}

/** Whether a string (a cookie's value) is shaped like a browser's login secret. */
export const isLoginSecret = (value: string | undefined): value is string =>
  value !== undefined && /^[A-Za-z0-9_-]{43}$/.test(value);

/** Logins approved, by browser. */
export class BrowserLogins {
  constructor(private readonly deps: BrowserLoginsDeps) {}

  /** Whether logins are kept at all (`LOGIN_HISTORY_DAYS` above 0). */
  get kept(): boolean {
    return this.deps.days > 0;
  }

  /** How long a browser keeps its secret: as long as its login is kept. */
  get maxAgeSeconds(): number {
    return this.deps.days * 24 * 60 * 60;
  }

  /** The last login approved in the browser holding `secret`, if one is kept. */
  async last(secret: string | undefined): Promise<BrowserLogin | undefined> {
    if (!this.kept || !isLoginSecret(secret)) return undefined;
    const key = hashSecret(secret);
    const sealed = await this.deps.store.browserLogin(key, new Date(this.deps.now()));
    return sealed ? open(sealed, secret, key) : undefined;
  }

  /**
   * Remember `login` as the last one approved in this browser, forgetting the one `previous`
   * (the browser's current secret) names: the browser's new secret, or undefined when nothing
   * is kept.
   */
  async record(login: BrowserLogin, previous: string | undefined): Promise<string | undefined> {
    if (!this.kept) return undefined;
    const secret = newToken(32);
    const key = hashSecret(secret);
    await this.deps.store.recordBrowserLogin(
      key,
      seal(login, secret, key),
      new Date(this.deps.now() + this.deps.days * DAY_MS),
      isLoginSecret(previous) ? hashSecret(previous) : undefined,
    );
    return secret;
  }
}

/** The record's key: derived from the browser's secret, which the server never keeps. */
const keyOf = (secret: string): Buffer => hkdf32(secret, KEY_INFO);

/** `0x01 ‖ IV (12) ‖ tag (16) ‖ AES-256-GCM(JSON)`, bound to its row by the row key as AAD. */
function seal(login: BrowserLogin, secret: string, rowKey: Buffer): Buffer {
  const iv = randomFromPool(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyOf(secret), iv);
  cipher.setAAD(rowKey);
  const body = Buffer.concat([cipher.update(JSON.stringify(login), 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
}

/** Open a record; undefined when it does not open (another secret, or a damaged row). */
function open(sealed: Buffer, secret: string, rowKey: Buffer): BrowserLogin | undefined {
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== VERSION) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(secret), sealed.subarray(1, 1 + IV_BYTES));
    decipher.setAAD(rowKey);
    decipher.setAuthTag(sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
    const text = Buffer.concat([
      decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
    const parsed = JSON.parse(text) as Omit<BrowserLogin, 'approvedAt'> & { approvedAt: string };
    return { ...parsed, approvedAt: new Date(parsed.approvedAt) };
  } catch {
    return undefined;
  }
}
