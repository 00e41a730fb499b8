/**
 * Checks a demo config.json. Plain TypeScript without Angular, so `npm run demo` runs the very
 * same checks in Node at start-up (scripts/demo.mjs) as the app does in the browser.
 */

/** Where tokens live, as `withStorage()` takes it. */
export type DemoStorage = 'session' | 'local' | 'memory';

/** `config.json`, checked, with every URL resolved against `apiBaseUrl`. */
export interface DemoConfig {
  /** As written in config.json ('' = the page's own origin). */
  readonly apiBaseUrl: string;
  /** The API's origin when it is not the page's own (it then goes into `allowedOrigins`). */
  readonly apiOrigin: string | null;
  readonly loginUrl: string;
  readonly refreshUrl: string | null;
  readonly logoutUrl: string | null;
  readonly restrictedUrl: string;
  /** POST with the token: the API refuses that token from then on. Without it, the demo breaks a copy's signature. */
  readonly expireUrl: string | null;
  readonly foreignUrl: string | null;
  readonly usernameField: string;
  readonly storage: DemoStorage;
  readonly crossTabSync: boolean;
  /** `withIdleLogout({ afterSeconds })`, or null for no idle logout. */
  readonly idleSeconds: number | null;
  /** withDpop(): RFC 9449 proofs, for an API that binds tokens (`npm start -- --dpop`). */
  readonly dpop: boolean;
}

/** config.json is missing, unreadable or wrong; the message says what to change. */
export class DemoConfigError extends Error {
  constructor(
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(message);
  }
}

/** A config.json that works, key by key: the examples the messages quote. */
export const CONFIG_EXAMPLE = {
  apiBaseUrl: 'https://api.example.com',
  loginUrl: '/authenticate',
  refreshUrl: '/refresh',
  logoutUrl: '/logout',
  restrictedUrl: '/api/restricted',
  expireUrl: '/api/expire-token',
  foreignUrl: 'https://third-party.example.org/echo',
  usernameField: 'username',
  storage: 'session',
  crossTabSync: true,
  idleSeconds: null,
  dpop: false,
} as const;

type ConfigKey = keyof typeof CONFIG_EXAMPLE;
const KNOWN_KEYS = Object.keys(CONFIG_EXAMPLE) as ConfigKey[];
const STORAGES: readonly DemoStorage[] = ['session', 'local', 'memory'];

/** Parses config.json's text; a syntax error names the file, line and column. */
export function parseConfigText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const { line, column } = jsonErrorLocation(text, e);
    const reason = e instanceof Error ? e.message.replace(/ in JSON at position \d+.*$/, '') : String(e);
    throw new DemoConfigError(`${file}:${line}:${column}: not valid JSON (${reason}).`);
  }
}

/** Line and column (1-based) of a `JSON.parse` error: from the position V8 reports, else the end of the text. */
export function jsonErrorLocation(text: string, error: unknown): { line: number; column: number } {
  const message = error instanceof Error ? error.message : '';
  const reported = /line (\d+) column (\d+)/.exec(message);
  if (reported) return { line: Number(reported[1]), column: Number(reported[2]) };
  const position = /position (\d+)/.exec(message);
  const offset = position ? Math.min(Number(position[1]), text.length) : text.length;
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before[before.length - 1]?.length ?? 0) + 1 };
}

/** The known key closest to an unknown one (edit distance, case ignored), or null when none is close. */
export function closestKey(unknown: string): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const key of KNOWN_KEYS) {
    const distance = editDistance(unknown.toLowerCase(), key.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [key, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(unknown.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Checks a parsed config.json and resolves its URLs against `apiBaseUrl` and the page. */
export function parseDemoConfig(raw: unknown, page: Pick<Location, 'href' | 'origin'>): DemoConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new DemoConfigError('config.json must hold a JSON object.');
  }
  const config = raw as Record<string, unknown>;
  const problems: string[] = unknownKeys(config);
  const url = (key: ConfigKey & `${string}Url`, required: boolean) => urlField(config, key, required, problems);

  const { base, apiOrigin } = apiBase(config['apiBaseUrl'], page, problems);
  const loginUrl = url('loginUrl', true);
  const restrictedUrl = url('restrictedUrl', true);
  const refreshUrl = url('refreshUrl', false);
  const logoutUrl = url('logoutUrl', false);
  const expireUrl = url('expireUrl', false);
  const foreignUrl = url('foreignUrl', false);
  const usernameField = urlField(config, 'usernameField', false, problems) ?? 'username';
  const { storage, crossTabSync } = storageChoice(config, problems);
  const idleSeconds = idleChoice(config['idleSeconds'], problems);
  const dpop = config['dpop'] ?? false;
  if (typeof dpop !== 'boolean') problems.push(`"dpop" must be true or false, got ${JSON.stringify(dpop)}.`);

  if (problems.length > 0 || loginUrl === null || restrictedUrl === null) {
    throw new DemoConfigError('config.json has problems:', problems);
  }
  const resolve = (path: string | null) => (path === null ? null : join(base, path));
  return {
    apiBaseUrl: typeof config['apiBaseUrl'] === 'string' ? config['apiBaseUrl'] : '',
    apiOrigin,
    loginUrl: join(base, loginUrl),
    refreshUrl: resolve(refreshUrl),
    logoutUrl: resolve(logoutUrl),
    restrictedUrl: join(base, restrictedUrl),
    expireUrl: resolve(expireUrl),
    foreignUrl: resolve(foreignUrl),
    usernameField,
    storage,
    crossTabSync,
    idleSeconds,
    dpop: dpop === true,
  };
}

/** `idleSeconds`: left out or null is off; else whole seconds, at least 2 (the warning needs one). */
function idleChoice(value: unknown, problems: string[]): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isInteger(value) || (value as number) < 2) {
    problems.push(
      `"idleSeconds" must be a whole number of seconds >= 2 (e.g. 900), or null for no idle logout; got ${JSON.stringify(value)}.`,
    );
    return null;
  }
  return value as number;
}

/** The demo's warning time before an idle logout: a minute, or half of `idleSeconds` when that is shorter. */
export function idleWarnSeconds(idleSeconds: number): number {
  return Math.min(60, Math.floor(idleSeconds / 2));
}

function unknownKeys(config: Record<string, unknown>): string[] {
  return Object.keys(config)
    .filter((key) => !(KNOWN_KEYS as string[]).includes(key))
    .map((key) => {
      const near = closestKey(key);
      return near
        ? `unknown key "${key}": did you mean "${near}"?`
        : `unknown key "${key}"; the keys are ${KNOWN_KEYS.join(', ')}.`;
    });
}

/** A string field (trimmed), or null when absent; a wrong type is a problem quoting the key's own example. */
function urlField(
  config: Record<string, unknown>,
  key: ConfigKey,
  required: boolean,
  problems: string[],
): string | null {
  const value = config[key];
  const example = JSON.stringify(CONFIG_EXAMPLE[key]);
  if (value === undefined || value === null || value === '') {
    if (required) problems.push(`"${key}" is required (a URL relative to apiBaseUrl, e.g. ${example}).`);
    return null;
  }
  if (typeof value !== 'string') {
    problems.push(`"${key}" must be a string such as ${example}, got ${JSON.stringify(value)}.`);
    return null;
  }
  return value.trim();
}

function apiBase(
  value: unknown,
  page: Pick<Location, 'href' | 'origin'>,
  problems: string[],
): { base: string; apiOrigin: string | null } {
  if (value === undefined) return { base: '', apiOrigin: null };
  if (typeof value !== 'string') {
    problems.push(`"apiBaseUrl" must be a string ("" for the page's own origin), got ${JSON.stringify(value)}.`);
    return { base: '', apiOrigin: null };
  }
  const base = value.trim();
  if (base === '') return { base, apiOrigin: null };
  try {
    const url = new URL(base, page.href);
    if (!/^https?:$/.test(url.protocol)) throw new Error('not http(s)');
    return { base, apiOrigin: url.origin === page.origin ? null : url.origin };
  } catch {
    problems.push(
      `"apiBaseUrl" must be an http(s) URL such as "https://api.example.com", got ${JSON.stringify(value)}.`,
    );
    return { base, apiOrigin: null };
  }
}

function storageChoice(
  config: Record<string, unknown>,
  problems: string[],
): { storage: DemoStorage; crossTabSync: boolean } {
  const storage = config['storage'] ?? 'session';
  if (!STORAGES.includes(storage as DemoStorage)) {
    problems.push(`"storage" must be "session", "local" or "memory", got ${JSON.stringify(storage)}.`);
  }
  const sync = config['crossTabSync'];
  if (sync !== undefined && typeof sync !== 'boolean') {
    problems.push(`"crossTabSync" must be true or false, got ${JSON.stringify(sync)}.`);
  }
  if (sync === true && storage === 'memory') {
    problems.push(`"crossTabSync": true needs "storage": "session" or "local"; memory is private to one tab.`);
  }
  // Memory storage is private to one tab, so syncing defaults to off there.
  return { storage: storage as DemoStorage, crossTabSync: typeof sync === 'boolean' ? sync : storage !== 'memory' };
}

/** `path` under `base`; absolute URLs stay as they are. */
export function join(base: string, path: string): string {
  if (/^[a-z][a-z\d+.-]*:/i.test(path) || path.startsWith('//') || base === '') return path;
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
