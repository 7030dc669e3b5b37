/**
 * Every package the code imports is declared in package.json: the server's own code (src/) in
 * `dependencies`, everything else (tests, benchmark, scripts) in either list. npm's flat
 * node_modules hides an undeclared import (another package brought it along); pnpm's strict
 * one does not, and a fresh `pnpm install` then fails to build or start.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Every .ts/.mjs/.js file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sources(path);
    return /\.(ts|mts|mjs|js)$/.test(name) ? [path] : [];
  });
}

/** The packages a file imports: static, dynamic, side-effect, `require` and `createRequire(…)(…)`. */
function importedPackages(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specifiers = [
    ...text.matchAll(/\bfrom\s+['"]([^'"]+)['"]/g),
    ...text.matchAll(/\bimport\s+['"]([^'"]+)['"]/g),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...text.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...text.matchAll(/\bcreateRequire\([^)]*\)\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return specifiers
    .filter(
      (s) =>
        !s.startsWith('.') && !s.startsWith('/') && !s.startsWith('node:') && !builtinModules.includes(s),
    )
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
}

test('the server code imports only packages listed in dependencies', () => {
  const undeclared = sources('src').flatMap((file) =>
    importedPackages(file)
      .filter((name) => !(name in pkg.dependencies))
      .map((name) => `${relative(ROOT, join(ROOT, file))}: ${name}`),
  );
  assert.deepEqual(undeclared, []);
});

test('tests, the benchmark and the scripts import only declared packages', () => {
  const declared = { ...pkg.dependencies, ...pkg.devDependencies };
  const undeclared = ['test', 'bench', 'scripts'].flatMap((dir) =>
    sources(dir).flatMap((file) =>
      importedPackages(file)
        .filter((name) => !(name in declared) && !name.startsWith('@types/'))
        .map((name) => `${file}: ${name}`),
    ),
  );
  assert.deepEqual(undeclared, []);
});

test('the check itself sees every kind of import', () => {
  assert.deepEqual(importedPackages('src/logger.ts').sort(), ['pino', 'pino-pretty', 'pino-pretty'].sort());
});

test('pnpm-lock.yaml pins exactly what package-lock.json pins (pnpm install installs what the tests ran)', () => {
  const npmLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; link?: boolean }>;
  };
  const pnpmLock = parse(readFileSync(join(ROOT, 'pnpm-lock.yaml'), 'utf8')) as {
    importers: { '.': Record<string, Record<string, { specifier: string; version: string }>> };
    packages: Record<string, unknown>;
  };
  const fromNpm = new Set(
    Object.entries(npmLock.packages)
      .filter(([path, entry]) => path.startsWith('node_modules/') && entry.version && !entry.link)
      .map(
        ([path, entry]) =>
          `${path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)}@${entry.version}`,
      ),
  );
  const fromPnpm = new Set(Object.keys(pnpmLock.packages));
  assert.deepEqual(
    [...fromNpm].filter((p) => !fromPnpm.has(p)),
    [],
    'in package-lock.json only: after changing dependencies, run `npx -y pnpm@10 import`',
  );
  assert.deepEqual(
    [...fromPnpm].filter((p) => !fromNpm.has(p)),
    [],
    'in pnpm-lock.yaml only',
  );
  // The specifiers are package.json's, so `pnpm install --frozen-lockfile` accepts the lock.
  const importer = pnpmLock.importers['.'];
  for (const field of ['dependencies', 'devDependencies'] as const) {
    const specifiers = Object.fromEntries(
      Object.entries(importer[field] ?? {}).map(([n, d]) => [n, d.specifier]),
    );
    assert.deepEqual(specifiers, pkg[field], field);
  }
  assert.match(String((pkg as { packageManager?: string }).packageManager), /^pnpm@10\.\d+\.\d+$/);
});
