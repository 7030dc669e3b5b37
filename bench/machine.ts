/**
 * How busy the rest of the machine was during a measured run: the CPU used by every process
 * that is not the benchmark's (this process and its descendants, and the throwaway PostgreSQL
 * cluster's postmaster and backends), read from /proc before and after. On a shared 2-core
 * machine another user's type-check or test run takes a core away in the middle of a run; the
 * ratios survive that better than the rates do, but not entirely, so every run says how
 * disturbed it was instead of leaving it to be guessed from the load average.
 *
 * A process that started and ended within the run is missed (it is gone before the second
 * reading), so the figure is a lower bound.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Clock ticks per second (`getconf CLK_TCK`; 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** Roots of the benchmark's own process trees (besides this process). */
const roots = new Set<number>([process.pid]);

/** Count `pid` and its descendants as the benchmark's own (e.g. the PostgreSQL postmaster). */
export function addOwnRoot(pid: number): void {
  roots.add(pid);
}

interface Proc {
  ppid: number;
  cpu: number;
}

function snapshot(): Map<number, Proc> {
  const procs = new Map<number, Proc>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return procs;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(name), {
        ppid: Number(fields[1]),
        cpu: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
      });
    } catch {
      // gone meanwhile
    }
  }
  return procs;
}

function own(procs: Map<number, Proc>): Set<number> {
  const ours = new Set<number>();
  const isOurs = (pid: number): boolean => {
    const seen: number[] = [];
    for (let p = pid; p > 1; p = procs.get(p)?.ppid ?? 0) {
      if (ours.has(p) || roots.has(p)) {
        for (const s of seen) ours.add(s);
        ours.add(p);
        return true;
      }
      seen.push(p);
    }
    return false;
  };
  for (const pid of procs.keys()) isOurs(pid);
  return ours;
}

/**
 * Run `run`, and say how many cores other processes used meanwhile on average (CPU seconds of
 * processes outside the benchmark ÷ the run's seconds).
 */
export async function othersDuring<T>(run: () => Promise<T>): Promise<{ result: T; othersCores: number }> {
  const before = snapshot();
  const began = performance.now();
  const result = await run();
  const seconds = (performance.now() - began) / 1000;
  const after = snapshot();
  const ours = own(after);
  for (const pid of own(before)) ours.add(pid);
  let cpu = 0;
  for (const [pid, proc] of after) {
    if (ours.has(pid)) continue;
    const was = before.get(pid);
    // Present at both readings (and the same process: same parent), or started meanwhile.
    cpu += was && was.ppid === proc.ppid ? Math.max(0, proc.cpu - was.cpu) : proc.cpu;
  }
  return { result, othersCores: seconds > 0 ? cpu / seconds : 0 };
}
