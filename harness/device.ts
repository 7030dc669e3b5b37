/** Raw device-flow requests (start a flow, poll it) for tests that need more control than a client library gives. */

/** The device authorization response (RFC 8628 §3.2). */
export interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** What a poll answered, and how long it took (ms). */
export interface PollAnswer {
  status: number;
  body: { access_token?: string; error?: string; error_description?: string; interval?: number };
  ms: number;
  /** The raw body (when it is not JSON, `body` is empty). */
  text: string;
}

/** POST /device/code the way the postiz CLI does (JSON content type, no body). */
export async function startFlow(
  serverUrl: string,
  headers: Record<string, string> = {},
): Promise<DeviceAuthorization> {
  const response = await fetch(`${serverUrl}/device/code`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST /device/code answered ${response.status}: ${text}`);
  return JSON.parse(text) as DeviceAuthorization;
}

/** POST /device/token with `{"device_code"}`; `wait` sends `Prefer: wait=N`. */
export async function poll(serverUrl: string, deviceCode: string, wait?: number): Promise<PollAnswer> {
  const started = performance.now();
  const response = await fetch(`${serverUrl}/device/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(wait === undefined ? {} : { prefer: `wait=${wait}` }),
    },
    body: JSON.stringify({ device_code: deviceCode }),
  });
  const text = await response.text();
  let body: PollAnswer['body'] = {};
  try {
    body = JSON.parse(text) as PollAnswer['body'];
  } catch {
    // Not JSON (e.g. the proxy's 502 when an instance died): `text` has it.
  }
  return { status: response.status, body, ms: performance.now() - started, text };
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll like a well-behaved client, `interval` seconds apart, until the answer is not `authorization_pending`. */
export async function pollUntilSettled(
  serverUrl: string,
  deviceCode: string,
  { interval = 5, timeoutMs = 60_000 }: { interval?: number; timeoutMs?: number } = {},
): Promise<PollAnswer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await poll(serverUrl, deviceCode);
    if (answer.body.error !== 'authorization_pending' || Date.now() + interval * 1000 > deadline)
      return answer;
    await sleep(interval * 1000);
  }
}
