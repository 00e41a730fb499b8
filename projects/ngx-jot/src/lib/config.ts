import { configError } from './errors';

/** The pair a login or refresh response yields. */
export interface JotTokens {
  /** The JWT sent as the bearer token. */
  accessToken: string;
  /** The opaque token sent to the refresh endpoint, if the server issues one. */
  refreshToken?: string | null;
}

/** Why a session ended. */
export type JotLogoutReason = 'user' | 'expired' | 'refresh-failed' | 'other-tab';

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

/** The default `readTokens`: `{token}`, `{access_token, refresh_token}` or `{accessToken, refreshToken}`. */
export function defaultReadTokens(body: unknown): JotTokens | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  const accessToken = b['access_token'] ?? b['accessToken'] ?? b['token'];
  if (typeof accessToken !== 'string') return null;
  const refreshToken = b['refresh_token'] ?? b['refreshToken'];
  return { accessToken, refreshToken: typeof refreshToken === 'string' ? refreshToken : undefined };
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/** Checks a `JotConfig` once, at start-up, and throws a `JotError('config')` that says what to change. */
export function resolveConfig(config: JotConfig): ResolvedJotConfig {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- runtime check for JavaScript callers and `any`; the type cannot promise it.
  if (!config || typeof config !== 'object') {
    throw configError(
      ngDevMode ? `provideJot() needs a config object, e.g. provideJot({ loginUrl: '/authenticate' }).` : '',
    );
  }
  if (!nonEmpty(config.loginUrl)) {
    throw configError(
      ngDevMode ? `loginUrl must be a non-empty URL, e.g. provideJot({ loginUrl: '/authenticate' }).` : '',
    );
  }
  if (config.logoutUrl !== undefined && !nonEmpty(config.logoutUrl)) {
    throw configError(ngDevMode ? `logoutUrl must be a non-empty URL or left out.` : '');
  }
  const origins = new Set<string>();
  const originPatterns: RegExp[] = [];
  for (const entry of config.allowedOrigins ?? []) {
    if (entry instanceof RegExp) {
      if (
        (typeof ngDevMode === 'undefined' || ngDevMode) &&
        !(entry.source.startsWith('^') && entry.source.endsWith('$'))
      ) {
        console.warn(
          `ngx-jot: allowedOrigins entry ${entry} is not anchored with ^...$; it may match an origin such as https://api.example.com.evil.com.`,
        );
      }
      originPatterns.push(entry);
      continue;
    }
    origins.add(checkOrigin(entry));
  }
  for (const entry of config.excludedUrls ?? []) {
    if (!(entry instanceof RegExp) && !nonEmpty(entry)) {
      throw configError(
        ngDevMode
          ? `excludedUrls entries must be non-empty strings (URL prefixes) or RegExps; got ${JSON.stringify(entry)}.`
          : '',
      );
    }
  }
  const leeway = config.leewaySeconds ?? JOT_DEFAULT_CONFIG.leewaySeconds;
  if (typeof leeway !== 'number' || !(leeway >= 0) || !Number.isFinite(leeway)) {
    throw configError(ngDevMode ? `leewaySeconds must be a finite number >= 0; got ${String(leeway)}.` : '');
  }
  const headerName = config.headerName ?? JOT_DEFAULT_CONFIG.headerName;
  if (!nonEmpty(headerName) || !/^[!#$%&'*+.^_`|~\w-]+$/.test(headerName)) {
    throw configError(
      ngDevMode
        ? `headerName must be a valid HTTP header name such as 'Authorization'; got ${JSON.stringify(headerName)}.`
        : '',
    );
  }
  const scheme = config.scheme ?? JOT_DEFAULT_CONFIG.scheme;
  if (typeof scheme !== 'string' || /\s/.test(scheme)) {
    throw configError(
      ngDevMode
        ? `scheme must be a single word such as 'Bearer' (or '' for a bare token); got ${JSON.stringify(scheme)}.`
        : '',
    );
  }
  const loginRoute = config.loginRoute ?? JOT_DEFAULT_CONFIG.loginRoute;
  const forbiddenRoute = config.forbiddenRoute ?? loginRoute;
  for (const [key, route] of [
    ['loginRoute', loginRoute],
    ['forbiddenRoute', forbiddenRoute],
  ] as const) {
    if (!nonEmpty(route) || !route.startsWith('/')) {
      throw configError(
        ngDevMode ? `${key} must be an app path starting with '/', e.g. '/login'; got ${JSON.stringify(route)}.` : '',
      );
    }
  }
  const ssr = config.ssr ?? JOT_DEFAULT_CONFIG.ssr;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- runtime check for JavaScript callers and `any`; the type cannot promise it.
  if (ssr !== 'defer' && ssr !== 'redirect') {
    throw configError(ngDevMode ? `ssr must be 'defer' or 'redirect'; got ${JSON.stringify(ssr)}.` : '');
  }
  if (config.readTokens !== undefined && typeof config.readTokens !== 'function') {
    throw configError(ngDevMode ? `readTokens must be a function (body) => ({ accessToken, refreshToken }).` : '');
  }
  return {
    loginUrl: config.loginUrl,
    logoutUrl: config.logoutUrl ?? null,
    origins,
    originPatterns,
    excludedUrls: [...(config.excludedUrls ?? [])],
    headerName,
    scheme,
    loginRoute,
    forbiddenRoute,
    leewayMs: leeway * 1000,
    readTokens: config.readTokens ?? defaultReadTokens,
    ssr,
  };
}

function checkOrigin(entry: unknown): string {
  const fix =
    ngDevMode &&
    `allowedOrigins entries are origins like 'https://api.example.com' or 'http://localhost:3000' (scheme, host, optional port; no path)`;
  if (!nonEmpty(entry)) throw configError(ngDevMode ? `${fix}; got ${JSON.stringify(entry)}.` : '');
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw configError(ngDevMode ? `${fix}; got '${entry}', which has no scheme.` : '');
  }
  if (url.origin === 'null' || !/^https?:$/.test(url.protocol)) {
    throw configError(ngDevMode ? `${fix}; got '${entry}', which is not an http(s) origin.` : '');
  }
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
    throw configError(
      ngDevMode ? `${fix}; got '${entry}'. Remove the path, query or credentials, i.e. use '${url.origin}'.` : '',
    );
  }
  return url.origin;
}
