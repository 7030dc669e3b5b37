/**
 * The last CLI login delivered for each Postiz organisation, so that the next login can say
 * which one it replaced: Postiz keeps one token per app, user and organisation, and approving
 * again ends the earlier one at once (docs/postiz.md). Kept `LOGIN_HISTORY_DAYS`, under a keyed
 * hash of the organisation id (HMAC-SHA256 with a key derived from the OAuth app's client
 * secret): a copy of the database alone does not tell whose login a row is (docs/security.md).
 */
import { createHmac } from 'node:crypto';
import type { Flow, OrgLogin, Store } from '../storage/store.js';
import { hkdf32 } from './hkdf.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const KEY_INFO = 'postiz-cli-auth/v1/organization-key';

/** A Postiz organisation's key in the login history: a hash that needs the client secret. */
export type OrgKey = Buffer;

/** What the history may need of the server's settings. */
export interface LoginHistoryDeps {
  store: Store;
  clientSecret: string;
  /** How long a login is kept; 0 keeps none. */
  days: number;
  now: () => number;
}

/** Logins delivered, by organisation. */
export class LoginHistory {
  private readonly key: Buffer;

  constructor(private readonly deps: LoginHistoryDeps) {
    this.key = hkdf32(deps.clientSecret, KEY_INFO);
  }

  /** The key of an organisation id. */
  keyOf(organizationId: string): OrgKey {
    return createHmac('sha256', this.key).update(organizationId, 'utf8').digest();
  }

  /** Whether a string (a cookie's value, say) is shaped like a key in hex. */
  static isKeyHex(value: string | undefined): value is string {
    return value !== undefined && /^[0-9a-f]{64}$/.test(value);
  }

  /** Record that `flow`'s login for `organizationId` was delivered now. */
  async record(organizationId: string, flow: Flow): Promise<void> {
    if (this.deps.days <= 0) return;
    const now = this.deps.now();
    await this.deps.store.recordLogin(
      this.keyOf(organizationId),
      { deliveredAt: new Date(now), clientIp: flow.clientIp, userAgent: flow.userAgent },
      new Date(now + this.deps.days * DAY_MS),
    );
  }

  /** The last login delivered for an organisation (by key), if it is still kept. */
  async last(key: OrgKey): Promise<OrgLogin | undefined> {
    if (this.deps.days <= 0) return undefined;
    return this.deps.store.lastLogin(key, new Date(this.deps.now()));
  }
}
