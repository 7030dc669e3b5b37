/** The stand-in's pages: Postiz's consent page and its error page, escaped by the views' `html` tag. */
import { html, type SafeHtml } from '../../src/views/html.js';
import type { AuthorizeParams, StandInClient, StandInOrganization, StandInUser } from './state.js';

function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5; }
.note { font-size: 0.9rem; color: #555; border-left: 3px solid #c90; padding-left: 0.75rem; }
button { font-size: 1rem; padding: 0.5rem 1.25rem; margin-right: 0.5rem; }
select { font-size: 1rem; padding: 0.25rem; }
</style>
</head>
<body>
${body}
<p class="note">This is the local Postiz stand-in used for demos and tests, not the real Postiz.</p>
</body>
</html>
`.value;
}

/** An authorization error: Postiz shows it and never redirects. */
export function errorPage(message: string): string {
  return page('Authorization error', html`<h1>Authorization error</h1>\n<p>${message}</p>`);
}

/**
 * The consent page: the app, the person signed in (switchable when the stand-in has several
 * members, standing in for another person's browser), the organisation (switchable, as in
 * Postiz's menu), Authorize and Deny.
 */
export function consentPage(
  client: StandInClient,
  params: AuthorizeParams,
  people: StandInUser[],
  organizations: StandInOrganization[],
): string {
  const user = people[0]!;
  const fields: Array<[string, string]> = [
    ['client_id', params.clientId],
    ['response_type', params.responseType],
    ['state', params.state],
    ['redirect_uri', params.redirectUri],
    ['code_challenge', params.codeChallenge],
    ['code_challenge_method', params.codeChallengeMethod],
    ['scope', params.scope],
  ];
  const hidden = fields
    .filter(([, value]) => value !== '')
    .map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">\n`);
  const scopeLine = params.scope ? html`<p>Requested scope: <code>${params.scope}</code></p>\n` : '';
  const label = (o: StandInOrganization) => `${o.name}${o.subscribed === false ? ' (no subscription)' : ''}`;
  // One organisation is shown as Postiz shows the current one; several can be switched here,
  // standing in for Postiz's organisation menu.
  const signedIn =
    people.length === 1
      ? html`<strong>${user.name}</strong>`
      : html`<select id="member" name="member" aria-label="Signed in as">${people.map(
          (p) => html`<option value="${p.id}">${p.name}</option>`,
        )}</select>`;
  const organization =
    organizations.length === 1
      ? html`<p>Signed in as ${signedIn}, organisation <code>${organizations[0]!.id}</code>.</p>`
      : html`<p>Signed in as ${signedIn}.</p>
<p><label for="organization">Organisation</label>
<select id="organization" name="organization">${organizations.map(
          (o) => html`<option value="${o.id}">${label(o)}</option>`,
        )}</select></p>`;
  return page(
    `Authorize ${client.name}`,
    html`<h1>Authorize ${client.name}</h1>
<p><strong>${client.name}</strong> wants access to your Postiz account.</p>
${scopeLine}<form method="post" action="/oauth/authorize">
${hidden}${organization}
<button type="submit" name="action" value="approve">Authorize</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>`,
  );
}
