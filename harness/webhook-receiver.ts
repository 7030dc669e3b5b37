/**
 * A webhook receiver for tests and the benchmark: a real HTTP server that verifies every
 * request's signature with the `standardwebhooks` package (as a receiver of this server's
 * webhooks would), keeps what arrived, and can be told to misbehave: be down (connection
 * refused), answer an error status, answer late, or hold requests open until released.
 */

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { WebhookBody } from '../src/webhooks/message.js';

/** A fresh Standard Webhooks secret (`whsec_` and 32 random bytes in base64). */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/** One request that arrived with a valid signature. */
export interface Delivery {
  id: string;
  timestamp: number;
  /** The body as sent. */
  raw: string;
  body: WebhookBody;
  /** The request's path and query. */
  url: string;
  headers: http.IncomingHttpHeaders;
  /** performance.now() at arrival. */
  arrivedAt: number;
  /** Whether it was answered 2xx (set when it is). */
  answered: boolean;
}

/**
 * How the receiver answers: 2xx (`ok`), an error `status`, after `delayMs`, or not at all until
 * `release()` (`hold`).
 */
export type Behaviour =
  | { kind: 'ok' }
  | { kind: 'status'; status: number }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'hold' };

export interface Receiver {
  /** `http://127.0.0.1:<port>/hooks` (the same across `down()`/`up()`). */
  url: string;
  /** Every request with a valid signature, in arrival order (whatever it was answered). */
  deliveries: Delivery[];
  /** Requests refused for a missing or wrong signature (a test expects none): why, each. */
  rejected: string[];
  behaviour: Behaviour;
  /** Requests being held or answered late right now. */
  open(): number;
  /** Answer every held request (200), and answer at once from now on. */
  release(): void;
  /** Stop listening (new connections are refused); open ones are cut. */
  down(): Promise<void>;
  /** Listen again on the same port. */
  up(): Promise<void>;
  /** The event ids answered 2xx so far. */
  answered(): Set<string>;
  close(): Promise<void>;
}

/** Start a receiver for `secret` on a free loopback port. */
export async function startReceiver(secret: string, path = '/hooks'): Promise<Receiver> {
  const webhook = new Webhook(secret);
  const deliveries: Delivery[] = [];
  const rejected: string[] = [];
  const answeredIds = new Set<string>();
  const held = new Set<() => void>();
  let late = 0;
  let port = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: WebhookBody;
      try {
        body = webhook.verify(raw, req.headers as Record<string, string>) as WebhookBody;
      } catch (err) {
        rejected.push((err as Error).message);
        res.writeHead(401).end();
        return;
      }
      const id = String(req.headers['webhook-id']);
      const delivery: Delivery = {
        id,
        timestamp: Number(req.headers['webhook-timestamp']),
        raw,
        body,
        url: req.url ?? '',
        headers: req.headers,
        arrivedAt: performance.now(),
        answered: false,
      };
      deliveries.push(delivery);
      const ok = () => {
        if (res.destroyed) return;
        delivery.answered = true;
        answeredIds.add(id);
        res.writeHead(204).end();
      };
      const behaviour = receiver.behaviour;
      if (behaviour.kind === 'ok') ok();
      else if (behaviour.kind === 'status') res.writeHead(behaviour.status).end();
      else if (behaviour.kind === 'slow') {
        late += 1;
        setTimeout(() => {
          late -= 1;
          ok();
        }, behaviour.delayMs);
      } else {
        const answer = () => {
          held.delete(answer);
          ok();
        };
        held.add(answer);
        res.on('close', () => held.delete(answer));
      }
    });
  });
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  await listen();

  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}${path}`,
    deliveries,
    rejected,
    behaviour: { kind: 'ok' },
    open: () => held.size + late,
    release() {
      receiver.behaviour = { kind: 'ok' };
      for (const answer of [...held]) answer();
    },
    down: stop,
    up: listen,
    answered: () => answeredIds,
    async close() {
      receiver.release();
      if (server.listening) await stop();
    },
  };
  return receiver;
}
