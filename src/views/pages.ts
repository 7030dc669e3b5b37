/**
 * Every HTML page of the flow. Each is a function of plain data; all text comes from the
 * catalogs and is escaped by `html`. Buttons that refuse carry `value="deny"` and come after
 * the button that goes on (docs/compatibility.md). No inline styles or scripts: the CSP allows neither.
 *
 * Referrer policy `same-origin`, not `no-referrer`: under `no-referrer` Chromium sends
 * `Origin: null` with our own form posts, which the Origin check refuses. `same-origin` still
 * sends nothing (no code in a URL) to Postiz or anywhere else. The meta tag overrides the header.
 */
import type { NetworkMatch } from '../device-flow/addresses.js';
import type { PageErrorReason } from '../errors.js';
import { ASSETS } from './assets.js';
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

/** The picture at the top of an ending or error page; purely decorative (`aria-hidden`). */
type Icon = 'ok' | 'stop' | 'clock' | 'alert';

const ICON_PATHS: Record<Icon, SafeHtml> = {
  ok: html`<path d="M7 12.5l3.2 3.2L17 9"/>`,
  stop: html`<path d="M8.5 8.5l7 7M15.5 8.5l-7 7"/>`,
  clock: html`<path d="M12 7v5l3 2"/>`,
  alert: html`<path d="M12 7.5v5.5M12 16.4v.1"/>`,
};

function icon(kind: Icon): SafeHtml {
  return html`<div class="status status-${kind}"><svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"><circle cx="12" cy="12" r="10"/>${ICON_PATHS[kind]}</svg></div>`;
}

const COMMAND = 'postiz auth:login';

/** Catalog text with the CLI command shown as code, so it reads as something to type. */
function prose(text: string): SafeHtml {
  const parts = text.split(COMMAND);
  return html`${parts.map((part, i) => (i === 0 ? part : html`<code>${COMMAND}</code>${part}`))}`;
}

/** The Postiz-purple "P" as a data: URL (the CSP allows data: images): no /favicon.ico request, no 404. */
const FAVICON = `data:image/svg+xml,${encodeURIComponent(
  "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'><rect width='32' height='32' rx='8' fill='#612bd3'/><path fill='#fff' fill-rule='evenodd' d='M10 7h8a7 7 0 0 1 0 14h-3v5h-5zm5 5v4h3a2 2 0 0 0 0-4z'/></svg>",
)}`;

/**
 * Every page is served under `/device/` (verify and callback), so links are relative to it:
 * they stay under SERVER_URL's path behind a proxy that strips it (`https://example.com/cli-auth`
 * serves `/cli-auth/device/verify`), with nothing to configure (docs/deploy.md).
 */
const VERIFY = 'verify';
const STYLE_URL = `..${ASSETS.get('style.css')!.url}`;
const SCRIPT_URL = `..${ASSETS.get('verify.js')!.url}`;

function layout(ctx: PageContext, t: Translate, title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="${ctx.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<meta name="color-scheme" content="dark light">
<title>${title} · ${t('app.title')}</title>
<link rel="icon" href="${FAVICON}">
<link rel="stylesheet" href="${STYLE_URL}">
<script nonce="${ctx.nonce}" src="${SCRIPT_URL}" defer></script>
</head>
<body>
<div class="shell">
<header class="brand"><span class="logo" aria-hidden="true">P</span><span class="brand-name">${t('app.brand')}</span></header>
<main class="card" id="main">
${body}
</main>
<footer class="footer"><p>${t('footer.note')}</p></footer>
</div>
</body>
</html>
`.value;
}

const csrfField = (ctx: PageContext): SafeHtml =>
  html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;

/**
 * The code-entry page, optionally with what was typed and why it failed. `fromLink`: the code
 * came in the link (`verification_uri_complete`), which the form passes on, so that the
 * confirmation can ask for it to be typed when the device is on another network.
 */
export function entryPage(
  ctx: PageContext,
  options: { code?: string; error?: PageErrorReason; retryAfterSeconds?: number; fromLink?: boolean } = {},
): string {
  const t = translator(ctx.lang);
  const error = options.error ? errorText(t, options.error, options.retryAfterSeconds) : undefined;
  // With an error, focus lands on the field, whose description includes the message (read on focus).
  const body = html`
<h1>${t('entry.heading')}</h1>
<p class="lead">${t('entry.lead')}</p>
<form method="post" action="${VERIFY}" class="stack">
${csrfField(ctx)}${
  options.fromLink
    ? html`
<input type="hidden" name="source" value="link">`
    : ''
}
<label for="user_code">${t('entry.label')}</label>
<input id="user_code" name="user_code" type="text" class="code-input" value="${options.code ?? ''}"
  autocomplete="off" autocapitalize="characters" autocorrect="off" spellcheck="false" inputmode="text"
  enterkeyhint="go" maxlength="32" placeholder="XXXX-XXXX" required
  aria-describedby="${error ? 'code-error code-hint' : 'code-hint'}"${options.error === 'invalid_code' ? html` aria-invalid="true"` : ''}${
    // A pre-filled code needs no typing: no focus, so phones do not pop up the keyboard.
    error || !options.code ? html` autofocus` : ''
  }>
<p id="code-hint" class="hint">${t('entry.hint')}</p>
<div id="code-error" class="error" role="alert">${
    error ? html`<p class="error-title">${error.heading}</p><p>${prose(error.body)}</p>` : ''
  }</div>
<button type="submit" name="action" value="lookup" class="primary">${t('entry.submit')}</button>
</form>
<div class="callout">
<h2>${t('entry.login_title')}</h2>
<p>${t('entry.login_first')}</p>
</div>`;
  const title = error ? `${error.heading} · ${t('entry.heading')}` : t('entry.heading');
  return layout(ctx, t, title, body);
}

/** A CLI login, as a person reads it: when, from which address, what the device said it is. */
export interface LoginDescription {
  when: string;
  address: string;
  device: string;
}

/** What the confirmation page shows about the requesting device (RFC 8628 §5.4). */
export interface ConfirmDetails {
  userCode: string;
  /** What the device says it is, in plain words. */
  device: string;
  /** The device's IP address, or undefined when it is not known. */
  address: string | undefined;
  requested: string;
  network: NetworkMatch;
  /** `type_code`: the code came in a link from another network, and must be typed from the terminal. */
  step: 'confirm' | 'type_code';
  /** The code came in the link (passed on with the form). */
  fromLink: boolean;
  /** The login approving would end (the organisation this browser last logged in to), if known. */
  replaces?: LoginDescription;
  /** The typed code was not this login's. */
  mismatch?: boolean;
}

/**
 * The warning, led by the network comparison when the device asked from elsewhere (the sign
 * of remote phishing, announced); otherwise the comparison follows it as a note.
 */
function warning(t: Translate, network: NetworkMatch): SafeHtml {
  const note = network === 'same' ? t('confirm.network_same') : t('confirm.network_unknown');
  return html`<div class="warning">${
    network === 'different'
      ? html`<p class="network-warning" role="alert">${t('confirm.network_different')}</p>`
      : ''
  }<p>${t('confirm.warning')}</p></div>${
    network === 'different'
      ? ''
      : html`
<p class="note network-note">${note}</p>`
  }`;
}

/**
 * The confirmation page: the code to compare (or, from another network with the code in a
 * link, a field to type it), the device, the warning, the login approving would end, Continue
 * and Cancel.
 */
export function confirmPage(ctx: PageContext, details: ConfirmDetails): string {
  const t = translator(ctx.lang);
  const typing = details.step === 'type_code';
  // Typing: the code is not shown (reading it off this page would prove nothing); the field is
  // inside the form, described by the reason, and focused.
  const code = typing
    ? html`<p class="lead" id="type-lead">${t('confirm.type_lead')}</p>`
    : html`<div class="code-box">
<p class="code-label" id="code-label">${t('confirm.code')}</p>
<p class="code" aria-describedby="code-label compare">${details.userCode}</p>
<p id="compare" class="hint">${t('confirm.compare')}</p>
</div>`;
  const field = typing
    ? html`
<div class="stack typed-field">
<label for="typed_code">${t('confirm.type_label')}</label>
<input id="typed_code" name="typed_code" type="text" class="code-input" value=""
  autocomplete="off" autocapitalize="characters" autocorrect="off" spellcheck="false" inputmode="text"
  maxlength="32" placeholder="XXXX-XXXX" required autofocus
  aria-describedby="${details.mismatch ? 'type-error type-lead type-hint' : 'type-lead type-hint'}"${details.mismatch ? html` aria-invalid="true"` : ''}>
<p id="type-hint" class="hint">${t('confirm.type_hint')}</p>
<div id="type-error" class="error" role="alert">${
        details.mismatch
          ? html`<p class="error-title">${t('error.code_mismatch.heading')}</p><p>${t('error.code_mismatch.body')}</p>`
          : ''
      }</div>
</div>`
    : '';
  const replaces = details.replaces
    ? html`<p class="note replaces">${t('confirm.replaces', { ...details.replaces })}</p>`
    : '';
  const body = html`
<h1>${t('confirm.heading')}</h1>
<p class="lead">${t('confirm.lead')}</p>
${code}
<dl class="details">
<div><dt>${t('confirm.device')}</dt><dd>${details.device}</dd></div>
<div><dt>${t('confirm.address')}</dt><dd>${details.address ?? t('confirm.address_unknown')}</dd></div>
<div><dt>${t('confirm.requested')}</dt><dd>${details.requested}</dd></div>
</dl>
${warning(t, details.network)}
<p class="note">${t('confirm.consequences')}</p>
${replaces}
<p class="note">${t('confirm.next')}</p>
<form method="post" action="${VERIFY}" class="actions">
${csrfField(ctx)}
<input type="hidden" name="user_code" value="${details.userCode}">${
    details.fromLink
      ? html`
<input type="hidden" name="source" value="link">`
      : ''
  }${field}
<button type="submit" name="action" value="confirm" class="primary">${t('confirm.continue')}</button>
<button type="submit" name="action" value="deny" class="secondary"${typing ? html` formnovalidate` : ''}>${t('confirm.cancel')}</button>
</form>`;
  const title = details.mismatch
    ? `${t('error.code_mismatch.heading')} · ${t('confirm.heading')}`
    : t('confirm.heading');
  return layout(ctx, t, title, body);
}

/** How a flow ended, from the browser's side. */
export type Ending = 'approved' | 'denied' | 'cancelled' | 'no_subscription' | 'token_refused';

/** What an ending page says beyond how the flow ended. */
export interface EndingDetails {
  /** The organisation Postiz authorised (its id), when Postiz said. */
  organization?: string;
  /** For an approval: whether Postiz's public API took the new token. */
  check?: 'working' | 'unchecked';
  /** For an approval: the CLI login it replaced, which no longer works. */
  replaced?: LoginDescription;
}

/** The page after the flow ended well or was refused. */
export function endingPage(ctx: PageContext, ending: Ending, details: EndingDetails = {}): string {
  const t = translator(ctx.lang);
  const organization = details.organization ?? t('done.organization_unknown');
  const heading = t(`done.${ending}.heading`);
  const approved = ending === 'approved';
  const notes = approved
    ? html`${
        details.check
          ? html`<p class="note">${prose(t(details.check === 'working' ? 'done.approved.checked' : 'done.approved.unchecked'))}</p>`
          : ''
      }
<p class="note">${prose(t('done.approved.organization', { organization }))}</p>
<p class="note">${details.replaced ? t('done.approved.replaced', { ...details.replaced }) : t('done.approved.note')}</p>`
    : '';
  const body = html`
${icon(approved ? 'ok' : ending === 'no_subscription' || ending === 'token_refused' ? 'alert' : 'stop')}
<h1>${heading}</h1>
<p class="lead" role="status">${prose(t(`done.${ending}.body`, { organization }))}</p>
${notes}`;
  return layout(ctx, t, heading, body);
}

function errorText(
  t: Translate,
  reason: PageErrorReason,
  retryAfterSeconds?: number,
): { heading: string; body: string } {
  const heading = t(`error.${reason}.heading` as MessageKey);
  const body = t(`error.${reason}.body` as MessageKey);
  if (reason !== 'rate_limited') return { heading, body };
  // Always say when: a refusal without a time invites hammering the button.
  const minutes = Math.max(1, Math.ceil((retryAfterSeconds ?? 60) / 60));
  const when = minutes === 1 ? t('retry.minute') : t('retry.minutes', { n: minutes });
  return { heading, body: `${body} ${when}` };
}

/** Errors the user can fix by trying the same flow again from this browser. */
const RETRYABLE: PageErrorReason[] = [
  'upstream_unavailable',
  'upstream_rejected',
  'misconfigured',
  'code_not_usable',
];

const ERROR_ICONS: Partial<Record<PageErrorReason, Icon>> = {
  expired: 'clock',
  rate_limited: 'clock',
  already_used: 'stop',
};

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
      ? html`<form method="post" action="${VERIFY}" class="actions">
${csrfField(ctx)}
<input type="hidden" name="flow" value="${options.flowId}">
<button type="submit" name="action" value="retry" class="primary">${t('action.retry')}</button>
</form>`
      : html`<p class="actions"><a class="button secondary" href="${VERIFY}">${t('action.start_over')}</a></p>`;
  const body = html`
${icon(ERROR_ICONS[reason] ?? 'alert')}
<h1>${heading}</h1>
<p class="lead" role="alert">${prose(text)}</p>
${action}`;
  return layout(ctx, t, heading, body);
}
