/** The command line (src/cli-args.ts): commands, --help, --version, and every other flag refused with what it meant. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../harness/processes.js';
import { parseArgs } from '../src/cli-args.js';
import { SETTINGS } from '../src/config.js';

const NAMES = SETTINGS.map((s) => s.env);
const parse = (...argv: string[]) => parseArgs(argv, NAMES);

test('commands, --help and --version', () => {
  assert.deepEqual(parse(), { command: 'serve', help: false, version: false, explicit: false });
  assert.deepEqual(parse('migrate', '--help'), {
    command: 'migrate',
    help: true,
    version: false,
    explicit: true,
  });
  assert.deepEqual(parse('--version'), { command: 'serve', help: false, version: true, explicit: false });
  assert.deepEqual(parse('-h'), { command: 'serve', help: true, version: false, explicit: false });
});

test('a flag that is a setting is refused, naming the variable and its value', () => {
  assert.deepEqual(parse('serve', '--port', '4000'), {
    error:
      'Unknown option "--port": settings are environment variables: PORT=4000 postiz-cli-auth serve (see "postiz-cli-auth serve --help").',
  });
  assert.match((parse('--pool-size=20') as { error: string }).error, /DATABASE_POOL_SIZE=20 /);
  assert.match((parse('--prot') as { error: string }).error, /PORT=…/);
});

test('unknown commands and extra arguments are refused', () => {
  assert.deepEqual(parse('frobnicate'), { error: 'Unknown command "frobnicate".' });
  assert.deepEqual(parse('serve', 'now'), { error: 'Unexpected argument "now" after the command "serve".' });
});

test('a flag that resembles no setting gets a plain answer, never an unrelated setting', () => {
  for (const flag of ['--verbose', '--debug', '--quiet', '--config=x.json', '--watch', '-x', '--db']) {
    assert.deepEqual(parse('serve', flag), {
      error: `Unknown option "${flag.split('=')[0]}": postiz-cli-auth takes no options but --help and --version. Settings are environment variables (see "postiz-cli-auth serve --help").`,
    });
  }
});

test('a flag that names the end of a setting, or misspells one, is named with that setting', () => {
  assert.match(
    (parse('--pool-size', '20') as { error: string }).error,
    /DATABASE_POOL_SIZE=20 postiz-cli-auth serve/,
  );
  // It ends a setting of each provider profile: both are named.
  assert.match(
    (parse('--client-secret', 'x') as { error: string }).error,
    /POSTIZ_OAUTH_CLIENT_SECRET=… postiz-cli-auth serve, or OAUTH_CLIENT_SECRET=… postiz-cli-auth serve /,
  );
  assert.match((parse('--servr-url') as { error: string }).error, /SERVER_URL=…/);
  assert.match((parse('--hots', '::') as { error: string }).error, /HOST=:: /);
});

test('a secret typed as a flag is never quoted back (stderr ends up in logs), a plain value is', () => {
  for (const argv of [
    ['--client-secret=pcs_0123456789abcdef'],
    ['serve', '--client-secret', 'pcs_0123456789abcdef'],
    ['--webhook-secret=whsec_0123456789abcdef'],
    ['--database-url', 'postgres://app:pcs_0123456789abcdef@db/app'],
    ['--webhook-url=https://hooks.example/pcs_0123456789abcdef'],
    ['--metrics-token', 'pcs_0123456789abcdef'],
    ['--token=pcs_0123456789abcdef'],
  ]) {
    const { error } = parse(...argv) as { error: string };
    assert.match(error, /=… postiz-cli-auth serve/, argv.join(' '));
    assert.ok(!error.includes('pcs_0123456789abcdef') && !error.includes('whsec_'), error);
  }
  assert.match((parse('--port=4000') as { error: string }).error, /^Unknown option "--port": .*PORT=4000 /);
  const { error } = parse('logins', '--database-url=postgres://app:pcs_0123456789abcdef@db/app') as {
    error: string;
  };
  assert.equal(
    error,
    `Unknown option "--database-url" of logins: it takes ${'--organization, --since, --outcome, --limit, --json'}.`,
  );
});

test("docs/deploy.md's start-up table quotes both answers as the command line gives them", () => {
  const deploy = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
  for (const argv of [
    ['serve', '--port', '4000'],
    ['serve', '--client-secret', 'pcs_…'],
    ['serve', '--verbose'],
  ]) {
    const { error } = parse(...argv) as { error: string };
    assert.ok(deploy.includes(`| \`${argv.join(' ')}\``), `a row for ${argv.join(' ')}`);
    assert.ok(deploy.includes(`\`${error}\``), `docs/deploy.md quotes: ${error}`);
  }
});

test('logins takes its options, spaced or with =; every other command still refuses them', () => {
  assert.deepEqual(
    parse('logins', '--organization', 'org_1', '--since=7d', '--outcome', 'denied', '--limit=5', '--json'),
    {
      command: 'logins',
      help: false,
      version: false,
      explicit: true,
      logins: { json: true, organization: 'org_1', since: '7d', outcome: 'denied', limit: '5' },
    },
  );
  assert.deepEqual(parse('logins'), {
    command: 'logins',
    help: false,
    version: false,
    explicit: true,
    logins: { json: false },
  });
  assert.deepEqual(parse('logins', '--since', '--json'), {
    error: 'The option --since of logins needs a value.',
  });
  assert.match(
    (parse('logins', '--port', '1') as { error: string }).error,
    /^Unknown option "--port" of logins/,
  );
  assert.deepEqual(parse('serve', '--json'), {
    error: 'The option --json belongs to the logins command: postiz-cli-auth logins --json',
  });
  assert.deepEqual(parse('migrate', '--limit=3'), {
    error: 'The option --limit belongs to the logins command: postiz-cli-auth logins --limit=3',
  });
});
