/**
 * Every HTML page of the flow. Each is a function of plain data; all text comes from the
 * catalogs and is escaped by `html`. Buttons that refuse carry `value="deny"` and come after
 * the button that goes on (docs/compatibility.md). No inline styles or scripts: the CSP allows neither.
 *
 * Referrer policy `same-origin`, not `no-referrer`: under `no-referrer` Chromium sends
 * `Origin: null` with our own form posts, which the Origin check refuses. `same-origin` still
 * sends nothing (no code in a URL) to the provider or anywhere else. The meta tag overrides the header.
 *
 * Pages name the provider, the client and its command as the profile does (`PageContext.profile`),
 * and say what only Postiz does only with Postiz's wording (`profile.ts`).
 */
import type { NetworkMatch } from '../device-flow/addresses.js';
import type { PageErrorReason } from '../device-flow/page-error.js';
import { ASSETS } from './assets.js';
import { html, type SafeHtml } from './html.js';
import { type MessageKey, type Translate, translator } from './i18n/index.js';
import { describeOrganization, type OrganizationView } from './organization.js';
import type { PageProfile } from './profile.js';
import { describeWhen } from './user-agent.js';

export type { ChannelView, OrganizationView } from './organization.js';

/** What every page needs to know about its request. */
export interface PageContext {
  lang: string;
  /** CSP nonce for the page's script. */
  nonce: string;
  /** The browser session's anti-CSRF token, put in every form. */
  csrf: string;
  /** Where people reach whoever runs this server (SUPPORT_URL): https:, http: or mailto:. */
  supportUrl?: string;
  /** Whom the pages name, and how they word it: the provider profile's. */
  profile: PageProfile;
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

/**
 * A message as markup: the catalog's template is split at its `{placeholders}`, which take
 * markup (a `<time>`) as well as text, so a value is never read as a placeholder; the profile's
 * command is shown as code, so it reads as something to type, and its other names as text.
 */
function fill(
  t: Translate,
  key: MessageKey,
  params: Record<string, string | number | SafeHtml> = {},
): SafeHtml {
  const { provider, client, command } = t.profile.names;
  const parts = t.template(key).split(/\{(\w+)\}/);
  return html`${parts.map((part, i) => {
    if (i % 2 === 0) return part;
    if (Object.hasOwn(params, part)) {
      const value = params[part]!;
      return typeof value === 'number' ? String(value) : value;
    }
    if (part === 'command' && command) return html`<code>${command}</code>`;
    if (part === 'provider') return provider;
    if (part === 'client') return client;
    return `{${part}}`;
  })}`;
}

/**
 * A moment, in UTC as the server writes it (it does not know the reader's time zone), marked up
 * so that the page's script rewrites it in the browser's zone, named (assets/verify.js).
 */
function moment(at: Date, lang: string): SafeHtml {
  return html`<time class="local-time" datetime="${at.toISOString()}">${describeWhen(at, lang)}</time>`;
}

/** Where SUPPORT_URL leads, named as people know it: the host of a web page, the address of a mailto:. */
export function supportLabel(supportUrl: string): string {
  const url = new URL(supportUrl);
  if (url.protocol !== 'mailto:') return url.host;
  try {
    return decodeURIComponent(url.pathname);
  } catch {
    return url.pathname;
  }
}

/** "Contact help.example.com", when the operator said where to reach them; nothing otherwise. */
function contactLink(ctx: PageContext, t: Translate, className: string): SafeHtml | '' {
  if (!ctx.supportUrl) return '';
  return html`<a class="${className}" href="${ctx.supportUrl}">${t('contact.link', { contact: supportLabel(ctx.supportUrl) })}</a>`;
}

/** An SVG as a data: URL (the CSP allows data: images): no /favicon.ico request, no 404. */
const dataUrl = (svg: string): string => `data:image/svg+xml,${encodeURIComponent(svg)}`;

/** Postiz's "P", in Postiz purple. */
const POSTIZ_ICON = dataUrl(
  "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'><rect width='32' height='32' rx='8' fill='#612bd3'/><path fill='#fff' fill-rule='evenodd' d='M10 7h8a7 7 0 0 1 0 14h-3v5h-5zm5 5v4h3a2 2 0 0 0 0-4z'/></svg>",
);

/**
 * The pages' mark, beside the client's name in the header and as the favicon: Postiz's "P" for
 * Postiz; for another provider, the first letter or digit of its name (one character, so nothing
 * in it can be markup).
 */
function mark(profile: PageProfile): { letter: string; icon: string } {
  if (profile.wording === 'postiz') return { letter: 'P', icon: POSTIZ_ICON };
  const letter = profile.names.provider.match(/[\p{L}\p{N}]/u)?.[0]?.toUpperCase() ?? '•';
  return {
    letter,
    icon: dataUrl(
      `<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'><rect width='32' height='32' rx='8' fill='#612bd3'/><text x='16' y='22' text-anchor='middle' font-family='system-ui,sans-serif' font-size='18' font-weight='700' fill='#fff'>${letter}</text></svg>`,
    ),
  };
}

/**
 * Every page is served under `/device/` (verify and callback), so links are relative to it:
 * they stay under SERVER_URL's path behind a proxy that strips it (`https://example.com/cli-auth`
 * serves `/cli-auth/device/verify`), with nothing to configure (docs/deploy.md).
 */
const VERIFY = 'verify';
const STYLE_URL = `..${ASSETS.get('style.css')!.url}`;
const SCRIPT_URL = `..${ASSETS.get('verify.js')!.url}`;

function layout(ctx: PageContext, t: Translate, title: string, body: SafeHtml): string {
  const contact = contactLink(ctx, t, 'contact');
  const { letter, icon } = mark(ctx.profile);
  return html`<!doctype html>
<html lang="${ctx.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<meta name="color-scheme" content="dark light">
<title>${title} · ${t('app.title')}</title>
<link rel="icon" href="${icon}">
<link rel="stylesheet" href="${STYLE_URL}">
<script nonce="${ctx.nonce}" src="${SCRIPT_URL}" defer></script>
</head>
<body>
<div class="shell">
<header class="brand"><span class="logo" aria-hidden="true">${letter}</span><span class="brand-name">${t('app.brand')}</span></header>
<main class="card" id="main">
${body}
</main>
<footer class="footer"><p>${t('footer.note')}</p>${contact ? html`<p>${contact}</p>` : ''}</footer>
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
  const t = translator(ctx.lang, ctx.profile);
  const error = options.error ? errorText(t, options.error, options.retryAfterSeconds) : undefined;
  // Locked out for a while: the one page where waiting is all a person can do alone.
  const help = options.error === 'rate_limited' ? contactLink(ctx, t, 'contact') : '';
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
    error
      ? html`<p class="error-title">${error.heading}</p><p>${error.body}</p>${help ? html`<p>${help}</p>` : ''}`
      : ''
  }</div>
<button type="submit" name="action" value="lookup" class="primary">${t('entry.submit')}</button>
</form>${
    // Postiz's login page does not come back to the flow: say so before it is on the way.
    t.profile.wording === 'postiz'
      ? html`
<div class="callout">
<h2>${t('entry.login_title')}</h2>
<p>${t('entry.login_first')}</p>
</div>`
      : ''
  }`;
  const title = error ? `${error.heading} · ${t('entry.heading')}` : t('entry.heading');
  return layout(ctx, t, title, body);
}

/**
 * A CLI login, as a person reads it: when, from which address, what the device said it is, and
 * (when known) for which organisation.
 */
export interface LoginDescription {
  when: Date;
  address: string;
  device: string;
  organization?: OrganizationView;
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
  /** The last CLI login approved in this browser, if one is known. */
  replaces?: LoginDescription;
  /** The typed code was not this login's. */
  mismatch?: boolean;
  /** What was typed, shown again (marked invalid) after a mismatch. */
  typed?: string;
}

/** The organisation's small print: its id, for support, when its name does not already say it. */
function organizationId(t: Translate, id: string | undefined): SafeHtml | '' {
  return id ? html`<small class="org-id">${t('org.id_note', { id })}</small>` : '';
}

/** The last CLI login approved in this browser, and what approving would do to it. */
function replacesNote(t: Translate, lang: string, login: LoginDescription): SafeHtml {
  const common = { when: moment(login.when, lang), address: login.address, device: login.device };
  if (!login.organization) return html`<p class="replaces">${fill(t, 'confirm.replaces_no_org', common)}</p>`;
  const organization = describeOrganization(t, lang, login.organization);
  return html`<p class="replaces">${fill(t, 'confirm.replaces', { ...common, organization: organization.name })}${organizationId(t, organization.id)}</p>`;
}

/**
 * The confirmation page, built so that the decision fits the first screen, on a phone too: the
 * code to compare (or, from another network with the code in a link, a field to type it), who is
 * asking (what the device says it is, its address and network, when), one warning, then Continue
 * and Cancel. What approving does, the earlier login and what comes next follow the buttons.
 */
export function confirmPage(ctx: PageContext, details: ConfirmDetails): string {
  const t = translator(ctx.lang, ctx.profile);
  const typing = details.step === 'type_code';
  const different = details.network === 'different';
  // Typing: the code is not shown (reading it off this page would prove nothing); the field is
  // inside the form, described by the reason, and focused.
  const code = typing
    ? ''
    : html`<div class="code-box">
<p id="compare" class="code-label">${t('confirm.compare')}</p>
<p class="code" aria-describedby="compare">${details.userCode}</p>
</div>`;
  // The network is said once: as the warning's first line when it differs, else beside the address.
  const networkNote = different
    ? ''
    : html`<span class="network-note">${t(details.network === 'same' ? 'confirm.network_same' : 'confirm.network_unknown')}</span>`;
  const field = typing
    ? html`
<div class="stack typed-field">
<label for="typed_code">${t('confirm.type_label')}</label>
<input id="typed_code" name="typed_code" type="text" class="code-input" value="${details.typed ?? ''}"
  autocomplete="off" autocapitalize="characters" autocorrect="off" spellcheck="false" inputmode="text"
  maxlength="32" placeholder="XXXX-XXXX" required autofocus
  aria-describedby="${details.mismatch ? 'type-error' : 'type-hint'}"${details.mismatch ? html` aria-invalid="true"` : ''}>
<div id="type-error" class="error" role="alert">${
        details.mismatch
          ? html`<p class="error-title">${t('error.code_mismatch.heading')}</p><p>${t('error.code_mismatch.body')}</p>`
          : ''
      }</div>${
        // After a wrong code the error says what to do, in the hint's place (the page must still fit).
        details.mismatch
          ? ''
          : html`
<p id="type-hint" class="hint">${t('confirm.type_lead')} ${t('confirm.type_hint')}</p>`
      }
</div>`
    : '';
  const body = html`
<h1>${t('confirm.heading')}</h1>
<p class="lead">${t('confirm.lead')}</p>
${code}
<dl class="details">
<div><dt>${t('confirm.device')}</dt><dd class="device">${details.device}</dd></div>
<div><dt>${t('confirm.address')}</dt><dd>${details.address ?? t('confirm.address_unknown')}${networkNote}</dd></div>
<div><dt>${t('confirm.requested')}</dt><dd>${details.requested}</dd></div>
</dl>
<div class="warning">${
    different ? html`<p class="network-warning" role="alert">${t('confirm.network_different')}</p>` : ''
  }<p>${t('confirm.warning')}</p></div>
<form method="post" action="${VERIFY}" class="decision">
${csrfField(ctx)}
<input type="hidden" name="user_code" value="${details.userCode}">${
    details.fromLink
      ? html`
<input type="hidden" name="source" value="link">`
      : ''
  }${field}
<div class="actions">
<button type="submit" name="action" value="confirm" class="primary">${t('confirm.continue')}</button>
<button type="submit" name="action" value="deny" class="secondary"${typing ? html` formnovalidate` : ''}>${t('confirm.cancel')}</button>
</div>
</form>
<section class="more" aria-labelledby="more-title">
<h2 id="more-title">${t('confirm.more_title')}</h2>
<p>${t('confirm.consequences')}</p>
${
  // Only Postiz ends an earlier login when a new one is approved: nothing to say of it otherwise.
  details.replaces && t.profile.wording === 'postiz' ? replacesNote(t, ctx.lang, details.replaces) : ''
}
<p>${t('confirm.next')}</p>
</section>`;
  const title = details.mismatch
    ? `${t('error.code_mismatch.heading')} · ${t('confirm.heading')}`
    : t('confirm.heading');
  return layout(ctx, t, title, body);
}

/** How a flow ended, from the browser's side. */
export type Ending = 'approved' | 'denied' | 'cancelled' | 'refused';

/** What an ending page says beyond how the flow ended. */
export interface EndingDetails {
  /** For a refusal: the provider's reason (`no_subscription` has words of its own). */
  refusal?: string;
  /** The account the provider authorised (a Postiz organisation), as far as it is known. */
  organization?: OrganizationView;
  /** For an approval: whether the provider took the new token (Postiz: its public API). */
  check?: 'working' | 'unchecked';
  /**
   * For an approval: the last CLI login approved in this browser, when it was for the same
   * organisation. Whether it ended depends on who approved it, which the server cannot tell.
   */
  replaced?: LoginDescription;
}

/** The page after the flow ended well or was refused. */
export function endingPage(ctx: PageContext, ending: Ending, details: EndingDetails = {}): string {
  const t = translator(ctx.lang, ctx.profile);
  const postiz = t.profile.wording === 'postiz';
  const { name: organization, id } = describeOrganization(t, ctx.lang, details.organization);
  const idNote = organizationId(t, id);
  // A refusal is told by its reason: an organisation without a subscription (Postiz's), or any other.
  const told =
    ending === 'refused'
      ? details.refusal === 'no_subscription' && postiz
        ? 'no_subscription'
        : 'token_refused'
      : ending;
  const heading = t(`done.${told}.heading`);
  const approved = ending === 'approved';
  const replaced = details.replaced;
  // Only Postiz ends an earlier login when a new one is approved: nothing to say of it otherwise.
  const earlier = !postiz
    ? ''
    : replaced
      ? fill(t, 'done.approved.replaced', {
          when: moment(replaced.when, ctx.lang),
          address: replaced.address,
          device: replaced.device,
        })
      : t('done.approved.note');
  const check = details.check
    ? html`<p class="note">${fill(t, details.check === 'working' ? 'done.approved.checked' : 'done.approved.unchecked')}</p>`
    : '';
  // Refused for the organisation: its id, for support, below what to do.
  const notes = approved
    ? html`${check}
<p class="note">${fill(t, 'done.approved.organization', { organization })}${idNote}</p>${
        earlier
          ? html`
<p class="note">${earlier}</p>`
          : ''
      }`
    : idNote
      ? html`<p class="note">${idNote}</p>`
      : '';
  const body = html`
${icon(approved ? 'ok' : ending === 'refused' ? 'alert' : 'stop')}
<h1>${heading}</h1>
<p class="lead" role="status">${fill(t, `done.${told}.body`, { organization })}</p>
${notes}`;
  return layout(ctx, t, heading, body);
}

function errorText(
  t: Translate,
  reason: PageErrorReason,
  retryAfterSeconds?: number,
): { heading: string; body: SafeHtml } {
  const heading = t(`error.${reason}.heading` as MessageKey);
  const body = fill(t, `error.${reason}.body` as MessageKey);
  if (reason !== 'rate_limited') return { heading, body };
  // Always say when: a refusal without a time invites hammering the button.
  const minutes = Math.max(1, Math.ceil((retryAfterSeconds ?? 60) / 60));
  const when = minutes === 1 ? t('retry.minute') : t('retry.minutes', { n: minutes });
  return { heading, body: html`${body} ${when}` };
}

/** Errors the user can fix by trying the same flow again from this browser. */
const RETRYABLE: PageErrorReason[] = [
  'upstream_unavailable',
  'upstream_rejected',
  'misconfigured',
  'code_not_usable',
];

/**
 * Errors a person cannot get past alone, or that name whoever runs the server: these offer
 * SUPPORT_URL beside the way forward, when it is set.
 */
const NEEDS_HELP: PageErrorReason[] = [
  'misconfigured',
  'cross_network',
  'server_error',
  'rate_limited',
  'upstream_unavailable',
  'upstream_rejected',
  'code_not_usable',
  'wrong_origin',
];

const ERROR_ICONS: Partial<Record<PageErrorReason, Icon>> = {
  expired: 'clock',
  rate_limited: 'clock',
  already_used: 'stop',
  cross_network: 'stop',
};

/** A page for a failure, with the way forward: retry, or enter a code again; and help, where there is some. */
export function errorPage(
  ctx: PageContext,
  reason: PageErrorReason,
  options: { flowId?: string; retryAfterSeconds?: number } = {},
): string {
  const t = translator(ctx.lang, ctx.profile);
  const { heading, body: text } = errorText(t, reason, options.retryAfterSeconds);
  const contact = NEEDS_HELP.includes(reason) ? contactLink(ctx, t, 'contact') : '';
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
<p class="lead" role="alert">${text}</p>
${action}${
  contact
    ? html`
<p class="help">${contact}</p>`
    : ''
}`;
  return layout(ctx, t, heading, body);
}
