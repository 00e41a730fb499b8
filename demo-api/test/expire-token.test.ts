import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock, errorBody, login, postJson, useServer } from './helpers.ts';

const clock = new FakeClock();
const h = useServer({ accessTtlSeconds: 30, now: clock.now });

const bearer = (jwt: string): Record<string, string> => ({ Authorization: `Bearer ${jwt}` });
const restricted = (jwt: string): Promise<Response> => fetch(`${h.url}/api/restricted`, { headers: bearer(jwt) });
const expire = (headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${h.url}/api/expire-token`, { method: 'POST', headers });

describe('POST /api/expire-token', () => {
  it('makes the API refuse that access token from now on, and only that one', async () => {
    h.api.resetStats();
    const mine = await login(h.url);
    const other = await login(h.url, 'admin', 'admin');
    assert.equal((await restricted(mine.access_token)).status, 200);

    const res = await expire(bearer(mine.access_token));
    assert.equal(res.status, 204);

    const refused = await restricted(mine.access_token);
    assert.equal(refused.status, 401);
    assert.equal(
      refused.headers.get('www-authenticate'),
      'Bearer error="invalid_token", error_description="The access token was revoked"',
    );
    assert.equal((await errorBody(refused)).error, 'invalid_token');
    assert.equal((await restricted(other.access_token)).status, 200);
    assert.deepEqual(
      { expireToken: h.api.stats.expireToken, restrictedUnauthorized: h.api.stats.restrictedUnauthorized },
      { expireToken: 1, restrictedUnauthorized: 1 },
    );
  });

  it('leaves the refresh token usable: the refresh brings a token the API accepts', async () => {
    const pair = await login(h.url);
    await expire(bearer(pair.access_token));
    const refreshed = await postJson(`${h.url}/refresh`, { refresh_token: pair.refresh_token });
    assert.equal(refreshed.status, 200);
    const next = (await refreshed.json()) as { access_token: string };
    assert.equal((await restricted(next.access_token)).status, 200);
  });

  it('answers 401 without a valid token, and 405 to GET', async () => {
    const none = await expire();
    assert.equal(none.status, 401);
    assert.equal((await errorBody(none)).error, 'unauthorized');
    const forged = await expire(bearer('a.b.c'));
    assert.equal(forged.status, 401);
    assert.equal((await errorBody(forged)).error, 'invalid_token');
    const get = await fetch(`${h.url}/api/expire-token`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST, OPTIONS');
    await get.body?.cancel();
  });

  it('forgets a revoked token once it expired by itself (the answer stays 401: expired)', async () => {
    const pair = await login(h.url);
    await expire(bearer(pair.access_token));
    clock.advance(31);
    const res = await restricted(pair.access_token);
    assert.equal(res.status, 401);
    assert.match((await errorBody(res)).error_description, /expired/);
  });
});
