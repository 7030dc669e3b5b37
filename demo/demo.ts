/**
 * `npm run demo`: the whole flow on one machine with nothing else installed. The server runs
 * on the embedded database (in memory) and talks to the built-in Postiz stand-in, which
 * listens on its own port. The stand-in is only ever used here and in tests.
 *
 * The command it prints for the real CLI runs it with a temporary HOME, made here and removed
 * when the demo stops: `postiz auth:login` saves `$HOME/.postiz/credentials.json`, and a
 * token for the stand-in must never replace the user's real login.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { describeDemoListenError } from '../src/listen-errors.js';
import { createLogger } from '../src/logger.js';
import { describeDevice } from '../src/logins/table.js';
import { startServer } from '../src/server.js';
import type { WebhookBody } from '../src/webhooks/message.js';
import { createStandIn } from './stand-in/index.js';
import { createReceiver } from './webhook-receiver.js';

/** The start of the temporary HOME's name, under the system's temporary directory. */
export const DEMO_HOME_PREFIX = 'postiz-cli-auth-demo-';

const DEMO_CLIENT_ID = 'pca_demo0000000000000000000000000000';
const DEMO_CLIENT_SECRET = 'pcs_demo00000000000000000000000000000000000000000000';

/** `word` as one shell word: as it is when it needs no quoting (the usual temporary path), else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The line the demo prints for a webhook it received and verified. */
export function describeWebhook(event: WebhookBody): string {
  const { organization, device } = event.data;
  return `webhook ${event.type}: organisation ${organization?.id ?? 'none'}, device ${device.address ?? 'unknown'} (${describeDevice(device.user_agent)}), signature verified`;
}

/** Listen on 127.0.0.1:`port`, or fail with the demo's one line for `setting`. */
function listenOn(server: Server, port: number, setting: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) =>
      reject(new Error(describeDemoListenError(err, port, setting, what), { cause: err })),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

/** Start the stand-in, the webhook receiver and the server; runs until SIGINT/SIGTERM. */
export async function runDemo(env: Record<string, string | undefined>): Promise<void> {
  const port = Number(env.PORT ?? 3111);
  const standInPort = Number(env.DEMO_POSTIZ_PORT ?? 3112);
  const webhookPort = Number(env.DEMO_WEBHOOK_PORT ?? 3113);
  const serverUrl = env.SERVER_URL ?? `http://localhost:${port}`;
  const standIn = createStandIn({
    clients: [
      {
        clientId: DEMO_CLIENT_ID,
        clientSecret: DEMO_CLIENT_SECRET,
        redirectUri: `${serverUrl}/device/callback`,
        name: 'Postiz CLI (demo)',
      },
    ],
    user: { name: 'Demo User', organizationId: 'org_demo', organizationName: 'Demo Org' },
    // An organisation without a subscription, to pick on the consent page: Postiz's public API
    // refuses its tokens where billing is on, and the login ends with an error that says so.
    organizations: [{ id: 'org_unpaid', name: 'Unpaid Org', subscribed: false }],
  });
  let postizUrl: string;
  try {
    postizUrl = await standIn.listen(standInPort, '127.0.0.1');
  } catch (err) {
    throw new Error(describeDemoListenError(err, standInPort), { cause: err });
  }

  // A receiver of the server's webhooks, with a secret made for this run: it prints each login's event.
  const webhookSecret = `whsec_${randomBytes(32).toString('base64')}`;
  const receiver = createReceiver(webhookSecret, (event) => console.log(describeWebhook(event)));
  try {
    await listenOn(receiver, webhookPort, 'DEMO_WEBHOOK_PORT', "the demo's webhook receiver");
  } catch (err) {
    await standIn.close();
    throw err;
  }
  const webhookUrl = `http://127.0.0.1:${webhookPort}/webhooks`;
  const closeReceiver = () => new Promise<void>((resolve) => receiver.close(() => resolve()));

  const config = loadConfig({
    LOG_LEVEL: 'warn',
    ...env,
    WEBHOOK_URL: webhookUrl,
    WEBHOOK_SECRET: webhookSecret,
    PORT: String(port),
    HOST: env.HOST ?? '127.0.0.1',
    SERVER_URL: serverUrl,
    PGLITE_DATA_DIR: env.PGLITE_DATA_DIR ?? 'memory',
    DATABASE_URL: undefined,
    POSTIZ_OAUTH_CLIENT_ID: DEMO_CLIENT_ID,
    POSTIZ_OAUTH_CLIENT_SECRET: DEMO_CLIENT_SECRET,
    POSTIZ_FRONTEND_URL: postizUrl,
    POSTIZ_API_URL: postizUrl,
  });
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(config, { logger });
  } catch (err) {
    await closeReceiver();
    await standIn.close();
    throw err;
  }
  // Made once all listen, so a demo that cannot start leaves nothing behind.
  const home = mkdtempSync(join(tmpdir(), DEMO_HOME_PREFIX));
  const removeHome = (): void => rmSync(home, { recursive: true, force: true });
  process.once('exit', removeHome);

  console.log(`
Postiz CLI Auth Server demo
  auth server      ${config.serverUrl}  (embedded database, in memory)
  Postiz stand-in  ${postizUrl}  (logged in as "Demo User", organisations "Demo Org" and
                   "Unpaid Org", which has no subscription: pick it on the consent page to
                   see a login Postiz refuses)
  webhooks         ${webhookUrl}  (a receiver that verifies each login's event and
                   prints it here)

Try it with the real CLI (its login goes to a temporary HOME, removed when the demo stops,
so your own ~/.postiz/credentials.json is left alone):
  HOME=${shellWord(home)} POSTIZ_AUTH_SERVER=${config.serverUrl} npx postiz auth:login

Or start a flow by hand:
  curl -s -X POST ${config.serverUrl}/device/code
then open ${config.serverUrl}/device/verify and enter the user_code.

Press Ctrl+C to stop.
`);

  const stop = async (): Promise<void> => {
    await server.close();
    await closeReceiver();
    await standIn.close();
    removeHome();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
