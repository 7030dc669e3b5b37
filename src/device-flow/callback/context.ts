/**
 * What the callback's steps share (`GET /device/callback`, `./index.ts`): what it needs of the
 * rest of the server, what arrived, and what each step has learnt so far.
 */
import type { EndRecord, Flow, Store } from '../../storage/store.js';
import type { Account, Grant, Upstream } from '../../upstream/upstream.js';
import type { BrowserLogin, BrowserLogins } from '../browser-logins.js';
import type { CodeBurner } from '../code-burner.js';
import type { FlowEvents } from '../events.js';
import type { Organizations } from '../organizations.js';
import type { Hangup } from '../pending-memory.js';

/** Who is asking: the client address (for limits and pages) and the request id (for logs). */
export interface Caller extends Hangup {
  ip: string;
  reqId?: string;
}

/** The browser's binding secret for a flow, as its request carries it (undefined: it has none). */
export type BindingOf = (flowId: string) => string | undefined;

/** A callback as it arrived: each query parameter's values (a repeated one has several). */
export interface CallbackInput {
  state: string[];
  code: string[];
  error: string[];
  /** The binding secret this browser holds for a flow. */
  bindingOf: BindingOf;
  /** The secret under which this browser's last approved login is kept (its cookie), if any. */
  loginSecret: string | undefined;
  /**
   * The browser fetched it as a sub-resource (`Sec-Fetch-Dest` other than `document`: an image,
   * a frame, a script), which a provider's redirect never is.
   */
  subresource: boolean;
}

/** How a flow ended in the browser, at the callback. */
export type CallbackOutcome = 'approved' | 'denied' | 'refused';

/** What the callback's page needs to say. */
export interface CallbackResult {
  outcome: CallbackOutcome;
  flow: Flow;
  /** For a refusal: the provider's reason (its profile's word). */
  refusal?: string;
  /** What the token opens, as people know it, when the provider said. */
  account?: Account;
  /** For an approval: whether the provider took the new token (`unchecked`: it could not be asked). */
  check?: 'working' | 'unchecked';
  /**
   * For an approval: the last CLI login approved before in this browser, when it was for the
   * same account (the provider ended it if the same person approved both).
   */
  replaced?: BrowserLogin;
  /**
   * For an approval: the browser's new login secret (a cookie), under which this login is now
   * kept; the one it sent no longer names anything. Absent when logins are not kept.
   */
  loginSecret?: string;
}

/** What the steps need of the rest of the server. */
export interface CallbackDeps {
  store: Store;
  upstream: Upstream;
  burner: CodeBurner;
  logins: BrowserLogins;
  organizations: Organizations;
  events: FlowEvents;
  /** `{SERVER_URL}/device/callback`, sent with the exchange. */
  redirectUri: string;
  /** How long a code's sighting is kept. */
  codeKeptMs: number;
  /** How long the provider may take to say whether a new token works (0: not asked). */
  tokenCheckTimeoutMs: number;
  now(): number;
  /** What the statement ending a flow records with it. */
  end(at?: number): EndRecord;
  /** This instance changed `flow`: its memory and held polls learn it now. */
  changed(flow: Flow): void;
  /** The last login approved in the browser holding `secret` (a failure costs only the mention). */
  lastLogin(secret: string | undefined): Promise<BrowserLogin | undefined>;
  /** Note why `flow`'s exchange failed, for its record. */
  noteFailure(flow: Flow, failure: string): Promise<void>;
}

/** One callback on its way through the steps: what arrived, and what the steps found. */
export interface CallbackContext {
  deps: CallbackDeps;
  input: CallbackInput;
  caller: Caller;
  /** The `code` values that can be codes at all (`checkParameters`). */
  codes: string[];
  state: string;
  code: string | undefined;
  error: string | undefined;
  stateHash: Buffer;
  /** The flow the state names (`findFlow`). */
  flow: Flow;
  /** The confirming browser's binding secret (`checkBrowser`). */
  binding: string;
  /** The flow as the claim of its state left it (`claimState`). */
  claimed: Flow;
  /** The provider's token (`exchangeCode`). */
  grant: Grant;
  /** The provider's word on it (`checkToken`). */
  check: 'working' | 'unchecked';
  account: Account;
}

/** A step: an answer (the callback is over), or undefined to go on; it throws a `PageError` to refuse. */
export type Step = (ctx: CallbackContext) => Promise<CallbackResult | undefined>;
