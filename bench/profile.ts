/**
 * `npx tsx bench/profile.ts`: where a pending poll's and a flow start's microseconds go.
 *
 * The server (`node dist/cli.js serve`, settings as in `npm run bench`) is loaded with wrk, one
 * thread, 32 connections, as in the benchmark, and measured two ways:
 *
 * 1. **Clean windows** (no profiler): CPU per request of each of the server's threads, from
 *    /proc/<pid>/task/<tid>/stat: the main thread (JavaScript, the event loop, the syscalls it
 *    makes) and the others (V8's helper threads: concurrent marking, parallel scavenges,
 *    compilation; libuv's pool), and on PostgreSQL its backends. For polls, the same for a bare
 *    node:http answer (bench/floor.ts's ceiling) in the same rounds.
 * 2. **A profiled window**: V8's CPU profiler and its sampling heap profiler (collected objects
 *    included, so it counts what is allocated per request, not only what stays), through a
 *    preload (bench/profile-preload.mjs). Functions are attributed through dist/'s source map to
 *    our sources (src/…), each package (fastify, pg, pino, …) and Node's internals; the shares
 *    of the profiled main thread are applied to the clean main thread's µs per request.
 *
 * With several `--root`s (a scratch worktree with a change built into its dist/, say), the
 * clean windows alternate between them round after round, so each change's saving is measured
 * side by side on this shared machine.
 *
 *   npx tsx bench/profile.ts [--what poll|start|both] [--store pglite|postgres] [--rounds N]
 *     [--seconds N] [--root DIR …] [--out DIR] [--node PATH] [--no-profile]
 */

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testStandIn } from '../harness/build.js';
import { startPostgres } from '../harness/postgres.js';
import { backendPids, cpuSeconds } from './cpu.js';
import { LoadClient } from './measure.js';
import { chooseNode, type NodeChoice } from './node.js';
import { type Child, firstJsonLine, freePort, start, stopAll, waitFor200 } from './processes.js';
import { productEnv } from './product.js';
import { runWrk } from './wrk.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./profile-preload.mjs', import.meta.url));
const TICKS_PER_SECOND = 100;
const CONNECTIONS = 32;

interface Options {
  what: ('poll' | 'start')[];
  store: 'pglite' | 'postgres';
  rounds: number;
  seconds: number;
  roots: string[];
  out: string;
  node?: string;
  profile: boolean;
  flows: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    what: ['poll', 'start'],
    store: 'pglite',
    rounds: 3,
    seconds: 6,
    roots: [],
    out: join(ROOT, 'bench-results', `profile-${new Date().toISOString().replace(/[:.]/g, '-')}`),
    profile: true,
    flows: 25_000,
  };
  for (let i = 0; i < argv.length; i++) {
    const [arg, next] = [argv[i], argv[i + 1]];
    const take = () => {
      i++;
      return next ?? '';
    };
    if (arg === '--what') {
      const w = take();
      o.what = w === 'both' ? ['poll', 'start'] : [w as 'poll' | 'start'];
    } else if (arg === '--store') o.store = take() as Options['store'];
    else if (arg === '--rounds') o.rounds = Number(take());
    else if (arg === '--seconds') o.seconds = Number(take());
    else if (arg === '--flows') o.flows = Number(take());
    else if (arg === '--root') o.roots.push(resolve(take()));
    else if (arg === '--out') o.out = resolve(take());
    else if (arg === '--node') o.node = take();
    else if (arg === '--no-profile') o.profile = false;
    else {
      console.error(`unknown argument ${arg}`);
      process.exit(2);
    }
  }
  if (o.roots.length === 0) o.roots.push(ROOT);
  return o;
}

const log = (m: string) => process.stderr.write(`[profile] ${m}\n`);

/** CPU seconds of each thread of `pid` (tid → seconds). */
function threadCpu(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND);
    } catch {
      // gone
    }
  }
  return out;
}

/** One server (or the ceiling) under test. */
interface Target {
  label: string;
  child: Child;
  url: string;
  /** wrk's poll path ('-' for /device/token). */
  path: string;
  codesFile?: string;
  cursor: number;
  database?: { adminUrl: string; name: string };
}

/** µs per request, by thread kind, of one clean window. */
interface Window {
  requests: number;
  perSecond: number;
  main: number;
  helpers: number;
  backends: number;
}

async function cleanWindow(target: Target, script: 'poll' | 'start', seconds: number): Promise<Window> {
  const pid = target.child.proc.pid!;
  const backends = target.database ? await backendPids(target.database.adminUrl, target.database.name) : [];
  const before = threadCpu(pid);
  const beforeDb = cpuSeconds(backends);
  const args = script === 'poll' ? [target.codesFile!, target.path, String(target.cursor)] : [];
  const r = await runWrk({ url: target.url, script, seconds, connections: CONNECTIONS, args });
  const after = threadCpu(pid);
  const afterDb = cpuSeconds(backends);
  if (script === 'poll') target.cursor += r.requests + 2 * CONNECTIONS;
  let main = 0;
  let helpers = 0;
  for (const [tid, cpu] of after) {
    const d = cpu - (before.get(tid) ?? 0);
    if (tid === pid) main += d;
    else helpers += d;
  }
  let db = 0;
  for (const b of backends) db += (afterDb.get(b) ?? 0) - (beforeDb.get(b) ?? 0);
  const per = (s: number) => (s * 1e6) / Math.max(1, r.requests);
  return {
    requests: r.requests,
    perSecond: r.perSecond,
    main: per(main),
    helpers: per(helpers),
    backends: per(db),
  };
}

// ---- attribution -----------------------------------------------------------------------------

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

/** Where a frame's code comes from: our sources, a package, Node's internals, V8. */
class Attributor {
  private readonly maps = new Map<string, SourceMap | null>();

  constructor(private readonly root: string) {}

  private mapFor(url: string): SourceMap | null {
    let map = this.maps.get(url);
    if (map === undefined) {
      map = null;
      try {
        const file = fileURLToPath(url);
        if (existsSync(`${file}.map`)) map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
      } catch {
        map = null;
      }
      this.maps.set(url, map);
    }
    return map;
  }

  /** [category, location] of a frame. */
  of(frame: CallFrame): [string, string] {
    const { url, functionName } = frame;
    if (!url) {
      if (functionName === '(garbage collector)') return ['GC (on the main thread)', functionName];
      if (functionName === '(program)')
        return ['V8 and native code outside JavaScript (program)', functionName];
      if (functionName === '(idle)') return ['idle', functionName];
      if (functionName === '(root)') return ['root', functionName];
      return [`native: ${functionName || '(anonymous)'}`, functionName];
    }
    if (url.startsWith('node:')) {
      const mod = url.slice(5).replace(/^internal\//, 'internal/');
      return [`node: ${mod}`, `${functionName || '(anonymous)'} ${url}:${frame.lineNumber + 1}`];
    }
    let source = url;
    if (url.startsWith('file://')) {
      const map = this.mapFor(url);
      const entry = map?.findEntry(frame.lineNumber, frame.columnNumber) as
        | { originalSource?: string; originalLine?: number }
        | undefined;
      source = entry?.originalSource ? fileURLToPath(new URL(entry.originalSource, url)) : fileURLToPath(url);
      source = relative(this.root, source);
      const where = `${functionName || '(anonymous)'} ${source}${entry?.originalLine !== undefined ? `:${entry.originalLine + 1}` : ''}`;
      const pkg = source.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
      if (pkg) return [`package: ${pkg[1]}`, where];
      if (source.startsWith('src/')) return [`ours: ${source.split('/').slice(0, 3).join('/')}`, where];
      return [`other: ${source}`, where];
    }
    return [`other: ${url}`, `${functionName} ${url}`];
  }
}

interface CpuNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

/** Self time by category and by function, in shares of the non-idle samples. */
function attributeCpu(
  profile: { nodes: CpuNode[]; samples: number[]; timeDeltas: number[] },
  at: Attributor,
) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const dt = timeDeltas[i + 1] ?? timeDeltas[i] ?? 0;
    self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + dt);
  }
  const categories = new Map<string, number>();
  const functions = new Map<string, { category: string; us: number }>();
  let busy = 0;
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const [category, where] = at.of(node.callFrame);
    if (category === 'idle' || category === 'root') continue;
    busy += us;
    categories.set(category, (categories.get(category) ?? 0) + us);
    const f = functions.get(where) ?? { category, us: 0 };
    f.us += us;
    functions.set(where, f);
  }
  return { busy, categories, functions };
}

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

/** Bytes allocated by category and by site (the sampling profiler's estimate of all allocations). */
function attributeHeap(head: HeapNode, at: Attributor) {
  const categories = new Map<string, number>();
  const sites = new Map<string, { category: string; bytes: number; via: string }>();
  let total = 0;
  const walk = (node: HeapNode, stack: string[]) => {
    const [category, where] = at.of(node.callFrame);
    if (node.selfSize > 0) {
      total += node.selfSize;
      categories.set(category, (categories.get(category) ?? 0) + node.selfSize);
      const site = sites.get(where) ?? { category, bytes: 0, via: stack.slice(-3).join(' < ') };
      site.bytes += node.selfSize;
      sites.set(where, site);
    }
    const short = where.split(' ')[0] ?? '';
    for (const child of node.children) walk(child, [...stack, short]);
  };
  walk(head, []);
  return { total, categories, sites };
}

const fmt = (n: number) => n.toFixed(1);

function report(
  title: string,
  requests: number,
  mainMicros: number,
  cpu: ReturnType<typeof attributeCpu>,
  heap: ReturnType<typeof attributeHeap>,
): string {
  const lines = [`### ${title}`, ''];
  lines.push(
    `Main thread ${fmt(mainMicros)} µs per request (clean windows), shared out by the profiled window's samples (${requests} requests):`,
    '',
    '| where | share | µs per request |',
    '|---|---:|---:|',
  );
  const rows = [...cpu.categories].sort((a, b) => b[1] - a[1]);
  for (const [category, us] of rows.slice(0, 30)) {
    lines.push(
      `| ${category} | ${((100 * us) / cpu.busy).toFixed(1)}% | ${fmt((mainMicros * us) / cpu.busy)} |`,
    );
  }
  lines.push('', '| function (self time) | where | µs per request |', '|---|---|---:|');
  for (const [where, f] of [...cpu.functions].sort((a, b) => b[1].us - a[1].us).slice(0, 40)) {
    lines.push(`| ${where} | ${f.category} | ${fmt((mainMicros * f.us) / cpu.busy)} |`);
  }
  lines.push(
    '',
    `Allocated: ${fmt(heap.total / requests)} bytes per request (sampling heap profiler, collected objects included).`,
    '',
    '| where | bytes per request |',
    '|---|---:|',
  );
  for (const [category, bytes] of [...heap.categories].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
    lines.push(`| ${category} | ${fmt(bytes / requests)} |`);
  }
  lines.push('', '| allocation site | where | called from | bytes per request |', '|---|---|---|---:|');
  for (const [where, s] of [...heap.sites].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 30)) {
    lines.push(`| ${where} | ${s.category} | ${s.via} | ${fmt(s.bytes / requests)} |`);
  }
  return lines.join('\n');
}

/** The raw answer to one pending poll: its header bytes and body bytes. */
function answerBytes(url: string, deviceCode: string): Promise<{ head: number; body: number; text: string }> {
  const { hostname, port } = new URL(url);
  const body = JSON.stringify({ device_code: deviceCode });
  return new Promise((resolveAnswer, reject) => {
    const socket = createConnection({ host: hostname, port: Number(port) }, () => {
      socket.write(
        `POST /device/token HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
    });
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\r\n\r\n');
      const length = Number(text.match(/content-length: (\d+)/i)?.[1] ?? -1);
      if (end >= 0 && length >= 0 && text.length >= end + 4 + length) {
        socket.destroy();
        resolveAnswer({ head: end + 4, body: length, text: text.slice(0, end) });
      }
    });
    socket.on('error', reject);
  });
}

// ---- the run ------------------------------------------------------------------------------------

async function startServer(
  node: NodeChoice,
  root: string,
  label: string,
  env: Record<string, string>,
  cwd: string,
): Promise<Child> {
  const cli = join(root, 'dist', 'cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build in ${root}`);
  const child = start(label, node.path, ['--import', PRELOAD, cli, 'serve'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await waitFor200(`http://127.0.0.1:${env.PORT}/ready`, child);
  return child;
}

function ask(child: Child, message: object, answer: string): Promise<void> {
  return new Promise((resolveAsk) => {
    const on = (m: Record<string, unknown>) => {
      if (m?.[answer]) {
        child.proc.off('message', on);
        resolveAsk();
      }
    };
    child.proc.on('message', on);
    child.proc.send(message);
  });
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const node = await chooseNode(o.node);
  log(`Node ${node.version} (${node.how}); ${o.store}; ${o.roots.length} server(s): ${o.roots.join(', ')}`);
  await mkdir(o.out, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'postiz-profile-'));
  process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));
  const load = LoadClient.start(node.path);
  const cluster = o.store === 'postgres' ? await startPostgres() : null;
  if (o.store === 'postgres' && !cluster) throw new Error('no PostgreSQL available');
  const out: string[] = [
    `# Profile, ${new Date().toISOString().slice(0, 16)} UTC, Node ${node.version}, ${o.store}`,
    '',
  ];
  try {
    // The servers, each with its flows, and the ceiling.
    const servers: (Target & { root: string })[] = [];
    for (const [i, root] of o.roots.entries()) {
      const port = await freePort();
      const standIn = testStandIn(`http://127.0.0.1:${port}`);
      await standIn.listen();
      const database = cluster ? await cluster.createDatabase(`profile_${i}`) : undefined;
      const env = productEnv(
        port,
        standIn.url ?? '',
        database ? { databaseUrl: database } : { pgliteDir: join(scratch, `pglite-${i}`) },
      );
      const label = o.roots.length > 1 ? `${String.fromCharCode(65 + i)} (${root})` : 'server';
      const child = await startServer(node, root, label, env, scratch);
      const url = `http://127.0.0.1:${port}`;
      const set = `flows-${i}`;
      log(`${label}: starting ${o.flows} flows`);
      await load.run({ url, kind: 'start', connections: CONNECTIONS, amount: o.flows, capture: set });
      const codesFile = join(scratch, `${set}.txt`);
      await load.dump(set, codesFile);
      servers.push({
        label,
        root,
        child,
        url,
        path: '-',
        codesFile,
        cursor: 0,
        ...(cluster && database ? { database: { adminUrl: cluster.url, name: `profile_${i}` } } : {}),
      });
    }
    const floor = start(
      'ceiling',
      node.path,
      ['--import', import.meta.resolve('tsx'), '--import', PRELOAD, join(ROOT, 'bench/floor.ts'), '--none'],
      { stdio: ['pipe', 'pipe', 'inherit', 'ipc'] },
    );
    const { port: floorPort } = await firstJsonLine<{ port: number }>(floor);
    const ceiling: Target = {
      label: 'bare node:http (the ceiling)',
      child: floor,
      url: `http://127.0.0.1:${floorPort}`,
      path: '/ceiling/device/token',
      codesFile: servers[0]!.codesFile,
      cursor: 0,
    };

    if (o.what.includes('poll')) {
      const first = readFileSync(servers[0]!.codesFile!, 'utf8').split('\n')[0]!;
      const bytes = await answerBytes(servers[0]!.url, first);
      out.push(
        `A pending poll's answer: ${bytes.head} bytes of status line and headers, ${bytes.body} bytes of body.`,
        '',
        '```',
        bytes.text,
        '```',
        '',
      );
    }
    for (const what of o.what) {
      const targets = what === 'poll' ? [...servers, ceiling] : servers;
      log(`${what}: warming up`);
      for (const t of targets) await cleanWindow(t, what, 2);
      const windows = new Map<string, Window[]>(targets.map((t) => [t.label, []]));
      for (let round = 1; round <= o.rounds; round++) {
        for (const t of round % 2 ? targets : [...targets].reverse()) {
          const w = await cleanWindow(t, what, o.seconds);
          windows.get(t.label)!.push(w);
          log(
            `${what} round ${round} ${t.label}: ${Math.round(w.perSecond)}/s, µs per request: main ${fmt(w.main)}, other threads ${fmt(w.helpers)}${t.database ? `, database ${fmt(w.backends)}` : ''}`,
          );
        }
      }
      out.push(
        `## ${what === 'poll' ? 'Pending polls' : 'Flow starts'}: CPU per request, clean windows (${o.rounds} rounds of ${o.seconds} s, alternating)`,
        '',
        '| target | requests/s (each round) | main thread µs | other threads µs | database µs | total µs (median) |',
        '|---|---|---:|---:|---:|---:|',
      );
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
      for (const t of targets) {
        const ws = windows.get(t.label)!;
        out.push(
          `| ${t.label} | ${ws.map((w) => Math.round(w.perSecond)).join(', ')} | ${ws.map((w) => fmt(w.main)).join(', ')} | ${ws.map((w) => fmt(w.helpers)).join(', ')} | ${ws.map((w) => fmt(w.backends)).join(', ')} | ${fmt(med(ws.map((w) => w.main + w.helpers + w.backends)))} |`,
        );
      }
      out.push('');
      if (!o.profile) continue;
      for (const t of targets) {
        if (t === ceiling && what === 'start') continue;
        const server = servers.find((s) => s === t);
        const stem = join(o.out, `${what}-${server ? servers.indexOf(server) : 'ceiling'}`);
        log(`${what}: profiled window on ${t.label}`);
        await ask(t.child, { profile: 'start' }, 'profiling');
        const args = what === 'poll' ? [t.codesFile!, t.path, String(t.cursor)] : [];
        const r = await runWrk({
          url: t.url,
          script: what,
          seconds: o.seconds,
          connections: CONNECTIONS,
          args,
        });
        if (what === 'poll') t.cursor += r.requests + 2 * CONNECTIONS;
        await ask(
          t.child,
          { profile: 'stop', cpu: `${stem}.cpuprofile`, heap: `${stem}.heapprofile` },
          'profiled',
        );
        const at = new Attributor(server?.root ?? ROOT);
        const cpu = attributeCpu(JSON.parse(await readFile(`${stem}.cpuprofile`, 'utf8')), at);
        const heap = attributeHeap(JSON.parse(await readFile(`${stem}.heapprofile`, 'utf8')).head, at);
        const ws = windows.get(t.label)!;
        out.push(report(`${what} on ${t.label}`, r.requests, med(ws.map((w) => w.main)), cpu, heap), '');
      }
    }
  } finally {
    await stopAll();
    await cluster?.stop();
    await rm(scratch, { recursive: true, force: true });
  }
  const text = out.join('\n');
  await writeFile(join(o.out, 'profile.md'), `${text}\n`);
  process.stdout.write(`${text}\n\nWritten to ${o.out} (profile.md, *.cpuprofile, *.heapprofile).\n`);
  process.exit(0);
}

main().catch(async (err: unknown) => {
  console.error(err);
  await stopAll();
  process.exit(1);
});
