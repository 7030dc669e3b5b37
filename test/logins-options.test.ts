/** The values `postiz-cli-auth logins` accepts (src/logins/options.ts), and the device column's words. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkOptions, DEFAULT_LIMIT, parseSince } from '../src/logins/options.js';
import { describeDevice } from '../src/logins/table.js';

const NOW = Date.parse('2026-03-04T12:00:00Z');

test('--since: an age in days, hours or minutes, or an ISO date or time (UTC without a zone)', () => {
  const iso = (text: string) => parseSince(text, NOW)?.toISOString();
  assert.equal(iso('7d'), '2026-02-25T12:00:00.000Z');
  assert.equal(iso('24h'), '2026-03-03T12:00:00.000Z');
  assert.equal(iso('30m'), '2026-03-04T11:30:00.000Z');
  assert.equal(iso('2026-03-01'), '2026-03-01T00:00:00.000Z');
  assert.equal(iso('2026-03-01T09:30'), '2026-03-01T09:30:00.000Z');
  assert.equal(iso('2026-03-01T09:30Z'), '2026-03-01T09:30:00.000Z');
  assert.equal(iso('2026-03-01T09:30:00+02:00'), '2026-03-01T07:30:00.000Z');
  for (const bad of ['yesterday', '7', '7w', '-1d', '2026-13-01', '2026-03-01T25:00', ''])
    assert.equal(parseSince(bad, NOW), undefined, bad);
});

test('the options checked: defaults, and one line for each bad value', () => {
  assert.deepEqual(checkOptions({ json: false }, NOW), {
    organization: undefined,
    since: undefined,
    outcome: undefined,
    limit: DEFAULT_LIMIT,
    json: false,
  });
  assert.deepEqual(
    checkOptions({ json: true, outcome: 'Denied', limit: '3', organization: ' org_1 ' }, NOW),
    {
      organization: 'org_1',
      since: undefined,
      outcome: 'denied',
      limit: 3,
      json: true,
    },
  );
  assert.match(
    String((checkOptions({ json: false, limit: '1e3' }, NOW) as { error: string }).error),
    /--limit/,
  );
  assert.match(
    String((checkOptions({ json: false, organization: ' ' }, NOW) as { error: string }).error),
    /--organization takes/,
  );
});

test("the device column: the confirmation page's words where the agent is known, else the agent cut short", () => {
  assert.equal(describeDevice('postiz/2.1.0 (linux; x64) node/22.23.0'), 'postiz CLI 2.1.0 on Linux');
  assert.equal(describeDevice(null), '—');
  const odd = '(weird agent with no product token at all, and rather long too)';
  assert.equal(describeDevice(odd), `${odd.slice(0, 39)}…`);
});
