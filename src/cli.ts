#!/usr/bin/env node
/**
 * `postiz-cli-auth [serve|demo|migrate|logins] [--help|--version]`: the binary. Settings come from
 * the environment (and `.env`); a bad one ends the process with one clear line, no stack trace.
 */
// First: on an unsupported Node.js, one clear line before anything else can fail.
import './require-node.js';
import { parseArgs } from './cli-args.js';
import { ConfigError, describeConfig, loadConfig, loadDotEnv, SETTINGS } from './config.js';
import { startupWarnings } from './guardrails.js';
import { createLogger } from './logger.js';
import { checkOptions, DEFAULT_LIMIT } from './logins/options.js';
import { settingsHelp } from './settings-text.js';
import { describeUnknown, unknownVariables, withTypoHints } from './settings-typos.js';
import { buildInfo } from './version.js';

const SETTING_NAMES = SETTINGS.map((s) => s.env);

const HELP: Record<string, string> = {
  serve: `postiz-cli-auth serve

Start the device-flow server (the default command). Settings are read from the environment
and from .env in the working directory:

${settingsHelp()}`,
  demo: `postiz-cli-auth demo

Run the whole flow on this machine with no configuration: the server on the embedded
database (in memory) and a built-in stand-in for Postiz on its own port. Prints the
verification URL and the command to try with the real postiz CLI, and each login's webhook
as a small receiver on its own port verifies it.
  PORT        server port (default 3111)
  DEMO_POSTIZ_PORT  stand-in port (default 3112)
  DEMO_WEBHOOK_PORT  webhook receiver port (default 3113)`,
  migrate: `postiz-cli-auth migrate

Apply pending database migrations (DATABASE_URL, else the embedded database in
PGLITE_DATA_DIR) and exit. The server also migrates at start-up; this is for deploy steps.`,
  logins: `postiz-cli-auth logins [--organization ID] [--since WHEN] [--outcome OUTCOME] [--limit N] [--json]

The audit trail: how each login ended, newest first, from the database the server uses
(DATABASE_URL, else the embedded database in PGLITE_DATA_DIR, which it can read only while
no server runs). Needs the client secret, as serve does (POSTIZ_OAUTH_CLIENT_SECRET, or
OAUTH_CLIENT_SECRET with UPSTREAM=oauth): organisations are kept keyed and sealed with keys
derived from it.
  --organization ID  only this organisation's logins (the organization_id the CLI was given)
  --since WHEN       only logins since an age (7d, 24h, 30m) or an ISO date or time
                     (2026-03-01, 2026-03-01T09:30Z; UTC when no zone is given)
  --outcome OUTCOME  delivered, denied, cancelled, refused, blocked, expired or failed
  --limit N          at most N logins (default ${DEFAULT_LIMIT})
  --json             one JSON object per line (the data of each login's webhook)`,
};

const USAGE = `Usage: postiz-cli-auth [serve|demo|migrate|logins] [--help|--version]

  serve    start the server (default)
  demo     the whole flow locally, with a Postiz stand-in
  migrate  apply database migrations and exit
  logins   list recent logins from the audit trail ("postiz-cli-auth logins --help")

Settings are environment variables (or .env): "postiz-cli-auth serve --help" lists them.`;

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv, SETTING_NAMES);
  if ('error' in args) {
    console.error(`${args.error}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const { command } = args;
  if (args.version) {
    const build = buildInfo();
    console.log(`postiz-cli-auth ${build.version} (commit ${build.commit}, Node.js ${build.node})`);
    return;
  }
  if (args.help) {
    console.log(args.explicit ? HELP[command] : USAGE);
    return;
  }
  loadDotEnv();

  if (command === 'demo') {
    // The demo and its Postiz stand-in live beside the product (demo/), loaded only for this command.
    const { runDemo } = await import('../demo/demo.js');
    await runDemo(process.env);
    return;
  }

  if (command === 'logins') {
    // Checked before the database is opened; nothing is logged, so --json output stays clean.
    const query = checkOptions(args.logins ?? { json: false }, Date.now());
    if ('error' in query) {
      console.error(`${query.error}\n\n${HELP.logins}`);
      process.exitCode = 2;
      return;
    }
    const config = loadConfig(process.env, { requireCredentials: false });
    // Before the database is opened: stops with the setting to set when it is missing.
    const { clientSecretOf } = await import('./upstream/index.js');
    clientSecretOf(config);
    const { runLogins } = await import('./logins/command.js');
    await runLogins(
      config,
      query,
      (text) => console.log(text),
      (text) => console.error(text),
    );
    return;
  }

  const config = loadConfig(process.env, { requireCredentials: command !== 'migrate' });
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  // Mistakes that do not stop the server, each said once, before anything else.
  for (const unknown of unknownVariables(process.env, SETTING_NAMES)) {
    logger.warn({ variable: unknown.name, setting: unknown.closest }, describeUnknown(unknown));
  }
  if (command === 'serve') {
    for (const warning of startupWarnings(config, process.env)) logger.warn(warning.fields, warning.message);
  }

  if (command === 'migrate') {
    const { openStore } = await import('./storage/open.js');
    const store = await openStore(config, logger);
    try {
      const applied = await store.migrate();
      logger.info({ migrations: applied }, applied.length ? 'migrations applied' : 'database is up to date');
    } finally {
      await store.close();
    }
    return;
  }
  logger.info({ ...buildInfo(), config: describeConfig(config) }, 'starting');
  const { startServer } = await import('./server.js');
  await startServer(config, { logger, handleSignals: true });
}

/** Whether the operator asked for detail (LOG_LEVEL debug or trace), read raw: the settings may be what failed. */
const verbose = (): boolean => /^\s*(debug|trace)\s*$/i.test(process.env.LOG_LEVEL ?? '');

// A bad setting (ConfigError), an unreachable database, a locked data directory: one line each.
// At LOG_LEVEL=debug or trace, a failure that is not a setting's also shows where it happened.
main(process.argv.slice(2)).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  console.error(`postiz-cli-auth: ${withTypoHints(message, process.env, SETTING_NAMES)}`);
  if (verbose() && err instanceof Error && !(err instanceof ConfigError) && err.stack)
    console.error(err.stack);
  process.exit(1);
});
