/**
 * English, the reference catalog: every other language must have exactly these keys and the same
 * `{placeholders}` (test/views/i18n.test.ts). `{name}` placeholders are filled (and escaped) by `t()`;
 * `{provider}`, `{client}` and `{command}` by the profile's names (`../profile.ts`), and
 * `{command}` is shown as a command (pages.ts). These messages are worded for the Postiz
 * profile; `enGeneric` words what differs for any other provider, `enNoCommand` what differs
 * when the client has no login command.
 */
export const en = {
  'lang.name': 'English',
  'app.title': '{client} login',
  'app.brand': '{client}',

  'entry.heading': 'Connect the {client}',
  'entry.lead': 'Enter the code shown in your terminal.',
  'entry.label': 'Code from your terminal',
  'entry.hint': '8 letters, for example BCDF-GHJK. Upper or lower case, with or without the dash.',
  'entry.submit': 'Continue',
  'entry.login_title': 'Log in to {provider} first',
  'entry.login_first':
    'Make sure you are logged in to {provider} in this browser. If {provider} shows its login page on the way, it will not bring you back here afterwards: log in, then open the address shown in your terminal again and enter the same code.',

  'confirm.heading': 'Is this you?',
  'confirm.lead': 'A device is asking for access to your {provider} account through the {client}.',
  'confirm.compare': 'Check that your terminal shows this code.',
  'confirm.device': 'The device says it is',
  'confirm.address': 'IP address',
  'confirm.requested': 'Requested',
  'confirm.address_unknown': 'Unknown',
  'confirm.network_same': 'Same network as this browser',
  'confirm.network_different': 'This request came from a different network than this browser.',
  'confirm.network_unknown': 'Cannot tell whether this is the network of this browser',
  'confirm.consequences':
    '{provider} will authorize the organisation currently selected in {provider}. Approving replaces your own earlier CLI login for that organisation, if you have one; other members’ logins are not affected.',
  'confirm.warning':
    'Continue only if you started this yourself, in your own terminal, just now. If someone sent you this link or code, cancel: they are trying to get into your account.',
  'confirm.more_title': 'What approving does',
  'confirm.next':
    'Next, {provider} asks you to authorize the {client}. If it shows its login page instead, log in, then open the address shown in your terminal again and enter the same code.',
  'confirm.continue': 'Continue to {provider}',
  'confirm.cancel': 'Cancel',
  'confirm.type_lead': 'The link alone is not enough here.',
  'confirm.type_label': 'Code shown in your terminal',
  'confirm.type_hint': 'If your terminal shows no code, you did not start this login: cancel.',
  'confirm.replaces':
    'The last CLI login approved in this browser: {when}, from {address}, {device}, for {organization}. If you approve with the same {provider} account and organisation, {provider} ends that login.',
  'confirm.replaces_no_org':
    'The last CLI login approved in this browser: {when}, from {address}, {device}. If you approve with the same {provider} account and organisation, {provider} ends that login.',

  'ago.now': 'just now',
  'ago.seconds': '{n} seconds ago',
  'ago.minute': '1 minute ago',
  'ago.minutes': '{n} minutes ago',

  'device.unknown': 'an unknown program',
  'device.on': '{agent} on {os}',
  'device.postiz_cli': 'postiz CLI {version}',
  'device.node': 'the postiz CLI or another Node.js program',
  'device.curl': 'curl {version}',

  'done.approved.heading': 'You are logged in',
  'done.approved.body': 'Return to your terminal: the {client} is now connected. You can close this tab.',
  'done.approved.note':
    '{provider} keeps one CLI login per person and organisation: an earlier CLI login of yours for this organisation, if you had one, has ended. Other members’ logins are not affected.',
  'done.denied.heading': 'Access denied',
  'done.denied.body':
    'You refused access in {provider}. The CLI has been told and received nothing. To try again, run {command} in your terminal.',
  'done.cancelled.heading': 'Login cancelled',
  'done.cancelled.body':
    'Nothing was shared. The CLI has been told that the request was refused. To try again, run {command} in your terminal.',
  'done.approved.checked': '{provider} confirmed that the new login works.',
  'done.approved.unchecked':
    '{provider} could not be asked whether the new login works. If the CLI later reports invalid credentials, run {command} again.',
  'done.approved.organization':
    '{provider} authorized {organization}. To use another organisation, select it in {provider}, then run {command} again.',
  'done.approved.replaced':
    'If you approved with the same {provider} account as the last CLI login approved in this browser ({when}, from {address}, {device}), that login no longer works: {provider} keeps one CLI login per person and organisation. Other members’ logins are not affected.',
  'done.organization_unknown': 'the organisation selected in {provider}',
  'org.channels': 'the organisation with {channels}',
  'org.id': 'the organisation {id}',
  'org.channel': '{name} on {platform}',
  'org.channel_disabled': '{name} on {platform} (disabled)',
  'org.platform_disabled': '{platform} (disabled)',
  'org.more': '{n} more',
  'org.id_note': 'Organisation id: {id}',
  'done.no_subscription.heading': 'This organisation has no {provider} subscription',
  'done.no_subscription.body':
    '{provider} authorized the login, but refuses its API to {organization}, which has no subscription. Subscribe in {provider}, or select another organisation there, then run {command} again. The CLI was told and saved nothing.',
  'done.token_refused.heading': '{provider} refused the new login',
  'done.token_refused.body':
    '{provider} authorized the login, but its API refuses the new credentials of {organization}. Check that organisation in {provider}, then run {command} again. The CLI was told and saved nothing.',

  'error.invalid_code.heading': 'That code did not work',
  'error.invalid_code.body': 'Check the code in your terminal and type it again.',
  'error.expired.heading': 'This code has expired',
  'error.expired.body': 'Codes last a few minutes. Run {command} in your terminal again to get a new one.',
  'error.already_used.heading': 'This code was already used',
  'error.already_used.body':
    'This login has already been completed or refused. Run {command} in your terminal again if you need to.',
  'error.rate_limited.heading': 'Too many attempts',
  'error.rate_limited.body': 'For your safety, codes cannot be tried from your network for a while.',
  'error.wrong_browser.heading': 'Please finish in the same browser',
  'error.wrong_browser.body':
    'This login was confirmed in another browser, or its cookie was lost. Open the address shown in your terminal again in this browser, enter the code and confirm there.',
  'error.unknown_state.heading': 'This link is no longer valid',
  'error.unknown_state.body':
    'It was already used, or the login it belonged to has ended. Open the address shown in your terminal again to continue.',
  'error.upstream_unavailable.heading': '{provider} had a problem',
  'error.upstream_unavailable.body':
    'We could not finish the login with {provider}. Your terminal is still waiting: try again in a moment.',
  'error.upstream_rejected.heading': '{provider} did not accept the login',
  'error.upstream_rejected.body':
    'The authorization from {provider} could not be used (it may have expired). Your terminal is still waiting: try again.',
  'error.misconfigured.heading': 'This server is not set up correctly',
  'error.misconfigured.body':
    '{provider} refused this login server’s own credentials, so it could not finish your login. Your terminal is still waiting; try again later.',
  'error.forbidden.heading': 'Request refused',
  'error.forbidden.body':
    'This form was sent from another site or has expired. Reload the page and try again.',
  'error.wrong_origin.heading': 'Open the address from your terminal',
  'error.wrong_origin.body':
    'This page was opened at another address of this server than the one it runs under. Open the address shown in your terminal, in this browser, and enter the code there.',
  'error.cookies_required.heading': 'Cookies are needed',
  'error.cookies_required.body':
    'This page uses a cookie to keep your login safe. Allow cookies for this site, reload the page and try again.',
  'error.bad_request.heading': 'Something is missing',
  'error.bad_request.body': 'This request was incomplete. Open the address shown in your terminal again.',
  'error.server_error.heading': 'Something went wrong',
  'error.server_error.body':
    'The server could not answer. Your terminal is still waiting: try again in a moment.',
  'error.cross_network.heading': 'This login cannot be confirmed from here',
  'error.cross_network.body':
    'It was started on another network than this browser’s, and this server accepts a login only on the network it started from. Your terminal was told, and has stopped waiting. To log in, run {command} on this computer.',
  'error.code_mismatch.heading': 'That is not the code of this login',
  'error.code_mismatch.body': 'Type the code your terminal shows, or cancel.',
  'error.code_not_usable.heading': 'This authorization cannot be used',
  'error.code_not_usable.body':
    'It reached this server before, at another step, so it is not used now. Your terminal is still waiting: try again.',

  'retry.minute': 'Try again in 1 minute.',
  'retry.minutes': 'Try again in {n} minutes.',
  'action.retry': 'Try again',
  'action.start_over': 'Enter a code',
  'contact.link': 'Contact {contact}',
  'footer.note': 'This page logs the postiz command-line tool in to your {provider} account.',
} as const;

export type MessageKey = keyof typeof en;
export type Catalog = Record<MessageKey, string>;

/**
 * Messages the pages show only with the Postiz profile's wording: what only Postiz does (the
 * organisation selected in Postiz, one CLI login per person and organisation, subscriptions,
 * its login page that does not come back to the flow) and how the postiz CLI's user agent is
 * told. With any other provider the pages leave them out.
 */
export const POSTIZ_ONLY: ReadonlySet<MessageKey> = new Set<MessageKey>([
  'entry.login_title',
  'entry.login_first',
  'confirm.replaces',
  'confirm.replaces_no_org',
  'device.postiz_cli',
  'done.approved.note',
  'done.approved.replaced',
  'org.channels',
  'org.id',
  'org.channel',
  'org.channel_disabled',
  'org.platform_disabled',
  'org.more',
  'org.id_note',
  'done.no_subscription.heading',
  'done.no_subscription.body',
]);

/**
 * What the pages say instead for a provider other than Postiz: true of any OAuth 2.0 provider,
 * and the account named as the provider names it (`{organization}`: a name, or
 * `done.organization_unknown`). Every language words at least these; one that cannot decline a
 * name it does not know (Portuguese, whose names take an article) words more.
 */
export const enGeneric = {
  'entry.heading': 'Connect {client}',
  'confirm.lead': 'A device is asking for access to your {provider} account through {client}.',
  'confirm.consequences':
    'If you approve, {client} in your terminal gets the access to your {provider} account that you allow at {provider}.',
  'confirm.next':
    'Next, {provider} asks you to log in, if you are not logged in yet, and to authorize {client}.',
  'device.node': 'a Node.js program',
  'done.approved.body': 'Return to your terminal: {client} is now connected. You can close this tab.',
  'done.approved.organization':
    'The login is for {organization}. To use another account, log in to it at {provider}, then run {command} again.',
  'done.organization_unknown': 'the account you chose at {provider}',
  'done.token_refused.body':
    '{provider} authorized the login, but refuses the new credentials for {organization}. Check that account at {provider}, then run {command} again. The CLI was told and saved nothing.',
  'footer.note': 'This page logs {client} in to your {provider} account.',
} as const satisfies Partial<Catalog>;

/** A language's generic messages: at least the ones English words differently. */
export type GenericCatalog = Partial<Catalog> & Record<keyof typeof enGeneric, string>;

/**
 * What the pages say instead when the client has no login command (with any provider but
 * Postiz, whose CLI always has one): start a login again from the terminal, no command named.
 */
export const enNoCommand = {
  'done.denied.body':
    'You refused access in {provider}. The CLI has been told and received nothing. To try again, start a new login from your terminal.',
  'done.cancelled.body':
    'Nothing was shared. The CLI has been told that the request was refused. To try again, start a new login from your terminal.',
  'done.approved.unchecked':
    '{provider} could not be asked whether the new login works. If the CLI later reports invalid credentials, start a new login from your terminal.',
  'done.approved.organization':
    'The login is for {organization}. To use another account, log in to it at {provider}, then start a new login from your terminal.',
  'done.token_refused.body':
    '{provider} authorized the login, but refuses the new credentials for {organization}. Check that account at {provider}, then start a new login from your terminal. The CLI was told and saved nothing.',
  'error.expired.body': 'Codes last a few minutes. Start a new login from your terminal to get a new one.',
  'error.already_used.body':
    'This login has already been completed or refused. Start a new login from your terminal if you need to.',
  'error.cross_network.body':
    'It was started on another network than this browser’s, and this server accepts a login only on the network it started from. Your terminal was told, and has stopped waiting. To log in, start a new login from a terminal on this computer.',
} as const satisfies Partial<Catalog>;

/** A language's messages for a client without a login command: exactly the ones English has. */
export type NoCommandCatalog = Record<keyof typeof enNoCommand, string>;
