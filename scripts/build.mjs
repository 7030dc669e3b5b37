/**
 * `npm run build`: type-check, then bundle src/cli.ts and everything it imports (dependencies
 * included) into dist/ with esbuild, and copy the pages' static files next to it.
 *
 * Why a bundle: start-up is mostly module loading, and resolving and compiling some 400 files
 * of node_modules was most of a start on PostgreSQL; one file takes a fraction of that
 * (docs/performance.md, "Figures behind the code"). Lazy imports (the demo, PGlite) stay lazy
 * as split chunks.
 * Every output file sits directly in dist/, as src/paths.ts expects.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const args = new Set(process.argv.slice(2));
if (!args.has('--no-check')) {
  const tsc = ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'tsconfig.build.json'];
  const { status } = spawnSync(process.execPath, tsc, { stdio: 'inherit' });
  if (status !== 0) process.exit(status ?? 1);
}
rmSync('dist', { recursive: true, force: true });

/**
 * The commit this bundle is built from (src/version.ts): SOURCE_COMMIT when the build is given
 * one (a Docker build has no .git: `--build-arg SOURCE_COMMIT=…`), else git's, else unknown.
 */
function sourceCommit() {
  if (process.env.SOURCE_COMMIT?.trim()) return process.env.SOURCE_COMMIT.trim();
  const git = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' });
  return git.status === 0 ? git.stdout.trim() : 'unknown';
}
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

await build({
  entryPoints: ['src/cli.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  // The oldest Node.js the project supports (package.json "engines").
  target: 'node22',
  sourcemap: true,
  // Smaller to parse at start-up; names are kept, so stack traces still read.
  minifyWhitespace: true,
  minifySyntax: true,
  // The version and commit are written in, so the bundle knows them wherever it is copied.
  define: {
    __POSTIZ_CLI_AUTH_BUILD__: JSON.stringify({ version, commit: sourceCommit() }),
  },
  legalComments: 'linked',
  logLevel: 'warning',
  external: [
    // Loads its WASM and data files from its own directory: it stays in node_modules.
    '@electric-sql/pglite',
    // Only for LOG_FORMAT=pretty, loaded then.
    'pino-pretty',
    // Optional dependencies of pg that are never installed here.
    'pg-native',
    'pg-cloudflare',
  ],
  // Bundled CommonJS packages call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
});
cpSync('src/views/assets', 'dist/views/assets', { recursive: true });
