/**
 * The Grafana dashboard and the Prometheus alert rules in deploy/ ask only for metrics the
 * server exports (read from a real app's /metrics), and the rules pass `promtool check rules`
 * and their unit tests (Debian's prometheus package; required in CI, skipped elsewhere when
 * promtool is missing).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { build } from '../harness/build.js';
import { ROOT } from '../harness/processes.js';

const execFileAsync = promisify(execFile);
const DASHBOARD = join(ROOT, 'deploy/grafana-dashboard.json');
const RULES = join(ROOT, 'deploy/prometheus-rules.yml');

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string; refId: string }[];
  panels?: Panel[];
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid: string; panels: Panel[] };
const rules = parse(readFileSync(RULES, 'utf8')) as {
  groups: { name: string; rules: { alert?: string; expr: string }[] }[];
};

const panels = (list: Panel[]): Panel[] => list.flatMap((p) => [p, ...panels(p.panels ?? [])]);
const dashboardExprs = panels(dashboard.panels).flatMap((p) => (p.targets ?? []).map((t) => t.expr));
const ruleExprs = rules.groups.flatMap((g) => g.rules.map((r) => r.expr));

/** Metric names a PromQL expression reads: this server's, and Node's process metrics. */
const metricNames = (expr: string): string[] =>
  [...expr.matchAll(/\b((?:postiz_cli_auth|process|nodejs)_[a-zA-Z0-9_]+)\b/g)].map((m) => m[1]!);

/** Every series name a scrape of /metrics can hold, from its TYPE lines (some labelled metrics have no sample until used). */
function exported(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name = '', type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const suffixes =
      type === 'histogram'
        ? ['_bucket', '_sum', '_count']
        : type === 'summary'
          ? ['', '_sum', '_count']
          : [''];
    for (const suffix of suffixes) names.add(`${name}${suffix}`);
  }
  return names;
}

test('every metric the dashboard and the alert rules query is on /metrics', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(res.statusCode, 200);
  const available = exported(res.body);
  const used = new Set([...dashboardExprs, ...ruleExprs].flatMap(metricNames));
  // What an operator must watch is there: logins by outcome, polls held, notifications,
  // database errors, codes burned, 5xx, approval to token, Postiz, webhooks.
  for (const name of [
    'postiz_cli_auth_flows_finished_total',
    'postiz_cli_auth_held_polls',
    'postiz_cli_auth_notifications_working',
    'postiz_cli_auth_database_errors_total',
    'postiz_cli_auth_codes_burned_total',
    'postiz_cli_auth_http_request_duration_seconds_count',
    'postiz_cli_auth_approval_to_token_seconds_bucket',
    'postiz_cli_auth_postiz_reachable',
    'postiz_cli_auth_postiz_credentials_valid',
    'postiz_cli_auth_webhook_outbox',
    'postiz_cli_auth_webhook_attempts_total',
    'postiz_cli_auth_webhook_events_total',
    'postiz_cli_auth_webhook_delivery_seconds_bucket',
  ]) {
    assert.ok(used.has(name), `the dashboard or the rules use ${name}`);
  }
  const missing = [...used].filter((name) => !available.has(name));
  assert.deepEqual(missing, [], 'queried but not exported');
});

test('the dashboard is importable: unique panel ids, one templated Prometheus data source, a query per target', () => {
  const all = panels(dashboard.panels);
  const ids = all.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'unique panel ids');
  assert.equal(dashboard.uid, 'postiz-cli-auth');
  for (const panel of all.filter((p) => p.type !== 'row')) {
    assert.equal(panel.datasource?.uid, `\${datasource}`, panel.title);
    assert.ok((panel.targets ?? []).length > 0, `${panel.title} has a query`);
    for (const target of panel.targets ?? [])
      assert.match(target.expr, /job=~"\$job"/, `${panel.title}: filtered by job`);
  }
});

test('every alert has a unit test in which it fires', () => {
  const tests = parse(readFileSync(join(ROOT, 'deploy/prometheus-rules.test.yml'), 'utf8')) as {
    tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
  };
  const firing = new Set(
    tests.tests.flatMap((t) =>
      (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname),
    ),
  );
  const alerts = rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));
  assert.deepEqual(
    alerts.filter((name) => !firing.has(name)),
    [],
    'alerts without a unit test that fires them',
  );
});

const promtool = await execFileAsync('promtool', ['--version']).then(
  () => true,
  () => false,
);
const required = Boolean(process.env.CI || process.env.REQUIRE_BROWSER);
const skip = promtool || required ? false : 'promtool is not installed (apt-get install prometheus)';

test("promtool check rules and the rules' unit tests pass", { skip }, async () => {
  assert.ok(promtool, "promtool is required in CI (.ci/run installs Debian's prometheus package)");
  const checked = await execFileAsync('promtool', ['check', 'rules', RULES]);
  assert.match(checked.stdout, /SUCCESS: \d+ rules found/);
  const tested = await execFileAsync('promtool', [
    'test',
    'rules',
    join(ROOT, 'deploy/prometheus-rules.test.yml'),
  ]);
  assert.match(tested.stdout, /SUCCESS/);
});

/** The selectors `name{label="value", …}` of an expression, with their label matchers (job left out). */
function selectors(
  expr: string,
): { name: string; matchers: { label: string; op: string; value: string }[] }[] {
  return [...expr.matchAll(/\b(postiz_cli_auth_[a-zA-Z0-9_]+)\{([^}]*)\}/g)].map((m) => ({
    name: m[1]!,
    matchers: [...m[2]!.matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)]
      .map((l) => ({ label: l[1]!, op: l[2]!, value: l[3]! }))
      .filter((l) => l.label !== 'job'),
  }));
}

/** The samples of a scrape: series name, labels, value. */
function samples(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/)!;
      const labels = Object.fromEntries(
        [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]),
      );
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}

test("a fresh app's /metrics has, at 0, every labelled counter a panel or an alert reads and every label value an alert names", async (t) => {
  const { app } = await build(t);
  const scraped = samples((await app.inject({ method: 'GET', url: '/metrics' })).body);
  const counters = new Set(
    [...(await app.inject({ method: 'GET', url: '/metrics' })).body.matchAll(/^# TYPE (\S+) counter$/gm)].map(
      (m) => m[1]!,
    ),
  );
  const read = [...dashboardExprs, ...ruleExprs].flatMap(selectors).filter((s) => counters.has(s.name));
  assert.ok(read.length > 0);
  for (const { name, matchers } of read) {
    const series = scraped.filter((s) => s.name === name);
    // A counter with no series until its first event: increase() sees 0 at that event, and a
    // panel reads "No data".
    assert.ok(series.length > 0, `${name} has series before its first event`);
    const matching = series.filter((s) =>
      matchers.every(({ label, op, value }) => {
        const actual = s.labels[label] ?? '';
        const pattern = new RegExp(`^(?:${value})$`);
        return op === '='
          ? actual === value
          : op === '!='
            ? actual !== value
            : op === '=~'
              ? pattern.test(actual)
              : !pattern.test(actual);
      }),
    );
    assert.ok(
      matching.length > 0,
      `${name}{${matchers.map((m) => `${m.label}${m.op}"${m.value}"`).join(',')}} exists`,
    );
    for (const s of matching) assert.equal(s.value, 0, `${name} ${JSON.stringify(s.labels)} starts at 0`);
  }
});
