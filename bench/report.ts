/** The benchmark's table: each figure beside its floor, the ratio, the target, ✓/✗. */
import type { ApprovalResult } from './approval.js';
import type { FloorTable } from './codes.js';
import type { MemoryFigures, PollFigures, ServerPolls, StartFigures } from './measure.js';

/** Everything measured on one store. */
export interface StoreResult {
  store: 'PostgreSQL' | 'PGlite';
  floorKind: string;
  /** The floor's table (made by the migrations): what they applied, its indexes and triggers. */
  floorTable?: FloorTable;
  polls?: ServerPolls;
  floorPolls?: PollFigures;
  /** The floor without its query: what this machine and load generator can show at most. */
  ceiling?: PollFigures;
  starts?: StartFigures;
  floorStarts?: StartFigures;
  approval?: ApprovalResult;
  memory?: MemoryFigures;
  /** ms from spawn to /ready 200; `bareNodeMs`: the same for a bare node:http process. */
  ready?: { existingMs: number; freshMs: number; bareNodeMs: number };
  seededFlows?: number;
  error?: string;
}

/** Other processes using this many cores during a measured run (of 2) make it a disturbed run. */
export const DISTURBED_CORES = 0.2;

/** The most cores other processes used during any of a store's measured runs. */
export function othersMost(r: StoreResult): number | undefined {
  const others = [r.floorStarts, r.starts, r.floorPolls, r.polls, r.ceiling]
    .map((f) => f?.othersCores)
    .filter((c) => c !== undefined);
  return others.length ? Math.max(...others) : undefined;
}

/** One line of the table. */
export interface Row {
  store: string;
  measure: string;
  server: string;
  floor: string;
  ratio: string;
  target: string;
  /** true ✓, false ✗, undefined ? (the run could not decide), null: context, no target. */
  met: boolean | undefined | null;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : int(n));
const mb = (bytes: number) => `${bytes >= 0 ? '+' : ''}${(bytes / 1e6).toFixed(1)} MB`;

/** µs, one decimal. */
const us = (n: number | undefined) => (n === undefined ? '–' : n.toFixed(1));

/**
 * Whether the load generator could show 2× the floor at all: the bare node:http answer (the
 * ceiling) must reach 3× the floor, else a ratio below the target decides nothing.
 */
export function conclusive(r: StoreResult): boolean {
  return Boolean(r.ceiling && r.floorPolls && r.ceiling.perSecond >= 3 * r.floorPolls.perSecond);
}

function pollRows(r: StoreResult): Row[] {
  const { polls: s, floorPolls: f, store } = r;
  if (!s || !f) return [];
  const ratio = s.perSecond / f.perSecond;
  // A capped run only shows a lower bound, and so does a run whose ceiling is under 3× the
  // floor: a ratio above the target still counts, one below does not decide.
  const pollsMet = ratio >= 2 ? true : s.capped || !conclusive(r) ? undefined : false;
  const rows: Row[] = [
    {
      store,
      measure: 'pending polls/s',
      server: `${s.capped ? '≥ ' : ''}${int(s.perSecond)}`,
      floor: int(f.perSecond),
      ratio: `${ratio.toFixed(2)}×`,
      target: '≥ 2× floor',
      met: pollsMet,
    },
    {
      store,
      measure: 'pending poll latency p50 / p99 (ms)',
      server: `${ms(s.p50)} / ${ms(s.p99)}`,
      floor: `${ms(f.p50)} / ${ms(f.p99)}`,
      ratio: `p99 ${(s.p99 / f.p99).toFixed(2)}×`,
      target: 'p99 ≤ floor',
      met: s.p99 <= f.p99,
    },
  ];
  if (s.transactionsPerPoll !== undefined) {
    rows.push({
      store,
      measure: 'database transactions per pending poll',
      server: s.transactionsPerPoll.toFixed(3),
      floor: f.transactionsPerPoll?.toFixed(3) ?? '',
      ratio: '',
      target: '< 0.05',
      met: s.transactionsPerPoll < 0.05,
    });
  }
  if (r.ceiling) {
    const bare = r.ceiling.cpuMicros;
    if (s.cpuMicros !== undefined && bare !== undefined) {
      rows.push({
        store,
        measure: `CPU per pending poll, µs (floor column: the bare node:http answer; the floor itself: ${us(f.cpuMicros)})`,
        server: us(s.cpuMicros),
        floor: us(bare),
        ratio: `${(s.cpuMicros / bare).toFixed(2)}×`,
        target: '≤ 2× bare',
        met: s.cpuMicros <= 2 * bare,
      });
    }
    rows.push({
      store,
      measure: 'ceiling: a bare node:http answer, polls/s (p50 / p99 ms)',
      server: '',
      floor: `${int(r.ceiling.perSecond)} (${ms(r.ceiling.p50)} / ${ms(r.ceiling.p99)})`,
      ratio: `${(r.ceiling.perSecond / f.perSecond).toFixed(2)}× floor`,
      target: '≥ 3× floor, else the run is inconclusive',
      met: conclusive(r),
    });
  }
  const slowDown = s.results.slow_down ?? 0;
  const polled = Object.values(s.results).reduce((a, b) => a + b, 0);
  rows.push({
    store,
    measure: `slow_down answers (cycle of ${int(s.flows)} flows, cap ${int(s.cap)}/s)`,
    server: `${int(slowDown)} of ${int(polled)}`,
    floor: '',
    ratio: '',
    target: '0 (else the run is invalid)',
    met: slowDown === 0,
  });
  return rows;
}

function otherRows(r: StoreResult): Row[] {
  const rows: Row[] = [];
  const { store } = r;
  if (r.starts && r.floorStarts) {
    const ratio = r.starts.perSecond / r.floorStarts.perSecond;
    rows.push({
      store,
      measure: `flows started/s (p99 ms; CPU µs per start, with the database's: ${us(r.starts.cpuMicros)} vs ${us(r.floorStarts.cpuMicros)})`,
      server: `${int(r.starts.perSecond)} (${ms(r.starts.p99)})`,
      floor: `${int(r.floorStarts.perSecond)} (${ms(r.floorStarts.p99)})`,
      ratio: `${ratio.toFixed(2)}×`,
      target: '≥ 0.7× floor',
      met: ratio >= 0.7,
    });
  }
  if (r.approval) {
    const a = r.approval;
    const failed = a.failures.length ? `, ${a.failures.length} failed` : '';
    rows.push({
      store,
      measure: `approval → token, p50 / max (ms; ${a.delaysMs.length} flows${a.held ? ', held polls' : ', polls not held'}${failed})`,
      server: `${ms(a.p50)} / ${ms(a.max)}`,
      floor: '',
      ratio: '',
      target: 'p50 ≤ 50 ms',
      met: a.failures.length === 0 && a.p50 <= 50,
    });
  }
  if (r.memory) {
    rows.push({
      store,
      measure: 'memory per 10,000 pending flows (RSS; heap)',
      server: `${mb(r.memory.rssPer10k)}; ${mb(r.memory.heapPer10k)}`,
      floor: '',
      ratio: '',
      target: '< 20 MB',
      met: r.memory.rssPer10k < 20e6,
    });
  }
  if (r.ready) {
    const pg = store === 'PostgreSQL';
    rows.push({
      store,
      measure: `start → /ready (ms): existing ${pg ? 'database' : 'directory'} / fresh`,
      server: `${int(r.ready.existingMs)} / ${int(r.ready.freshMs)}`,
      floor: `${int(r.ready.bareNodeMs)} (bare node:http)`,
      ratio: '',
      target: pg ? 'existing ≤ 500 ms' : 'existing ≤ 2,000 ms',
      met: r.ready.existingMs <= (pg ? 500 : 2000),
    });
  }
  const others = [r.floorStarts, r.starts, r.floorPolls, r.polls, r.ceiling]
    .map((f) => f?.othersCores)
    .filter((c) => c !== undefined);
  const most = othersMost(r);
  if (most !== undefined) {
    rows.push({
      store,
      measure: `other processes on the machine during the ${others.length} measured runs, cores (most / mean)`,
      server: `${most.toFixed(2)} / ${(others.reduce((a, b) => a + b, 0) / others.length).toFixed(2)}`,
      floor: '',
      ratio: '',
      target: `under ${DISTURBED_CORES} in each, else the run was disturbed`,
      met: most < DISTURBED_CORES,
    });
  }
  if (r.error)
    rows.push({ store, measure: 'error', server: r.error, floor: '', ratio: '', target: '', met: false });
  return rows;
}

/** Every row, PostgreSQL first. */
export function rows(results: StoreResult[]): Row[] {
  return results.flatMap((r) => [...pollRows(r), ...otherRows(r)]);
}

const mark = (met: boolean | undefined | null) =>
  met === null ? '' : met === undefined ? '?' : met ? '✓' : '✗';

/** The table as Markdown (it reads well in a terminal too). */
export function markdownTable(results: StoreResult[]): string {
  const header = '| store | measure | server | floor | ratio | target | |\n|---|---|---:|---:|---:|---|:-:|';
  const lines = rows(results).map(
    (r) =>
      `| ${r.store} | ${r.measure} | ${r.server} | ${r.floor} | ${r.ratio} | ${r.target} | ${mark(r.met)} |`,
  );
  return [header, ...lines].join('\n');
}
