/**
 * Imported first by `src/cli.ts`, so that it runs before any other module is evaluated: on a
 * Node.js older than the server supports, one line on stderr and exit 1.
 */
import { unsupportedNode } from './node-version.js';

const problem = unsupportedNode();
if (problem) {
  console.error(problem);
  process.exit(1);
}
