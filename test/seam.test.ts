/**
 * The core of the server (`src/device-flow/`, `src/storage/`, `src/http/`) names no provider:
 * what is Postiz's lives in `src/upstream/postiz/`, behind the `Upstream` interface
 * (docs/providers.md). The product's own name (`postiz-cli-auth`, `postiz_cli_auth_…`) is not a
 * provider's.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../harness/processes.js';

const CORE = ['src/device-flow', 'src/storage', 'src/http'];

test('no file of the core names Postiz', () => {
  const found: string[] = [];
  for (const dir of CORE) {
    for (const file of readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts')) continue;
      const lines = readFileSync(join(ROOT, dir, file), 'utf8').split('\n');
      for (const [i, line] of lines.entries()) {
        if (/postiz/i.test(line.replace(/postiz[-_]cli[-_]auth/gi, '')))
          found.push(`${dir}/${file}:${i + 1}: ${line.trim()}`);
      }
    }
  }
  assert.deepEqual(found, []);
});
