/**
 * Step 3: the callback comes from the browser that confirmed the flow (its binding cookie,
 * compared in constant time), and not a second time: a reload or a double request finds the
 * state claimed by the first copy, which is using the code (recorded as this flow's), so the
 * refusal leaves it alone.
 */
import type { Flow } from '../../storage/store.js';
import { hashSecret, safeEqual } from '../codes.js';
import type { CallbackDeps, Caller, Step } from './context.js';
import { refuse } from './refuse.js';

export const checkBrowser: Step = async (ctx) => {
  const binding = confirmingBrowser(ctx.deps, ctx.flow, ctx.input.bindingOf(ctx.flow.flowId), ctx.caller);
  if (!binding) return refuse(ctx, 'wrong_browser', ctx.flow);
  if (ctx.flow.stateClaimed) return refuse(ctx, 'already_used', ctx.flow);
  ctx.binding = binding;
  return undefined;
};

/**
 * The binding secret `value` when it is the one the browser that confirmed `flow` holds, else
 * undefined (logged as a rejected callback).
 */
export function confirmingBrowser(
  deps: Pick<CallbackDeps, 'events'>,
  flow: Flow,
  value: string | undefined,
  caller: Caller,
): string | undefined {
  if (value && flow.browserHash && safeEqual(hashSecret(value), flow.browserHash)) return value;
  deps.events.flow('rejected_callback', flow.flowId, caller, { reason: 'wrong_browser' });
  return undefined;
}
