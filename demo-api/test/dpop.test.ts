import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey } from 'jose';

import { FakeClock, decodePayload, errorBody, postJson, useServer, type TokenPair } from './helpers.ts';

interface Key {
  privateKey: CryptoKey;
  jwk: Record<string, unknown>;
}

async function newKey(): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { privateKey, jwk: { ...(await exportJWK(publicKey)) } };
}

const athOf = (token: string) => createHash('sha256').update(token).digest('base64url');

interface ProofClaims {
  htm: string;
  htu: string;
  ath?: string | undefined;
  nonce?: string | undefined;
  iat?: number;
  jti?: string;
}

function proof(key: Key, clock: FakeClock, { iat, jti, ...claims }: ProofClaims): Promise<string> {
  return new SignJWT({ ...claims, jti: jti ?? randomUUID() })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk })
    .setIssuedAt(iat ?? Math.floor(clock.ms / 1000))
    .sign(key.privateKey);
}

async function dpopLogin(base: string, key: Key, clock: FakeClock, nonce?: string): Promise<Response> {
  const htu = `${base}/authenticate`;
  return postJson(
    htu,
    { username: 'john.doe', password: 'foobar' },
    { DPoP: await proof(key, clock, { htm: 'POST', htu, nonce }) },
  );
}

/** GET /api/restricted with `Authorization: <scheme> <token>` and, when given, a proof. */
function restricted(base: string, scheme: string, token: string, dpop?: string): Promise<Response> {
  return fetch(`${base}/api/restricted`, {
    headers: { Authorization: `${scheme} ${token}`, ...(dpop === undefined ? {} : { DPoP: dpop }) },
  });
}

describe('DPoP: binding and verification (RFC 9449)', () => {
  const clock = new FakeClock();
  const h = useServer({ now: clock.now });

  async function boundPair(key: Key): Promise<TokenPair> {
    const res = await dpopLogin(h.url, key, clock);
    assert.equal(res.status, 200);
    return (await res.json()) as TokenPair;
  }
  const apiProof = (key: Key, token: string, overrides: Partial<ProofClaims> = {}) =>
    proof(key, clock, { htm: 'GET', htu: `${h.url}/api/restricted`, ath: athOf(token), ...overrides });

  it('binds the tokens of a login that carries a proof: token_type DPoP, cnf.jkt the key', async () => {
    const key = await newKey();
    const pair = await boundPair(key);
    assert.equal(pair.token_type, 'DPoP');
    assert.deepEqual(decodePayload(pair.access_token)['cnf'], { jkt: await calculateJwkThumbprint(key.jwk) });
    const res = await restricted(h.url, 'DPoP', pair.access_token, await apiProof(key, pair.access_token));
    assert.equal(res.status, 200);
  });

  it('accepts the proof whatever query the request has (htu has none)', async () => {
    const key = await newKey();
    const pair = await boundPair(key);
    const res = await fetch(`${h.url}/api/restricted?page=2`, {
      headers: { Authorization: `DPoP ${pair.access_token}`, DPoP: await apiProof(key, pair.access_token) },
    });
    assert.equal(res.status, 200);
  });

  it('keeps Bearer working: a login without a proof gets unbound Bearer tokens', async () => {
    const res = await postJson(`${h.url}/authenticate`, { username: 'john.doe', password: 'foobar' });
    const pair = (await res.json()) as TokenPair;
    assert.equal(pair.token_type, 'Bearer');
    assert.equal(decodePayload(pair.access_token)['cnf'], undefined);
    assert.equal((await restricted(h.url, 'Bearer', pair.access_token)).status, 200);
  });

  it('refuses a bound token sent as Bearer (the stolen-token case)', async () => {
    const pair = await boundPair(await newKey());
    const res = await restricted(h.url, 'Bearer', pair.access_token);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^DPoP error="invalid_token"/);
  });

  const refusals: Array<[string, (key: Key, token: string) => Promise<{ token: string; dpop: string }>]> = [
    [
      'a proof for another method',
      async (key, token) => ({ token, dpop: await apiProof(key, token, { htm: 'POST' }) }),
    ],
    [
      'a proof for another URL',
      async (key, token) => ({ token, dpop: await apiProof(key, token, { htu: `${h.url}/api/other` }) }),
    ],
    [
      'a proof for another token',
      async (key, token) => ({ token, dpop: await apiProof(key, token, { ath: athOf(`${token}x`) }) }),
    ],
    ['a proof without ath', async (key, token) => ({ token, dpop: await apiProof(key, token, { ath: undefined }) })],
    ['a proof signed by another key', async (_key, token) => ({ token, dpop: await apiProof(await newKey(), token) })],
    [
      'a proof whose iat is stale',
      async (key, token) => ({ token, dpop: await apiProof(key, token, { iat: Math.floor(clock.ms / 1000) - 120 }) }),
    ],
    [
      'a proof whose iat is in the future',
      async (key, token) => ({ token, dpop: await apiProof(key, token, { iat: Math.floor(clock.ms / 1000) + 120 }) }),
    ],
    ['a proof that is not a JWT', (_key, token) => Promise.resolve({ token, dpop: 'not.a.proof' })],
  ];
  for (const [what, make] of refusals) {
    it(`refuses ${what}: 401 invalid_dpop_proof`, async () => {
      const key = await newKey();
      const pair = await boundPair(key);
      const { token, dpop } = await make(key, pair.access_token);
      const res = await restricted(h.url, 'DPoP', token, dpop);
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /^DPoP error="invalid_dpop_proof"/);
      assert.equal((await errorBody(res)).error, 'invalid_dpop_proof');
    });
  }

  it('refuses a proof whose jti was used before', async () => {
    const key = await newKey();
    const pair = await boundPair(key);
    const dpop = await apiProof(key, pair.access_token);
    assert.equal((await restricted(h.url, 'DPoP', pair.access_token, dpop)).status, 200);
    const replayed = await restricted(h.url, 'DPoP', pair.access_token, dpop);
    assert.equal(replayed.status, 401);
    assert.match((await errorBody(replayed)).error_description, /jti/);
  });

  it('refuses a bound token with the DPoP scheme but no proof', async () => {
    const pair = await boundPair(await newKey());
    const res = await restricted(h.url, 'DPoP', pair.access_token);
    assert.equal(res.status, 401);
    assert.equal((await errorBody(res)).error, 'invalid_dpop_proof');
  });

  it('refreshes a bound family with a proof of the same key, and revokes it on a proof of another', async () => {
    const key = await newKey();
    const pair = await boundPair(key);
    const refresh = async (signer: Key, refreshToken: string) =>
      postJson(
        `${h.url}/refresh`,
        { refresh_token: refreshToken },
        { DPoP: await proof(signer, clock, { htm: 'POST', htu: `${h.url}/refresh` }) },
      );
    const renewed = await refresh(key, pair.refresh_token);
    assert.equal(renewed.status, 200);
    const next = (await renewed.json()) as TokenPair;
    assert.equal(next.token_type, 'DPoP');

    const stolen = await refresh(await newKey(), next.refresh_token);
    assert.equal(stolen.status, 400);
    assert.equal((await errorBody(stolen)).error, 'invalid_dpop_proof');
    // The family is gone: not even the right key can use it now.
    assert.equal((await refresh(key, next.refresh_token)).status, 401);
  });

  it('refuses a login proof for another URL: 400 invalid_dpop_proof', async () => {
    const key = await newKey();
    const res = await postJson(
      `${h.url}/authenticate`,
      { username: 'john.doe', password: 'foobar' },
      { DPoP: await proof(key, clock, { htm: 'POST', htu: `${h.url}/refresh` }) },
    );
    assert.equal(res.status, 400);
    assert.equal((await errorBody(res)).error, 'invalid_dpop_proof');
  });
});

describe('DPoP: requireDpop', () => {
  const clock = new FakeClock();
  const h = useServer({ now: clock.now, requireDpop: true });

  it('refuses a login without a proof (400), and binds one with a proof', async () => {
    const bare = await postJson(`${h.url}/authenticate`, { username: 'john.doe', password: 'foobar' });
    assert.equal(bare.status, 400);
    assert.equal((await errorBody(bare)).error, 'invalid_dpop_proof');
    const res = await dpopLogin(h.url, await newKey(), clock);
    assert.equal(((await res.json()) as TokenPair).token_type, 'DPoP');
  });
});

describe('DPoP: server nonces', () => {
  const clock = new FakeClock();
  const h = useServer({ now: clock.now, dpopNonce: true });

  it('asks for its nonce (400 use_dpop_nonce with DPoP-Nonce), then accepts a proof that carries it', async () => {
    const key = await newKey();
    const first = await dpopLogin(h.url, key, clock);
    assert.equal(first.status, 400);
    assert.equal((await errorBody(first)).error, 'use_dpop_nonce');
    const nonce = first.headers.get('dpop-nonce');
    assert.ok(nonce);
    const second = await dpopLogin(h.url, key, clock, nonce);
    assert.equal(second.status, 200);
    const pair = (await second.json()) as TokenPair;

    const htu = `${h.url}/api/restricted`;
    const without = await restricted(
      h.url,
      'DPoP',
      pair.access_token,
      await proof(key, clock, { htm: 'GET', htu, ath: athOf(pair.access_token) }),
    );
    assert.equal(without.status, 401);
    assert.match(without.headers.get('www-authenticate') ?? '', /^DPoP error="use_dpop_nonce"/);
    const withNonce = await restricted(
      h.url,
      'DPoP',
      pair.access_token,
      await proof(key, clock, { htm: 'GET', htu, ath: athOf(pair.access_token), nonce }),
    );
    assert.equal(withNonce.status, 200);
  });
});
