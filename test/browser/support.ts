/**
 * Browser-test helpers: Debian's Chromium through playwright-core (never `playwright install`),
 * a listening server wired to a listening Postiz stand-in, and per-page watchers for console
 * errors, CSP violations, axe-core and screenshots.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { StandIn } from '../../demo/stand-in/index.js';
import { resetStore, sharedPglite, testConfig, testStandIn } from '../../harness/build.js';
import { freePort } from '../../harness/ports.js';
import { buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startServer } from '../../src/server.js';
import type { Store } from '../../src/storage/store.js';

export const CHROMIUM = '/usr/bin/chromium';

const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

const mustRun = (): boolean => process.env.REQUIRE_BROWSER === '1' || Boolean(process.env.CI);

/**
 * Why browser tests skip here, or `undefined` to run them. In CI (or with REQUIRE_BROWSER=1)
 * they always run, so a missing Chromium fails loudly in `launchBrowser` instead.
 */
export function browserSkipReason(): string | undefined {
  if (existsSync(CHROMIUM) || mustRun()) return undefined;
  return `${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) to run the browser tests; REQUIRE_BROWSER=1 makes its absence a failure`;
}

/** Launch headless Chromium, with a clear message when it is missing. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found and REQUIRE_BROWSER/CI is set: apt-get install -y chromium`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
}

export interface TestServer {
  /** `http://127.0.0.1:<port>`: both the listening address and SERVER_URL. */
  url: string;
  config: Config;
  standIn: StandIn;
  close(): Promise<void>;
}

/** A stand-in whose registered redirect is `serverUrl`'s callback, listening. */
async function listeningStandIn(serverUrl: string): Promise<{ standIn: StandIn; postizUrl: string }> {
  const standIn = testStandIn(serverUrl, { name: 'Browser User', organizationId: 'org_browser' });
  return { standIn, postizUrl: await standIn.listen() };
}

/** A config for a server at `url` talking to the stand-in at `postizUrl`. */
function serverConfig(url: string, postizUrl: string, env: Record<string, string>): Config {
  return testConfig({
    PORT: new URL(url).port,
    HOST: '127.0.0.1',
    SERVER_URL: url,
    POSTIZ_FRONTEND_URL: postizUrl,
    POSTIZ_API_URL: postizUrl,
    ...env,
  });
}

/** The real server (`startServer`) on the shared PGlite store, emptied first. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const url = `http://127.0.0.1:${await freePort()}`;
  const { standIn, postizUrl } = await listeningStandIn(url);
  const config = serverConfig(url, postizUrl, env);
  const store = await sharedPglite();
  await resetStore(store);
  const server = await startServer(config, {
    logger: createLogger({ level: 'silent', format: 'json' }),
    store,
  });
  return {
    url,
    config,
    standIn,
    async close() {
      await server.close();
      await standIn.close();
    },
  };
}

/**
 * A store whose every call fails while `database.failing` is set, as a database that went away
 * does: for the page a person meets when the server cannot answer.
 */
function failingWhenAsked(store: Store, database: { failing: boolean }): Store {
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (database.failing) throw new Error('the database went away (a test fault)');
        return value.apply(target, args);
      };
    },
  });
}

/**
 * The app with a clock that follows real time plus `clock.skip`, listening: for the pages that
 * need time to pass (an expired code) without waiting for it. `startServer` takes no clock.
 * `database.failing` makes every store call fail until it is cleared.
 */
export async function startClockedServer(
  env: Record<string, string> = {},
): Promise<TestServer & { clock: { skip: number }; database: { failing: boolean } }> {
  const url = `http://127.0.0.1:${await freePort()}`;
  const { standIn, postizUrl } = await listeningStandIn(url);
  const config = serverConfig(url, postizUrl, env);
  const store = await sharedPglite();
  await resetStore(store);
  const clock = { skip: 0 };
  const database = { failing: false };
  const { app } = await buildApp(config, {
    store: failingWhenAsked(store, database),
    now: () => Date.now() + clock.skip,
  });
  await app.listen({ port: config.port, host: '127.0.0.1' });
  return {
    url,
    config,
    standIn,
    clock,
    database,
    async close() {
      await app.close();
      await standIn.close();
    },
  };
}

export interface DeviceFlow {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  interval: number;
  /** When the flow was started (ms), to wait out the first poll interval. */
  startedAt: number;
}

/** Start a flow the way the postiz CLI does (JSON content type, no body). */
export async function startFlow(server: { url: string }, from?: string): Promise<DeviceFlow> {
  const response = await fetch(`${server.url}/device/code`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'postiz/2.1.0 (linux)',
      // From this address, when the server trusts the header (TRUST_PROXY).
      ...(from ? { 'x-forwarded-for': from } : {}),
    },
  });
  if (response.status !== 200) throw new Error(`device/code answered ${response.status}`);
  return { ...((await response.json()) as Omit<DeviceFlow, 'startedAt'>), startedAt: Date.now() };
}

/** Poll once, after the flow's interval has passed (an earlier poll would get `slow_down`). */
export async function pollOnce(
  server: { url: string },
  flow: DeviceFlow,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const wait = flow.startedAt + flow.interval * 1000 + 250 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const response = await fetch(`${server.url}/device/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ device_code: flow.device_code }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Everything a page said that it should not have: console errors, page errors, CSP violations. */
export interface PageProblems {
  list: string[];
}

/**
 * Record console errors, uncaught errors and CSP violations of our pages (those under `origin`)
 * in `context`; the stand-in's pages are not ours to judge. The `securitypolicyviolation`
 * listener is an init script, which Chromium runs outside the page's CSP; it reports through
 * console.error, so one channel sees everything.
 */
export async function watchProblems(context: BrowserContext, origin: string): Promise<PageProblems> {
  const problems: PageProblems = { list: [] };
  await context.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (event) => {
      console.error('CSP violation: ' + event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline'));
    });`,
  });
  const watch = (page: Page): void => {
    const ours = (): boolean => page.url().startsWith(`${origin}/`);
    page.on('console', (message) => {
      if (message.type() !== 'error' || !ours()) return;
      const text = message.text();
      // A page answered with an error status on purpose (a wrong code is a 400): Chromium notes the
      // status of the main document; that is the page doing its job, not a fault of the page.
      const location = message.location().url;
      if (/the server responded with a status of [45]\d\d/.test(text) && location === page.url()) return;
      problems.list.push(`${page.url()}: console error: ${text} (${location})`);
    });
    page.on('pageerror', (error) => {
      if (ours()) problems.list.push(`${page.url()}: uncaught: ${error.message}`);
    });
  };
  context.on('page', watch);
  for (const page of context.pages()) watch(page);
  return problems;
}

/** Where screenshots go (gitignored). */
export const SCREENSHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));

/** Save a full-page screenshot as test-results/screenshots/<name>.png (gitignored). */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = `${SCREENSHOTS}${name}.png`;
  await page.screenshot({ path, fullPage: true, animations: 'disabled' });
  return path;
}

let axeSource: Promise<string> | undefined;

const AXE_OPTIONS = {
  runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
  resultTypes: ['violations'],
};

/** An axe-core violation, reduced to what a failure message needs. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * Run axe-core on the page: WCAG 2.x A/AA rules plus best practices. The script is evaluated
 * through the DevTools protocol, which the page's CSP does not govern, so no bypass is needed.
 */
export async function runAxe(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFile(fileURLToPath(import.meta.resolve('axe-core/axe.min.js')), 'utf8');
  const source = await axeSource;
  if (!(await page.evaluate<boolean>(`'axe' in window`))) await page.evaluate(source);
  // A string, evaluated in the page: this project compiles without the DOM library.
  return page.evaluate<AxeViolation[]>(`axe.run(document, ${JSON.stringify(AXE_OPTIONS)}).then((result) =>
    result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + (n.failureSummary || '')),
    })))`);
}

/** The serious and critical ones, as readable lines (empty when the page passes). */
export function seriousViolations(violations: AxeViolation[]): string[] {
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.join('\n    ')}`);
}

/** Whether the page scrolls sideways (it must not, down to 320 px). */
export function overflowsSideways(page: Page): Promise<boolean> {
  return page.evaluate<boolean>('document.documentElement.scrollWidth > window.innerWidth + 1');
}

/** Where one element of a page is, in CSS pixels from the top of the viewport. */
export interface Placement {
  selector: string;
  top: number;
  bottom: number;
}

/**
 * Where the confirmation page puts what a person decides with (the code or the field to type it,
 * who is asking, Continue and Cancel), as the page first shows (no scrolling): each must lie
 * inside the viewport; and Cancel must be Continue's size, beside it (below it on phones).
 * Returns the problems found (none: it fits) and the placements measured.
 */
export async function decisionPlacement(
  page: Page,
): Promise<{ problems: string[]; placements: Placement[] }> {
  const viewport = page.viewportSize()!;
  const problems: string[] = [];
  const placements: Placement[] = [];
  const scrolled = await page.evaluate<number>('window.scrollY');
  if (scrolled !== 0) problems.push(`the page opened scrolled by ${scrolled} px`);
  const typing = (await page.locator('#typed_code').count()) > 0;
  const selectors = [
    typing ? '#typed_code' : '.code-box',
    '.details',
    'button[value="confirm"]',
    'button[value="deny"]',
  ];
  const boxes = [];
  for (const selector of selectors) {
    const box = await page.locator(selector).boundingBox();
    if (!box) {
      problems.push(`${selector} is not shown`);
      continue;
    }
    boxes.push(box);
    placements.push({ selector, top: Math.round(box.y), bottom: Math.round(box.y + box.height) });
    if (box.y < 0 || box.y + box.height > viewport.height) {
      problems.push(
        `${selector} spans ${Math.round(box.y)}–${Math.round(box.y + box.height)} px, outside the first ${viewport.height} px`,
      );
    }
  }
  const [go, cancel] = [boxes.at(-2), boxes.at(-1)];
  if (go && cancel) {
    if (Math.abs(go.width - cancel.width) > 1 || Math.abs(go.height - cancel.height) > 1) {
      problems.push(`Continue is ${go.width}×${go.height}, Cancel ${cancel.width}×${cancel.height}`);
    }
    const stacked = viewport.width <= 416; // the stylesheet's 26rem
    if (stacked && !(cancel.y >= go.y + go.height && Math.abs(cancel.x - go.x) < 1)) {
      problems.push('on a phone, Cancel is not right below Continue');
    }
    if (!stacked && !(Math.abs(cancel.y - go.y) < 1 && cancel.x >= go.x + go.width)) {
      problems.push('Cancel is not beside Continue, on its right');
    }
  }
  return { problems, placements };
}
