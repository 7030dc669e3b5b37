/**
 * What `postiz-cli-auth logins` prints: a table for people (times in UTC, the organisation
 * opened, the device described as the confirmation page describes it), or one JSON object per
 * line for scripts, each the `data` of the event's webhook (src/webhooks/message.ts).
 */
import type { Organizations } from '../device-flow/organizations.js';
import type { LoginEvent } from '../storage/store.js';
import type { Translate } from '../views/i18n/index.js';
import { describeUserAgent } from '../views/user-agent.js';
import { webhookMessage } from '../webhooks/message.js';

/** What an empty cell shows. */
const NONE = '—';
/** The longest raw user agent a cell shows. */
const AGENT_WIDTH = 40;

/** "2026-03-04T05:06:07Z": to the second, in UTC. */
const when = (at: Date): string => `${at.toISOString().slice(0, 19)}Z`;

/**
 * What the device said it is, in the confirmation page's English words (`english`) where they
 * know it ("postiz CLI 2.1.0 on Linux"), else its agent cut short.
 */
export function describeDevice(userAgent: string | null, english: Translate): string {
  if (!userAgent) return NONE;
  const described = describeUserAgent(userAgent, english);
  if (described !== english('device.unknown')) return described;
  return userAgent.length > AGENT_WIDTH ? `${userAgent.slice(0, AGENT_WIDTH - 1)}…` : userAgent;
}

/** The organisation's id; "(sealed)" when it does not open (sealed under an earlier client secret). */
function organization(event: LoginEvent, organizations: Organizations): string {
  if (!event.orgSealed) return NONE;
  return organizations.open(event.orgSealed) ?? '(sealed)';
}

/** The table's column headings, in order. */
export const HEADERS = [
  'WHEN (UTC)',
  'OUTCOME',
  'REASON',
  'ORGANISATION',
  'ADDRESS',
  'DEVICE',
  'NETWORK',
  'CODE',
  'INSTANCE',
];

/** The events as an aligned text table, a header first. */
export function loginsTable(events: LoginEvent[], organizations: Organizations, english: Translate): string {
  const rows = events.map((e) => [
    when(e.at),
    e.outcome,
    e.reason ?? NONE,
    organization(e, organizations),
    e.clientIp ?? NONE,
    describeDevice(e.userAgent, english),
    e.browserNetwork ?? NONE,
    e.codeSource ?? NONE,
    e.instance ?? NONE,
  ]);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [HEADERS, ...rows]
    .map((cells) =>
      cells
        .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The events as JSON lines: each the `data` of its webhook. */
export function loginsJson(events: LoginEvent[], organizations: Organizations): string {
  return events
    .map((event) => JSON.stringify(JSON.parse(webhookMessage(event, organizations).body).data))
    .join('\n');
}
