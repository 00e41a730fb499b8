import { HttpClient, HttpErrorResponse, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { EnvironmentInjector, createEnvironmentInjector } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { fakeJwt } from '../../testing-private/fake-jwt';

import { JotError } from './errors';
import { JotAuth } from './jot-auth';
import { RESTORE_TIMEOUT_MS } from './await-store';
import { type JotEvent } from './events';
import { jotInterceptor } from './jot-interceptor';
import { provideJot } from './provide-jot';
import { withRefresh } from './refresher';
import { withStorage } from './storage';
import { JOT_STORAGE_KEY, type JotTokenStore } from './storage';
import type { JotFeature } from './feature';
import type { JotConfig } from './config';

function setup(features: JotFeature[] = [], config: Partial<JotConfig> = {}) {
  TestBed.configureTestingModule({
    providers: [
      provideHttpClient(withInterceptors([jotInterceptor])),
      provideHttpClientTesting(),
      provideJot({ loginUrl: '/authenticate', ...config }, ...features),
    ],
  });
  const auth = TestBed.inject(JotAuth);
  const events: JotEvent[] = [];
  auth.events.subscribe((e) => events.push(e));
  return { auth, events, ctrl: TestBed.inject(HttpTestingController), http: TestBed.inject(HttpClient) };
}

let warn: jest.SpyInstance;
beforeEach(() => {
  sessionStorage.clear();
  localStorage.clear();
  warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(() => warn.mockRestore());

describe('JotAuth.login', () => {
  afterEach(() => TestBed.inject(HttpTestingController).verify());

  it.each([
    ['{access_token, refresh_token}', (t: string) => ({ access_token: t, refresh_token: 'r1' })],
    ['{accessToken, refreshToken}', (t: string) => ({ accessToken: t, refreshToken: 'r1' })],
    ['{token}', (t: string) => ({ token: t })],
  ])('stores the tokens of a %s response and exposes them as signals', (_shape, body) => {
    const { auth, ctrl, events } = setup();
    const token = fakeJwt({ sub: 'john', name: 'Jöhn €' }, { expiresInSeconds: 600 });
    let claims: unknown;
    auth.login({ username: 'john', password: 'pw' }).subscribe((c) => (claims = c));
    const req = ctrl.expectOne('/authenticate');
    expect(req.request.method).toBe('POST');
    expect(req.request.body).toEqual({ username: 'john', password: 'pw' });
    expect(req.request.headers.has('Authorization')).toBe(false);
    req.flush(body(token));
    expect(claims).toMatchObject({ sub: 'john', name: 'Jöhn €' });
    expect(auth.token()).toBe(token);
    expect(auth.claims()).toMatchObject({ sub: 'john' });
    expect(auth.isAuthenticated()).toBe(true);
    expect(Math.abs(auth.expiresAt()!.getTime() - (Date.now() + 600_000))).toBeLessThan(2000);
    // Written synchronously: a reload right now would see it.
    expect(JSON.parse(sessionStorage.getItem(JOT_STORAGE_KEY)!)).toMatchObject({ accessToken: token });
    expect(events).toEqual([{ type: 'login', source: 'user' }]);
  });

  it.each([
    ['no token', { ok: true }],
    ['a malformed token', { access_token: 'abc.def' }],
    ['a non-numeric exp', { access_token: `${btoa('{}')}.${btoa('{"exp":"soon"}')}.s` }],
    ['null', null],
  ])('fails with invalid-token-response on %s and stores nothing', (_what, body) => {
    const { auth, ctrl } = setup();
    let error: unknown;
    auth.login({}).subscribe({ error: (e) => (error = e) });
    ctrl.expectOne('/authenticate').flush(body);
    expect(error).toBeInstanceOf(JotError);
    expect((error as JotError).code).toBe('invalid-token-response');
    expect((error as JotError).message).toMatch(/^ngx-jot: .*readTokens/);
    expect(auth.token()).toBeNull();
    expect(sessionStorage.length + localStorage.length).toBe(0);
  });

  it('leaves the session as it was when a login fails (wrong password)', () => {
    const { auth, ctrl } = setup();
    const token = fakeJwt({ sub: 'a' });
    auth.setTokens({ accessToken: token });
    let error: unknown;
    auth.login({ password: 'wrong' }).subscribe({ error: (e) => (error = e) });
    ctrl.expectOne('/authenticate').flush({ error: 'invalid_grant' }, { status: 401, statusText: 'Unauthorized' });
    expect(error).toBeInstanceOf(HttpErrorResponse);
    expect(auth.token()).toBe(token);
  });

  it('with remember: true keeps the session in local storage instead of session storage', () => {
    const { auth, ctrl } = setup();
    auth.login({}, { remember: true }).subscribe();
    ctrl.expectOne('/authenticate').flush({ token: fakeJwt({}) });
    expect(localStorage.getItem(JOT_STORAGE_KEY)).not.toBeNull();
    expect(sessionStorage.getItem(JOT_STORAGE_KEY)).toBeNull();
    auth.logout();
    expect(localStorage.getItem(JOT_STORAGE_KEY)).toBeNull();
  });
});

describe('JotAuth.logout', () => {
  afterEach(() => TestBed.inject(HttpTestingController).verify());

  it('removes the tokens from every storage the library wrote and emits logout', () => {
    const { auth, ctrl, events } = setup([withStorage('local')]);
    auth.login({}).subscribe();
    ctrl.expectOne('/authenticate').flush({ token: fakeJwt({}) });
    auth.login({}, { remember: true }).subscribe();
    ctrl.expectOne('/authenticate').flush({ token: fakeJwt({}) });
    auth.logout();
    expect(localStorage.length + sessionStorage.length).toBe(0);
    expect(auth.token()).toBeNull();
    expect(auth.claims()).toBeNull();
    expect(auth.isAuthenticated()).toBe(false);
    expect(events.at(-1)).toEqual({ type: 'logout', reason: 'user' });
  });

  it('POSTs the refresh token to logoutUrl without waiting for it', () => {
    const { auth, ctrl } = setup([], { logoutUrl: '/logout' });
    auth.setTokens({ accessToken: fakeJwt({}), refreshToken: 'r1' });
    auth.logout();
    expect(auth.token()).toBeNull();
    const req = ctrl.expectOne('/logout');
    expect(req.request.body).toEqual({ refresh_token: 'r1' });
    expect(req.request.headers.has('Authorization')).toBe(false);
    req.flush(null, { status: 500, statusText: 'down' }); // a failing logout call changes nothing
    expect(auth.token()).toBeNull();
  });

  it('sends {} to logoutUrl when no refresh token is held, as the refresh call does (never refresh_token: null)', () => {
    const { auth, ctrl } = setup([], { logoutUrl: '/logout' });
    auth.setTokens({ accessToken: fakeJwt({}) });
    auth.logout();
    expect(ctrl.expectOne('/logout').request.body).toEqual({});
  });
});

describe('JotAuth start-up and storage', () => {
  it('restores a stored session at start-up', () => {
    const token = fakeJwt({ sub: 'stored' });
    sessionStorage.setItem(JOT_STORAGE_KEY, JSON.stringify({ accessToken: token, refreshToken: 'r' }));
    const { auth } = setup();
    expect(auth.token()).toBe(token);
    expect(auth.claims()).toMatchObject({ sub: 'stored' });
  });

  it.each([
    ['not JSON', '{oops'],
    ['a malformed token', JSON.stringify({ accessToken: 'x.y' })],
    ['an empty token', JSON.stringify({ accessToken: '' })],
  ])('starts logged out, with one dev warning, from a stored record that is %s', (_what, raw) => {
    sessionStorage.setItem(JOT_STORAGE_KEY, raw);
    const { auth } = setup();
    expect(auth.token()).toBeNull();
    expect(auth.claims()).toBeNull();
    expect(auth.isAuthenticated()).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/^ngx-jot: /);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a skew that is an object', { skew: {} }],
    ['a skew that is text', { skew: 'abc' }],
    ['a skew far in the past', { skew: -1e13 }],
    ['a skew far in the future', { skew: 1e13 }],
    ['a refresh token that is a number', { refreshToken: 42 }],
    ['a version that is not an integer', { version: 1.5 }],
    ['a "remember" that is not a boolean', { remember: 'yes' }],
  ])('ignores a stored record with %s: an expired token never counts as valid, and no timer spins', (_what, bad) => {
    jest.useFakeTimers();
    try {
      const expired = fakeJwt({ sub: 'old' }, { issuedAt: new Date(Date.now() - 120_000), expiresInSeconds: 60 });
      sessionStorage.setItem(JOT_STORAGE_KEY, JSON.stringify({ accessToken: expired, ...bad }));
      const { auth, http, ctrl } = setup();
      expect(auth.isAuthenticated()).toBe(false);
      expect(auth.token()).toBeNull();
      expect(sessionStorage.getItem(JOT_STORAGE_KEY)).toBeNull();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0][0]).toMatch(/^ngx-jot: the stored token is malformed/);
      http.get('/api').subscribe();
      expect(ctrl.expectOne('/api').request.headers.has('Authorization')).toBe(false);
      // No timer is left to re-arm itself (the busy loop).
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('clears an unreadable stored record and keeps using web storage afterwards', () => {
    sessionStorage.setItem(JOT_STORAGE_KEY, 'eyJ…not-json');
    const { auth } = setup();
    expect(auth.token()).toBeNull();
    expect(sessionStorage.getItem(JOT_STORAGE_KEY)).toBeNull();
    const token = fakeJwt({});
    auth.setTokens({ accessToken: token });
    expect(JSON.parse(sessionStorage.getItem(JOT_STORAGE_KEY)!)).toMatchObject({ accessToken: token });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/stored token is malformed/);
  });

  it('a login without "remember me" after a remembered session leaves nothing of it in local storage', () => {
    localStorage.setItem(
      JOT_STORAGE_KEY,
      JSON.stringify({ accessToken: fakeJwt({ sub: 'alice' }), refreshToken: 'alice-r' }),
    );
    const { auth, ctrl } = setup();
    expect(auth.claims()).toMatchObject({ sub: 'alice' });
    auth.login({}).subscribe();
    ctrl.expectOne('/authenticate').flush({ access_token: fakeJwt({ sub: 'bob' }), refresh_token: 'bob-r' });
    expect(localStorage.getItem(JOT_STORAGE_KEY)).toBeNull();
    expect(JSON.parse(sessionStorage.getItem(JOT_STORAGE_KEY)!)).toMatchObject({ refreshToken: 'bob-r' });
  });

  it('a remembered login after a session-storage one leaves nothing in session storage', () => {
    sessionStorage.setItem(JOT_STORAGE_KEY, JSON.stringify({ accessToken: fakeJwt({ sub: 'alice' }) }));
    const { auth, ctrl } = setup();
    auth.login({}, { remember: true }).subscribe();
    ctrl.expectOne('/authenticate').flush({ access_token: fakeJwt({ sub: 'bob' }) });
    expect(sessionStorage.getItem(JOT_STORAGE_KEY)).toBeNull();
    expect(localStorage.getItem(JOT_STORAGE_KEY)).not.toBeNull();
  });

  it('an async store read never overwrites a session set meanwhile', async () => {
    let resolve!: (v: { accessToken: string }) => void;
    const store: JotTokenStore = { get: () => new Promise((r) => (resolve = r)), set: jest.fn() };
    const { auth } = setup([withStorage(store)]);
    const fresh = fakeJwt({ sub: 'new' });
    auth.setTokens({ accessToken: fresh });
    resolve({ accessToken: fakeJwt({ sub: 'old' }) });
    await new Promise((r) => setTimeout(r));
    expect(auth.token()).toBe(fresh);
  });

  it('drops a stored expired token that cannot be refreshed', () => {
    sessionStorage.setItem(JOT_STORAGE_KEY, JSON.stringify({ accessToken: fakeJwt({}, { expiresInSeconds: -10 }) }));
    const { auth } = setup();
    expect(auth.isAuthenticated()).toBe(false);
    expect(sessionStorage.getItem(JOT_STORAGE_KEY)).toBeNull();
  });

  it.each(['getItem', 'setItem'] as const)(
    'degrades to memory with one warning when the storage throws on %s, and keeps working',
    (method) => {
      const throwing = jest.spyOn(Storage.prototype, method).mockImplementation(() => {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      });
      try {
        const { auth, http, ctrl } = setup();
        const token = fakeJwt({});
        auth.setTokens({ accessToken: token });
        auth.setTokens({ accessToken: token });
        expect(auth.token()).toBe(token);
        http.get('/api').subscribe();
        const req = ctrl.expectOne('/api');
        expect(req.request.headers.get('Authorization')).toBe(`Bearer ${token}`);
        req.flush({});
        expect(throwing).toHaveBeenCalled();
        expect(warn).toHaveBeenCalledTimes(1);
        expect(warn.mock.calls[0][0]).toMatch(/storage failed.*memory/);
      } finally {
        throwing.mockRestore();
      }
    },
  );

  it('restores an async store before the first request goes out', async () => {
    const token = fakeJwt({ sub: 'async' });
    let resolve!: (v: { accessToken: string }) => void;
    const store: JotTokenStore = { get: () => new Promise((r) => (resolve = r)), set: jest.fn() };
    const { auth, http, ctrl } = setup([withStorage(store)]);
    let done = false;
    http.get('/api').subscribe(() => (done = true));
    ctrl.expectNone('/api'); // held: it should carry the token still being read
    resolve({ accessToken: token });
    await new Promise((r) => setTimeout(r));
    const req = ctrl.expectOne('/api');
    expect(req.request.headers.get('Authorization')).toBe(`Bearer ${token}`);
    req.flush({});
    expect(done).toBe(true);
    expect(auth.claims()).toMatchObject({ sub: 'async' });
  });

  describe('with an async store that does not answer', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    const hangingStore = () => {
      let answer!: (tokens: { accessToken: string } | null) => void;
      const store = { get: () => new Promise<{ accessToken: string } | null>((r) => (answer = r)), set: jest.fn() };
      return { store, answer: (tokens: { accessToken: string } | null) => answer(tokens) };
    };

    it(`waits at most RESTORE_TIMEOUT_MS, then runs logged out with one warning; a late answer is still adopted`, async () => {
      const { store, answer } = hangingStore();
      const { auth, http, ctrl } = setup([withStorage(store)]);
      let answered = 0;
      http.get('/api').subscribe(() => answered++);
      await jest.advanceTimersByTimeAsync(RESTORE_TIMEOUT_MS - 1);
      ctrl.expectNone('/api');
      await jest.advanceTimersByTimeAsync(1);
      const req = ctrl.expectOne('/api');
      expect(req.request.headers.has('Authorization')).toBe(false);
      req.flush({});
      expect(answered).toBe(1);
      expect(auth.isAuthenticated()).toBe(false);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0][0]).toMatch(/^ngx-jot: the token store did not answer/);

      const late = fakeJwt({ sub: 'late' });
      answer({ accessToken: late });
      await jest.advanceTimersByTimeAsync(0);
      expect(auth.token()).toBe(late);
      expect(warn).toHaveBeenCalledTimes(1);
    });

    it('a restore that finishes after the app is destroyed leaves nothing running: no timer, no write, no error', async () => {
      const { store, answer } = hangingStore();
      setup([withStorage(store)], { logoutUrl: '/logout' });
      TestBed.resetTestingModule(); // destroys the app's injector
      expect(jest.getTimerCount()).toBe(0);
      // A token that expires in a minute: applying it would arm the expiry timer, which would end
      // the session later (a null written to the store, a navigation through a destroyed injector).
      answer({ accessToken: fakeJwt({ sub: 'late' }, { expiresInSeconds: 60 }) });
      await jest.advanceTimersByTimeAsync(0);
      expect(jest.getTimerCount()).toBe(0);
      await jest.advanceTimersByTimeAsync(120_000);
      expect(store.set).not.toHaveBeenCalled();
    });

    it('does not adopt a late answer once something newer happened (a login, setTokens or logout)', async () => {
      const { store, answer } = hangingStore();
      const { auth } = setup([withStorage(store)]);
      await jest.advanceTimersByTimeAsync(RESTORE_TIMEOUT_MS);
      const fresh = fakeJwt({ sub: 'new' });
      auth.setTokens({ accessToken: fresh });
      answer({ accessToken: fakeJwt({ sub: 'old' }) });
      await jest.advanceTimersByTimeAsync(0);
      expect(auth.token()).toBe(fresh);
    });
  });

  it('keeps two applications (injectors) apart: no shared session', () => {
    TestBed.configureTestingModule({});
    const parent = TestBed.inject(EnvironmentInjector);
    const app = () =>
      createEnvironmentInjector(
        [
          provideHttpClient(withInterceptors([jotInterceptor])),
          provideHttpClientTesting(),
          provideJot({ loginUrl: '/a' }, withStorage('memory')),
        ],
        parent,
      );
    const one = app();
    const two = app();
    one.get(JotAuth).setTokens({ accessToken: fakeJwt({ sub: 'one' }) });
    expect(two.get(JotAuth).token()).toBeNull();
    two.get(HttpClient).get('/api').subscribe();
    const req = two.get(HttpTestingController).expectOne('/api');
    expect(req.request.headers.has('Authorization')).toBe(false);
    req.flush({});
    one.destroy();
    two.destroy();
  });

  it('refuses a second provideJot() in one injector tree, saying so', () => {
    TestBed.configureTestingModule({ providers: [provideJot({ loginUrl: '/a' })] });
    const parent = TestBed.inject(EnvironmentInjector);
    expect(() => createEnvironmentInjector([provideJot({ loginUrl: '/b' })], parent)).toThrow(
      /provideJot\(\) was called twice/,
    );
  });
});

describe('JotAuth.setTokens', () => {
  it('adopts tokens obtained elsewhere and treats malformed ones as no session', () => {
    const { auth, events } = setup();
    auth.setTokens({ accessToken: fakeJwt({ sub: 'sso' }) });
    expect(auth.claims()).toMatchObject({ sub: 'sso' });
    expect(events).toEqual([{ type: 'login', source: 'set-tokens' }]);
    expect(() => auth.setTokens({ accessToken: 'garbage' })).not.toThrow();
    expect(auth.token()).toBeNull();
    expect(auth.claims()).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('refresh() without withRefresh is a config error that says what to add', () => {
    const { auth } = setup();
    let error: JotError | undefined;
    auth.refresh().subscribe({ error: (e) => (error = e) });
    expect(error?.code).toBe('config');
    expect(error?.message).toContain('withRefresh');
  });

  it('refresh() without a refresh token fails with no-refresh-token', () => {
    const { auth } = setup([withRefresh({ url: '/refresh' })]);
    auth.setTokens({ accessToken: fakeJwt({}) });
    let error: JotError | undefined;
    auth.refresh().subscribe({ error: (e) => (error = e) });
    expect(error?.code).toBe('no-refresh-token');
  });
});
