/** The embedded driver: PGlite, PostgreSQL compiled to WASM, in this process. */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Db, Row } from './db.js';

/**
 * PostgreSQL's default 128 MB of shared buffers is set up (and so touched) at every start:
 * inside WASM that is about half of a reopen's time, and much of its memory. This database
 * holds live flows only (a few MB for tens of thousands), and what falls out of the buffers is
 * still in the operating system's file cache: 16 MB is plenty (the figures: docs/performance.md,
 * "Figures behind the code").
 */
const START_PARAMS = ['-c', 'shared_buffers=16MB'];

/**
 * The lock file that makes a data directory one process's: PGlite has no server to share, so
 * two processes on one directory would each see their own copy of the database, and a flow
 * started on one would be unknown to the other.
 */
const LOCK_FILE = 'postiz-cli-auth.lock';

/** A setting's problem, already phrased for the operator. */
const unusable = (dir: string, why: string): Error => new Error(`PGLITE_DATA_DIR ${dir} ${why}`);

/** The data directory is locked by a running process (the `logins` command says it in its own words). */
export class DirectoryInUse extends Error {
  override name = 'DirectoryInUse';
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `PGLITE_DATA_DIR ${dir} is in use by another process (pid ${pid}): the embedded database serves one process. Stop that one, give this one another directory, or share a PostgreSQL database between them with DATABASE_URL.`,
    );
  }
}

/** Whether `pid` is a running process (EPERM: it runs, as another user). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Take `dir` for this process: create the lock file with our pid, or refuse when a running
 * process holds it. A lock left by a process that no longer runs (killed, crashed) is stale
 * and taken over. Returns the release function.
 */
function lockDirectory(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' || attempt > 0)
        throw unusable(dir, `cannot be locked (${code}): ${(err as Error).message}`);
    }
    const owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
    if (Number.isInteger(owner) && owner !== process.pid && running(owner)) {
      throw new DirectoryInUse(dir, owner);
    }
    unlinkSync(path);
  }
}

/**
 * Why `dir` cannot hold the embedded database, when that can be told before PGlite tries
 * (PGlite itself only says "failed to initialize properly"): files that are not a database.
 */
function notADatabase(dir: string): string | undefined {
  const entries = readdirSync(dir).filter((name) => name !== LOCK_FILE);
  if (entries.length === 0) return undefined;
  if (!entries.includes('PG_VERSION')) {
    return 'is not empty and holds no database (no PG_VERSION file): give it an empty directory, or the directory of an existing embedded database';
  }
  const version = readFileSync(join(dir, 'PG_VERSION'), 'utf8').trim();
  if (!/^\d+$/.test(version))
    return `holds a PG_VERSION file that names no PostgreSQL version ("${version.slice(0, 20)}"): it is not a database`;
  return undefined;
}

/** The PostgreSQL major version a data directory was made by, if it says. */
function majorVersion(dir: string): string | undefined {
  try {
    return readFileSync(join(dir, 'PG_VERSION'), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** What a failure is, in words (PGlite sometimes throws plain objects). */
function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

/** Open (or create) the embedded database in `dataDir`, or in memory when it is `memory`. */
export async function pgliteDb(dataDir: string): Promise<Db & { pglite: PGlite }> {
  const inMemory = dataDir === 'memory' || dataDir === 'memory://';
  let release = (): void => {};
  if (!inMemory) {
    try {
      mkdirSync(dataDir, { recursive: true });
    } catch (err) {
      throw unusable(dataDir, `cannot be created (${(err as NodeJS.ErrnoException).code}): ${describe(err)}`);
    }
    release = lockDirectory(dataDir);
    const why = notADatabase(dataDir);
    if (why) {
      release();
      throw unusable(dataDir, why);
    }
  }
  let db: PGlite;
  try {
    db = await PGlite.create(inMemory ? undefined : dataDir, {
      startParams: [...PGlite.defaultStartParams, ...START_PARAMS],
    });
  } catch (err) {
    release();
    // The likeliest reason, a database made by another PostgreSQL major version, is not in
    // PGlite's message: say which version the directory holds.
    const version = inMemory ? undefined : majorVersion(dataDir);
    const made = version
      ? ` (it holds a PostgreSQL ${version} database; this PGlite may be another major version)`
      : '';
    throw unusable(dataDir, `could not be opened as a database: ${describe(err)}${made}`);
  }

  const query = async (sql: string, params?: unknown[]): Promise<Row[]> => {
    if (params === undefined || params.length === 0) {
      // exec runs several statements (migrations); query would refuse them.
      const results = await db.exec(sql);
      return (results.at(-1)?.rows ?? []) as Row[];
    }
    return (await db.query<Row>(sql, params)).rows;
  };

  return {
    kind: 'pglite',
    pglite: db,
    query,
    // PGlite is one connection: every query already runs on the same session.
    session: (fn) => fn(query),
    // In-process: no connection to lose, so no resets.
    listen: async (channel, handlers) => db.listen(channel, (payload) => handlers.onNotify(payload)),
    close: async () => {
      try {
        await db.close();
      } finally {
        release();
      }
    },
  };
}
