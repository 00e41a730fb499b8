import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock, decodePayload, errorBody, login, postJson, useServer, type TokenPair } from './helpers.ts';

const clock = new FakeClock();
const h = useServer({ refreshTtlSeconds: 60, now: clock.now });

const refresh = (token: unknown): Promise<Response> => postJson(`${h.url}/refresh`, { refresh_token: token });
const logout = (token: unknown): Promise<Response> => postJson(`${h.url}/logout`, { refresh_token: token });
const restricted = (jwt: string): Promise<Response> =>
  fetch(`${h.url}/api/restricted`, { headers: { Authorization: `Bearer ${jwt}` } });

async function expectInvalidGrant(res: Response): Promise<void> {
  assert.equal(res.status, 401);
  assert.equal((await errorBody(res)).error, 'invalid_grant');
}

describe('POST /refresh', () => {
  it('rotates: returns a new pair with the same identity and a new jti', async () => {
    const first = await login(h.url, 'admin', 'admin');
    clock.advance(5);
    const res = await refresh(first.refresh_token);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const second = (await res.json()) as TokenPair;
    assert.notEqual(second.refresh_token, first.refresh_token);
    assert.equal(second.token_type, 'Bearer');
    assert.equal(second.expires_in, 30);
    const a = decodePayload(first.access_token);
    const b = decodePayload(second.access_token);
    assert.equal(b['sub'], 'admin');
    assert.deepEqual(b['roles'], ['user', 'admin']);
    assert.notEqual(b['jti'], a['jti']);
    assert.equal(b['iat'], (a['iat'] as number) + 5);

    // The new refresh token works in turn.
    const third = await refresh(second.refresh_token);
    assert.equal(third.status, 200);
    await third.body?.cancel();
  });

  it('detects reuse of a rotated token and revokes the whole family', async () => {
    h.api.resetStats();
    const first = await login(h.url);
    const secondRes = await refresh(first.refresh_token);
    const second = (await secondRes.json()) as TokenPair;

    await expectInvalidGrant(await refresh(first.refresh_token)); // replay of the rotated token
    assert.equal(h.api.stats.reuseDetected, 1);
    await expectInvalidGrant(await refresh(second.refresh_token)); // the newer token died with the family
    assert.equal(h.api.stats.refresh, 3);

    // Another session is unaffected.
    const other = await login(h.url);
    const ok = await refresh(other.refresh_token);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  });

  it('rejects an expired refresh token', async () => {
    const pair = await login(h.url);
    clock.advance(59);
    const stillOk = await refresh(pair.refresh_token);
    assert.equal(stillOk.status, 200);
    const next = (await stillOk.json()) as TokenPair;
    clock.advance(60);
    await expectInvalidGrant(await refresh(next.refresh_token));
  });

  it('rejects unknown tokens with 401 and malformed requests with 400', async () => {
    await expectInvalidGrant(await refresh('definitely-not-issued'));
    for (const body of ['{', '{}', '{"refresh_token":123}', '{"refresh_token":""}', '[]']) {
      const res = await postJson(`${h.url}/refresh`, body);
      assert.equal(res.status, 400, body);
      assert.equal((await errorBody(res)).error, 'invalid_request');
    }
    const wrongType = await fetch(`${h.url}/refresh`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: '{}',
    });
    assert.equal(wrongType.status, 415);
    await errorBody(wrongType);
  });
});

describe('POST /logout', () => {
  it('revokes the family (204) so neither the current nor older tokens refresh', async () => {
    const first = await login(h.url);
    const second = (await (await refresh(first.refresh_token)).json()) as TokenPair;
    const res = await logout(second.refresh_token);
    assert.equal(res.status, 204);
    assert.equal(await res.text(), '');
    await expectInvalidGrant(await refresh(second.refresh_token));
    await expectInvalidGrant(await refresh(first.refresh_token));
    // Access tokens are stateless JWTs: they stay valid until they expire.
    const stillValid = await restricted(second.access_token);
    assert.equal(stillValid.status, 200);
    await stillValid.body?.cancel();
  });

  it('answers 204 for unknown or already-revoked tokens and 400 for bad input', async () => {
    const unknown = await logout('never-issued');
    assert.equal(unknown.status, 204);
    const pair = await login(h.url);
    assert.equal((await logout(pair.refresh_token)).status, 204);
    assert.equal((await logout(pair.refresh_token)).status, 204);

    for (const body of ['not json', '{}', '{"refresh_token":false}']) {
      const res = await postJson(`${h.url}/logout`, body);
      assert.equal(res.status, 400, body);
      await errorBody(res);
    }
  });
});
