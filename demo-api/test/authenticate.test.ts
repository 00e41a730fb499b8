import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { jwtVerify } from 'jose';
import { createDemoApi, MAX_BODY_BYTES } from '../src/server.ts';
import { SECRET, decodePayload, errorBody, postJson, useServer } from './helpers.ts';

const h = useServer();

describe('POST /authenticate', () => {
  it('issues an HS256 access token and an opaque refresh token for john.doe', async () => {
    const res = await postJson(`${h.url}/authenticate`, { username: 'john.doe', password: 'foobar' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type']);
    assert.equal(body['token_type'], 'Bearer');
    assert.equal(body['expires_in'], 30);
    assert.match(String(body['refresh_token']), /^[A-Za-z0-9_-]{43}$/);

    const { payload, protectedHeader } = await jwtVerify(
      String(body['access_token']),
      new TextEncoder().encode(SECRET),
      {
        algorithms: ['HS256'],
      },
    );
    assert.equal(protectedHeader.alg, 'HS256');
    assert.equal(payload.sub, 'john.doe');
    assert.equal(payload['email'], 'john.doe@example.com');
    assert.equal(payload['name'], 'John Doe');
    assert.deepEqual(payload['roles'], ['user']);
    assert.equal(typeof payload.jti, 'string');
    assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 30);
  });

  it('gives admin both roles and a unique jti per token', async () => {
    const tokens = await Promise.all(
      [1, 2, 3].map(async () => {
        const res = await postJson(`${h.url}/authenticate`, { username: 'admin', password: 'admin' });
        assert.equal(res.status, 200);
        return ((await res.json()) as { access_token: string }).access_token;
      }),
    );
    const payloads = tokens.map(decodePayload);
    assert.deepEqual(payloads[0]?.['roles'], ['user', 'admin']);
    assert.equal(payloads[0]?.['name'], 'Ada Admin');
    assert.equal(payloads[0]?.['email'], 'admin@example.com');
    assert.equal(new Set(payloads.map((p) => p['jti'])).size, 3);
  });

  it('rejects a wrong password or unknown user with 401 invalid_grant', async () => {
    for (const creds of [
      { username: 'john.doe', password: 'nope' },
      { username: 'john.doe', password: 'admin' },
      { username: 'nobody', password: 'foobar' },
    ]) {
      const res = await postJson(`${h.url}/authenticate`, creds);
      assert.equal(res.status, 401);
      assert.equal((await errorBody(res)).error, 'invalid_grant');
    }
  });

  it('answers 400 for bad JSON, non-objects and missing or non-string fields', async () => {
    const bodies = [
      '{"username":',
      '',
      'null',
      '[]',
      '"x"',
      '{}',
      '{"username":"john.doe"}',
      '{"password":"foobar"}',
      '{"username":42,"password":"foobar"}',
      '{"username":"john.doe","password":null}',
      '{"username":"","password":""}',
    ];
    for (const body of bodies) {
      const res = await postJson(`${h.url}/authenticate`, body);
      assert.equal(res.status, 400, `body ${body}`);
      assert.equal((await errorBody(res)).error, 'invalid_request');
    }
  });

  it('answers 415 for a wrong content type', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const res = await fetch(`${h.url}/authenticate`, {
        method: 'POST',
        headers: { 'Content-Type': type },
        body: 'username=john.doe&password=foobar',
      });
      assert.equal(res.status, 415);
      await errorBody(res);
    }
    const ok = await postJson(
      `${h.url}/authenticate`,
      { username: 'john.doe', password: 'foobar' },
      {
        'Content-Type': 'application/json; charset=UTF-8',
      },
    );
    assert.equal(ok.status, 200);
  });

  it('answers 413 for bodies over 16 kB, with and without Content-Length', async () => {
    const huge = JSON.stringify({ username: 'john.doe', password: 'x'.repeat(MAX_BODY_BYTES) });
    const res = await postJson(`${h.url}/authenticate`, huge);
    assert.equal(res.status, 413);
    await errorBody(res);

    // Chunked upload (no Content-Length): the limit is enforced while streaming.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: h.port,
          method: 'POST',
          path: '/authenticate',
          agent: false,
          headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
        },
        (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(4096));
      req.end();
    });
    assert.equal(chunked, 413);

    // The server is still fine afterwards.
    const after = await postJson(`${h.url}/authenticate`, { username: 'john.doe', password: 'foobar' });
    assert.equal(after.status, 200);
  });

  it('answers 405 with Allow for wrong methods and 404 JSON for unknown routes', async () => {
    const wrong = await fetch(`${h.url}/authenticate`);
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'POST, OPTIONS');
    assert.equal((await errorBody(wrong)).error, 'method_not_allowed');

    const wrong2 = await postJson(`${h.url}/api/restricted`, {});
    assert.equal(wrong2.status, 405);
    await errorBody(wrong2);

    for (const p of ['/nope', '/api/nope', '/authenticate/', '/index.html', '/config.json']) {
      const res = await fetch(`${h.url}${p}`);
      assert.equal(res.status, 404, p);
      assert.equal((await errorBody(res)).error, 'not_found');
    }
  });
});

describe('createDemoApi options', () => {
  it('validates TTLs and secret length', () => {
    const base = { accessTtlSeconds: 30, refreshTtlSeconds: 60, corsOrigins: [] };
    assert.throws(() => createDemoApi({ ...base, accessTtlSeconds: 0 }), TypeError);
    assert.throws(() => createDemoApi({ ...base, refreshTtlSeconds: 1.5 }), TypeError);
    assert.throws(() => createDemoApi({ ...base, secret: 'short' }), TypeError);
    assert.doesNotThrow(() => createDemoApi(base));
  });

  it('uses a random secret per instance when none is given', async () => {
    const a = createDemoApi({ accessTtlSeconds: 30, refreshTtlSeconds: 60, corsOrigins: [] });
    const b = createDemoApi({ accessTtlSeconds: 30, refreshTtlSeconds: 60, corsOrigins: [] });
    const { url: urlA } = await a.listen(0);
    const { url: urlB } = await b.listen(0);
    try {
      const res = await postJson(`${urlA}/authenticate`, { username: 'john.doe', password: 'foobar' });
      const { access_token } = (await res.json()) as { access_token: string };
      const other = await fetch(`${urlB}/api/restricted`, { headers: { Authorization: `Bearer ${access_token}` } });
      assert.equal(other.status, 401);
      await other.body?.cancel();
      const same = await fetch(`${urlA}/api/restricted`, { headers: { Authorization: `Bearer ${access_token}` } });
      assert.equal(same.status, 200);
      await same.body?.cancel();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
