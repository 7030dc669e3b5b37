/**
 * Step 9: the token, sealed to the device code's key (`seal.ts`: the database never holds it
 * readable), stored, and the flow approved; held polls on every instance wake. A provider's code
 * is single-use, so the token cannot be fetched again: the write is retried while the database
 * is unreachable. Then this approval becomes the browser's last login (`browser-logins.ts`).
 */
import type { Account } from '../../upstream/upstream.js';
import type { BrowserLogin } from '../browser-logins.js';
import { PageError } from '../page-error.js';
import { seal } from '../seal.js';
import type { CallbackContext, Step } from './context.js';

export const sealAndApprove: Step = async (ctx) => {
  const { deps, flow, claimed, caller, account } = ctx;
  const sealed = seal(JSON.stringify(ctx.grant.sealed), claimed.publicKey, claimed.deviceCodeHash);
  const organization = account.id !== undefined ? deps.organizations.store(account.id) : undefined;
  const approved = await deps.events.retrying(() =>
    deps.store.approve(flow.flowId, sealed, new Date(deps.now()), organization),
  );
  if (!approved) {
    // The device stopped waiting (the flow expired while the provider answered): say so, not "logged in".
    throw new PageError(flow.expiresAt.getTime() <= deps.now() ? 'expired' : 'already_used');
  }
  deps.changed(flow);
  deps.events.flow('approved', flow.flowId, caller, { account: account.id });
  const { replaced, loginSecret } = await rememberLogin(ctx, account);
  return { outcome: 'approved', flow: approved, account, check: ctx.check, replaced, loginSecret };
};

/**
 * Keep this approval as the last CLI login of the approving browser, under a new secret (the
 * old one is forgotten): the new secret, and the login it followed when that was for the same
 * account. A database failure costs only the mention, never the login.
 */
async function rememberLogin(
  ctx: CallbackContext,
  account: Account,
): Promise<{ replaced?: BrowserLogin; loginSecret?: string }> {
  const { deps, flow, input } = ctx;
  const previous = await deps.lastLogin(input.loginSecret);
  const replaced =
    previous && account.id !== undefined && previous.organization.id === account.id ? previous : undefined;
  try {
    const loginSecret = await deps.logins.record(
      {
        approvedAt: new Date(deps.now()),
        clientIp: flow.clientIp,
        userAgent: flow.userAgent,
        organization: account,
      },
      input.loginSecret,
    );
    return { ...(replaced ? { replaced } : {}), ...(loginSecret ? { loginSecret } : {}) };
  } catch (err) {
    deps.events.trouble('login_history', 'could not record the login in the login history', err);
    return replaced ? { replaced } : {};
  }
}
