/**
 * A lean HTTP client for the soak (node:http over one keep-alive agent, no fetch overhead),
 * and a browser on top of it: the harness's cookie jar (harness/forms.ts) per host and `X-Forwarded-For`, so each simulated
 * user comes from an address of its own behind the proxy.
 */
import http from 'node:http';
import { CookieJar } from '../../harness/forms.js';

/** One keep-alive agent for every request the soak makes (held polls each take a socket). */
const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, maxFreeSockets: 512 });

/** No request of the soak may take longer than this (held polls last ≤ 20 s). */
const REQUEST_TIMEOUT_MS = 60_000;

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Send one request; rejects on a network error or after REQUEST_TIMEOUT_MS. */
export function request(url: string, options: RequestOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: options.method ?? 'GET',
        agent,
        headers: {
          ...(options.body !== undefined
            ? { 'content-length': String(Buffer.byteLength(options.body)) }
            : {}),
          ...options.headers,
        },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Close the agent's idle sockets (at the end of the run). */
export function closeClient(): void {
  agent.destroy();
}

/** A simulated browser: cookies per host, `Origin` on form posts, a fixed client address. */
export class Browser {
  private readonly jars = new Map<string, CookieJar>();
  constructor(private readonly clientIp: string) {}

  get(url: string): Promise<Answer> {
    return this.send(url, { method: 'GET' });
  }

  post(url: string, form: Record<string, string>): Promise<Answer> {
    return this.send(url, {
      method: 'POST',
      headers: { origin: new URL(url).origin, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }

  private async send(url: string, options: RequestOptions): Promise<Answer> {
    const host = new URL(url).host;
    const jar = this.jars.get(host) ?? new CookieJar();
    this.jars.set(host, jar);
    const cookie = jar.header();
    const answer = await request(url, {
      ...options,
      headers: { ...options.headers, 'x-forwarded-for': this.clientIp, ...(cookie ? { cookie } : {}) },
    });
    jar.store(answer.headers['set-cookie'] ?? []);
    return answer;
  }
}
