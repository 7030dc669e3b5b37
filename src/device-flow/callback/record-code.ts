/**
 * Step 4: the code belongs to the first callback that carries it (docs/security.md). Recorded
 * here as this flow's; if it was first seen elsewhere (at a refused callback, or at another
 * flow's), it is an injected code: refused, and the state left unclaimed, so the confirming
 * browser can still go back to the provider.
 */
import { codeKey } from '../codes.js';
import { PageError } from '../page-error.js';
import type { Step } from './context.js';

export const recordCode: Step = async (ctx) => {
  const { deps, code, flow } = ctx;
  if (!code || ctx.error) return undefined;
  const [sighting] = await deps.events.retrying(() =>
    deps.store.sightCodes([codeKey(code)], flow.flowId, new Date(deps.now() + deps.codeKeptMs)),
  );
  if (sighting!.flowId !== flow.flowId) {
    deps.events.flow('rejected_callback', flow.flowId, ctx.caller, { reason: 'code_seen_before' });
    throw new PageError('code_not_usable', { flowId: flow.flowId });
  }
  return undefined;
};
