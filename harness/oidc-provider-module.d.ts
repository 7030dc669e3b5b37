/**
 * The little of `oidc-provider` (which ships no types) that harness/oidc-provider.ts uses:
 * the Provider's constructor, its request handler and its middleware. Its configuration is documented in the
 * package's own docs; it is passed through untyped.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    /** The Koa app's request handler, for `http.createServer`. */
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    /** Add a Koa middleware before its own (it sees each request, and after `next()` what the provider read). */
    use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): this;
  }

  /** What harness/oidc-provider.ts reads of a request's Koa context. */
  export interface KoaContext {
    path: string;
    method: string;
    headers: Record<string, string | undefined>;
    /** The provider's request state: `body`, the parsed form, once its routes have read it. */
    oidc?: { body?: Record<string, unknown> };
  }
}
