import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignJWT, UnsecuredJWT } from 'jose';
import { FakeClock, SECRET, errorBody, login, useServer } from './helpers.ts';

const clock = new FakeClock();
const h = useServer({
  accessTtlSeconds: 30,
  now: clock.now,
  corsOrigins: ['http://allowed.test', 'http://other.test'],
});
const key = new TextEncoder().encode(SECRET);

const get = (path: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${h.url}${path}`, { headers });
const bearer = (jwt: string): Record<string, string> => ({ Authorization: `Bearer ${jwt}` });

function sign(claims: Record<string, unknown>, iatSeconds: number, ttl: number, signingKey = key): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('john.doe')
    .setJti('test-jti')
    .setIssuedAt(iatSeconds)
    .setExpirationTime(iatSeconds + ttl)
    .sign(signingKey);
}

async function expectInvalidToken(res: Response, description: RegExp): Promise<void> {
  assert.equal(res.status, 401);
  const challenge = res.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /^Bearer error="invalid_token", error_description="[^"]+"$/);
  const body = await errorBody(res);
  assert.equal(body.error, 'invalid_token');
  assert.match(body.error_description, description);
  assert.ok(challenge.includes(body.error_description));
}

const nowSeconds = (): number => Math.floor(clock.now() / 1000);

describe('GET /api/restricted', () => {
  it('answers the classic payload plus the caller email for a valid token', async () => {
    h.api.resetStats();
    const { access_token } = await login(h.url, 'admin', 'admin');
    const res = await get('/api/restricted', bearer(access_token));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { name: 'foo', email: 'admin@example.com' });
    // Scheme is case-insensitive.
    const lower = await get('/api/restricted', { Authorization: `bearer ${access_token}` });
    assert.equal(lower.status, 200);
    await lower.body?.cancel();
    assert.equal(h.api.stats.restricted, 2);
    assert.equal(h.api.stats.restrictedUnauthorized, 0);
  });

  it('rejects an expired token (clock past exp)', async () => {
    const { access_token } = await login(h.url);
    clock.advance(30);
    await expectInvalidToken(await get('/api/restricted', bearer(access_token)), /expired/);
  });

  it('rejects a token signed with the right secret but a past exp', async () => {
    const jwt = await sign({ email: 'john.doe@example.com' }, nowSeconds() - 120, 60);
    await expectInvalidToken(await get('/api/restricted', bearer(jwt)), /expired/);
  });

  it('rejects a forged signature and a tampered payload', async () => {
    const forged = await sign(
      { email: 'evil@example.com' },
      nowSeconds(),
      60,
      new TextEncoder().encode('x'.repeat(32)),
    );
    await expectInvalidToken(await get('/api/restricted', bearer(forged)), /signature/);

    const { access_token } = await login(h.url);
    const [header, , signature] = access_token.split('.');
    const payload = Buffer.from(
      JSON.stringify({
        sub: 'admin',
        email: 'admin@example.com',
        roles: ['admin'],
        iat: nowSeconds(),
        exp: nowSeconds() + 60,
        jti: 'x',
      }),
    ).toString('base64url');
    await expectInvalidToken(await get('/api/restricted', bearer(`${header}.${payload}.${signature}`)), /signature/);
  });

  it('rejects alg "none" and other algorithms', async () => {
    const none = new UnsecuredJWT({ email: 'john.doe@example.com' })
      .setSubject('john.doe')
      .setJti('n')
      .setIssuedAt(nowSeconds())
      .setExpirationTime(nowSeconds() + 60)
      .encode();
    assert.match(none, /\.$/);
    await expectInvalidToken(await get('/api/restricted', bearer(none)), /algorithm/);
    // Same with a stray signature appended.
    await expectInvalidToken(await get('/api/restricted', bearer(`${none}c2ln`)), /algorithm|malformed|invalid/);

    const hs512 = await new SignJWT({ email: 'john.doe@example.com' })
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('john.doe')
      .setJti('h')
      .setIssuedAt(nowSeconds())
      .setExpirationTime(nowSeconds() + 60)
      .sign(new TextEncoder().encode(SECRET.repeat(2)));
    await expectInvalidToken(await get('/api/restricted', bearer(hs512)), /algorithm/);
  });

  it('rejects malformed tokens and tokens missing required claims', async () => {
    for (const bad of ['abc', 'a.b.c', 'a.b', '...', 'eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.sig']) {
      await expectInvalidToken(await get('/api/restricted', bearer(bad)), /malformed|invalid|signature/);
    }
    const noEmail = await sign({}, nowSeconds(), 60);
    await expectInvalidToken(await get('/api/restricted', bearer(noEmail)), /claims/);
  });

  it('answers a bare realm challenge when no bearer token is sent', async () => {
    h.api.resetStats();
    for (const headers of [
      {},
      { Authorization: 'Basic am9objpmb28=' },
      { Authorization: 'Bearer' },
      { Authorization: 'Bearer ' },
    ]) {
      const res = await get('/api/restricted', headers);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="ngx-jot-demo"');
      await errorBody(res);
    }
    assert.equal(h.api.stats.restricted, 4);
    assert.equal(h.api.stats.restrictedUnauthorized, 4);
  });
});

describe('GET /api/echo', () => {
  it('reports whether an Authorization header arrived, with CORS * for any origin', async () => {
    h.api.resetStats();
    const without = await get('/api/echo', { Origin: 'http://localhost:9999' });
    assert.equal(without.status, 200);
    assert.equal(without.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(await without.json(), { authorization: false });

    const withAuth = await get('/api/echo', { Origin: 'http://evil.test', Authorization: 'Bearer leaked' });
    assert.equal(withAuth.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(await withAuth.json(), { authorization: true });
    assert.equal(h.api.stats.echo, 2);
  });

  it('allows the Authorization header in its preflight, from any origin', async () => {
    const res = await fetch(`${h.url}/api/echo`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://anything.test',
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'authorization',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /\bAuthorization\b/);
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /\bGET\b/);
    assert.equal(h.api.stats.echo, 2, 'preflights are not counted');
  });
});

describe('CORS for configured origins', () => {
  const preflight = (path: string, origin: string): Promise<Response> =>
    fetch(`${h.url}${path}`, {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type',
      },
    });

  it('answers preflights 204 without auth and echoes an allowed origin', async () => {
    for (const path of ['/authenticate', '/refresh', '/logout', '/api/restricted']) {
      const res = await preflight(path, 'http://other.test');
      assert.equal(res.status, 204, path);
      assert.equal(res.headers.get('access-control-allow-origin'), 'http://other.test');
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
      assert.equal(res.headers.get('access-control-allow-methods'), 'GET, POST, OPTIONS');
      assert.equal(res.headers.get('access-control-allow-headers'), 'Authorization, Content-Type, X-XSRF-TOKEN, DPoP');
      assert.equal(res.headers.get('access-control-expose-headers'), 'WWW-Authenticate, DPoP-Nonce');
      assert.equal(res.headers.get('vary'), 'Origin');
    }
  });

  it('adds CORS headers to actual responses, including errors', async () => {
    const res = await get('/api/restricted', { Origin: 'http://allowed.test' });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://allowed.test');
    assert.equal(res.headers.get('access-control-expose-headers'), 'WWW-Authenticate, DPoP-Nonce');
    assert.equal(res.headers.get('vary'), 'Origin');
    assert.equal(res.headers.get('access-control-allow-methods'), null);
    await res.body?.cancel();
  });

  it('sends no CORS headers to disallowed or missing origins', async () => {
    for (const origin of ['http://evil.test', 'http://allowed.test.evil.test', 'null']) {
      const pre = await preflight('/authenticate', origin);
      assert.equal(pre.status, 204);
      const real = await get('/api/restricted', { Origin: origin });
      for (const res of [pre, real]) {
        const cors = [...res.headers.keys()].filter((name) => name.startsWith('access-control-'));
        assert.deepEqual(cors, [], origin);
      }
      await real.body?.cancel();
    }
    const noOrigin = await get('/api/restricted');
    assert.equal(noOrigin.headers.get('access-control-allow-origin'), null);
    await noOrigin.body?.cancel();
  });
});
