/** Options of `fakeJwt()`. */
export interface FakeJwtOptions {
  /** Lifetime from now; default 3600. A negative value makes an expired token. */
  expiresInSeconds?: number;
  /** Issue time; default now. */
  issuedAt?: Date;
}

function base64url(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * An unsigned (`alg: none`) JWT with `iat`, `exp` and the given claims, for tests only: no
 * server should ever accept it.
 *
 * @usageNotes
 * ```ts
 * auth.setTokens({ accessToken: fakeJwt({ sub: 'ada', roles: ['admin'] }) });
 * ```
 */
export function fakeJwt(claims: Record<string, unknown> = {}, options: FakeJwtOptions = {}): string {
  const iat = Math.floor((options.issuedAt?.getTime() ?? Date.now()) / 1000);
  const exp = iat + (options.expiresInSeconds ?? 3600);
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ iat, exp, ...claims })}.`;
}
