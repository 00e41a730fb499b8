/**
 * The access tokens: HS256 JWTs issued at login and refresh, checked on every API call.
 *
 * State: the signing key (replaced only by the fault mode's key rotation) and the tokens revoked
 * before their `exp` (the demo's "expire the token now", the fault mode's revocations).
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';

import { HttpError } from './http-json.ts';
import type { DemoUser } from './users.ts';

/** The realm of the 401 challenge sent when no bearer token came. */
export const REALM = 'ngx-jot-demo';

/** Issues and checks the HS256 access tokens, and remembers the ones revoked before their `exp`. */
export interface AccessTokens {
  /** A token for `user`; bound to the DPoP key with thumbprint `jkt` (claim `cnf.jkt`) when given. */
  issue(user: DemoUser, jkt?: string | null): Promise<string>;
  /** The verified payload of the request's token (scheme `Bearer` or `DPoP`); throws a 401 `HttpError` otherwise. */
  verify(req: http.IncomingMessage): Promise<Record<string, unknown>>;
  /** Refuses this token (by its `jti`) from now until it would have expired anyway. */
  revoke(payload: Record<string, unknown>): void;
  /** Signs with a new key from now on; tokens signed with the old one are refused (fault mode). */
  rotateKey(next: Uint8Array): void;
}

/** The request's credential: `Authorization: Bearer <token>` or `Authorization: DPoP <token>`. */
export function credentialOf(req: http.IncomingMessage): { scheme: 'bearer' | 'dpop'; token: string } | null {
  const match = /^(Bearer|DPoP)[ ]+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match?.[1] && match[2] ? { scheme: match[1].toLowerCase() as 'bearer' | 'dpop', token: match[2] } : null;
}

function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'The access token expired';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'The access token signature is invalid';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'The access token algorithm is not accepted';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return 'The access token claims are invalid';
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid)
    return 'The access token is malformed';
  return 'The access token is invalid';
}

/** Signs with `initialSecret` tokens that live `ttlSeconds` on the clock `now` (epoch ms). */
export function createAccessTokens(initialSecret: Uint8Array, ttlSeconds: number, now: () => number): AccessTokens {
  let secret = initialSecret;
  /** jti -> exp (epoch seconds), so the list forgets tokens that expired by themselves. */
  const revoked = new Map<string, number>();

  const invalidToken = (description: string): HttpError =>
    new HttpError(401, 'invalid_token', description, {
      'WWW-Authenticate': `Bearer error="invalid_token", error_description="${description}"`,
    });

  function forgetExpired(): void {
    const nowSeconds = now() / 1000;
    for (const [jti, exp] of revoked) if (exp <= nowSeconds) revoked.delete(jti);
  }

  return {
    issue(user, jkt) {
      const iat = Math.floor(now() / 1000);
      const claims = { email: user.email, name: user.name, roles: [...user.roles], ...(jkt && { cnf: { jkt } }) };
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(user.username)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlSeconds)
        .setJti(randomUUID())
        .sign(secret);
    },
    async verify(req) {
      const credential = credentialOf(req);
      if (!credential) {
        throw new HttpError(401, 'unauthorized', 'No bearer token was sent', {
          'WWW-Authenticate': `Bearer realm="${REALM}"`,
        });
      }
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(credential.token, secret, {
          algorithms: ['HS256'],
          requiredClaims: ['sub', 'iat', 'exp', 'jti'],
          currentDate: new Date(now()),
        }));
        if (typeof payload['email'] !== 'string') throw new joseErrors.JWTClaimValidationFailed('email', payload);
      } catch (err) {
        throw invalidToken(describeJoseError(err));
      }
      forgetExpired();
      if (revoked.has(payload['jti'] as string)) throw invalidToken('The access token was revoked');
      return payload;
    },
    revoke(payload) {
      revoked.set(payload['jti'] as string, payload['exp'] as number);
    },
    rotateKey(next) {
      secret = next;
    },
  };
}
