/**
 * The Node.js this server needs, checked before anything else loads (`src/require-node.ts`):
 * npm refuses to install on an older one (`engine-strict` in .npmrc), but `npx tsx src/cli.ts`
 * and a copied `dist/` skip npm, and an older Node then fails later and less clearly.
 */

/** The oldest Node.js major supported: package.json's `"engines": {"node": ">=22"}` (test/cli-node.test.ts keeps them equal). */
export const MIN_NODE_MAJOR = 22;

/** One line naming the running and the required Node.js when `version` is older; undefined when it will do. */
export function unsupportedNode(version: string = process.version): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1] ?? Number.NaN);
  if (major >= MIN_NODE_MAJOR) return undefined;
  return `postiz-cli-auth: Node.js ${version} is too old: this server needs Node.js ${MIN_NODE_MAJOR} or later (package.json "engines": ">=${MIN_NODE_MAJOR}"). Install Node.js ${MIN_NODE_MAJOR}, 24 or 26 and run it again.`;
}
