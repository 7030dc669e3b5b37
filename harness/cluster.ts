/**
 * Several real server processes (`node --import tsx src/cli.ts serve`) on one database, behind a
 * tiny round-robin HTTP proxy run in this process, talking to a Postiz stand-in also run here.
 * The proxy is SERVER_URL: every link, form and callback goes through it, so consecutive
 * requests land on different instances, as behind a load balancer. Used by the reliability
 * tests and by `scripts/soak.ts`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StandIn } from '../demo/stand-in/index.js';
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET, testStandIn } from './build.js';
import { waitFor } from './postgres.js';
import { cleanEnv, collectOutput, freePort, ROOT, TSX } from './processes.js';

/** The organisation of the stand-in's user (returned to the CLI as `organization_id`). */
export const CLUSTER_ORG = 'org_cluster';

export interface ClusterOptions {
  /** Number of server processes (default 3). */
  instances?: number;
  /** `postgres://…`; unset → each instance runs its own in-memory PGlite (only sensible with one instance). */
  databaseUrl?: string;
  /** Extra settings for every instance (e.g. POLL_WAIT_SECONDS), over the cluster's defaults. */
  env?: Record<string, string>;
  /** Keep a record of every proxied request in `proxy.log` (default true; the soak turns it off). */
  keepLog?: boolean;
  /** Called with the stand-in before it listens (to add hooks). */
  onStandIn?: (standIn: StandIn) => void;
  /**
   * Use another Postiz (given the callback URL to register, it returns its base URL) instead of
   * the cluster's stand-in, which then never listens.
   */
  postiz?: (callbackUrl: string) => Promise<string>;
  /** How long each instance may take to become ready (default 60 s). */
  readyTimeoutMs?: number;
}

/** One request that went through the proxy. */
export interface ProxyRecord {
  seq: number;
  method: string;
  /** Path without the query string. */
  path: string;
  instance: number;
  startedAt: number;
  /** Set when the answer's headers arrived. */
  status?: number;
  /** Set when the answer was fully sent (or failed). */
  endedAt?: number;
  /** Start of the body of JSON answers (token endpoint and friends), for assertions. */
  body?: string;
  /** The upstream failed (connection refused or reset): the proxy answered 502 or cut the client off. */
  error?: string;
}

export interface Instance {
  index: number;
  port: number;
  /** `http://127.0.0.1:<port>`: the instance itself, bypassing the proxy. */
  url: string;
  pid: number;
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Whether the process is still running. */
  running(): boolean;
  /** Send `signal` (taking the instance out of the proxy's rotation first); resolves on exit. */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resident memory in bytes, from /proc (undefined once exited). */
  rss(): number | undefined;
}

export interface Proxy {
  url: string;
  /** Every proxied request, in arrival order (when `keepLog`). */
  log: ProxyRecord[];
  /** Proxied requests answered with 5xx or failed upstream (always kept). */
  failures: ProxyRecord[];
  /** Number of proxied requests by answer status (`error` when the upstream failed). */
  counts: Map<string, number>;
  /** Pick the instance for a request yourself; `undefined` falls back to round robin. */
  route: ((method: string, path: string) => number | undefined) | undefined;
  /** Instances taken out of rotation (killed, or draining). */
  down: Set<number>;
}

export interface Cluster {
  /** The proxy's URL: SERVER_URL of every instance. */
  url: string;
  instances: Instance[];
  proxy: Proxy;
  standIn: StandIn;
  /** The stand-in's URL (POSTIZ_FRONTEND_URL and POSTIZ_API_URL). */
  postizUrl: string;
  /** Requests the stand-in received (`METHOD /path`), in order. */
  standInRequests: string[];
  /**
   * Restart instance `index` as a deployment does: take it out of rotation, SIGTERM it, wait
   * for it to exit, start it again on the same port with the same settings, wait until it is
   * ready, and put it back. Resolves with how the old process exited.
   */
  restart(index: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Stop everything: SIGTERM each running instance (SIGKILL after 15 s), close proxy and stand-in. Idempotent. */
  stop(): Promise<void>;
}

// Paths whose JSON answers the proxy keeps (small, and what the tests assert on).
const CAPTURED_PATHS = new Set(['/device/token', '/device/code', '/ready']);
const CAPTURE_LIMIT = 2048;
const EXIT_WITH_PARENT = new URL('./exit-with-parent.ts', import.meta.url).href;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade']);

/**
 * Start a cluster; the caller must `stop()` it. In a test file, register `after(() => cluster?.stop())`
 * at the top level before `usePostgres()`, so the instances stop before their database does.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const count = options.instances ?? 3;
  const instances: Instance[] = [];
  const proxy = await startProxy(instances, options.keepLog ?? true);
  const standInRequests: string[] = [];
  const standIn = testStandIn(proxy.url, { name: 'Cluster User', organizationId: CLUSTER_ORG });
  standIn.app.addHook('onRequest', async (request) => {
    standInRequests.push(`${request.method} ${request.url.split('?')[0]}`);
  });
  options.onStandIn?.(standIn);
  const postizUrl = options.postiz
    ? await options.postiz(`${proxy.url}/device/callback`)
    : await standIn.listen();

  let stopped: Promise<void> | undefined;
  const ports: number[] = [];
  const envOf = (index: number): Record<string, string> => ({
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : { PGLITE_DATA_DIR: 'memory' }),
    PORT: String(ports[index]),
    HOST: '127.0.0.1',
    SERVER_URL: proxy.url,
    TRUST_PROXY: 'true',
    POSTIZ_OAUTH_CLIENT_ID: TEST_CLIENT_ID,
    POSTIZ_OAUTH_CLIENT_SECRET: TEST_CLIENT_SECRET,
    POSTIZ_FRONTEND_URL: postizUrl,
    POSTIZ_API_URL: postizUrl,
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    ...options.env,
  });
  const cluster: Cluster = {
    url: proxy.url,
    instances,
    proxy,
    standIn,
    postizUrl,
    standInRequests,
    restart: async (index) => {
      const old = instances[index]!;
      proxy.down.add(index);
      old.proc.kill('SIGTERM');
      const exited = await old.exited;
      const fresh = spawnInstance(index, ports[index]!, () => proxy.down.add(index), envOf(index));
      instances[index] = fresh;
      await waitReady(fresh, options.readyTimeoutMs ?? 60_000);
      proxy.down.delete(index);
      return exited;
    },
    stop: () => {
      stopped ??= (async () => {
        await Promise.all(instances.map((instance) => stopInstance(instance)));
        await proxy.close();
        await standIn.close();
      })();
      return stopped;
    },
  };

  try {
    ports.push(...(await distinctFreePorts(count)));
    // All at once: instances starting together on an empty database must take turns migrating.
    for (let index = 0; index < count; index++) {
      instances.push(spawnInstance(index, ports[index]!, () => proxy.down.add(index), envOf(index)));
    }
    await Promise.all(instances.map((i) => waitReady(i, options.readyTimeoutMs ?? 60_000)));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/** GET `url` and resolve with its status (never throws: a failed connection is status 0). */
export async function statusOf(url: string): Promise<number> {
  try {
    const response = await fetch(url);
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

/** Waits until GET `<instance>/ready` answers `status` (200 or 503). */
export async function waitForReady(instance: Instance, status: number, timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => (await statusOf(`${instance.url}/ready`)) === status, {
    timeoutMs,
    intervalMs: 100,
  });
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** Spawn one server process; `takeOut` removes it from the proxy's rotation before a kill. */
function spawnInstance(
  index: number,
  port: number,
  takeOut: () => void,
  env: Record<string, string>,
): Instance {
  const proc = spawn(
    process.execPath,
    ['--import', TSX, '--import', EXIT_WITH_PARENT, 'src/cli.ts', 'serve'],
    {
      cwd: ROOT,
      env: cleanEnv(env),
      // stdin stays open for as long as this process lives (see exit-with-parent.ts).
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const output = collectOutput(proc);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('close', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  const instance: Instance = {
    index,
    port,
    url: `http://127.0.0.1:${port}`,
    pid: proc.pid ?? -1,
    proc,
    stdout: () => output.stdout,
    stderr: () => output.stderr,
    exited,
    running: () => !done,
    kill: async (signal = 'SIGKILL') => {
      takeOut();
      if (!done) proc.kill(signal);
      return exited;
    },
    rss: () => {
      if (done) return undefined;
      try {
        const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1];
        return kb ? Number(kb) * 1024 : undefined;
      } catch {
        return undefined;
      }
    },
  };
  return instance;
}

async function waitReady(instance: Instance, timeoutMs: number): Promise<void> {
  try {
    // A process that exited will never be ready: stop waiting at once.
    const exited = instance.exited.then(() => {
      throw new Error('the process exited');
    });
    exited.catch(() => {}); // it rejects when the process exits, perhaps long after it was ready
    await Promise.race([
      waitFor(async () => (await statusOf(`${instance.url}/ready`)) === 200, { timeoutMs, intervalMs: 100 }),
      exited,
    ]);
  } catch (err) {
    throw new Error(
      `instance ${instance.index} never became ready: ${(err as Error).message}\n--- stdout ---\n${instance.stdout()}\n--- stderr ---\n${instance.stderr()}`,
    );
  }
}

async function stopInstance(instance: Instance): Promise<void> {
  if (!instance.running()) return;
  instance.proc.kill('SIGTERM');
  const timer = setTimeout(() => instance.proc.kill('SIGKILL'), 15_000);
  await instance.exited;
  clearTimeout(timer);
}

/** The round-robin proxy over `instances` (filled in after it listens: it must know its own URL first). */
async function startProxy(
  instances: Instance[],
  keepLog: boolean,
): Promise<Proxy & { close(): Promise<void> }> {
  const agents = new Map<number, http.Agent>();
  const agentFor = (index: number) => {
    let agent = agents.get(index);
    if (!agent) {
      agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
      agents.set(index, agent);
    }
    return agent;
  };
  let next = 0;
  let seq = 0;
  const pick = (method: string, path: string): number | undefined => {
    const chosen = proxy.route?.(method, path);
    if (chosen !== undefined) return chosen;
    for (let tries = 0; tries < instances.length; tries++) {
      const index = next;
      next = (next + 1) % instances.length;
      if (!proxy.down.has(index)) return index;
    }
    return undefined;
  };
  const count = (key: string) => proxy.counts.set(key, (proxy.counts.get(key) ?? 0) + 1);

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    const index = pick(method, path);
    const record: ProxyRecord = { seq: seq++, method, path, instance: index ?? -1, startedAt: Date.now() };
    if (keepLog) proxy.log.push(record);
    const fail = (error: string) => {
      record.error = error;
      record.endedAt = Date.now();
      count('error');
      proxy.failures.push(record);
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`proxy: ${error}`);
      else res.destroy();
    };
    const instance = index === undefined ? undefined : instances[index];
    if (!instance) return fail('no instance available');

    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
    const peer = req.socket.remoteAddress ?? '127.0.0.1';
    const forwarded = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = forwarded ? `${forwarded}, ${peer}` : peer;

    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: instance.port,
        method,
        path: req.url,
        headers,
        agent: agentFor(instance.index),
      },
      (answer) => {
        const status = answer.statusCode ?? 502;
        record.status = status;
        count(String(status));
        if (status >= 500) proxy.failures.push(record);
        const raw: string[] = [];
        for (let i = 0; i < answer.rawHeaders.length; i += 2) {
          if (!HOP_BY_HOP.has(answer.rawHeaders[i]!.toLowerCase()))
            raw.push(answer.rawHeaders[i]!, answer.rawHeaders[i + 1]!);
        }
        res.writeHead(status, raw);
        const capture = keepLog && CAPTURED_PATHS.has(path);
        if (capture) record.body = '';
        answer.on('data', (chunk: Buffer) => {
          if (capture && record.body!.length < CAPTURE_LIMIT) record.body += chunk.toString('utf8');
          res.write(chunk);
        });
        answer.on('end', () => {
          record.endedAt = Date.now();
          res.end();
        });
        answer.on('error', () => fail('upstream answer cut off'));
      },
    );
    upstream.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
    // The client went away (e.g. a poll abandoned): drop the upstream request too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 60_000;
  // A backlog as large as the kernel allows: herds of CLIs connect through it, and an overflow
  // here would be the harness's, not the server's.
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', 65535, resolve));
  const { port } = server.address() as AddressInfo;

  const proxy: Proxy & { close(): Promise<void> } = {
    url: `http://127.0.0.1:${port}`,
    log: [],
    failures: [],
    counts: new Map(),
    route: undefined,
    down: new Set(),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const agent of agents.values()) agent.destroy();
    },
  };
  return proxy;
}
