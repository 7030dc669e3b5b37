/**
 * The pages' static files, read once at start-up (they are small and never change while the
 * process runs). Each has a versioned URL, `/assets/<name>?v=<content hash>`, so it can be
 * cached for good: a new release never reuses an old URL.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ASSETS_DIR } from '../paths.js';

export interface Asset {
  type: string;
  body: Buffer;
  /** The URL pages link to; the query only changes the cache key. */
  url: string;
}

const TYPES: Record<string, string> = {
  'style.css': 'text/css; charset=utf-8',
  'verify.js': 'text/javascript; charset=utf-8',
};

/** Every asset by file name. */
export const ASSETS: ReadonlyMap<string, Asset> = new Map(
  Object.entries(TYPES).map(([name, type]) => {
    const body = readFileSync(join(ASSETS_DIR, name));
    const version = createHash('sha256').update(body).digest('hex').slice(0, 10);
    return [name, { type, body, url: `/assets/${name}?v=${version}` }];
  }),
);
