/**
 * The little of `oidc-provider` (which ships no types) that harness/oidc-provider.ts uses:
 * the Provider's constructor and its request handler. Its configuration is documented in the
 * package's own docs; it is passed through untyped.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    readonly issuer: string;
    /** The Koa app's request handler, for `http.createServer`. */
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
}
