/**
 * Refusing a callback. Every code it carries is recorded as first seen at a refused callback, so
 * that none is ever exchanged, for any flow, on any instance, unconditionally; then the first one
 * seen here for the first time is burned at the provider (redeemed and thrown away), if the
 * request was not a sub-resource fetch and the budgets allow: at most one upstream call per
 * request. A callback carries one code: of repeated ones, only the first and the last are
 * recorded, so a request never writes more than two rows (docs/security.md, on leaked
 * codes).
 */
import type { CodeSighting, Flow } from '../../storage/store.js';
import type { BurnResult } from '../code-burner.js';
import { codeKey } from '../codes.js';
import { PageError, type PageErrorReason } from '../page-error.js';
import type { CallbackContext } from './context.js';

/** Record (and burn) the codes of this refused callback, then refuse it with `reason`. */
export async function refuse(
  ctx: Pick<CallbackContext, 'deps' | 'input' | 'caller' | 'codes'>,
  reason: PageErrorReason,
  flow?: Flow,
): Promise<never> {
  await refuseCodes(ctx, reason, flow);
  throw new PageError(reason);
}

/** Record the codes of a refused callback, and burn the first fresh one; reported as `code_burned`. */
export async function refuseCodes(
  ctx: Pick<CallbackContext, 'deps' | 'input' | 'caller' | 'codes'>,
  refused: PageErrorReason,
  flow: Flow | undefined,
): Promise<void> {
  const { deps, codes, caller } = ctx;
  if (codes.length === 0) return;
  const unique = [...new Set([codes[0]!, codes.at(-1)!])];
  let sightings: CodeSighting[];
  try {
    sightings = await deps.events.retrying(() =>
      deps.store.sightCodes(unique.map(codeKey), null, new Date(deps.now() + deps.codeKeptMs)),
    );
  } catch (err) {
    // Not recorded (the database stayed unreachable): burning is then all that protects them.
    deps.events.trouble('callback', 'could not record the codes of a refused callback; burning them', err);
    sightings = unique.map(() => ({ first: true, flowId: null }));
  }
  const fresh = unique.find((_, i) => sightings[i]!.first);
  const result: BurnResult =
    fresh === undefined
      ? 'repeated'
      : ctx.input.subresource
        ? 'subresource'
        : await deps.burner.burn(fresh, caller.ip);
  deps.events.flow('code_burned', flow?.flowId, caller, { result, refused });
}
