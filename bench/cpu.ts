/**
 * CPU time spent by processes, from /proc/<pid>/stat (user + system, in clock ticks of 10 ms),
 * read before and after a run: CPU per answered request survives a busy shared machine far
 * better than requests per second, which other processes' load moves by ±40% here.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';

/** Clock ticks per second (`getconf CLK_TCK`; 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds used so far by each of `pids` (0 for one that is gone). */
export function cpuSeconds(pids: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND);
    } catch {
      out.set(pid, 0);
    }
  }
  return out;
}

/** The pids of the PostgreSQL backends connected to `database` right now (read from another database). */
export async function backendPids(adminUrl: string, database: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [database],
    );
    return rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
}

/** Whose CPU a run is charged: a process, and the PostgreSQL backends of its database if any. */
export interface CpuTarget {
  pid: number;
  database?: { adminUrl: string; name: string };
}

/**
 * CPU seconds `target` spent during `run`: its process, plus the backends of its database
 * (those connected before or after the run; a backend that came and went within it is missed,
 * which pools make rare).
 */
export async function cpuDuring<T>(
  target: CpuTarget,
  run: () => Promise<T>,
): Promise<{ result: T; cpu: number }> {
  const backends = async () =>
    target.database ? await backendPids(target.database.adminUrl, target.database.name) : [];
  const pidsBefore = [target.pid, ...(await backends())];
  const before = cpuSeconds(pidsBefore);
  const result = await run();
  const pids = [...new Set([...pidsBefore, ...(await backends())])];
  const after = cpuSeconds(pids);
  let cpu = 0;
  for (const pid of pids) cpu += Math.max(0, (after.get(pid) ?? 0) - (before.get(pid) ?? 0));
  return { result, cpu };
}
