/*
 * DPoP proofs (RFC 9449, section 4): the key pair (ES256, private key non-extractable), its JWK
 * thumbprint (RFC 7638), the `ath` of a token, and the signed proof JWT. WebCrypto only: no
 * runtime dependency. Stateless; the key's home is dpop-key-store.ts.
 */

/** A DPoP key: the pair (its private key can be used, never read) and what the proofs show of it. */
export interface DpopKey {
  readonly keys: CryptoKeyPair;
  /** The public key as a JWK (`kty`, `crv`, `x`, `y`): the proof's `jwk` header. */
  readonly jwk: JsonWebKey;
  /** Its RFC 7638 thumbprint: what a bound token's `cnf.jkt` names. */
  readonly jkt: string;
}

/** What a proof says about its request. */
export interface DpopClaims {
  /** The HTTP method. */
  htm: string;
  /** The request URL without query and fragment (`htuOf()`). */
  htu: string;
  /** The SHA-256 of the access token, on API calls (`athOf()`). */
  ath?: string;
  /** The server's latest `DPoP-Nonce` for the origin, when it sent one. */
  nonce?: string;
}

/** UTF-8 bytes (a function, not a module-level encoder: an app without withDpop() ships none of this file). */
function utf8(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text);
}

/** base64url without padding, of bytes or of a string's UTF-8. */
export function base64url(input: ArrayBuffer | Uint8Array | string): string {
  const bytes = typeof input === 'string' ? utf8(input) : new Uint8Array(input);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function sha256(text: string): Promise<string> {
  return base64url(await crypto.subtle.digest('SHA-256', utf8(text)));
}

/** A new ES256 key; its private half cannot be exported, only used (and kept in IndexedDB as is). */
export async function createDpopKey(): Promise<DpopKey> {
  const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  return describeKey(keys);
}

/** The JWK and thumbprint of a pair (the public key of a generated pair is always exportable). */
async function describeKey(keys: CryptoKeyPair): Promise<DpopKey> {
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', keys.publicKey);
  const jwk = { kty, crv, x, y };
  // RFC 7638: the required members only, in lexicographic order, no whitespace.
  const jkt = await sha256(JSON.stringify({ crv, kty, x, y }));
  return { keys, jwk, jkt };
}

/** `ath`: the base64url SHA-256 of the access token (RFC 9449, section 4.2). */
export function athOf(accessToken: string): Promise<string> {
  return sha256(accessToken);
}

/** `htu`: the absolute URL of the request, without query and fragment. */
export function htuOf(url: string, base: string): string {
  const parsed = new URL(url, base);
  parsed.search = '';
  parsed.hash = '';
  return parsed.href;
}

/** A unique `jti`: 128 random bits. */
function randomId(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(16)));
}

/** A signed proof JWT for one request; `iat` is this machine's clock plus `skewMs` (the server's offset). */
export async function createProof(key: DpopKey, claims: DpopClaims, skewMs = 0): Promise<string> {
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk };
  const payload = { jti: randomId(), iat: Math.floor((Date.now() + skewMs) / 1000), ...claims };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  // WebCrypto's ECDSA signature is r || s (IEEE P1363): exactly what JWS ES256 wants.
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.keys.privateKey, utf8(input));
  return `${input}.${base64url(signature)}`;
}
