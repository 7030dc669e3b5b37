/**
 * Which build is running: the package's version and the source commit, for `--version`, the
 * start-up log line, `/health` and the `postiz_cli_auth_build_info` metric.
 *
 * The bundle (scripts/build.mjs) has both written in at build time through esbuild's `define`
 * (`__POSTIZ_CLI_AUTH_BUILD__`). Run from source (tsx), the version is read from package.json
 * one level up (src/ sits there as dist/ does), and the commit comes from the environment
 * (`SOURCE_COMMIT` or `GIT_COMMIT`, as platforms and CI systems set them), else `unknown`.
 */
import { readFileSync } from 'node:fs';

/** Set by esbuild's `define` in the bundle; undeclared when run from source. */
declare const __POSTIZ_CLI_AUTH_BUILD__: { version: string; commit: string } | undefined;

export interface BuildInfo {
  version: string;
  /** A short commit hash, or `unknown`. */
  commit: string;
  /** The Node.js version running it (`v22.…`). */
  node: string;
}

/** A commit as shown: the first 12 characters of a hex hash, or `unknown`. */
export function shortCommit(raw: string | undefined): string {
  const value = raw?.trim() ?? '';
  return /^[0-9a-f]{4,64}$/i.test(value) ? value.slice(0, 12).toLowerCase() : 'unknown';
}

function fromPackageJson(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The running build; `env` supplies the commit when the build did not record one. */
export function buildInfo(env: Record<string, string | undefined> = process.env): BuildInfo {
  const built = typeof __POSTIZ_CLI_AUTH_BUILD__ === 'undefined' ? undefined : __POSTIZ_CLI_AUTH_BUILD__;
  const recorded = shortCommit(built?.commit);
  return {
    version: built?.version ?? fromPackageJson(),
    commit: recorded !== 'unknown' ? recorded : shortCommit(env.SOURCE_COMMIT ?? env.GIT_COMMIT),
    node: process.version,
  };
}
