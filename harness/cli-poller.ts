/**
 * A poller that behaves as the `postiz` CLI's `auth:login` does (docs/clients.md): sleep the
 * interval, POST `{"device_code"}`, read the answer; a token ends it, `authorization_pending`
 * and anything that is not JSON (or a network error) mean poll again, any other JSON `error`
 * ends the login ("fatal"). Many of them at once, for the herd and restart tests and the soak.
 */
import http from 'node:http';

/** How one CLI's login ended. */
export interface CliOutcome {
  /**
   * `token`, `fatal` (a JSON error the CLI ends on), `expired` (`expired_token`, or its
   * deadline passed), or `stopped` (told to stop).
   */
  outcome: 'token' | 'fatal' | 'expired' | 'stopped';
  token?: string;
  /** The JSON `error` that ended it, when fatal. */
  error?: string;
  /** Every answer by kind: `token`, an `error` value, `no-json <status>`, `network`. */
  answers: Map<string, number>;
}

export interface CliPollOptions {
  /** Seconds between an answer and the next poll (the CLI's `interval`). */
  intervalSeconds: number;
  /** Give up (as `expired`) at this time (ms since the epoch). */
  deadline: number;
  /** `Prefer: wait=N` on each poll (the CLI sends none; the server then holds it POLL_WAIT_SECONDS). */
  preferWait?: number;
  /** The HTTP agent (default: a new connection for each poll, as after a cut connection). */
  agent?: http.Agent | false;
  /** Called with each answer's kind as it comes. */
  onAnswer?: (kind: string) => void;
  /** Wait this long before the first poll instead of the interval. */
  firstDelayMs?: number;
  /** Checked before each poll: stop polling (as `stopped`) once it says so. */
  stopped?: () => boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One poll: its status and body, or `undefined` after a network error. */
function pollOnce(
  serverUrl: string,
  deviceCode: string,
  options: CliPollOptions,
): Promise<{ status: number; text: string } | undefined> {
  return new Promise((resolve) => {
    const url = new URL('/device/token', serverUrl);
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: url.pathname,
        agent: options.agent ?? false,
        headers: {
          'content-type': 'application/json',
          ...(options.preferWait === undefined ? {} : { prefer: `wait=${options.preferWait}` }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', () => resolve(undefined));
      },
    );
    request.on('error', () => resolve(undefined));
    request.end(JSON.stringify({ device_code: deviceCode }));
  });
}

/** Poll `deviceCode` as the postiz CLI does, until it ends. */
export async function pollLikeCli(
  serverUrl: string,
  deviceCode: string,
  options: CliPollOptions,
): Promise<CliOutcome> {
  const answers = new Map<string, number>();
  const count = (kind: string) => {
    answers.set(kind, (answers.get(kind) ?? 0) + 1);
    options.onAnswer?.(kind);
  };
  let delay = options.firstDelayMs ?? options.intervalSeconds * 1000;
  while (Date.now() < options.deadline) {
    await sleep(delay);
    if (options.stopped?.()) return { outcome: 'stopped', answers };
    delay = options.intervalSeconds * 1000;
    const answer = await pollOnce(serverUrl, deviceCode, options);
    if (!answer) {
      count('network');
      continue;
    }
    let body: { access_token?: unknown; error?: unknown };
    try {
      body = JSON.parse(answer.text);
    } catch {
      count(`no-json ${answer.status}`);
      continue;
    }
    if (answer.status >= 200 && answer.status < 300 && typeof body.access_token === 'string') {
      count('token');
      return { outcome: 'token', token: body.access_token, answers };
    }
    count(String(body.error));
    if (body.error === 'authorization_pending') continue;
    if (body.error === 'expired_token') return { outcome: 'expired', answers };
    return { outcome: 'fatal', error: String(body.error), answers };
  }
  return { outcome: 'expired', answers };
}
