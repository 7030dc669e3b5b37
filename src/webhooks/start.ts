/** The webhook sender as the app runs it: made from the settings when `WEBHOOK_URL` is set, counted in the metrics. */
import type { Config } from '../config.js';
import { Organizations } from '../device-flow/organizations.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../storage/store.js';
import { clientSecretOf } from '../upstream/index.js';
import { type WebhookLog, WebhookSender, type WebhookSenderOptions } from './sender.js';

/** The sender for `config` (not started), or undefined when no `WEBHOOK_URL` is set. */
export function createWebhooks(
  config: Pick<
    Config,
    | 'webhookUrls'
    | 'webhookSecret'
    | 'webhookTimeoutMs'
    | 'upstream'
    | 'clientSecret'
    | 'oauthClientSecret'
    | 'shutdownTimeoutMs'
  >,
  deps: {
    store: Store;
    metrics: Metrics;
    log: WebhookLog;
    now?: () => number;
    /** Overrides of the sender's options (tests: short retries, polls). */
    options?: Partial<WebhookSenderOptions>;
  },
): WebhookSender | undefined {
  if (config.webhookUrls.length === 0 || !config.webhookSecret) return undefined;
  const { metrics } = deps;
  return new WebhookSender({
    store: deps.store,
    urls: config.webhookUrls,
    secret: config.webhookSecret,
    timeoutMs: config.webhookTimeoutMs,
    organizations: new Organizations(clientSecretOf(config)),
    log: deps.log,
    now: deps.now,
    // A deployment's SIGTERM gives the whole process SHUTDOWN_TIMEOUT_MS.
    stopGraceMs: Math.min(config.webhookTimeoutMs, config.shutdownTimeoutMs),
    observer: {
      attempt: (result) => metrics.webhookAttempts.inc({ result }),
      delivered: (seconds) => {
        metrics.webhookEvents.inc({ result: 'delivered' });
        metrics.webhookDelivery.observe(seconds);
      },
      givenUp: () => metrics.webhookEvents.inc({ result: 'given_up' }),
      databaseError: () => metrics.databaseErrors.inc({ kind: 'webhooks' }),
    },
    ...deps.options,
  });
}
