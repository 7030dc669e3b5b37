/**
 * The documentation and deployment files keep up with the code: the README lists every setting
 * and every endpoint, no relative link in README.md or docs/*.md is broken, the Dockerfile runs a
 * file the build produces, and what the docs say about TRUST_PROXY is what the server does.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEMO_HOME_PREFIX } from '../demo/demo.js';
import { build, TEST_CLIENT_SECRET } from '../harness/build.js';
import { oauthSettings, registration } from '../harness/oidc-provider.js';
import { SETTINGS } from '../src/config.js';
import { hashSecret, normalizeUserCode } from '../src/device-flow/codes.js';
import { TROUBLE_KINDS } from '../src/device-flow/events.js';
import { Organizations } from '../src/device-flow/organizations.js';
import { readiness } from '../src/http/schemas.js';
import { DEFAULT_LIMIT } from '../src/logins/options.js';
import { HEADERS } from '../src/logins/table.js';
import {
  BURN_RESULTS,
  createMetrics,
  FLOW_OUTCOMES,
  OUTBOX_STATES,
  POLL_RESULTS,
  RATE_LIMITED_ROUTES,
  TOKEN_CHECK_RESULTS,
  UPSTREAM_STATUSES,
  WEBHOOK_ATTEMPT_RESULTS,
  WEBHOOK_EVENT_RESULTS,
} from '../src/metrics.js';
import type { LoginEvent } from '../src/storage/store.js';
import { CREDENTIALS_CHECK_EVERY_MS } from '../src/upstream/credentials.js';
import { ANSWER_MAX_BYTES } from '../src/upstream/http.js';
import { endpoint } from '../src/webhooks/endpoint.js';
import { WebhookSigner, webhookMessage } from '../src/webhooks/message.js';
import {
  DEFAULT_RETRY,
  GIVE_UP_AFTER_MS,
  nextAttempt,
  RETRY_JITTER,
  RETRY_SCHEDULE_MS,
} from '../src/webhooks/retry.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const README = read('README.md');

/** README.md and every docs/*.md present, as repository-relative paths. */
function markdownFiles(): string[] {
  const docs = existsSync(join(ROOT, 'docs'))
    ? readdirSync(join(ROOT, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`)
    : [];
  return ['README.md', 'CHANGELOG.md', ...docs];
}

/** Text outside fenced code blocks and inline code, where links live. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Targets of inline links and images, `[text](target "title")`. */
function linkTargets(markdown: string): string[] {
  return [...prose(markdown).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map(
    (m) => m[1]!,
  );
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor a markdown file offers (duplicates get -1, -2, … as on GitHub). */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const body = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '');
  for (const m of body.matchAll(/^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm)) {
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The paths of the endpoint table of docs/compatibility.md (the promised endpoints). */
function promisedPaths(): string[] {
  const section = read('docs/compatibility.md').split('## Endpoints')[1]?.split('\n## ')[0] ?? '';
  const listed = [...section.matchAll(/^\|\s*`[A-Z]+`\s*\|\s*`([^`]+)`/gm)].map((m) => m[1]!);
  // The seed's six endpoints at least; a broken table must not pass as an empty list.
  for (const path of ['/device/code', '/device/verify', '/device/callback', '/device/token', '/health']) {
    assert.ok(listed.includes(path), `docs/compatibility.md's endpoint table lists ${path}`);
  }
  return [...new Set(listed)];
}

describe('README', () => {
  test('lists every setting of SETTINGS', () => {
    const missing = SETTINGS.map((s) => s.env).filter((env) => !README.includes(`\`${env}\``));
    assert.deepEqual(missing, [], `README.md does not mention: ${missing.join(', ')}`);
  });

  test("lists every path of docs/compatibility.md's endpoint table", () => {
    const paths = promisedPaths().map((path) => path.replace('{name}', '*'));
    const missing = paths.filter((path) => !README.includes(`\`${path}\``));
    assert.deepEqual(missing, [], `README.md does not mention: ${missing.join(', ')}`);
  });

  test('links the security, deployment and performance docs', () => {
    const targets = linkTargets(README);
    for (const doc of ['docs/security.md', 'docs/deploy.md', 'docs/performance.md']) {
      assert.ok(
        targets.some((t) => t.split('#')[0] === doc),
        `README.md links ${doc}`,
      );
    }
  });
});

describe('release files', () => {
  const pkg = JSON.parse(read('package.json')) as { version: string; license: string };

  test("CHANGELOG.md has an entry for package.json's version", () => {
    assert.match(read('CHANGELOG.md'), new RegExp(`^## ${pkg.version.replaceAll('.', '\\.')}\\b`, 'm'));
  });

  test('LICENSE is the license package.json names', () => {
    assert.equal(pkg.license, 'MIT');
    assert.match(read('LICENSE'), /^MIT License\n\nCopyright \(c\) \d{4} the postiz-cli-auth authors\n/);
  });
});

describe('links', () => {
  for (const file of markdownFiles()) {
    test(`every relative link in ${file} points to an existing file (and heading)`, () => {
      const text = read(file);
      const broken: string[] = [];
      for (const target of linkTargets(text)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …
        const [path = '', fragment] = target.split('#');
        // An absolute path would be a route of the running server, which GitHub cannot follow.
        if (path.startsWith('/')) {
          broken.push(`${target} (absolute: write server routes as code, not links)`);
          continue;
        }
        const absolute = path ? resolve(ROOT, dirname(file), decodeURI(path)) : join(ROOT, file);
        if (!absolute.startsWith(ROOT) || !existsSync(absolute)) {
          broken.push(`${target} (no file ${relative(ROOT, absolute)})`);
          continue;
        }
        if (fragment && absolute.endsWith('.md') && !anchors(readFileSync(absolute, 'utf8')).has(fragment)) {
          broken.push(`${target} (no heading #${fragment})`);
        }
      }
      assert.deepEqual(broken, [], `${file}: broken links`);
    });
  }
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const pkg = JSON.parse(read('package.json')) as {
    bin: Record<string, string>;
    scripts: Record<string, string>;
  };

  test('runs the binary that `npm run build` produces', () => {
    assert.equal(pkg.bin['postiz-cli-auth'], 'dist/cli.js');
    assert.ok(existsSync(join(ROOT, 'src/cli.ts')), 'src/cli.ts compiles to dist/cli.js');
    const build = JSON.parse(read('tsconfig.build.json')) as {
      compilerOptions: { rootDir: string; outDir: string };
      include: string[];
    };
    // The product, and the demo beside it (its command is part of the binary).
    assert.deepEqual(build.include, ['src', 'demo']);
    assert.equal(build.compilerOptions.outDir, 'dist');
    assert.match(dockerfile, /^COPY demo \.\/demo$/m, 'the image copies the demo for the bundle');
    assert.match(dockerfile, /^CMD \["node", "--enable-source-maps", "dist\/cli\.js", "serve"\]$/m);
    assert.equal(pkg.scripts['start:prod'], 'node --enable-source-maps dist/cli.js serve');
    assert.match(dockerfile, /RUN (SOURCE_COMMIT=\$SOURCE_COMMIT )?npm run build/);
    assert.equal(pkg.scripts.build, 'node scripts/build.mjs');
    const script = read('scripts/build.mjs');
    assert.match(script, /tsconfig\.build\.json/, 'the build type-checks tsconfig.build.json');
    assert.match(script, /entryPoints: \['src\/cli\.ts'\]/, 'the build bundles src/cli.ts');
    assert.match(dockerfile, /^COPY[^\n]* scripts /m, 'the image copies the build script');
  });

  test('ships the migrations, runs as the node user and checks /health', () => {
    assert.ok(existsSync(join(ROOT, 'migrations')), 'migrations/ exists');
    assert.match(dockerfile, /^COPY[^\n]* migrations /m);
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /^HEALTHCHECK [\s\S]*\/health/m);
  });

  test('.dockerignore keeps what the build needs', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    for (const needed of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'src',
      'demo',
      'scripts',
      'migrations',
    ]) {
      assert.ok(!ignored.includes(needed) && !ignored.includes(`/${needed}`), `${needed} is not ignored`);
    }
    const scriptsIgnored = ignored.includes('scripts/*') || ignored.includes('scripts/**');
    assert.ok(!scriptsIgnored || ignored.includes('!scripts/build.mjs'), 'scripts/build.mjs is not ignored');
    for (const secret of ['.env', 'node_modules', '.data'])
      assert.ok(ignored.includes(secret), `${secret} is ignored`);
  });
});

describe('TRUST_PROXY as docs/deploy.md describes it', () => {
  // Request from 127.0.0.1 (app.inject's address) through proxies that append to X-Forwarded-For:
  // the client wrote the first entry itself, the proxy added the address it saw.
  const FORWARDED = '198.51.100.66, 203.0.113.7';

  /** The address the server recorded for a flow started with `FORWARDED` (shown on the confirmation page). */
  async function recordedAddress(t: Parameters<typeof build>[0], trustProxy: string): Promise<string | null> {
    const { app, store } = await build(t, { env: { TRUST_PROXY: trustProxy } });
    const res = await app.inject({
      method: 'POST',
      url: '/device/code',
      headers: { 'x-forwarded-for': FORWARDED },
    });
    assert.equal(res.statusCode, 200, res.body);
    const userCode = normalizeUserCode(JSON.parse(res.body).user_code)!;
    const flow = await store.findByUserCode(hashSecret(userCode));
    return flow?.clientIp ?? null;
  }

  test('false: the address of the connection, whatever the header says', async (t) => {
    assert.equal(await recordedAddress(t, 'false'), '127.0.0.1');
  });

  test('a CIDR list or keyword naming the proxy: the address the proxy saw', async (t) => {
    assert.equal(await recordedAddress(t, 'loopback'), '203.0.113.7');
    assert.equal(await recordedAddress(t, '127.0.0.1/8'), '203.0.113.7');
  });

  test('true: the first entry, which the client can write itself', async (t) => {
    assert.equal(await recordedAddress(t, 'true'), '198.51.100.66');
  });

  test('a hop count (1 proxy): the address that proxy saw', async (t) => {
    // The README: "`true`, a hop count, or a … list". Fastify ignores a bare number, so
    // src/app.ts turns the count into proxy-addr's function form.
    assert.equal(await recordedAddress(t, '1'), '203.0.113.7');
  });
});

describe("docs/deploy.md's metrics table", () => {
  const deploy = read('docs/deploy.md');
  /** The table row of a metric, found by its name and label. */
  const row = (name: string): string => {
    const line = deploy.split('\n').find((l) => l.startsWith('|') && l.includes(`\`${name}`));
    assert.ok(line, `docs/deploy.md has a row for ${name}`);
    return line;
  };

  const labelled: [string, readonly string[]][] = [
    ['postiz_cli_auth_flows_finished_total{outcome}', FLOW_OUTCOMES],
    ['postiz_cli_auth_polls_total{result}', POLL_RESULTS],
    ['postiz_cli_auth_upstream_requests_total{status}', UPSTREAM_STATUSES],
    ['postiz_cli_auth_rate_limited_total{route}', RATE_LIMITED_ROUTES],
    ['postiz_cli_auth_token_checks_total{result}', TOKEN_CHECK_RESULTS],
    ['postiz_cli_auth_codes_burned_total{result}', BURN_RESULTS],
    ['postiz_cli_auth_database_errors_total{kind}', TROUBLE_KINDS],
    ['postiz_cli_auth_webhook_outbox{state}', OUTBOX_STATES],
    ['postiz_cli_auth_webhook_attempts_total{result}', WEBHOOK_ATTEMPT_RESULTS],
    ['postiz_cli_auth_webhook_events_total{result}', WEBHOOK_EVENT_RESULTS],
  ];
  test('the provider request metrics say they count forwarded refreshes too, in the row and the help text', async () => {
    assert.match(
      row('postiz_cli_auth_upstream_requests_total{status}'),
      /code exchanges, and .* refreshes it forwards/,
    );
    const metrics = createMetrics({ countPending: async () => 0, countHeld: () => 0 });
    const text = (await metrics.registry.metrics()).split('\n');
    for (const name of [
      'postiz_cli_auth_upstream_requests_total',
      'postiz_cli_auth_upstream_request_duration_seconds',
    ]) {
      const help = text.find((line) => line.startsWith(`# HELP ${name} `));
      assert.match(String(help), /code exchanges and forwarded refreshes/, name);
    }
  });

  for (const [name, values] of labelled) {
    test(`names every label value ${name} starts with at 0`, () => {
      const line = row(name);
      const missing = values.filter((value) => !line.includes(`\`${value}\``));
      assert.deepEqual(missing, [], `${name}: values not in its row`);
    });
  }
});

describe('the OAuth credentials check as the docs describe it', () => {
  const minutes = CREDENTIALS_CHECK_EVERY_MS / 60_000;
  for (const file of ['README.md', 'docs/deploy.md', 'docs/postiz.md']) {
    test(`${file}: checked every ${minutes} minutes`, () => {
      assert.match(read(file), new RegExp(`at start-up and every ${minutes} minutes`, 'i'));
    });
  }

  test("README and docs/deploy.md name every value of /ready's postiz", () => {
    const values = (readiness('postiz').properties.postiz as { enum: readonly string[] }).enum;
    for (const file of ['README.md', 'docs/deploy.md']) {
      const text = read(file);
      const missing = values.filter((value) => !text.includes(`\`${value}\``));
      assert.deepEqual(missing, [], `${file} leaves out`);
    }
  });
});

test("the limit on a provider's answers is the one docs/providers.md and the README name", () => {
  assert.equal(ANSWER_MAX_BYTES, 1024 * 1024);
  assert.match(read('docs/providers.md'), /a body past\s+1 MiB/);
  assert.match(read('README.md'), /an answer read no further than 1 MiB/);
});

describe("docs/providers.md's worked example is what the tests run", () => {
  const section = read('docs/providers.md').split('## A worked example')[1]!.split('\n## ')[0]!;
  const block = (lang: string): string => section.match(new RegExp(`\`\`\`${lang}\n([\\s\\S]*?)\`\`\``))![1]!;
  const shown = { clientId: 'cli-auth', clientSecret: '…', auth: 'client_secret_basic' } as const;

  test('the client, as harness/oidc-provider.ts registers it', () => {
    // The block is a JavaScript object: its keys quoted and its quotes doubled, it is JSON.
    const json = block('js')
      .replace(/^(\s*)(\w+):/gm, '$1"$2":')
      .replaceAll("'", '"')
      .replace(/,(\s*[}\]])/g, '$1');
    assert.deepEqual(JSON.parse(json), registration(shown, 'http://127.0.0.1:3111/device/callback'));
  });

  test("this server's settings, as the tests set them", () => {
    const settings = Object.fromEntries(
      block('sh')
        .trim()
        .split('\n')
        .map((line) => {
          const [name, value] = line.split(/=(.*)/s) as [string, string];
          return [name, value.replace(/^"(.*)"$/, '$1')];
        }),
    );
    const issuer = 'http://127.0.0.1:3120';
    assert.deepEqual(settings, oauthSettings({ issuer, clients: { basic: shown, post: shown } }));
  });
});

describe("the README's demo section", () => {
  test('prints the command the demo prints: a temporary HOME, then the line scripts rely on', () => {
    assert.ok(
      README.includes(
        `HOME=/tmp/${DEMO_HOME_PREFIX}XXXXXX POSTIZ_AUTH_SERVER=http://localhost:3111 npx postiz auth:login`,
      ),
    );
  });
});

test('the README says how an older Node.js is refused, as .npmrc and src/node-version.ts do it', () => {
  assert.match(README, /`engine-strict=true` in `\.npmrc`/);
  assert.match(read('.npmrc'), /^engine-strict=true$/m);
  assert.match(README, /prints one line naming the running and the required\s+version, and exits 1/);
});

describe('docs/deploy.md on the audit trail and webhooks', () => {
  const deploy = read('docs/deploy.md');
  const section = deploy.slice(
    deploy.indexOf('## Audit trail and webhooks'),
    deploy.indexOf('## When it does not start'),
  );

  test('the sample webhook is what the server sends for such an event, signed as shown', () => {
    const sample = /```\nPOST (\S+) HTTP\/1\.1\n([\s\S]*?)\n\n(\{.*\})\n```/.exec(section);
    assert.ok(sample, 'a sample request');
    const headers = Object.fromEntries(
      sample[2]!.split('\n').map((line) => line.split(': ', 2) as [string, string]),
    );
    const body = sample[3]!;
    const secret = /signed with the sample secret\s+`(whsec_[^`]+)`/.exec(section)?.[1];
    assert.ok(secret, 'the sample secret is named');
    const data = JSON.parse(body).data;
    const organizations = new Organizations(TEST_CLIENT_SECRET);
    const event: LoginEvent = {
      eventId: data.event_id,
      flowId: data.flow_id,
      at: new Date(data.ended_at),
      outcome: data.outcome,
      reason: data.reason,
      orgKey: null,
      orgSealed: organizations.store(data.organization.id).sealed,
      clientIp: data.device.address,
      userAgent: data.device.user_agent,
      browserNetwork: data.browser_network,
      codeSource: data.code_source,
      instance: data.instance,
      startedAt: new Date(data.started_at),
    };
    const message = webhookMessage(event, organizations);
    assert.equal(body, message.body, 'the body, byte for byte');
    assert.deepEqual(
      headers,
      new WebhookSigner(secret).headers(message, new Date(Number(headers['webhook-timestamp']) * 1000)),
    );
  });

  test('the retry schedule is the one the sender follows', () => {
    const waits = RETRY_SCHEDULE_MS.map((ms) =>
      ms < 60_000 ? `${ms / 1000} s` : ms < 3_600_000 ? `${ms / 60_000} min` : `${ms / 3_600_000} h`,
    );
    const listed = `${waits.slice(0, -1).join(', ')}, then every ${waits.at(-1)}`;
    assert.ok(section.replace(/\s+/g, ' ').includes(`tried again after ${listed}`), listed);
    assert.ok(section.includes(`${RETRY_JITTER * 100}% longer or shorter`));
    assert.equal(GIVE_UP_AFTER_MS, 86_400_000);
    assert.ok(section.includes('later than a day after the login'));
  });

  test('the attempts before an event is given up are as many as the waits allow, whichever way they fall', () => {
    // The times of the attempts at an event no endpoint ever takes, every wait drawn the same way.
    const attempts = (random: () => number): number[] => {
      const made = [0];
      for (;;) {
        const next = nextAttempt(DEFAULT_RETRY, made.length, new Date(0), made.at(-1)!, random);
        if (!next) return made;
        made.push(next.getTime());
      }
    };
    const fewest = attempts(() => 1 - Number.EPSILON).length;
    const most = attempts(() => 0).length;
    assert.ok(fewest < most, 'the jitter decides whether the last attempt fits in the day');
    const lastDue = ((attempts(() => 0.5)[most - 1] ?? Number.NaN) / 3_600_000).toFixed(1);
    assert.ok(
      section
        .replace(/\s+/g, ' ')
        .includes(
          `(${fewest} or ${most} attempts for a receiver that never comes back, as the waits fall: the ${most}th is due ${lastDue} h after the first`,
        ),
      `${fewest} or ${most} attempts, the last due at ${lastDue} h`,
    );
  });

  test('an endpoint is shown as its origin and tag, as in the example', () => {
    const example = /`(https:\/\/hooks\.zapier\.com\/\S+)` shows as `([^`]+)`/.exec(
      section.replace(/\s+/g, ' '),
    );
    assert.ok(example, 'the example is there');
    const secret = /`(whsec_[A-Za-z0-9+/=]+)`/.exec(section)?.[1];
    assert.ok(secret, "the sample request's secret");
    assert.equal(endpoint(new URL(example[1]!).href, secret).shown, example[2]);
    // The command it gives for a tag prints the same.
    const command = /`node -e "(const c = require\('crypto'\);[^"]+)" 'https:\/\/…'`/.exec(
      section.replace(/\s+/g, ' '),
    );
    assert.ok(command, 'the command is there');
    const printed = execFileSync(process.execPath, ['-e', command[1]!, example[1]!], {
      env: { ...process.env, WEBHOOK_SECRET: secret },
      encoding: 'utf8',
    });
    assert.equal(`https://hooks.zapier.com (${printed.trim()})`, example[2]);
  });

  test("the receiver example is the demo's receiver, in the same shape", () => {
    const receiver = read('demo/webhook-receiver.ts');
    for (const line of [
      "import { Webhook } from 'standardwebhooks';",
      'for await (const chunk of req) body += chunk;',
      'res.writeHead(401).end();',
      'res.writeHead(204).end();',
    ]) {
      assert.ok(section.includes(line), `docs: ${line}`);
      assert.ok(receiver.includes(line), `demo: ${line}`);
    }
    assert.match(section, /event = webhook\.verify\(body, req\.headers\)/);
    assert.match(receiver, /event = webhook\.verify\(body, req\.headers as Record<string, string>\)/);
  });

  test("the logins example has the command's columns, and each option is listed", () => {
    const example = /\$ postiz-cli-auth logins[^\n]*\n([^\n]+)/.exec(section)?.[1] ?? '';
    // The command's own headings (test/e2e/logins-command.test.ts pins what it prints).
    assert.deepEqual(example.split(/ {2,}/), HEADERS);
    for (const option of ['--organization ID', '--since WHEN', '--outcome OUTCOME', '--limit N', '--json'])
      assert.ok(section.includes(`| \`${option}\` |`), option);
    assert.ok(section.includes(`${DEFAULT_LIMIT} unless \`--limit N\``));
  });
});
