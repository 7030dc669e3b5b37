/**
 * A webhook as a receiver sees it (src/webhooks/message.ts, endpoint.ts, retry.ts): the body
 * made from the recorded event, signed as Standard Webhooks says (checked with the
 * `standardwebhooks` package and with a plain HMAC), the same bytes at every attempt; the URL
 * called and the one logged; and when a failed event is tried again, then given up.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { TEST_CLIENT_SECRET } from '../../harness/build.js';
import { newWebhookSecret } from '../../harness/webhook-receiver.js';
import { Organizations } from '../../src/device-flow/organizations.js';
import type { LoginEvent } from '../../src/storage/store.js';
import { asEndpointKey, ENDPOINT_KEY_INFO, endpoint } from '../../src/webhooks/endpoint.js';
import { WebhookSigner, webhookMessage } from '../../src/webhooks/message.js';
import { DEFAULT_RETRY, GIVE_UP_AFTER_MS, nextAttempt, RETRY_SCHEDULE_MS } from '../../src/webhooks/retry.js';

const organizations = new Organizations(TEST_CLIENT_SECRET);

function event(overrides: Partial<LoginEvent> = {}): LoginEvent {
  const org = organizations.store('org_acme');
  return {
    eventId: 'evt_0123456789abcdef0123456789abcdef',
    flowId: 'flow_abc',
    at: new Date('2026-03-04T05:06:07.089Z'),
    outcome: 'delivered',
    reason: null,
    orgKey: org.key,
    orgSealed: org.sealed,
    clientIp: '203.0.113.7',
    userAgent: 'postiz/2.1.0 (linux; x64) node/22.23.0',
    browserNetwork: 'same',
    codeSource: 'link',
    instance: 'host-1:42',
    startedAt: new Date('2026-03-04T05:05:00.000Z'),
    ...overrides,
  };
}

test('the body says what was recorded, with the organisation opened, and nothing else', () => {
  const message = webhookMessage(event(), organizations);
  assert.equal(message.id, 'evt_0123456789abcdef0123456789abcdef');
  assert.deepEqual(JSON.parse(message.body), {
    type: 'cli_login.delivered',
    timestamp: '2026-03-04T05:06:07.089Z',
    data: {
      event_id: 'evt_0123456789abcdef0123456789abcdef',
      flow_id: 'flow_abc',
      outcome: 'delivered',
      reason: null,
      organization: { id: 'org_acme' },
      device: { address: '203.0.113.7', user_agent: 'postiz/2.1.0 (linux; x64) node/22.23.0' },
      browser_network: 'same',
      code_source: 'link',
      instance: 'host-1:42',
      started_at: '2026-03-04T05:05:00.000Z',
      ended_at: '2026-03-04T05:06:07.089Z',
    },
  });
  const none = JSON.parse(
    webhookMessage(
      event({ outcome: 'expired', reason: 'not_collected', orgKey: null, orgSealed: null }),
      organizations,
    ).body,
  );
  assert.equal(none.type, 'cli_login.expired');
  assert.equal(none.data.organization, null);
  assert.equal(none.data.reason, 'not_collected');
  const otherSecret = webhookMessage(event(), new Organizations('pcs_another_secret_entirely'));
  assert.equal(JSON.parse(otherSecret.body).data.organization, null, 'sealed under another secret: unnamed');
});

test('every attempt at an event sends the same bytes under the same id', () => {
  assert.equal(webhookMessage(event(), organizations).body, webhookMessage(event(), organizations).body);
});

test('the signature is the Standard Webhooks one: the package verifies it, and so does a plain HMAC', () => {
  const secret = newWebhookSecret();
  const message = webhookMessage(event(), organizations);
  const at = new Date();
  const headers = new WebhookSigner(secret).headers(message, at);
  assert.equal(headers['content-type'], 'application/json');
  assert.equal(headers['webhook-id'], message.id);
  assert.equal(headers['webhook-timestamp'], String(Math.floor(at.getTime() / 1000)));
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const mac = createHmac('sha256', key)
    .update(`${message.id}.${headers['webhook-timestamp']}.${message.body}`)
    .digest('base64');
  assert.equal(headers['webhook-signature'], `v1,${mac}`);
  assert.deepEqual(new Webhook(secret).verify(message.body, headers), JSON.parse(message.body));
  assert.throws(
    () => new Webhook(newWebhookSecret()).verify(message.body, headers),
    /No matching signature/,
    'another secret',
  );
  assert.throws(
    () => new Webhook(secret).verify(message.body.replace('org_acme', 'org_evil'), headers),
    /No matching signature/,
    'a changed body',
  );
});

test('an endpoint with credentials is called with HTTP Basic, and shown and recorded without its credentials, path or query', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  // What docs/deploy.md tells operators to run to find a tag: HKDF and HMAC from node:crypto.
  const keyed = (url: string, under = secret) =>
    createHmac('sha256', Buffer.from(hkdfSync('sha256', under, '', ENDPOINT_KEY_INFO, 32)))
      .update(url)
      .digest('hex');
  const plain = endpoint('https://hooks.example.com/in', secret);
  assert.deepEqual(plain, {
    target: 'https://hooks.example.com/in',
    authorization: undefined,
    key: keyed('https://hooks.example.com/in'),
    shown: `https://hooks.example.com (${keyed('https://hooks.example.com/in').slice(0, 8)})`,
  });
  const url = 'https://user:p%40ss@hooks.example.com:8443/in/path-secret?token=s3cr3t';
  const secretive = endpoint(url, secret);
  assert.equal(secretive.target, 'https://hooks.example.com:8443/in/path-secret?token=s3cr3t');
  assert.equal(secretive.authorization, `Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  assert.equal(secretive.shown, `https://hooks.example.com:8443 (${keyed(url).slice(0, 8)})`);
  assert.equal(secretive.key, keyed(url));
  // Keyed: the plain hash of the URL (what a guesser could test) is not it, and another secret gives another.
  assert.notEqual(secretive.key, createHash('sha256').update(url).digest('hex'));
  assert.notEqual(endpoint(url, `${secret}x`).key, secretive.key);
  // A URL an instance of an earlier version recorded reads as its key; a key as itself.
  assert.equal(asEndpointKey(url, secret), secretive.key);
  assert.equal(asEndpointKey(secretive.key, secret), secretive.key);
});

test('retries follow the schedule, give or take a fifth, and stop a day after the event', () => {
  const queued = new Date('2026-01-01T00:00:00Z');
  const t0 = queued.getTime();
  assert.deepEqual(
    RETRY_SCHEDULE_MS.map((_, i) => nextAttempt(DEFAULT_RETRY, i + 1, queued, t0, () => 0.5)!.getTime() - t0),
    [...RETRY_SCHEDULE_MS],
    'the middle of each step',
  );
  assert.equal(nextAttempt(DEFAULT_RETRY, 1, queued, t0, () => 0)!.getTime() - t0, 800, '1 s less a fifth');
  assert.equal(nextAttempt(DEFAULT_RETRY, 1, queued, t0, () => 1)!.getTime() - t0, 1200, '1 s and a fifth');
  assert.equal(
    nextAttempt(DEFAULT_RETRY, 25, queued, t0, () => 0.5)!.getTime() - t0,
    RETRY_SCHEDULE_MS.at(-1),
    'the last step repeats',
  );
  const late = t0 + GIVE_UP_AFTER_MS - 60_000;
  assert.equal(
    nextAttempt(DEFAULT_RETRY, 11, queued, late, () => 0.5),
    undefined,
    'past a day: given up',
  );
  // With the default schedule, the attempts a receiver that is always down gets, over a day.
  let now = t0;
  let attempts = 1;
  for (let next = nextAttempt(DEFAULT_RETRY, attempts, queued, now, () => 0.5); next; ) {
    now = next.getTime();
    attempts += 1;
    next = nextAttempt(DEFAULT_RETRY, attempts, queued, now, () => 0.5);
  }
  assert.equal(attempts, 12, 'twelve attempts in all, every wait at its middle');
  assert.ok(now - t0 < GIVE_UP_AFTER_MS);
});
