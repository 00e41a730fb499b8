/**
 * DPoP (RFC 9449) on the server: checking a request's proof (signature with the key its header
 * carries, `typ`, `htm`, `htu`, `iat` window, `jti` seen once, `ath`, the server's nonce when
 * configured), and the errors RFC 9449 names.
 *
 * State: the `jti`s seen within the `iat` window (the replay cache), and the current and previous
 * server nonce (when nonces are on).
 */
import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';
import { EmbeddedJWK, calculateJwkThumbprint, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';

import { HttpError } from './http-json.ts';

/** How far a proof's `iat` may be from the server's clock, seconds (either way). */
export const DPOP_IAT_WINDOW_SECONDS = 60;
/** A server nonce is replaced after this long; the one before stays good as long again. */
const NONCE_LIFETIME_MS = 5 * 60_000;
/** Asymmetric algorithms accepted for proofs (RFC 9449 section 4.3: never `none` or a MAC). */
const PROOF_ALGORITHMS = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'];

/** What a proof must match: the request, and for an API call the access token it comes with. */
export interface ProofExpectation {
  method: string;
  /** The absolute URL of the request, without query and fragment. */
  url: string;
  /** The access token (an API call): the proof's `ath` must be its SHA-256. */
  accessToken?: string;
}

/** Checks proofs; one per server. */
export interface DpopVerifier {
  /** The JWK thumbprint of the proof's key, once the proof of `req` checks out; a 400/401 `HttpError` otherwise. */
  verify(req: http.IncomingMessage, expected: ProofExpectation, status: 400 | 401): Promise<string>;
  /** The nonce to send in `DPoP-Nonce`, when nonces are on. */
  nonce(): string | null;
}

/**
 * An RFC 9449 error: at the token endpoint (400) as a JSON `error`, at a resource (401) in a
 * `WWW-Authenticate: DPoP` challenge too. `use_dpop_nonce` brings the nonce to use.
 */
export function dpopError(
  status: 400 | 401,
  error: 'invalid_dpop_proof' | 'use_dpop_nonce' | 'invalid_token',
  description: string,
  nonce?: string | null,
): HttpError {
  const headers: Record<string, string> = {
    'WWW-Authenticate': `DPoP error="${error}", error_description="${description}", algs="${PROOF_ALGORITHMS.join(' ')}"`,
  };
  if (nonce) headers['DPoP-Nonce'] = nonce;
  return new HttpError(status, error, description, headers);
}

/** The base64url SHA-256 of an access token: what a proof's `ath` must say. */
export function athOf(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('base64url');
}

/** The absolute URL of `req` as the client sees it on this plain-http server, without the query. */
export function requestUrl(req: http.IncomingMessage): string {
  const path = (req.url ?? '/').split(/[?#]/, 1)[0];
  return `http://${req.headers.host ?? '127.0.0.1'}${path}`;
}

/** Compares two URLs after dropping query and fragment (and normalizing case of scheme and host). */
function sameHtu(htu: unknown, expected: string): boolean {
  if (typeof htu !== 'string') return false;
  try {
    const url = new URL(htu);
    url.search = '';
    url.hash = '';
    return url.href === new URL(expected).href;
  } catch {
    return false;
  }
}

/** A verifier on the clock `now`; `nonces: true` asks every proof for the server's current nonce. */
export function createDpopVerifier(now: () => number, nonces: boolean): DpopVerifier {
  /** jti -> until when (epoch ms) it is remembered. */
  const seen = new Map<string, number>();
  let current = { value: randomBytes(16).toString('base64url'), since: now() };
  let previous: string | null = null;

  const nonce = (): string | null => {
    if (!nonces) return null;
    if (now() - current.since > NONCE_LIFETIME_MS) {
      previous = current.value;
      current = { value: randomBytes(16).toString('base64url'), since: now() };
    }
    return current.value;
  };

  // Entries go in in the order they expire (each lives the same time from now()), so the scan stops at
  // the first one still alive: a flood of proofs costs each request only what has expired since.
  const forgetOld = (): void => {
    for (const [jti, until] of seen) {
      if (until > now()) break;
      seen.delete(jti);
    }
  };

  return {
    nonce,
    async verify(req, expected, status) {
      const refuse = (description: string) => dpopError(status, 'invalid_dpop_proof', description);
      const header = req.headers['dpop'];
      if (typeof header !== 'string' || header === '' || header.includes(','))
        throw refuse('Exactly one DPoP proof is required');
      let payload: Record<string, unknown>;
      let jwk: JWK | undefined;
      try {
        if (decodeProtectedHeader(header).typ !== 'dpop+jwt') throw refuse('The proof typ must be dpop+jwt');
        const verified = await jwtVerify(header, EmbeddedJWK, {
          typ: 'dpop+jwt',
          algorithms: PROOF_ALGORITHMS,
        });
        ({ payload } = verified);
        jwk = verified.protectedHeader.jwk;
      } catch (err) {
        if (err instanceof HttpError) throw err;
        throw refuse('The proof signature or format is invalid');
      }
      if (!jwk || 'd' in jwk) throw refuse('The proof must carry a public jwk');
      if (payload['htm'] !== expected.method) throw refuse('The proof is for another method');
      if (!sameHtu(payload['htu'], expected.url)) throw refuse('The proof is for another URL');
      const iat = payload['iat'];
      if (typeof iat !== 'number' || Math.abs(iat - now() / 1000) > DPOP_IAT_WINDOW_SECONDS)
        throw refuse('The proof iat is outside the accepted window');
      const jti = payload['jti'];
      if (typeof jti !== 'string' || jti === '') throw refuse('The proof needs a jti');
      if (expected.accessToken !== undefined && payload['ath'] !== athOf(expected.accessToken))
        throw refuse('The proof is for another access token');
      if (nonces) {
        const wanted = nonce();
        if (payload['nonce'] !== wanted && (previous === null || payload['nonce'] !== previous))
          throw dpopError(status, 'use_dpop_nonce', 'Use the server-provided DPoP nonce', wanted);
      }
      forgetOld();
      if (seen.has(jti)) throw refuse('The proof was used before (jti replay)');
      seen.set(jti, now() + 2 * DPOP_IAT_WINDOW_SECONDS * 1000);
      return calculateJwkThumbprint(jwk, 'sha256');
    },
  };
}
