/**
 * Every HTML page of the flow. Each is a function of plain data; all text comes from the
 * catalogs and is escaped by `html`. Buttons that refuse carry `value="deny"` and come after
 * the button that goes on (CONTRACT.md).
 */
import type { PageErrorReason } from '../errors.js';
import { html, type SafeHtml } from './html.js';
import { type MessageKey, type Translate, translator } from './i18n/index.js';

/** What every page needs to know about its request. */
export interface PageContext {
  lang: string;
  /** CSP nonce for the page's script. */
  nonce: string;
  /** The browser session's anti-CSRF token, put in every form. */
  csrf: string;
}

function layout(ctx: PageContext, t: Translate, title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="${ctx.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="dark light">
<title>${title} · ${t('app.title')}</title>
<link rel="stylesheet" href="/assets/style.css">
</head>
<body>
<div class="shell">
<header class="brand" aria-label="${t('app.brand')}"><span class="logo" aria-hidden="true">P</span><span>${t('app.brand')}</span></header>
<main class="card" id="main">
${body}
</main>
<footer class="footer"><p>${t('footer.note')}</p></footer>
</div>
<script nonce="${ctx.nonce}" src="/assets/verify.js" defer></script>
</body>
</html>
`.value;
}

const csrfField = (ctx: PageContext): SafeHtml =>
  html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;

/** The code-entry page, optionally with what was typed and why it failed. */
export function entryPage(
  ctx: PageContext,
  options: { code?: string; error?: PageErrorReason; retryAfterSeconds?: number } = {},
): string {
  const t = translator(ctx.lang);
  const error = options.error ? errorText(t, options.error, options.retryAfterSeconds) : undefined;
  const body = html`
<h1>${t('entry.heading')}</h1>
<p class="lead">${t('entry.lead')}</p>
<form method="post" action="/device/verify" class="stack" novalidate>
${csrfField(ctx)}
<label for="user_code">${t('entry.label')}</label>
<input id="user_code" name="user_code" type="text" class="code-input" value="${options.code ?? ''}"
  autocomplete="off" autocapitalize="characters" autocorrect="off" spellcheck="false" inputmode="text"
  maxlength="32" placeholder="XXXX-XXXX" required aria-describedby="code-hint code-error"${error ? html` aria-invalid="true"` : ''}${options.code ? '' : html` autofocus`}>
<p id="code-hint" class="hint">${t('entry.hint')}</p>
<div id="code-error" class="error" role="alert" aria-live="assertive">${
    error ? html`<strong>${error.heading}</strong> ${error.body}` : ''
  }</div>
<button type="submit" name="action" value="lookup" class="primary">${t('entry.submit')}</button>
</form>
<p class="note">${t('entry.login_first')}</p>`;
  return layout(ctx, t, t('entry.heading'), body);
}

/** What the confirmation page shows about the requesting device (RFC 8628 §5.4). */
export interface ConfirmDetails {
  userCode: string;
  device: string;
  address: string;
  requested: string;
}

/** The confirmation page: the code to compare, the device, the warning, Continue / Cancel. */
export function confirmPage(ctx: PageContext, details: ConfirmDetails): string {
  const t = translator(ctx.lang);
  const body = html`
<h1>${t('confirm.heading')}</h1>
<p class="lead">${t('confirm.lead')}</p>
<div class="code-box">
<span class="label">${t('confirm.code')}</span>
<output class="code" aria-describedby="compare">${details.userCode}</output>
<p id="compare" class="hint">${t('confirm.compare')}</p>
</div>
<dl class="details">
<div><dt>${t('confirm.device')}</dt><dd>${details.device}</dd></div>
<div><dt>${t('confirm.address')}</dt><dd>${details.address}</dd></div>
<div><dt>${t('confirm.requested')}</dt><dd>${details.requested}</dd></div>
</dl>
<p class="warning" role="note">${t('confirm.warning')}</p>
<form method="post" action="/device/verify" class="actions">
${csrfField(ctx)}
<input type="hidden" name="user_code" value="${details.userCode}">
<button type="submit" name="action" value="confirm" class="primary">${t('confirm.continue')}</button>
<button type="submit" name="action" value="deny" class="secondary">${t('confirm.cancel')}</button>
</form>`;
  return layout(ctx, t, t('confirm.heading'), body);
}

/** How a flow ended, from the browser's side. */
export type Ending = 'approved' | 'denied' | 'cancelled';

/** The page after the flow ended well or was refused. */
export function endingPage(ctx: PageContext, ending: Ending): string {
  const t = translator(ctx.lang);
  const heading = t(`done.${ending}.heading`);
  const body = html`
<div class="status status-${ending === 'approved' ? 'ok' : 'stop'}" aria-hidden="true"></div>
<h1>${heading}</h1>
<p class="lead" role="status">${t(`done.${ending}.body`)}</p>
${ending === 'approved' ? html`<p class="note">${t('done.approved.note')}</p>` : ''}`;
  return layout(ctx, t, heading, body);
}

function errorText(
  t: Translate,
  reason: PageErrorReason,
  retryAfterSeconds?: number,
): { heading: string; body: string } {
  const minutes = Math.max(1, Math.ceil((retryAfterSeconds ?? 60) / 60));
  return {
    heading: t(`error.${reason}.heading` as MessageKey),
    body: t(`error.${reason}.body` as MessageKey, { minutes }),
  };
}

/** Errors the user can fix by trying the same flow again from this browser. */
const RETRYABLE: PageErrorReason[] = ['upstream_unavailable', 'upstream_rejected', 'misconfigured'];

/** A page for a failure, with the way forward: retry, or enter a code again. */
export function errorPage(
  ctx: PageContext,
  reason: PageErrorReason,
  options: { flowId?: string; retryAfterSeconds?: number } = {},
): string {
  const t = translator(ctx.lang);
  const { heading, body: text } = errorText(t, reason, options.retryAfterSeconds);
  const action =
    options.flowId && RETRYABLE.includes(reason)
      ? html`<form method="post" action="/device/verify" class="actions">
${csrfField(ctx)}
<input type="hidden" name="flow" value="${options.flowId}">
<button type="submit" name="action" value="retry" class="primary">${t('action.retry')}</button>
</form>`
      : html`<p><a class="button secondary" href="/device/verify">${t('action.start_over')}</a></p>`;
  const body = html`
<div class="status status-stop" aria-hidden="true"></div>
<h1>${heading}</h1>
<p class="lead" role="alert">${text}</p>
${action}`;
  return layout(ctx, t, heading, body);
}
