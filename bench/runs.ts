/**
 * `npm run bench -- --runs N`: the whole benchmark N times, one after the other, each in a
 * process of its own (so no run inherits another's heap, connections or cluster), then every
 * run's key ratios side by side and the median of each. The targets are judged on the medians:
 * on a shared 2-core machine one run can be disturbed by someone else's work, five rarely all are.
 * A run whose ceiling (the bare node:http answer) is under 3× the floor is marked inconclusive
 * for polls/s: it could not have shown 2× the floor.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { start } from './processes.js';
import { DISTURBED_CORES, othersMost, type StoreResult } from './report.js';

/** One run's JSON (what `--json` writes). */
interface RunJson {
  date: string;
  machine: { loadAverageAtStart: number; loadAverageAtEnd: number; node: string };
  seconds: number;
  results: StoreResult[];
}

/** The ratios the targets name, for one store in one run (undefined: not measured). */
export interface KeyRatios {
  store: string;
  /** Pending polls/s ÷ the floor's; the ceiling's ÷ the floor's. */
  polls?: number;
  ceiling?: number;
  /** Pending poll p99 ÷ the floor's. */
  p99?: number;
  /** CPU µs per pending poll ÷ the bare node:http answer's, and both in µs. */
  cpu?: number;
  cpuServer?: number;
  cpuBare?: number;
  /** Flows started/s ÷ the INSERT floor's, and CPU µs per start (with the database's) of each. */
  starts?: number;
  startCpuServer?: number;
  startCpuFloor?: number;
  /** slow_down answers in the poll runs (the run is invalid unless 0), and whether capped. */
  slowDown?: number;
  capped?: boolean;
  /** The most cores other processes used during one of the measured runs. */
  others?: number;
  error?: string;
}

/** The key ratios of one store's results. */
export function keyRatios(r: StoreResult): KeyRatios {
  const out: KeyRatios = { store: r.store };
  if (r.polls && r.floorPolls) {
    out.polls = r.polls.perSecond / r.floorPolls.perSecond;
    out.p99 = r.polls.p99 / r.floorPolls.p99;
    out.slowDown = r.polls.results.slow_down ?? 0;
    out.capped = r.polls.capped;
    if (r.ceiling) {
      out.ceiling = r.ceiling.perSecond / r.floorPolls.perSecond;
      if (r.polls.cpuMicros !== undefined && r.ceiling.cpuMicros) {
        out.cpu = r.polls.cpuMicros / r.ceiling.cpuMicros;
        out.cpuServer = r.polls.cpuMicros;
        out.cpuBare = r.ceiling.cpuMicros;
      }
    }
  }
  if (r.starts && r.floorStarts) {
    out.starts = r.starts.perSecond / r.floorStarts.perSecond;
    out.startCpuServer = r.starts.cpuMicros;
    out.startCpuFloor = r.floorStarts.cpuMicros;
  }
  const others = othersMost(r);
  if (others !== undefined) out.others = others;
  if (r.error) out.error = r.error;
  return out;
}

/** The median of the defined values (the mean of the middle two for an even count). */
export function median(values: (number | undefined)[]): number | undefined {
  const v = values.filter((x): x is number => x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1]! + v[mid]!) / 2;
}

const x = (n: number | undefined) => (n === undefined ? '–' : `${n.toFixed(2)}×`);
const us = (n: number | undefined) => (n === undefined ? '–' : n.toFixed(1));
const mark = (ok: boolean | undefined) => (ok === undefined ? '?' : ok ? '✓' : '✗');

/** The summary: one row per run and store, then the medians with the targets. */
export function summaryTable(runs: { label: string; ratios: KeyRatios[] }[]): string {
  const header =
    '| run | store | polls/s ÷ floor | ceiling ÷ floor | p99 ÷ floor | CPU per poll ÷ bare (µs) | starts/s ÷ floor (CPU µs per start vs floor) | slow_down | other processes, cores (most) |\n' +
    '|---|---|---:|---:|---:|---:|---:|---:|---:|';
  const lines: string[] = [];
  const stores = [...new Set(runs.flatMap((r) => r.ratios.map((k) => k.store)))];
  for (const run of runs) {
    for (const k of run.ratios) {
      if (k.error) {
        lines.push(`| ${run.label} | ${k.store} | error: ${k.error} |  |  |  |  |  |  |`);
        continue;
      }
      const inconclusive = k.ceiling !== undefined && k.ceiling < 3;
      lines.push(
        `| ${run.label} | ${k.store} | ${x(k.polls)}${k.capped ? ' (capped)' : ''}${inconclusive ? ' (inconclusive)' : ''} | ${x(k.ceiling)} | ${x(k.p99)} | ${x(k.cpu)} (${us(k.cpuServer)} vs ${us(k.cpuBare)}) | ${x(k.starts)} (${us(k.startCpuServer)} vs ${us(k.startCpuFloor)}) | ${k.slowDown ?? '–'} | ${k.others === undefined ? '–' : `${k.others.toFixed(2)}${k.others >= DISTURBED_CORES ? ' (disturbed)' : ''}`} |`,
      );
    }
  }
  for (const store of stores) {
    const all = runs.flatMap((r) => r.ratios.filter((k) => k.store === store && !k.error));
    const conclusive = all.filter((k) => k.ceiling !== undefined && k.ceiling >= 3);
    const m = {
      polls: median(all.map((k) => k.polls)),
      pollsConclusive: median(conclusive.map((k) => k.polls)),
      ceiling: median(all.map((k) => k.ceiling)),
      p99: median(all.map((k) => k.p99)),
      cpu: median(all.map((k) => k.cpu)),
      cpuServer: median(all.map((k) => k.cpuServer)),
      cpuBare: median(all.map((k) => k.cpuBare)),
      starts: median(all.map((k) => k.starts)),
      startCpuServer: median(all.map((k) => k.startCpuServer)),
      startCpuFloor: median(all.map((k) => k.startCpuFloor)),
    };
    const pollsOk =
      m.polls === undefined ? undefined : m.polls >= 2 ? true : (m.ceiling ?? 0) < 3 ? undefined : false;
    const conclusiveNote = `${conclusive.length} of ${all.length} runs conclusive${conclusive.length ? `, their median ${x(m.pollsConclusive)}` : ''}`;
    lines.push(
      `| **median** | ${store} | **${x(m.polls)}** ${mark(pollsOk)} (${conclusiveNote}) | ${x(m.ceiling)} ${mark(m.ceiling === undefined ? undefined : m.ceiling >= 3)} | **${x(m.p99)}** ${mark(m.p99 === undefined ? undefined : m.p99 <= 1)} | **${x(m.cpu)}** ${mark(m.cpu === undefined ? undefined : m.cpu <= 2)} (${us(m.cpuServer)} vs ${us(m.cpuBare)}) | **${x(m.starts)}** ${mark(m.starts === undefined ? undefined : m.starts >= 0.7)} (${us(m.startCpuServer)} vs ${us(m.startCpuFloor)}) |  |  |`,
    );
  }
  return [header, ...lines].join('\n');
}

/**
 * Run `script args` `runs` times on this Node (each run its own process, which writes its JSON
 * to a scratch file), print each run's table as it ends (the runs' own stdout), then the
 * summary; with `json`, also write every run's results and the medians there. Resolves with
 * the exit code: 1 if any run failed.
 */
export async function runSeveral(options: {
  runs: number;
  script: string;
  args: string[];
  json: string | undefined;
  log: (message: string) => void;
}): Promise<number> {
  const scratch = await mkdtemp(join(tmpdir(), 'postiz-bench-runs-'));
  const done: { label: string; file: string; json?: RunJson; code: number | string | null }[] = [];
  try {
    for (let i = 1; i <= options.runs; i++) {
      const file = join(scratch, `run-${i}.json`);
      options.log(`run ${i} of ${options.runs}`);
      const child = start(
        `bench run ${i}`,
        process.execPath,
        [...process.execArgv, options.script, ...options.args, '--json', file],
        { stdio: ['ignore', 'inherit', 'inherit'] },
      );
      const code = await child.exited;
      let json: RunJson | undefined;
      try {
        json = JSON.parse(await readFile(file, 'utf8')) as RunJson;
      } catch {
        // The run failed before writing its results: the summary says so.
      }
      done.push({ label: '', file, code, ...(json ? { json } : {}) });
    }
    const runs = done.map((d, i) => {
      const when = d.json ? d.json.date.slice(11, 16) : '';
      const load = d.json
        ? `, load ${d.json.machine.loadAverageAtStart.toFixed(1)}→${d.json.machine.loadAverageAtEnd.toFixed(1)}`
        : '';
      return {
        label: `${i + 1} (${when} UTC${load})`,
        ratios: d.json ? d.json.results.map(keyRatios) : [{ store: 'all', error: `run exited ${d.code}` }],
      };
    });
    const nodes = [...new Set(done.map((d) => d.json?.machine.node).filter(Boolean))].join(', ');
    process.stdout.write(
      `\n${options.runs} runs (Node ${nodes}); the targets are judged on the medians. A run whose ceiling is under 3× its floor is inconclusive for polls/s.\n\n${summaryTable(runs)}\n\n`,
    );
    if (options.json) {
      const results = done.map((d) => d.json ?? { error: `run exited ${d.code}` });
      await mkdir(dirname(options.json), { recursive: true });
      await writeFile(options.json, `${JSON.stringify({ runs: results, summary: runs }, null, 2)}\n`);
      process.stdout.write(`JSON written to ${options.json}\n`);
    }
    return done.some((d) => d.code !== 0) ? 1 : 0;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
