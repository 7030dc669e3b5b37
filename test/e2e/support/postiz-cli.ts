/**
 * The published `postiz` CLI (`auth:login`, `auth:status`) as a child process, with a fake `xdg-open` that
 * records the URL it was asked to open, so a test can play the browser. Used by the
 * compatibility tests (test/e2e) and the reliability suites.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { waitFor } from '../../../harness/postgres.js';
import { type Child, cleanEnv, ROOT, spawnNode, tempDir } from '../../../harness/processes.js';

const POSTIZ_CLI = join(ROOT, 'node_modules/postiz/dist/index.js');

export interface CliLogin {
  child: Child;
  /** The CLI's HOME: credentials land in `<home>/.postiz/credentials.json`. */
  home: string;
  /** The URL the CLI "opened in the browser" (`verification_uri_complete`). */
  opened: string;
  /** The saved credentials, once the CLI succeeded. */
  credentials(): Promise<{ accessToken: string; apiUrl: string; organizationId?: string }>;
}

/** Run `postiz auth:status` with the credentials saved in `home`: its exit code and output. */
export async function cliStatus(
  t: TestContext,
  home: string,
): Promise<{ code: number | null; output: string }> {
  const child = spawnNode(t, [POSTIZ_CLI, 'auth:status'], { env: cleanEnv({ HOME: home }) });
  const { code } = await child.waitForExit(30_000);
  return { code, output: `${child.stdout()}\n${child.stderr()}` };
}

/**
 * A fake `xdg-open` in a directory of its own, to put first on PATH: `opened(child)` waits for
 * the URL the CLI asked it to open.
 */
export async function fakeOpener(
  t: TestContext,
): Promise<{ path: string; opened(child: Child): Promise<string> }> {
  const bin = await tempDir(t, 'postiz-bin-');
  const openedFile = join(bin, 'opened-url');
  // Write then rename, so the test never reads a half-written file.
  await writeFile(
    join(bin, 'xdg-open'),
    `#!/bin/sh\nprintf '%s' "$1" > "${openedFile}.tmp" && mv "${openedFile}.tmp" "${openedFile}"\n`,
  );
  await chmod(join(bin, 'xdg-open'), 0o755);
  return {
    path: `${bin}:${process.env.PATH ?? ''}`,
    async opened(child) {
      try {
        return await waitFor(() => readFile(openedFile, 'utf8'), { timeoutMs: 30_000 });
      } catch {
        throw new Error(
          `the CLI never opened a browser\n--- stdout ---\n${child.stdout()}\n--- stderr ---\n${child.stderr()}`,
        );
      }
    },
  };
}

/** Start `postiz auth:login` against `serverUrl` and wait until it has "opened the browser". */
export async function startCliLogin(t: TestContext, serverUrl: string): Promise<CliLogin> {
  const home = await tempDir(t, 'postiz-home-');
  const opener = await fakeOpener(t);
  const child = spawnNode(t, [POSTIZ_CLI, 'auth:login'], {
    env: cleanEnv({ POSTIZ_AUTH_SERVER: serverUrl, HOME: home, PATH: opener.path }),
  });
  const opened = await opener.opened(child);
  return {
    child,
    home,
    opened,
    credentials: async () => JSON.parse(await readFile(join(home, '.postiz', 'credentials.json'), 'utf8')),
  };
}
