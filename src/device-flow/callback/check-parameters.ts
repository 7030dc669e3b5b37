/**
 * Step 1: the callback's parameters. One `state`, and a `code` or an `error`, each once: a
 * repeated parameter is not a callback a provider sends, and is refused (its first and last codes
 * recorded: a provider appends its own to a registered URL's parameters). A `code` that cannot be
 * one (`isCodeText`) is never exchanged, so needs no record either.
 */
import { hashSecret, isCodeText } from '../codes.js';
import type { Step } from './context.js';
import { refuse } from './refuse.js';

export const checkParameters: Step = async (ctx) => {
  const { input } = ctx;
  ctx.codes = input.code.filter(isCodeText);
  if (input.state.length > 1 || input.code.length > 1 || input.error.length > 1)
    return refuse(ctx, 'bad_request');
  const [state] = input.state;
  const [code] = ctx.codes;
  const [error] = input.error;
  if (!state || state.length > 256 || (!code && !error) || ctx.codes.length !== input.code.length)
    return refuse(ctx, 'bad_request');
  ctx.state = state;
  ctx.code = code;
  ctx.error = error;
  ctx.stateHash = hashSecret(state);
  return undefined;
};
