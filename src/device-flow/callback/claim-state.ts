/**
 * Step 5: the one atomic claim of the `state` (one conditional UPDATE only one caller wins).
 * Every check that can refuse comes before it, so a refused callback leaves the flow usable, and
 * a replayed one never reaches the provider twice.
 */
import { PageError } from '../page-error.js';
import type { Step } from './context.js';

export const claimState: Step = async (ctx) => {
  const { deps } = ctx;
  const claimed = await deps.events.retrying(() =>
    deps.store.claimState(ctx.stateHash, new Date(deps.now())),
  );
  if (!claimed) throw new PageError('already_used');
  ctx.claimed = claimed;
  return undefined;
};
