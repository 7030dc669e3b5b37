/**
 * A login event as a webhook (docs/deploy.md, "Audit trail and webhooks"): the JSON body, and
 * the Standard Webhooks headers that sign it. The body is made from the recorded event alone,
 * so every attempt at one event sends the same bytes under the same `webhook-id`; only the
 * attempt's timestamp and signature change. It carries no token and nothing that opens one.
 */
import { Webhook } from 'standardwebhooks';
import type { Organizations } from '../device-flow/organizations.js';
import type { LoginEvent, LoginOutcome } from '../storage/store.js';

/** What a receiver is POSTed for one event. */
export interface WebhookBody {
  /** `cli_login.<outcome>`. */
  type: `cli_login.${LoginOutcome}`;
  /** When the login ended (ISO 8601, UTC). */
  timestamp: string;
  data: {
    event_id: string;
    flow_id: string;
    outcome: LoginOutcome;
    reason: string | null;
    /** The organisation Postiz named, opened from its sealed record; null when none. */
    organization: { id: string } | null;
    /** The device that asked for the login: its address and what it said it is. */
    device: { address: string | null; user_agent: string | null };
    browser_network: string | null;
    code_source: string | null;
    instance: string | null;
    started_at: string;
    ended_at: string;
  };
}

/** A message ready to send: its id (the event's), and its body as sent. */
export interface WebhookMessage {
  id: string;
  body: string;
}

/** The message for `event`; `organizations` opens its sealed organisation id. */
export function webhookMessage(event: LoginEvent, organizations: Organizations): WebhookMessage {
  const organization = organizations.open(event.orgSealed);
  const body: WebhookBody = {
    type: `cli_login.${event.outcome}`,
    timestamp: event.at.toISOString(),
    data: {
      event_id: event.eventId,
      flow_id: event.flowId,
      outcome: event.outcome,
      reason: event.reason,
      organization: organization === undefined ? null : { id: organization },
      device: { address: event.clientIp, user_agent: event.userAgent },
      browser_network: event.browserNetwork,
      code_source: event.codeSource,
      instance: event.instance,
      started_at: event.startedAt.toISOString(),
      ended_at: event.at.toISOString(),
    },
  };
  return { id: event.eventId, body: JSON.stringify(body) };
}

/** Signs messages with a `whsec_…` secret, as Standard Webhooks does. */
export class WebhookSigner {
  private readonly webhook: Webhook;

  constructor(secret: string) {
    this.webhook = new Webhook(secret);
  }

  /**
   * The headers of one attempt at `message`, at `at`: `webhook-timestamp` is the attempt's
   * (receivers refuse one far from their clock), `webhook-signature` is
   * `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
   */
  headers(message: WebhookMessage, at: Date): Record<string, string> {
    return {
      'content-type': 'application/json',
      'webhook-id': message.id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': this.webhook.sign(message.id, at, message.body),
    };
  }
}
