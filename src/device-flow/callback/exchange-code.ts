/**
 * Step 7: the code for a token, at the provider's token endpoint, with the PKCE verifier derived
 * from the binding cookie and the state (never stored, never in a URL: `pkce.ts`). A failure
 * leaves the flow pending: the page says what to do, and offers a new trip.
 */
import { UpstreamError } from '../../upstream/upstream.js';
import { PageError } from '../page-error.js';
import { codeVerifier } from '../pkce.js';
import type { Step } from './context.js';

export const exchangeCode: Step = async (ctx) => {
  const { deps, flow, caller } = ctx;
  try {
    ctx.grant = await deps.upstream.exchangeCode({
      code: ctx.code!,
      codeVerifier: codeVerifier(ctx.binding, ctx.state),
      redirectUri: deps.redirectUri,
    });
    ctx.account = ctx.grant.account;
    return undefined;
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    deps.events.flow('failed', flow.flowId, caller, {
      reason: err.kind,
      detail: err.detail,
      status: err.status,
      ...(err.kind === 'misconfigured' ? { operatorError: true } : {}),
    });
    await deps.noteFailure(flow, `exchange_${err.kind}`);
    throw new PageError(
      err.kind === 'rejected'
        ? 'upstream_rejected'
        : err.kind === 'misconfigured'
          ? 'misconfigured'
          : 'upstream_unavailable',
      { flowId: flow.flowId },
    );
  }
};
