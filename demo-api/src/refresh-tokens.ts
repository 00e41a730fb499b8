/**
 * The refresh tokens: opaque random strings, stored only as hashes, grouped in families (one per
 * login). Each token may be spent once (rotation); spending a token a second time means it leaked,
 * so the whole family is revoked (reuse detection).
 *
 * State: `tokens` (hash of a token -> its entry), each family's own set of hashes (so a family can
 * be revoked in one go), and `lastSweep`, when expired and revoked entries were last dropped.
 */
import { createHash, randomBytes } from 'node:crypto';

/** One login's chain of refresh tokens. */
export interface RefreshFamily {
  readonly username: string;
  revoked: boolean;
  readonly tokenHashes: Set<string>;
}

interface RefreshEntry {
  readonly family: RefreshFamily;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  /** Spent: a second use is a reuse. */
  used: boolean;
}

/** What spending a refresh token came to. Only `spent` may be answered with a new pair. */
export type SpendOutcome =
  | { readonly outcome: 'spent'; readonly family: RefreshFamily }
  | { readonly outcome: 'unknown' }
  | { readonly outcome: 'expired' }
  /** The token had been spent before: its family is now revoked. */
  | { readonly outcome: 'reused' };

export interface RefreshTokenStore {
  /** A new family for `username` (a login); its first token comes from `issue`. */
  startFamily(username: string): RefreshFamily;
  /** A new token in `family`, valid for the store's lifetime from now. */
  issue(family: RefreshFamily): string;
  /** Spends `token` (rotation) or says why it cannot be spent; a reuse revokes the family. */
  spend(token: string): SpendOutcome;
  /** Revokes `family`: none of its tokens can be spent any more. */
  revokeFamily(family: RefreshFamily): void;
  /** Revokes the family `token` belongs to (logout); does nothing for an unknown token. */
  revokeFamilyOf(token: string): void;
  /** Revokes every family. */
  revokeAll(): void;
}

/** How often, at most, expired and revoked entries are dropped (on the next issue). */
const SWEEP_INTERVAL_MS = 30_000;

const tokenKey = (token: string): string => createHash('sha256').update(token).digest('base64url');

/** A store whose tokens live `ttlMs` from their issue, on the clock `now` (epoch ms). */
export function createRefreshTokenStore(ttlMs: number, now: () => number): RefreshTokenStore {
  const tokens = new Map<string, RefreshEntry>();
  let lastSweep = now();

  function forget(key: string, entry: RefreshEntry): void {
    tokens.delete(key);
    entry.family.tokenHashes.delete(key);
  }

  function sweep(): void {
    const time = now();
    if (time - lastSweep < SWEEP_INTERVAL_MS) return;
    lastSweep = time;
    for (const [key, entry] of tokens) {
      if (entry.expiresAt <= time || entry.family.revoked) forget(key, entry);
    }
  }

  function revokeFamily(family: RefreshFamily): void {
    family.revoked = true;
    for (const key of family.tokenHashes) tokens.delete(key);
    family.tokenHashes.clear();
  }

  return {
    startFamily(username) {
      return { username, revoked: false, tokenHashes: new Set() };
    },
    issue(family) {
      sweep();
      const token = randomBytes(32).toString('base64url');
      const key = tokenKey(token);
      tokens.set(key, { family, expiresAt: now() + ttlMs, used: false });
      family.tokenHashes.add(key);
      return token;
    },
    spend(token) {
      const key = tokenKey(token);
      const entry = tokens.get(key);
      if (!entry || entry.family.revoked) return { outcome: 'unknown' };
      if (entry.expiresAt <= now()) {
        forget(key, entry);
        return { outcome: 'expired' };
      }
      if (entry.used) {
        revokeFamily(entry.family);
        return { outcome: 'reused' };
      }
      entry.used = true;
      return { outcome: 'spent', family: entry.family };
    },
    revokeFamily,
    revokeFamilyOf(token) {
      const entry = tokens.get(tokenKey(token));
      if (entry) revokeFamily(entry.family);
    },
    revokeAll() {
      const families = new Set<RefreshFamily>();
      for (const entry of tokens.values()) families.add(entry.family);
      for (const family of families) revokeFamily(family);
    },
  };
}
