/**
 * Postiz for the soak: many users, so that many logins can be approved at once. The stand-in
 * models one user, and (as Postiz does) a user's second approval voids the first one's
 * unexchanged code; so there is one stand-in per user behind a small router that sends each
 * login to its user's stand-in: by `state` on the consent page, by `code` at the token endpoint,
 * by the token itself at the public API (where the server checks a new token).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createStandIn, type StandIn } from '../../demo/stand-in/index.js';
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET } from '../../harness/build.js';

export interface PostizUsers {
  /** The router's URL: POSTIZ_FRONTEND_URL and POSTIZ_API_URL of the instances. */
  url: string;
  /** Tokens minted, by the code they were exchanged for. */
  tokenByCode: Map<string, string>;
  /** Answers ≥ 500 from any stand-in (none expected). */
  errors: string[];
  close(): Promise<void>;
}

/** The user (stand-in) a login goes to, from the OAuth `state` our server sent. */
export function userOf(state: string, users: number): number {
  return createHash('sha256').update(state).digest().readUInt32BE(0) % users;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/** The `code` of a token request (JSON, as our server sends it, or a form). */
function codeOf(body: string): string {
  try {
    return String(JSON.parse(body).code ?? '');
  } catch {
    return new URLSearchParams(body).get('code') ?? '';
  }
}

/** `count` stand-ins (one per user, all in `organizationId`) behind one router; all close with `close()`. */
export async function startPostizUsers(
  count: number,
  callbackUrl: string,
  organizationId: string,
): Promise<PostizUsers> {
  const tokenByCode = new Map<string, string>();
  const errors: string[] = [];
  const standIns: StandIn[] = [];
  const userOfToken = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const standIn = createStandIn({
      clients: [
        {
          clientId: TEST_CLIENT_ID,
          clientSecret: TEST_CLIENT_SECRET,
          redirectUri: callbackUrl,
          name: 'Postiz CLI',
        },
      ],
      user: { name: `Soak User ${i}`, organizationId },
    });
    standIn.app.addHook('onSend', async (request, reply, payload) => {
      if (request.url === '/oauth/token' && reply.statusCode === 201) {
        const code = (request.body as { code?: string } | undefined)?.code;
        const token = JSON.parse(String(payload)).access_token as string;
        if (code) tokenByCode.set(code, token);
        userOfToken.set(token, i);
      }
      if (reply.statusCode >= 500) errors.push(`${request.method} ${request.url} → ${reply.statusCode}`);
      return payload;
    });
    standIns.push(standIn);
  }
  const ports = (await Promise.all(standIns.map((s) => s.listen()))).map((u) => Number(new URL(u).port));
  const userOfCode = new Map<string, number>();
  const agent = new http.Agent({ keepAlive: true });

  const router = http.createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://router');
    const user =
      url.pathname === '/oauth/token'
        ? (userOfCode.get(codeOf(body)) ?? 0)
        : url.pathname.startsWith('/public/')
          ? (userOfToken.get(String(req.headers.authorization)) ?? 0)
          : userOf(url.searchParams.get('state') ?? new URLSearchParams(body).get('state') ?? '', count);
    const forward = http.request(
      {
        host: '127.0.0.1',
        port: ports[user],
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        const code = answer.headers.location
          ? new URL(answer.headers.location).searchParams.get('code')
          : null;
        if (code) userOfCode.set(code, user);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', (err) => {
      errors.push(`router: ${err.message}`);
      if (!res.headersSent) res.writeHead(502).end();
    });
    forward.end(body);
  });
  await new Promise<void>((resolve) => router.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(router.address() as AddressInfo).port}`,
    tokenByCode,
    errors,
    close: async () => {
      router.closeAllConnections();
      await new Promise<void>((resolve) => router.close(() => resolve()));
      agent.destroy();
      await Promise.all(standIns.map((s) => s.close()));
    },
  };
}
