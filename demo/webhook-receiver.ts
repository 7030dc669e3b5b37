/**
 * The demo's webhook receiver, as small as a real one can be (docs/deploy.md shows the same
 * code): read the body, verify its signature with the `standardwebhooks` package, and only then
 * trust the event. A request that does not verify gets 401, and the server retries it.
 */
import http from 'node:http';
import { Webhook } from 'standardwebhooks';
import type { WebhookBody } from '../src/webhooks/message.js';

/** An HTTP server that hands each verified event to `onEvent` (not yet listening). */
export function createReceiver(secret: string, onEvent: (event: WebhookBody) => void): http.Server {
  const webhook = new Webhook(secret);
  return http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    let event: WebhookBody;
    try {
      event = webhook.verify(body, req.headers as Record<string, string>) as WebhookBody;
    } catch {
      res.writeHead(401).end();
      return;
    }
    onEvent(event);
    res.writeHead(204).end();
  });
}
