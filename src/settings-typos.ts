/**
 * Environment variables that look meant for this server but are none of its settings
 * (DATABSE_URL, POSTIZ_OAUTH_CLIENT_SECERT): a misspelt setting is silently ignored, and its
 * default quietly takes its place. Each is named with the setting it most resembles.
 */

type Env = Record<string, string | undefined>;

export interface UnknownVariable {
  /** The variable as set. */
  name: string;
  /** The setting it most resembles. */
  closest: string;
}

/**
 * Variables other software sets next to this server, with this server's prefixes: the
 * `postiz` CLI's own, and Kubernetes' service links (a service named `postiz` gives every pod
 * POSTIZ_SERVICE_HOST, POSTIZ_PORT=tcp://…, POSTIZ_PORT_5000_TCP_ADDR, …).
 */
const FOREIGN_NAMES = new Set(['POSTIZ_API_KEY', 'POSTIZ_AUTH_SERVER']);
const SERVICE_LINK = /_SERVICE_(HOST|PORT)(_\w+)?$|_PORT_\d+_(TCP|UDP|SCTP)(_(ADDR|PORT|PROTO))?$/;

/** Optimal string alignment distance: Levenshtein's, with a swap of two neighbours costing 1. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The prefixes that mark a variable as meant for this server: the first word of every
 * setting with more than one (DATABASE_, POSTIZ_, PGLITE_, RATE_, MAX_, POLL_, …), so that a
 * new setting brings its own.
 */
export function settingPrefixes(settings: readonly string[]): string[] {
  return [...new Set(settings.filter((n) => n.includes('_')).map((n) => `${n.split('_')[0]}_`))];
}

/**
 * Whether `name` is a near miss of `setting`: one edit for names of up to eight letters, two
 * beyond. Short names stay one edit apart (PGHOST and PGPORT are libpq's, two edits from HOST
 * and PORT), and nothing further counts: VERBOSE is five edits from HOST, and unrelated.
 */
export function isNearMiss(name: string, setting: string): boolean {
  return editDistance(name, setting) <= (name.length <= 8 ? 1 : 2);
}

/**
 * The settings `name` (upper case, words joined by `_`) likely means, or none when none is
 * similar: itself, the settings it ends (POOL_SIZE: DATABASE_POOL_SIZE; CLIENT_SECRET: one per
 * provider profile), or a near miss (SERVR_URL).
 */
export function settingsMeant(name: string, settings: readonly string[]): string[] {
  if (settings.includes(name)) return [name];
  const ending = name.length >= 4 ? settings.filter((s) => s.endsWith(`_${name}`)) : [];
  if (ending.length > 0) return ending;
  const closest = closestSetting(name, settings);
  return closest && isNearMiss(name, closest) ? [closest] : [];
}

/** The setting `name` most resembles (ties: the first in table order). */
export function closestSetting(name: string, settings: readonly string[]): string {
  let best = settings[0] ?? '';
  let distance = Number.POSITIVE_INFINITY;
  for (const setting of settings) {
    const d = editDistance(name, setting);
    if (d < distance) {
      best = setting;
      distance = d;
    }
  }
  return best;
}

/**
 * Every variable of `env` that is not a setting but looks meant for one: it has a setting's
 * prefix, or it is a near miss of a setting's name (PROT, SERVERURL; one edit for names of up
 * to eight letters, two beyond), or a setting's name in another case (database_url).
 */
export function unknownVariables(env: Env, settings: readonly string[]): UnknownVariable[] {
  const known = new Set(settings);
  const prefixes = settingPrefixes(settings);
  const out: UnknownVariable[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || known.has(name) || FOREIGN_NAMES.has(name)) continue;
    const upper = name.toUpperCase();
    if (!/^[A-Z][A-Z0-9_]{2,}$/.test(upper)) continue;
    if (SERVICE_LINK.test(upper) || (upper.endsWith('_PORT') && /^(tcp|udp|sctp):\/\//.test(value))) continue;
    const closest = closestSetting(upper, settings);
    if (isNearMiss(upper, closest) || prefixes.some((p) => upper.startsWith(p))) out.push({ name, closest });
  }
  return out;
}

/** One warning line for an unknown variable. */
export function describeUnknown({ name, closest }: UnknownVariable): string {
  const caseOnly = name.toUpperCase() === closest ? ' (names are case-sensitive)' : '';
  return `${name} is set but is not a setting of this server, so it is ignored: did you mean ${closest}?${caseOnly}`;
}

/**
 * A start-up failure's message with the misspellings that may explain it: a required or
 * expected setting that is missing while a variable resembling it is set.
 */
export function withTypoHints(message: string, env: Env, settings: readonly string[]): string {
  const hints = unknownVariables(env, settings)
    .filter(({ closest }) => !env[closest]?.trim() && new RegExp(`\\b${closest}\\b`).test(message))
    .map(({ name, closest }) => `${name} is set: did you mean ${closest}?`);
  return hints.length > 0 ? `${message} (${hints.join('; ')})` : message;
}
