import { fakeJwt } from '../../testing-private/fake-jwt';

import { MAX_SKEW_MS, decodeToken, toSession, type JotSession } from './jwt-session';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const jwt = (payload: unknown, header: unknown = { alg: 'HS256' }) => `${b64(header)}.${b64(payload)}.sig`;
const timing = { leewayMs: 30_000, refreshBeforeMs: 30_000 };

describe('decodeToken', () => {
  it('decodes UTF-8 claims and unpadded base64url', () => {
    const token = fakeJwt({ name: 'Jürgen €uro Дмитрий', sub: '?>?' });
    expect(token).not.toContain('=');
    const decoded = decodeToken(token);
    expect('claims' in decoded && decoded.claims).toMatchObject({ name: 'Jürgen €uro Дмитрий', sub: '?>?' });
  });

  it.each([
    ['empty', ''],
    ['not a string', 42],
    ['two parts', 'a.b'],
    ['four parts', `${jwt({})}.x`],
    ['bad base64url', 'a+b.c/d.e'],
    ['payload not JSON', `${b64({ alg: 'HS256' })}.${b64('not json')}.s`],
    ['payload an array', jwt([1, 2])],
    ['payload a number', jwt(5)],
    ['header not an object', jwt({ sub: 'x' }, 'null')],
    ['non-numeric exp', jwt({ exp: '123' })],
    ['non-numeric iat', jwt({ iat: null })],
    ['non-numeric nbf', jwt({ nbf: {} })],
    ['empty payload part', `${b64({ alg: 'HS256' })}..sig`],
    ['payload of an impossible base64 length', `${b64({ alg: 'HS256' })}.abcde.sig`],
    ['payload not UTF-8', `${b64({ alg: 'HS256' })}.${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.sig`],
  ])('calls a token malformed when %s', (_what, token) => {
    expect(decodeToken(token)).toEqual({ problem: expect.any(String) });
  });
});

describe('toSession', () => {
  const now = 1_000_000_000_000;
  const sec = now / 1000;

  it('judges an hour-long token expired leewaySeconds before exp, refreshes refreshBefore before', () => {
    const s = toSession({ accessToken: jwt({ iat: sec, exp: sec + 3600 }) }, timing, { fresh: true, now });
    expect(s).toMatchObject({
      expiresAt: now + 3_600_000,
      staleAt: now + 3_570_000,
      refreshAt: now + 3_570_000,
      skew: 0,
    });
  });

  it('uses a quarter (expiry) and half (refresh) of the lifetime for short-lived tokens', () => {
    const s = toSession({ accessToken: jwt({ iat: sec, exp: sec + 4 }) }, timing, { fresh: true, now });
    expect(s).toMatchObject({ staleAt: now + 3000, refreshAt: now + 2000 });
  });

  it('learns the server clock from iat on a fresh token, so a wrong local clock changes nothing', () => {
    const local = now - 10 * 60_000; // the device is ten minutes behind
    const s = toSession({ accessToken: jwt({ iat: sec, exp: sec + 60 }) }, timing, { fresh: true, now: local });
    expect(s).toMatchObject({ skew: 600_000, expiresAt: local + 60_000, staleAt: local + 45_000 });
  });

  it.each([
    ['2 s behind', 2000],
    ['4 s behind', 4000],
    ['0.9 s behind (iat rounding, latency)', 900],
    ['3 s ahead', -3000],
  ])('learns a small clock gap too (server %s): a fresh token lives its whole lifetime from receipt', (_what, gap) => {
    for (const lifetime of [4, 6, 60]) {
      const s = toSession({ accessToken: jwt({ iat: sec, exp: sec + lifetime }) }, timing, {
        fresh: true,
        now: now + gap,
      });
      expect(s).toMatchObject({ skew: -gap, expiresAt: now + gap + lifetime * 1000 });
      // Never before half the lifetime has passed, whatever the gap: no refresh loop.
      expect((s as JotSession).refreshAt - (now + gap)).toBeGreaterThanOrEqual((lifetime * 1000) / 2);
    }
  });

  it('bounds the clock offset: an iat more than MAX_SKEW_MS off is a wrong claim, not learned', () => {
    const far = toSession({ accessToken: jwt({ iat: sec, exp: sec + 60 }) }, timing, {
      fresh: true,
      now: now - MAX_SKEW_MS - 60_000,
    });
    expect(far).toMatchObject({ skew: 0 });
    const near = toSession({ accessToken: jwt({ iat: sec, exp: sec + 60 }) }, timing, {
      fresh: true,
      now: now - MAX_SKEW_MS,
    });
    expect(near).toMatchObject({ skew: MAX_SKEW_MS });
  });

  it.each([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-1e13', -1e13],
    ['beyond the bound', MAX_SKEW_MS + 1],
    ['text', 'abc'],
    ['an object', {}],
  ])('refuses a given clock offset that is %s (an expired token would count as valid)', (_what, skew) => {
    const expired = { accessToken: jwt({ iat: sec - 120, exp: sec - 60 }) };
    expect(toSession(expired, timing, { fresh: false, skew: skew as number, now })).toEqual({
      problem: expect.any(String),
    });
  });

  it('has no expiry without exp', () => {
    const s = toSession({ accessToken: jwt({ sub: 'x' }) }, timing, { fresh: true, now });
    expect(s).toMatchObject({ expiresAt: null, staleAt: Infinity, refreshAt: Infinity });
  });

  it('rejects a token whose nbf is beyond the leeway', () => {
    expect(toSession({ accessToken: jwt({ nbf: sec + 120 }) }, timing, { fresh: true, now })).toEqual({
      problem: expect.stringContaining('nbf'),
    });
    expect(toSession({ accessToken: jwt({ nbf: sec + 10 }) }, timing, { fresh: true, now })).not.toHaveProperty(
      'problem',
    );
  });

  it('keeps a refresh token only when it is a non-empty string', () => {
    expect(toSession({ accessToken: jwt({}), refreshToken: '' }, timing, { fresh: false })).toMatchObject({
      refreshToken: null,
    });
    expect(toSession({ accessToken: jwt({}), refreshToken: 'r1' }, timing, { fresh: false })).toMatchObject({
      refreshToken: 'r1',
    });
  });
});
