import { jwtDecode, type JwtPayload } from 'jwt-decode';

import type { JotTokens } from './config';

/** A held token pair, decoded once and judged with plain numbers (local clock, milliseconds). */
export interface JotSession {
  /** The JWT sent as the bearer token. */
  readonly accessToken: string;
  /** The refresh token, or null (none issued, or it lives in an HttpOnly cookie). */
  readonly refreshToken: string | null;
  /** The decoded payload of the access token. */
  readonly claims: JwtPayload;
  /** Local time of `exp`, or null when the token has none. */
  readonly expiresAt: number | null;
  /** From here on the token counts as expired (`exp` less the leeway); Infinity without `exp`. */
  readonly staleAt: number;
  /** When a proactive refresh is due; Infinity without `exp`. */
  readonly refreshAt: number;
  /** Server clock minus local clock, learned from `iat` at receipt; 0 when unknown. */
  readonly skew: number;
  /** Lives in local storage whatever the default (`login(…, { remember: true })`). */
  readonly remember: boolean;
  /**
   * The session's absolute end (local clock): its refresh token's `exp`, or `refresh_expires_in`
   * after receipt; Infinity when unknown.
   */
  readonly endsAt: number;
}

export interface Timing {
  readonly leewayMs: number;
  readonly refreshBeforeMs: number;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const TIME_CLAIMS = ['exp', 'nbf', 'iat'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The largest clock offset believed: 48 hours covers a device clock set in the wrong time zone
 * (up to 26 h) with room to spare. An `iat` further off is a wrong claim and is not learned; a
 * stored or shared offset beyond it makes the record unusable (it would keep an expired token
 * valid for years, or expire every token at once).
 */
export const MAX_SKEW_MS = 48 * 3_600_000;

/** A clock offset that can be used: a number within ±MAX_SKEW_MS (not NaN, not Infinity). */
export const isUsableSkew = (skew: unknown): skew is number =>
  typeof skew === 'number' && Math.abs(skew) <= MAX_SKEW_MS;

/**
 * Decodes an access token, or says why it is malformed: not three base64url parts, a header or
 * payload that is not a JSON object, or a time claim that is not a number.
 */
export function decodeToken(token: unknown): { claims: JwtPayload } | { problem: string } {
  if (typeof token !== 'string' || token === '')
    return { problem: ngDevMode ? 'the token is empty or not a string' : '' };
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[0] || !parts[1] || !parts.every((part) => BASE64URL.test(part))) {
    return {
      problem: ngDevMode ? 'the token is not three dot-separated base64url parts (header.payload.signature)' : '',
    };
  }
  let header: unknown;
  let claims: unknown;
  // jwt-decode, the standard decoder (API.md), decodes the parts: it throws on a base64 length no
  // encoder makes and on a part that is not JSON. The checks before and after it are ours.
  try {
    header = jwtDecode(token, { header: true });
    claims = jwtDecode(token);
  } catch {
    return { problem: ngDevMode ? 'the token header or payload is not base64url-encoded JSON' : '' };
  }
  if (!isObject(header) || !isObject(claims))
    return { problem: ngDevMode ? 'the token header or payload is not a JSON object' : '' };
  for (const key of TIME_CLAIMS) {
    const value = claims[key];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) {
      return { problem: ngDevMode ? `the token claim "${key}" is not a number` : '' };
    }
  }
  return { claims };
}

/**
 * Judges a token pair once. `fresh` marks a pair just issued by the server (login, refresh), whose
 * `iat` tells the server's clock; a stored pair brings the skew learned when it was received.
 */
export function toSession(
  tokens: JotTokens & { endsAt?: number },
  timing: Timing,
  opts: { fresh: boolean; skew?: number; remember?: boolean; now?: number },
): JotSession | { problem: string } {
  const decoded = decodeToken(tokens.accessToken);
  if ('problem' in decoded) return decoded;
  const { claims } = decoded;
  const now = opts.now ?? Date.now();
  let skew = opts.skew ?? 0;
  if (opts.fresh && claims.iat !== undefined) {
    // Every gap is learned, however small: a fresh token then lives its whole lifetime from receipt,
    // so its refresh comes no sooner than half of it. (Ignoring gaps under 5 s made 4 s tokens from a
    // server 2 s behind due at once: a refresh loop.) iat's rounding makes expiry look up to a
    // second (plus the latency) later than it is: the expiry margin below, a quarter of the
    // lifetime up to leewaySeconds, covers that for tokens of 4 s and longer.
    skew = claims.iat * 1000 - now;
  }
  if (!isUsableSkew(skew)) {
    // Learned from a fresh token, an offset this large is a wrong `iat`, not a clock: the local
    // clock judges instead. Stored or shared, it makes the record unusable.
    if (!opts.fresh)
      return { problem: ngDevMode ? `its clock offset "skew" is not a number within ±${MAX_SKEW_MS} ms` : '' };
    skew = 0;
  }
  const serverNow = now + skew;
  if (claims.nbf !== undefined && claims.nbf * 1000 - timing.leewayMs > serverNow) {
    return { problem: ngDevMode ? 'the token is not valid yet ("nbf" is in the future, beyond the leeway)' : '' };
  }
  let expiresAt: number | null = null;
  let staleAt = Infinity;
  let refreshAt = Infinity;
  if (claims.exp !== undefined) {
    const exp = claims.exp * 1000;
    // A token without iat: its lifetime counts from now, which is the most it can have left.
    const lifetime = exp - (claims.iat !== undefined ? claims.iat * 1000 : serverNow);
    expiresAt = exp - skew;
    // Short-lived tokens get proportionally small margins, so a 4 s token is neither judged
    // expired on arrival nor refreshed in a loop.
    staleAt = expiresAt - Math.max(0, Math.min(timing.leewayMs, lifetime / 4));
    refreshAt = expiresAt - Math.max(0, Math.min(timing.refreshBeforeMs, lifetime / 2));
  }
  const refreshToken =
    typeof tokens.refreshToken === 'string' && tokens.refreshToken !== '' ? tokens.refreshToken : null;
  // The absolute end: a refresh token that is a JWT says it; else `refresh_expires_in` of a fresh
  // answer, counted from receipt; else what was learned when the pair was received (a stored record).
  const refreshExp = refreshToken ? (decodeToken(refreshToken) as { claims?: JwtPayload }).claims?.exp : undefined;
  const expiresIn = tokens.refreshExpiresIn;
  const endsAt =
    refreshExp !== undefined
      ? refreshExp * 1000 - skew
      : opts.fresh && typeof expiresIn === 'number' && expiresIn > 0
        ? now + expiresIn * 1000
        : (tokens.endsAt ?? Infinity);
  return {
    accessToken: tokens.accessToken,
    refreshToken,
    claims,
    expiresAt,
    staleAt,
    refreshAt,
    skew,
    remember: !!opts.remember,
    endsAt,
  };
}

/** Two sessions are of different users: both tokens name a subject (`sub`), and not the same one. */
export function isOtherSubject(a: JotSession, b: JotSession): boolean {
  return a.claims.sub !== undefined && b.claims.sub !== undefined && a.claims.sub !== b.claims.sub;
}
