/**
 * Files the server reads at run time, found from this module's own URL. It sits one level
 * below the package root both as src/paths.ts (tsx, tests) and inside the bundle as
 * dist/*.js (scripts/build.mjs puts every chunk directly in dist/), so one relative path
 * serves both.
 */
import { fileURLToPath } from 'node:url';

/** `migrations/` at the package root. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

/** The pages' static files: src/views/assets, copied to dist/views/assets by the build. */
export const ASSETS_DIR = fileURLToPath(new URL('./views/assets/', import.meta.url));
