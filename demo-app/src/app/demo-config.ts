import { InjectionToken } from '@angular/core';

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
  readonly foreignUrl: string | null;
  readonly usernameField: string;
  readonly storage: DemoStorage;
  readonly crossTabSync: boolean;
}

/** The checked `config.json` of this run. */
export const DEMO_CONFIG = new InjectionToken<DemoConfig>('DEMO_CONFIG');

/** config.json is missing, unreadable or wrong; the message says what to change. */
export class DemoConfigError extends Error {
  constructor(
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(message);
  }
}

const STORAGES: readonly DemoStorage[] = ['session', 'local', 'memory'];

/** Fetches and checks config.json; rejects with a `DemoConfigError` that says what is wrong. */
export async function loadDemoConfig(url: string, page: Location = location): Promise<DemoConfig> {
  let response: Response;
  try {
    response = await fetch(url, { cache: 'no-store', headers: { Accept: 'application/json' } });
  } catch (e) {
    throw new DemoConfigError(`Could not fetch ${url} (${e instanceof Error ? e.message : String(e)}).`);
  }
  if (!response.ok) {
    throw new DemoConfigError(`${url} answered ${response.status} ${response.statusText}`.trim() + '.');
  }
  const text = await response.text();
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new DemoConfigError(`${url} is not valid JSON.`);
  }
  return parseDemoConfig(raw, page);
}

/** Checks a parsed config.json and resolves its URLs. */
export function parseDemoConfig(raw: unknown, page: Pick<Location, 'href' | 'origin'>): DemoConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new DemoConfigError('config.json must hold a JSON object.');
  }
  const c = raw as Record<string, unknown>;
  const problems: string[] = [];
  const str = (key: string, required: boolean): string | null => {
    const v = c[key];
    if (v === undefined || v === null || v === '') {
      if (required) problems.push(`"${key}" is required (a URL relative to apiBaseUrl, e.g. "/authenticate").`);
      return null;
    }
    if (typeof v !== 'string') {
      problems.push(`"${key}" must be a string, got ${JSON.stringify(v)}.`);
      return null;
    }
    return v.trim();
  };

  const apiBaseUrl = c['apiBaseUrl'] === undefined ? '' : c['apiBaseUrl'];
  let base = '';
  let apiOrigin: string | null = null;
  if (typeof apiBaseUrl !== 'string') {
    problems.push(`"apiBaseUrl" must be a string ("" for the page's own origin), got ${JSON.stringify(apiBaseUrl)}.`);
  } else if (apiBaseUrl.trim() !== '') {
    base = apiBaseUrl.trim();
    try {
      const url = new URL(base, page.href);
      if (!/^https?:$/.test(url.protocol)) throw new Error('not http(s)');
      if (url.origin !== page.origin) apiOrigin = url.origin;
    } catch {
      problems.push(
        `"apiBaseUrl" must be an http(s) URL such as "https://api.example.com", got ${JSON.stringify(apiBaseUrl)}.`,
      );
    }
  }

  const loginUrl = str('loginUrl', true);
  const restrictedUrl = str('restrictedUrl', true);
  const refreshUrl = str('refreshUrl', false);
  const logoutUrl = str('logoutUrl', false);
  const foreignUrl = str('foreignUrl', false);
  const usernameField = str('usernameField', false) ?? 'username';

  const storage = c['storage'] ?? 'session';
  if (!STORAGES.includes(storage as DemoStorage)) {
    problems.push(`"storage" must be "session", "local" or "memory", got ${JSON.stringify(storage)}.`);
  }
  const sync = c['crossTabSync'];
  if (sync !== undefined && typeof sync !== 'boolean') {
    problems.push(`"crossTabSync" must be true or false, got ${JSON.stringify(sync)}.`);
  }
  if (sync === true && storage === 'memory') {
    problems.push(`"crossTabSync": true needs "storage": "session" or "local"; memory is private to one tab.`);
  }

  if (problems.length > 0 || loginUrl === null || restrictedUrl === null) {
    throw new DemoConfigError('config.json has problems:', problems);
  }
  return {
    apiBaseUrl: typeof apiBaseUrl === 'string' ? apiBaseUrl : '',
    apiOrigin,
    loginUrl: join(base, loginUrl),
    refreshUrl: refreshUrl === null ? null : join(base, refreshUrl),
    logoutUrl: logoutUrl === null ? null : join(base, logoutUrl),
    restrictedUrl: join(base, restrictedUrl),
    foreignUrl: foreignUrl === null ? null : join(base, foreignUrl),
    usernameField,
    storage: storage as DemoStorage,
    // Memory storage is private to one tab, so syncing defaults to off there.
    crossTabSync: typeof sync === 'boolean' ? sync : storage !== 'memory',
  };
}

/** `path` under `base`; absolute URLs stay as they are. */
export function join(base: string, path: string): string {
  if (/^[a-z][a-z\d+.-]*:/i.test(path) || path.startsWith('//') || base === '') return path;
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** A short label for a URL: its path when it is the page's own origin. */
export function shortUrl(url: string): string {
  try {
    const u = new URL(url, location.href);
    return u.origin === location.origin ? u.pathname + u.search : u.href;
  } catch {
    return url;
  }
}
