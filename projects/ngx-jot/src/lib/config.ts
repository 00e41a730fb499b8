import { InjectionToken } from '@angular/core';

import { configError } from './errors';

/** The pair a login or refresh response yields. */
export interface JotTokens {
  /** The JWT sent as the bearer token. */
  accessToken: string;
  /** The opaque token sent to the refresh endpoint, if the server issues one. */
  refreshToken?: string | null;
  /**
   * Seconds the refresh token lives from now (`refresh_expires_in`, as Keycloak sends it): the
   * session's absolute end, warned of by `JotAuth.sessionWarning`. Anything but a positive number is ignored.
   */
  refreshExpiresIn?: number | null;
}

/**
 * Why a session ended; `'subject-changed'`: a refresh answered for another user, whose session
 * begins next; `'idle'`: no user activity for `withIdleLogout({ afterSeconds })` in any tab.
 */
export type JotLogoutReason = 'user' | 'expired' | 'refresh-failed' | 'other-tab' | 'subject-changed' | 'idle';

/** Configuration of `provideJot()`. Only `loginUrl` is required. */
export interface JotConfig {
  /** Where `JotAuth.login()` POSTs the credentials as JSON. */
  loginUrl: string;
  /** Optional; `logout()` POSTs the refresh token here, best-effort, never blocking the local logout. */
  logoutUrl?: string;
  /** Origins (`scheme://host[:port]` strings or RegExps tested against the origin) whose requests get the token. Relative and same-origin URLs always do. */
  allowedOrigins?: readonly (string | RegExp)[];
  /** URLs (string prefixes or RegExps) that never get the token. */
  excludedUrls?: readonly (string | RegExp)[];
  /** Header that carries the credential. Default `Authorization`. */
  headerName?: string;
  /** Scheme before the token in that header. Default `Bearer`; `''` sends the bare token. */
  scheme?: string;
  /** Where guards send unauthenticated users (with `returnUrl`). Default `/login`. */
  loginRoute?: string;
  /** Where `jotClaimsGuard` sends a logged-in user who fails its check. Default `loginRoute`. */
  forbiddenRoute?: string;
  /** Safety margin for time claims, in seconds. Default 30. */
  leewaySeconds?: number;
  /** Maps a login/refresh response body to tokens. Default accepts `{token}`, `{access_token, refresh_token}`, `{accessToken, refreshToken}`. */
  readTokens?: (body: unknown) => JotTokens | null | undefined;
  /** What guards do during a server render: `'defer'` (neither redirect nor render) or `'redirect'`. Default `'defer'`. */
  ssr?: 'defer' | 'redirect';
}

/** Defaults of the optional `JotConfig` keys. */
export const JOT_DEFAULT_CONFIG = {
  /** The header that carries the token. */
  headerName: 'Authorization',
  /** The word before the token in that header. */
  scheme: 'Bearer',
  /** Where guards send unauthenticated users. */
  loginRoute: '/login',
  /** Safety margin for time claims, in seconds. */
  leewaySeconds: 30,
  /** Guards neither redirect nor render during a server render. */
  ssr: 'defer',
} as const;

/** Default margin of the proactive refresh (`withRefresh({ refreshBeforeExpirySeconds })`), in seconds. */
export const JOT_DEFAULT_REFRESH_BEFORE_EXPIRY_SECONDS = 30;

/** `JotConfig` checked and completed, with precomputed lookups for the hot path. */
export interface ResolvedJotConfig {
  readonly loginUrl: string;
  readonly logoutUrl: string | null;
  readonly origins: ReadonlySet<string>;
  readonly originPatterns: readonly RegExp[];
  readonly excludedUrls: readonly (string | RegExp)[];
  readonly headerName: string;
  readonly scheme: string;
  readonly loginRoute: string;
  readonly forbiddenRoute: string;
  readonly leewayMs: number;
  readonly readTokens: (body: unknown) => JotTokens | null | undefined;
  readonly ssr: 'defer' | 'redirect';
}

/**
 * The default `readTokens`: `{token}`, `{access_token, refresh_token}` or `{accessToken, refreshToken}`,
 * with `refresh_expires_in` where the server sends it.
 */
export function defaultReadTokens(body: unknown): JotTokens | null {
  if (!body || typeof body !== 'object') return null;
  const fields = body as Record<string, unknown>;
  const accessToken = fields['access_token'] ?? fields['accessToken'] ?? fields['token'];
  if (typeof accessToken !== 'string') return null;
  const refreshToken = fields['refresh_token'] ?? fields['refreshToken'];
  const refreshExpiresIn = fields['refresh_expires_in'];
  return {
    accessToken,
    refreshToken: typeof refreshToken === 'string' ? refreshToken : undefined,
    refreshExpiresIn: typeof refreshExpiresIn === 'number' ? refreshExpiresIn : undefined,
  };
}

/** Has a character other than whitespace: what `s.trim() !== ''` tests. */
const NON_BLANK = /\S/;
/** An app path, as `loginRoute` and `forbiddenRoute` must be. */
const APP_PATH = /^\//;

/** What a failed config check says. */
type Why = (got: unknown) => string;

/** Dev-mode text of most failed checks: `<key> must be <what>; got <the value, as JSON>.` */
const mustBe =
  (key: string, what: string) =>
  (got: unknown): string =>
    `${key} must be ${what}; got ${JSON.stringify(got)}.`;

/** Dev-mode text of the route checks. */
const appPath = "an app path starting with '/', e.g. '/login'";

/** `value` when it is a string that `pattern` matches; else a `JotError('config')` that says `why`. */
function text(value: unknown, pattern: RegExp, why: Why): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw configError(why(value));
  return value;
}

/** A list option: left out is empty; anything but an array (a lone string, say) is refused, not split. */
function list<T>(value: readonly T[] | undefined, name: string): readonly T[] {
  const entries = value ?? [];
  // Not Array.isArray(entries): that would narrow `entries` to any[].
  if (!(entries instanceof Array)) {
    throw configError(`${name} must be an array, e.g. ${name}: [${JSON.stringify(value)}].`);
  }
  return entries;
}

/** A RegExp without the g and y flags: with them, test() resumes at lastIndex and misses every other URL. */
const stateless = (re: RegExp): RegExp =>
  re.global || re.sticky ? new RegExp(re.source, re.flags.replace(/[gy]/g, '')) : re;

/**
 * Completes a `JotConfig` once, at start-up. Development builds first check it whole and throw a
 * `JotError('config')` that says what to change; production builds (`ngDevMode` false) drop the
 * checks and their messages, as Angular drops its own: a config that passed them in development
 * resolves the same in production.
 */
export function resolveConfig(config: JotConfig): ResolvedJotConfig {
  if (ngDevMode) checkConfig(config);
  const origins = new Set<string>();
  const originPatterns: RegExp[] = [];
  for (const entry of config.allowedOrigins ?? []) {
    if (entry instanceof RegExp) originPatterns.push(stateless(entry));
    // As the URL parser serialises it (lower case, no default port), as request origins are.
    else origins.add(new URL(entry).origin);
  }
  const loginRoute = config.loginRoute ?? JOT_DEFAULT_CONFIG.loginRoute;
  // A default applies to undefined only: null is refused (in development) like any other non-function.
  const { readTokens = defaultReadTokens } = config;
  return {
    loginUrl: config.loginUrl,
    logoutUrl: config.logoutUrl ?? null,
    origins,
    originPatterns,
    excludedUrls: (config.excludedUrls ?? []).map((entry) => (entry instanceof RegExp ? stateless(entry) : entry)),
    leewayMs: (config.leewaySeconds ?? JOT_DEFAULT_CONFIG.leewaySeconds) * 1000,
    headerName: config.headerName ?? JOT_DEFAULT_CONFIG.headerName,
    scheme: config.scheme ?? JOT_DEFAULT_CONFIG.scheme,
    loginRoute,
    forbiddenRoute: config.forbiddenRoute ?? loginRoute,
    ssr: config.ssr ?? JOT_DEFAULT_CONFIG.ssr,
    readTokens,
  };
}

/**
 * Development only: every check of a `JotConfig`, in a fixed order, so of several things wrong
 * the same one is reported each time.
 */
function checkConfig(config: JotConfig): void {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- runtime check for JavaScript callers and `any`; the type cannot promise it.
  if (!config || typeof config !== 'object') {
    throw configError(`provideJot() needs a config object, e.g. provideJot({ loginUrl: '/authenticate' }).`);
  }
  text(
    config.loginUrl,
    NON_BLANK,
    () => `loginUrl must be a non-empty URL, e.g. provideJot({ loginUrl: '/authenticate' }).`,
  );
  // Left out, not null: null is refused like any other non-URL.
  if (config.logoutUrl !== undefined)
    text(config.logoutUrl, NON_BLANK, () => `logoutUrl must be a non-empty URL or left out.`);
  for (const entry of list(config.allowedOrigins, 'allowedOrigins')) {
    if (!(entry instanceof RegExp)) {
      checkOrigin(entry);
    } else if (!(entry.source.startsWith('^') && entry.source.endsWith('$'))) {
      console.warn(
        `ngx-jot: allowedOrigins entry ${entry} is not anchored with ^...$; it may match an origin such as https://api.example.com.evil.com.`,
      );
    }
  }
  for (const entry of list(config.excludedUrls, 'excludedUrls')) {
    if (!(entry instanceof RegExp))
      text(entry, NON_BLANK, mustBe('excludedUrls entries', 'non-empty strings (URL prefixes) or RegExps'));
  }
  const leeway = config.leewaySeconds ?? JOT_DEFAULT_CONFIG.leewaySeconds;
  // Number.isFinite is false for anything but a finite number (no coercion, unlike isFinite).
  if (!(Number.isFinite(leeway) && leeway >= 0)) {
    throw configError(`leewaySeconds must be a finite number >= 0; got ${String(leeway)}.`);
  }
  // The HTTP token characters (RFC 9110).
  text(
    config.headerName ?? JOT_DEFAULT_CONFIG.headerName,
    /^[!#$%&'*+.^_`|~\w-]+$/,
    mustBe('headerName', "a valid HTTP header name such as 'Authorization'"),
  );
  text(
    config.scheme ?? JOT_DEFAULT_CONFIG.scheme,
    /^\S*$/,
    mustBe('scheme', "a single word such as 'Bearer' (or '' for a bare token)"),
  );
  text(config.loginRoute ?? JOT_DEFAULT_CONFIG.loginRoute, APP_PATH, mustBe('loginRoute', appPath));
  // Defaults to loginRoute, which passed the check above.
  text(
    config.forbiddenRoute ?? config.loginRoute ?? JOT_DEFAULT_CONFIG.loginRoute,
    APP_PATH,
    mustBe('forbiddenRoute', appPath),
  );
  text(config.ssr ?? JOT_DEFAULT_CONFIG.ssr, /^(defer|redirect)$/, mustBe('ssr', "'defer' or 'redirect'"));
  if (config.readTokens !== undefined && typeof config.readTokens !== 'function') {
    throw configError(`readTokens must be a function (body) => ({ accessToken, refreshToken }).`);
  }
}

/** Development only: `entry` must be an http(s) origin, nothing more (no path, query or credentials). */
function checkOrigin(entry: unknown): void {
  const fix = `allowedOrigins entries are origins like 'https://api.example.com' or 'http://localhost:3000' (scheme, host, optional port; no path)`;
  const origin = text(entry, NON_BLANK, (got) => `${fix}; got ${JSON.stringify(got)}.`);
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw configError(`${fix}; got '${origin}', which has no scheme.`);
  }
  // An http(s) URL always has a tuple origin, never the opaque "null".
  const http = /^https?:$/.test(url.protocol);
  if (!http || url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
    throw configError(
      http
        ? `${fix}; got '${origin}'. Remove the path, query or credentials, i.e. use '${url.origin}'.`
        : `${fix}; got '${origin}', which is not an http(s) origin.`,
    );
  }
}

/** The checked configuration of `provideJot()`. */
export const JOT_CONFIG = new InjectionToken<ResolvedJotConfig>(ngDevMode ? 'JOT_CONFIG' : '', {
  providedIn: 'root',
  factory: () => {
    throw configError(
      ngDevMode
        ? `no configuration found. Add provideJot({ loginUrl: '/authenticate' }) to your application providers ` +
            `(app.config.ts), or provideJotTesting() from 'ngx-jot/testing' in tests.`
        : '',
    );
  },
});
