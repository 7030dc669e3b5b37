/**
 * Step 6: the provider sent an `error` instead of a code. `access_denied`: the user refused, the
 * flow ends and its CLI is told at once. Any other error is the provider failing: the terminal
 * keeps waiting, and the page offers a new trip. A provider sends no code with an error; should
 * one come along, it is refused too.
 */
import { PageError } from '../page-error.js';
import type { Step } from './context.js';
import { refuseCodes } from './refuse.js';

export const endOnError: Step = async (ctx) => {
  const { deps, error, flow, caller } = ctx;
  if (!error) return undefined;
  await refuseCodes(ctx, 'unknown_state', flow);
  if (error !== 'access_denied') {
    deps.events.flow('failed', flow.flowId, caller, { reason: 'provider_error', error: error.slice(0, 64) });
    await deps.noteFailure(flow, 'provider_error');
    throw new PageError('upstream_unavailable', { flowId: flow.flowId });
  }
  await deps.events.retrying(() => deps.store.deny(flow.flowId, 'denied', deps.end()));
  deps.changed(flow);
  deps.events.flow('denied', flow.flowId, caller);
  return { outcome: 'denied', flow };
};
