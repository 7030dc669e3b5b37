#!/usr/bin/env node
/**
 * `postiz-cli-auth [serve|demo|migrate] [--help]`: the binary. Settings come from the
 * environment (and `.env`); a bad one ends the process with one clear line, no stack trace.
 */
import { describeConfig, loadConfig, loadDotEnv, SETTINGS } from './config.js';
import { createLogger } from './logger.js';

const HELP: Record<string, string> = {
  serve: `postiz-cli-auth serve

Start the device-flow server (the default command). Settings are read from the environment
and from .env in the working directory:

${SETTINGS.map((s) => `  ${s.env.padEnd(40)} ${s.description.replaceAll('`', '')}`).join('\n')}`,
  demo: `postiz-cli-auth demo

Run the whole flow on this machine with no configuration: the server on the embedded
database (in memory) and a built-in stand-in for Postiz on its own port. Prints the
verification URL and the command to try with the real postiz CLI.
  PORT        server port (default 3111)
  DEMO_POSTIZ_PORT  stand-in port (default 3112)`,
  migrate: `postiz-cli-auth migrate

Apply pending database migrations (DATABASE_URL, else the embedded database in
PGLITE_DATA_DIR) and exit. The server also migrates at start-up; this is for deploy steps.`,
};

const USAGE = `Usage: postiz-cli-auth [serve|demo|migrate] [--help]

  serve    start the server (default)
  demo     the whole flow locally, with a Postiz stand-in
  migrate  apply database migrations and exit

Run "postiz-cli-auth <command> --help" for details.`;

async function main(argv: string[]): Promise<void> {
  const command = argv.find((a) => !a.startsWith('-')) ?? 'serve';
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  if (!(command in HELP)) {
    console.error(`Unknown command "${command}".\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (wantsHelp) {
    console.log(argv.some((a) => a in HELP) ? HELP[command] : USAGE);
    return;
  }
  loadDotEnv();

  if (command === 'demo') {
    const { runDemo } = await import('./demo.js');
    await runDemo(process.env);
    return;
  }

  const config = loadConfig(process.env, { requireCredentials: command !== 'migrate' });
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
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
  logger.info({ config: describeConfig(config) }, 'starting');
  const { startServer } = await import('./server.js');
  await startServer(config, { logger, handleSignals: true });
}

// A bad setting (ConfigError), an unreachable database, a locked data directory: one line each.
main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`postiz-cli-auth: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
