/**
 * Step 8: does the provider take the new token (`Upstream.checkToken`, within
 * `TOKEN_CHECK_TIMEOUT_MS`)? A token it refuses is never handed over: the flow ends `refused`,
 * the CLI is told why (the profile's `refusal`), and the token is dropped. A check that gets no
 * answer hands it over, saying it could not be checked. What the provider says of the account
 * (an organisation's channels) joins what the exchange said.
 */
import type { Step } from './context.js';

export const checkToken: Step = async (ctx) => {
  const { deps, flow, caller, grant } = ctx;
  if (deps.tokenCheckTimeoutMs <= 0) {
    ctx.check = 'unchecked';
    return undefined;
  }
  const checked = await deps.upstream.checkToken(grant, deps.tokenCheckTimeoutMs);
  deps.events.flow('token_checked', flow.flowId, caller, {
    result: checked.result === 'refused' ? checked.reason : checked.result,
    ...('status' in checked ? { status: checked.status } : {}),
    ...('detail' in checked ? { detail: checked.detail } : {}),
    ...(checked.result === 'working' && checked.account?.channelCount !== undefined
      ? { channels: checked.account.channelCount }
      : {}),
  });
  if (checked.result === 'working') ctx.account = { ...ctx.account, ...checked.account };
  if (checked.result !== 'refused') {
    ctx.check = checked.result;
    return undefined;
  }
  const organization = ctx.account.id !== undefined ? deps.organizations.store(ctx.account.id) : undefined;
  await deps.events.retrying(() =>
    deps.store.deny(flow.flowId, 'refused', deps.end(), organization, checked.reason),
  );
  deps.changed(flow);
  deps.events.flow('refused', flow.flowId, caller, { reason: checked.reason, account: ctx.account.id });
  return { outcome: 'refused', flow, refusal: checked.reason, account: ctx.account };
};
