/**
 * `GET /device/callback`: the provider sends the browser back with a `code` (or an `error`) and
 * the `state`. A chain of small named steps, each in its own file, run in order; each either
 * goes on, ends the callback with its answer, or refuses it with a `PageError`
 * (docs/security.md, "Binding the callback to the confirming browser", lists why the order
 * matters: every refusal before the one claim of the state).
 */
import { checkBrowser } from './check-browser.js';
import { checkParameters } from './check-parameters.js';
import { checkToken } from './check-token.js';
import { claimState } from './claim-state.js';
import type {
  CallbackContext,
  CallbackDeps,
  CallbackInput,
  CallbackResult,
  Caller,
  Step,
} from './context.js';
import { endOnError } from './end-on-error.js';
import { exchangeCode } from './exchange-code.js';
import { findFlow } from './find-flow.js';
import { recordCode } from './record-code.js';
import { sealAndApprove } from './seal-and-approve.js';

export { confirmingBrowser } from './check-browser.js';
export type {
  BindingOf,
  CallbackDeps,
  CallbackInput,
  CallbackOutcome,
  CallbackResult,
  Caller,
} from './context.js';
export { endedReason } from './find-flow.js';

/** The steps, in order. */
export const CALLBACK_STEPS: readonly Step[] = [
  checkParameters,
  findFlow,
  checkBrowser,
  recordCode,
  claimState,
  endOnError,
  exchangeCode,
  checkToken,
  sealAndApprove,
];

/** Run a callback through the steps: how its flow ended, for the page. */
export async function runCallback(
  deps: CallbackDeps,
  input: CallbackInput,
  caller: Caller,
): Promise<CallbackResult> {
  const ctx = { deps, input, caller, codes: [] } as unknown as CallbackContext;
  for (const step of CALLBACK_STEPS) {
    const result = await step(ctx);
    if (result) return result;
  }
  throw new Error('the callback steps ended without an answer');
}
