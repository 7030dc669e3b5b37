/**
 * Step 2: the flow the `state` names, still live and pending. Every database step of the
 * callback waits out a short outage (`FlowEvents.retrying`): the browser is here now, and the
 * provider's code will not come back.
 */
import type { Flow } from '../../storage/store.js';
import type { PageErrorReason } from '../page-error.js';
import type { Step } from './context.js';
import { refuse } from './refuse.js';

export const findFlow: Step = async (ctx) => {
  const { deps } = ctx;
  const flow = await deps.events.retrying(() => deps.store.findByState(ctx.stateHash));
  if (!flow) return refuse(ctx, 'unknown_state');
  const ended = endedReason(flow, deps.now());
  if (ended) return refuse(ctx, ended, flow);
  ctx.flow = flow;
  return undefined;
};

/** Why a flow can no longer be continued from the browser, if it cannot. */
export function endedReason(flow: Flow, now: number): PageErrorReason | undefined {
  if (flow.expiresAt.getTime() <= now) return 'expired';
  if (flow.status !== 'pending') return 'already_used';
  return undefined;
}
