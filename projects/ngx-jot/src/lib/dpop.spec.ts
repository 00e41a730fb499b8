import { HttpClient, HttpHeaders, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting, type TestRequest } from '@angular/common/http/testing';
import { PLATFORM_ID } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { webcrypto } from 'node:crypto';
import { firstValueFrom } from 'rxjs';

import { FakeKeyIDB } from '../../testing-private/fake-key-idb';
import { fakeJwt } from '../../testing-private/fake-jwt';
import { JotError } from './errors';
import { withDpop, type JotDpopOptions } from './dpop';
import { DPOP_DB_NAME, deleteDpopKey, writeDpopKey } from './dpop-key-store';
import { createDpopKey } from './dpop-proof';
import { JotAuth } from './jot-auth';
import { jotInterceptor } from './jot-interceptor';
import { provideJot } from './provide-jot';
import { withRefresh } from './refresher';
import { withStorage } from './storage';

const API = 'https://api.example.com';

interface Proof {
  header: { typ: string; alg: string; jwk: JsonWebKey };
  payload: { htm: string; htu: string; iat: number; jti: string; ath?: string; nonce?: string };
}

const fromBase64url = (part: string) => Buffer.from(part, 'base64url');
const sha256 = async (text: string) =>
  Buffer.from(await webcrypto.subtle.digest('SHA-256', new Uint8Array(Buffer.from(text)))).toString('base64url');

/** Decodes a proof and checks its ES256 signature with the public key its own header names. */
async function verifiedProof(jwt: string | null): Promise<Proof> {
  expect(typeof jwt).toBe('string');
  const [header, payload, signature] = jwt!.split('.');
  const proof = {
    header: JSON.parse(fromBase64url(header).toString()) as Proof['header'],
    payload: JSON.parse(fromBase64url(payload).toString()) as Proof['payload'],
  };
  const key = await webcrypto.subtle.importKey('jwk', proof.header.jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'verify',
  ]);
  const valid = await webcrypto.subtle.verify(
    { name: 'ECDSA', hash: 'SHA-256' },
    key,
    new Uint8Array(fromBase64url(signature)),
    new Uint8Array(Buffer.from(`${header}.${payload}`)),
  );
  expect(valid).toBe(true);
  return proof;
}

/** Waits (real timers: signing and IndexedDB are asynchronous) until `url` has been requested. */
async function requested(url: string, count = 1): Promise<TestRequest[]> {
  const ctrl = TestBed.inject(HttpTestingController);
  for (let turn = 0; turn < 200; turn++) {
    const found = ctrl.match((req) => req.url === url);
    if (found.length >= count) return found;
    for (const req of found) throw new Error(`only ${found.length} of ${count}: ${req.request.url}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`no request to ${url}`);
}

let idb: FakeKeyIDB;
const originalCrypto = globalThis.crypto;

function setup(options: JotDpopOptions = {}, platform = 'browser') {
  TestBed.configureTestingModule({
    providers: [
      provideHttpClient(withInterceptors([jotInterceptor])),
      provideHttpClientTesting(),
      provideJot(
        { loginUrl: '/authenticate', allowedOrigins: [API] },
        withRefresh({ url: '/refresh' }),
        withStorage('memory'),
        withDpop(options),
      ),
      { provide: PLATFORM_ID, useValue: platform },
    ],
  });
  return {
    auth: TestBed.inject(JotAuth),
    http: TestBed.inject(HttpClient),
    ctrl: TestBed.inject(HttpTestingController),
  };
}

/** Logs in; the server answers with `token_type`. Returns the login request's proof and the token. */
async function login(auth: JotAuth, tokenType = 'DPoP', claims: Record<string, unknown> = { sub: 'ada' }) {
  const done = firstValueFrom(auth.login({ username: 'ada', password: 'x' }));
  const [req] = await requested('/authenticate');
  const proof = req.request.headers.get('DPoP');
  const accessToken = fakeJwt(claims, { expiresInSeconds: 3600 });
  req.flush({ access_token: accessToken, refresh_token: 'r1', token_type: tokenType });
  await done;
  return { proof, accessToken };
}

beforeEach(() => {
  idb = new FakeKeyIDB();
  Object.defineProperty(globalThis, 'crypto', { value: webcrypto, configurable: true });
  Object.defineProperty(globalThis, 'indexedDB', { value: idb, configurable: true });
});

afterEach(() => {
  Object.defineProperty(globalThis, 'crypto', { value: originalCrypto, configurable: true });
  Reflect.deleteProperty(globalThis, 'indexedDB');
});

describe('withDpop(): proofs', () => {
  it('signs the login call, then sends a DPoP-bound token with a proof naming the request and the token', async () => {
    const { auth, http } = setup();
    const { proof, accessToken } = await login(auth);
    const loginProof = await verifiedProof(proof);
    expect(loginProof.header.typ).toBe('dpop+jwt');
    expect(loginProof.header.alg).toBe('ES256');
    expect(Object.keys(loginProof.header.jwk).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    expect(loginProof.payload).toMatchObject({ htm: 'POST', htu: 'http://localhost/authenticate' });
    expect(loginProof.payload.ath).toBeUndefined();
    expect(Math.abs(loginProof.payload.iat - Date.now() / 1000)).toBeLessThan(60);

    const done = firstValueFrom(http.put(`${API}/items/7?expand=1#top`, {}));
    const [req] = await requested(`${API}/items/7?expand=1#top`);
    expect(req.request.headers.get('Authorization')).toBe(`DPoP ${accessToken}`);
    const apiProof = await verifiedProof(req.request.headers.get('DPoP'));
    expect(apiProof.payload).toMatchObject({ htm: 'PUT', htu: `${API}/items/7`, ath: await sha256(accessToken) });
    expect(apiProof.header.jwk).toEqual(loginProof.header.jwk);
    expect(apiProof.payload.jti).not.toBe(loginProof.payload.jti);
    req.flush({});
    await done;
  });

  it('keeps the private key non-extractable, in IndexedDB', async () => {
    const { auth } = setup();
    await login(auth);
    const [entry] = [...idb.stores.get('keys')!.values()] as Array<{ keys: CryptoKeyPair }>;
    expect(entry?.keys.privateKey.extractable).toBe(false);
    await expect(webcrypto.subtle.exportKey('jwk', entry!.keys.privateKey)).rejects.toThrow();
    expect(DPOP_DB_NAME).toBe('ngx-jot-dpop');
  });

  it('lets the login finish only once IndexedDB lists its token as bound (what other tabs and a reload read)', async () => {
    const { auth } = setup();
    const { proof, accessToken } = await login(auth);
    const { jwk } = (await verifiedProof(proof)).header;
    const jkt = await sha256(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }));
    const entry = idb.stores.get('keys')?.get(jkt) as { issued?: string[]; bound?: string[] } | undefined;
    expect(entry?.issued).toEqual([await sha256(accessToken)]);
    expect(entry?.bound).toEqual([await sha256(accessToken)]);
  });

  it('sends a Bearer token as before: no DPoP scheme, no proof', async () => {
    const { auth, http } = setup();
    const { accessToken } = await login(auth, 'Bearer');
    const done = firstValueFrom(http.get(`${API}/data`));
    const [req] = await requested(`${API}/data`);
    expect(req.request.headers.get('Authorization')).toBe(`Bearer ${accessToken}`);
    expect(req.request.headers.has('DPoP')).toBe(false);
    req.flush({});
    await done;
  });

  it('knows a token is bound by its cnf.jkt naming the key, whatever token_type said', async () => {
    const { auth, http } = setup();
    const { proof } = await login(auth, 'Bearer');
    const { jwk } = (await verifiedProof(proof)).header;
    const jkt = await sha256(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }));
    auth.setTokens({ accessToken: fakeJwt({ sub: 'ada', cnf: { jkt } }, { expiresInSeconds: 3600 }) });
    const done = firstValueFrom(http.get(`${API}/data`));
    const [req] = await requested(`${API}/data`);
    expect(req.request.headers.get('Authorization')).toMatch(/^DPoP /);
    req.flush({});
    await done;
  });

  it('adds nothing to a request for another origin', async () => {
    const { auth, http } = setup();
    await login(auth);
    const done = firstValueFrom(http.get('https://elsewhere.example.org/x'));
    const [req] = await requested('https://elsewhere.example.org/x');
    expect(req.request.headers.has('DPoP')).toBe(false);
    expect(req.request.headers.has('Authorization')).toBe(false);
    req.flush({});
    await done;
  });

  it('forgets the key at logout; the next login makes a new one', async () => {
    const { auth } = setup();
    const first = await verifiedProof((await login(auth)).proof);
    expect(idb.stores.get('keys')?.size).toBe(1);
    auth.logout();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(idb.stores.get('keys')?.size).toBe(0);
    const second = await verifiedProof((await login(auth)).proof);
    expect(second.header.jwk).not.toEqual(first.header.jwk);
  });

  it('forgets the key at a logout that comes before any request (a session restored at start-up)', async () => {
    // The session's key, as a previous page load of this tab stored it with the session's token.
    const accessToken = fakeJwt({ sub: 'ada' }, { expiresInSeconds: 3600 });
    const stored = await writeDpopKey(await createDpopKey());
    idb.stores.get('keys')!.set(stored.jkt, { ...stored, issued: [await sha256(accessToken)] });
    const { auth } = setup();
    auth.setTokens({ accessToken });
    auth.logout();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(idb.stores.get('keys')?.has(stored.jkt)).toBe(false);
  });

  it('keeps one key across sessions with keyPerSession: false', async () => {
    const { auth } = setup({ keyPerSession: false });
    const first = await verifiedProof((await login(auth)).proof);
    auth.logout();
    const second = await verifiedProof((await login(auth)).proof);
    expect(second.header.jwk).toEqual(first.header.jwk);
  });
});

describe('withDpop(): server nonces', () => {
  const nonceChallenge = (status: number, nonce: string) => ({
    status,
    statusText: status === 401 ? 'Unauthorized' : 'Bad Request',
    headers: new HttpHeaders({ 'WWW-Authenticate': 'DPoP error="use_dpop_nonce"', 'DPoP-Nonce': nonce }),
  });

  it('retries an API call once with the nonce, without a refresh, and remembers it for the origin', async () => {
    const { auth, http, ctrl } = setup();
    await login(auth);
    const done = firstValueFrom(http.get(`${API}/data`));
    const [first] = await requested(`${API}/data`);
    expect((await verifiedProof(first.request.headers.get('DPoP'))).payload.nonce).toBeUndefined();
    first.flush({ error: 'use_dpop_nonce' }, nonceChallenge(401, 'n-1'));
    const [retry] = await requested(`${API}/data`);
    const retried = await verifiedProof(retry.request.headers.get('DPoP'));
    expect(retried.payload.nonce).toBe('n-1');
    retry.flush({ ok: true });
    expect(await done).toEqual({ ok: true });
    expect(ctrl.match('/refresh')).toHaveLength(0);

    const next = firstValueFrom(http.get(`${API}/other`));
    const [later] = await requested(`${API}/other`);
    expect((await verifiedProof(later.request.headers.get('DPoP'))).payload.nonce).toBe('n-1');
    later.flush({});
    await next;
  });

  it('retries the login call once when it is answered 400 use_dpop_nonce', async () => {
    const { auth } = setup();
    const done = firstValueFrom(auth.login({ username: 'ada', password: 'x' }));
    const [first] = await requested('/authenticate');
    first.flush({ error: 'use_dpop_nonce' }, nonceChallenge(400, 'n-2'));
    const [retry] = await requested('/authenticate');
    const proof = await verifiedProof(retry.request.headers.get('DPoP'));
    expect(proof.payload.nonce).toBe('n-2');
    retry.flush({ access_token: fakeJwt({ sub: 'ada' }, { expiresInSeconds: 3600 }), token_type: 'DPoP' });
    expect(await done).toMatchObject({ sub: 'ada' });
  });

  it('does not retry a second time', async () => {
    const { auth, http } = setup({}, 'browser');
    await login(auth);
    const done = firstValueFrom(http.get(`${API}/data`)).catch((error: unknown) => error);
    (await requested(`${API}/data`))[0].flush({}, nonceChallenge(400, 'n-1'));
    (await requested(`${API}/data`))[0].flush({}, nonceChallenge(400, 'n-2'));
    expect(await done).toMatchObject({ status: 400 });
  });

  it('answers a second 401 use_dpop_nonce to the caller: no refresh, the session kept', async () => {
    const { auth, http, ctrl } = setup();
    await login(auth);
    const done = firstValueFrom(http.get(`${API}/data`)).catch((error: unknown) => error);
    (await requested(`${API}/data`))[0].flush({}, nonceChallenge(401, 'n-1'));
    (await requested(`${API}/data`))[0].flush({}, nonceChallenge(401, 'n-2'));
    expect(await done).toMatchObject({ status: 401 });
    expect(ctrl.match('/refresh')).toHaveLength(0);
    expect(auth.isAuthenticated()).toBe(true);
    ctrl.verify();
  });

  it('keeps the session when the refresh call meets use_dpop_nonce twice (no failed token)', async () => {
    const { auth, http } = setup();
    await login(auth);
    const done = firstValueFrom(http.get(`${API}/data`)).catch((error: unknown) => error);
    (await requested(`${API}/data`))[0].flush(
      {},
      {
        status: 401,
        statusText: 'Unauthorized',
        headers: new HttpHeaders({ 'WWW-Authenticate': 'DPoP error="invalid_token"' }),
      },
    );
    (await requested('/refresh'))[0].flush({ error: 'use_dpop_nonce' }, nonceChallenge(400, 'n-1'));
    (await requested('/refresh'))[0].flush({ error: 'use_dpop_nonce' }, nonceChallenge(400, 'n-2'));
    expect(await done).toMatchObject({ status: 401 });
    expect(auth.isAuthenticated()).toBe(true);
  });
});

describe('withDpop(): the 401 queue', () => {
  it('refreshes once for a burst of 401s (the refresh signed), and replays each with a fresh proof of the new token', async () => {
    const { auth, http } = setup();
    const { accessToken } = await login(auth);
    const burst = ['/a', '/b', '/c'].map((path) => firstValueFrom(http.get(`${API}${path}`)));
    const firsts = await Promise.all(['/a', '/b', '/c'].map((path) => requested(`${API}${path}`)));
    const firstJtis = await Promise.all(
      firsts.map(async ([req]) => (await verifiedProof(req.request.headers.get('DPoP'))).payload.jti),
    );
    for (const [req] of firsts) {
      req.flush(
        { error: 'invalid_token' },
        {
          status: 401,
          statusText: 'Unauthorized',
          headers: new HttpHeaders({ 'WWW-Authenticate': 'DPoP error="invalid_token"' }),
        },
      );
    }
    const [refresh] = await requested('/refresh');
    const refreshProof = await verifiedProof(refresh.request.headers.get('DPoP'));
    expect(refreshProof.payload).toMatchObject({ htm: 'POST', htu: 'http://localhost/refresh' });
    const renewed = fakeJwt({ sub: 'ada', v: 2 }, { expiresInSeconds: 3600 });
    refresh.flush({ access_token: renewed, refresh_token: 'r2', token_type: 'DPoP' });
    for (const path of ['/a', '/b', '/c']) {
      const [replay] = await requested(`${API}${path}`);
      expect(replay.request.headers.get('Authorization')).toBe(`DPoP ${renewed}`);
      const proof = await verifiedProof(replay.request.headers.get('DPoP'));
      expect(proof.payload.ath).toBe(await sha256(renewed));
      expect(firstJtis).not.toContain(proof.payload.jti);
      replay.flush({ path });
    }
    expect(await Promise.all(burst)).toEqual([{ path: '/a' }, { path: '/b' }, { path: '/c' }]);
    expect(accessToken).not.toBe(renewed);
    TestBed.inject(HttpTestingController).verify();
  });
});

describe('withDpop(): two tabs, one session each (sessionStorage), one IndexedDB', () => {
  const invalidToken = {
    status: 401,
    statusText: 'Unauthorized',
    headers: new HttpHeaders({ 'WWW-Authenticate': 'DPoP error="invalid_token"' }),
  };

  /** An API call answered 401, then the refresh it starts: its proof's key, and the replay's. */
  async function refreshAfter401(http: HttpClient) {
    const done = firstValueFrom(http.get(`${API}/data`));
    const [first] = await requested(`${API}/data`);
    const firstKey = (await verifiedProof(first.request.headers.get('DPoP'))).header.jwk;
    first.flush({}, invalidToken);
    const [refresh] = await requested('/refresh');
    const refreshKey = (await verifiedProof(refresh.request.headers.get('DPoP'))).header.jwk;
    const renewed = fakeJwt({ sub: 'ada', v: 2 }, { expiresInSeconds: 3600 });
    refresh.flush({ access_token: renewed, refresh_token: 'r2', token_type: 'DPoP' });
    const [replay] = await requested(`${API}/data`);
    expect(replay.request.headers.get('Authorization')).toBe(`DPoP ${renewed}`);
    const replayKey = (await verifiedProof(replay.request.headers.get('DPoP'))).header.jwk;
    replay.flush({});
    await done;
    return { firstKey, refreshKey, replayKey };
  }

  it('another tab logs in (a new key stored): this tab keeps signing with the key its tokens are bound to', async () => {
    const { auth, http } = setup();
    const loginKey = (await verifiedProof((await login(auth)).proof)).header.jwk;
    await writeDpopKey(await createDpopKey()); // the other tab's login
    const { firstKey, refreshKey, replayKey } = await refreshAfter401(http);
    expect(firstKey).toEqual(loginKey);
    expect(refreshKey).toEqual(loginKey);
    expect(replayKey).toEqual(loginKey);
  });

  it('another tab logs out (its key deleted): this tab keeps signing with its own key', async () => {
    const { auth, http } = setup();
    const loginKey = (await verifiedProof((await login(auth)).proof)).header.jwk;
    const other = await writeDpopKey(await createDpopKey()); // the other tab's login...
    await deleteDpopKey(other.jkt); // ...and logout
    const { firstKey, refreshKey, replayKey } = await refreshAfter401(http);
    expect(firstKey).toEqual(loginKey);
    expect(refreshKey).toEqual(loginKey);
    expect(replayKey).toEqual(loginKey);
  });

  it("this tab's logout deletes only its own key", async () => {
    const other = await writeDpopKey(await createDpopKey());
    const { auth } = setup();
    const { jwk } = (await verifiedProof((await login(auth)).proof)).header;
    const own = await sha256(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }));
    expect([...idb.stores.get('keys')!.keys()].sort()).toEqual([own, other.jkt].sort());
    auth.logout();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect([...idb.stores.get('keys')!.keys()]).toEqual([other.jkt]);
  });

  it('a reloaded tab finds its session key again by its token, not the latest key stored', async () => {
    const { auth } = setup();
    const { proof, accessToken } = await login(auth);
    const loginKey = (await verifiedProof(proof)).header.jwk;
    await writeDpopKey(await createDpopKey()); // the other tab's login
    TestBed.resetTestingModule(); // the reload: this tab's session comes back from its storage
    const { auth: reloaded, http } = setup();
    reloaded.setTokens({ accessToken, refreshToken: 'r1' });
    const { firstKey, refreshKey } = await refreshAfter401(http);
    expect(firstKey).toEqual(loginKey);
    expect(refreshKey).toEqual(loginKey);
  });
});

describe('withDpop(): where it cannot run', () => {
  it('is off on the server: no proof', async () => {
    const { auth } = setup({}, 'server');
    const done = firstValueFrom(auth.login({ username: 'ada', password: 'x' }));
    const [req] = await requested('/authenticate');
    expect(req.request.headers.has('DPoP')).toBe(false);
    req.flush({ access_token: fakeJwt({ sub: 'ada' }, { expiresInSeconds: 3600 }) });
    await done;
  });

  it('without WebCrypto: a JotError at start-up in development that says what to do', () => {
    Object.defineProperty(globalThis, 'crypto', { value: {}, configurable: true });
    const start = () => setup();
    expect(start).toThrow(JotError);
    expect(start).toThrow(/withDpop\(\) needs WebCrypto.*withDpop\(\{ fallback: 'bearer' \}\)/s);
  });

  it("without IndexedDB, fallback: 'bearer' logs in without a proof (and warns once)", async () => {
    Reflect.deleteProperty(globalThis, 'indexedDB');
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { auth } = setup({ fallback: 'bearer' });
    const done = firstValueFrom(auth.login({ username: 'ada', password: 'x' }));
    const [req] = await requested('/authenticate');
    expect(req.request.headers.has('DPoP')).toBe(false);
    req.flush({ access_token: fakeJwt({ sub: 'ada' }, { expiresInSeconds: 3600 }), token_type: 'Bearer' });
    await done;
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^ngx-jot: withDpop\(\) needs WebCrypto/));
    warn.mockRestore();
  });
});
