import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { fakeJwt } from '../../testing-private/fake-jwt';

import { withIdleLogout } from './idle-logout';
import type { JotEvent } from './events';
import { JotAuth } from './jot-auth';
import { jotInterceptor } from './jot-interceptor';
import type { JotFeature } from './feature';
import { provideJot } from './provide-jot';
import { withRefresh } from './refresher';
import { JOT_STORAGE_KEY } from './storage';

/** The session's absolute end: the refresh token's, warned of without withIdleLogout() too. */
describe('JotAuth.sessionWarning before the absolute end', () => {
  function setup(features: JotFeature[] = []) {
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(withInterceptors([jotInterceptor])),
        provideHttpClientTesting(),
        provideJot({ loginUrl: '/authenticate' }, withRefresh({ url: '/refresh' }), ...features),
      ],
    });
    const auth = TestBed.inject(JotAuth);
    const events: JotEvent[] = [];
    auth.events.subscribe((e) => events.push(e));
    return { auth, events, http: TestBed.inject(HttpTestingController) };
  }
  const logIn = (setupResult: ReturnType<typeof setup>, body: Record<string, unknown>) => {
    setupResult.auth.login({}).subscribe();
    setupResult.http
      .expectOne('/authenticate')
      .flush({ access_token: fakeJwt({ sub: 'ada' }, { expiresInSeconds: 3600 }), ...body });
  };
  const settle = (ms: number) => jest.advanceTimersByTimeAsync(ms);
  const kinds = (events: JotEvent[]) => events.map((e) => (e.type === 'logout' ? `logout:${e.reason}` : e.type));

  beforeEach(() => {
    sessionStorage.clear();
    localStorage.clear();
    jest.useFakeTimers();
  });
  afterEach(() => {
    TestBed.inject(HttpTestingController).verify();
    jest.useRealTimers();
  });

  it('warns 60 s before a refresh token JWT expires, then ends the session (reason expired)', async () => {
    const s = setup();
    logIn(s, { refresh_token: fakeJwt({ sub: 'ada', typ: 'Refresh' }, { expiresInSeconds: 300 }) });
    const end = Date.now() + 300_000;
    await settle(239_000);
    expect(s.auth.sessionWarning()).toBeNull();
    await settle(1_000);
    expect(s.auth.sessionWarning()).toEqual({ reason: 'expired', endsAt: new Date(end) });
    expect(s.events.at(-1)).toEqual({ type: 'session-warning', reason: 'expired', endsAt: new Date(end) });
    await settle(59_999);
    expect(s.auth.isAuthenticated()).toBe(true);
    await settle(1);
    expect(s.auth.isAuthenticated()).toBe(false);
    expect(s.auth.sessionWarning()).toBeNull();
    expect(kinds(s.events)).toEqual(['login', 'session-warning', 'logout:expired']);
  });

  it('takes refresh_expires_in of the login answer; a refresh that moves the end clears the warning', async () => {
    const s = setup();
    logIn(s, { refresh_token: 'opaque-1', refresh_expires_in: 300 });
    await settle(250_000);
    expect(s.auth.sessionWarning()?.reason).toBe('expired');

    s.auth.refresh().subscribe();
    s.http.expectOne('/refresh').flush({
      access_token: fakeJwt({ sub: 'ada' }, { expiresInSeconds: 3600 }),
      refresh_token: 'opaque-2',
      refresh_expires_in: 300,
    });
    expect(s.auth.sessionWarning()).toBeNull();
    await settle(239_000);
    expect(s.auth.sessionWarning()).toBeNull();
    await settle(1_000);
    expect(s.auth.sessionWarning()?.endsAt.getTime()).toBe(Date.now() + 60_000);
    expect(kinds(s.events).filter((k) => k === 'session-warning')).toHaveLength(2);
  });

  it('keeps an end learned from refresh_expires_in across a refresh that keeps the same refresh token', async () => {
    const s = setup();
    logIn(s, { refresh_token: 'opaque-1', refresh_expires_in: 300 });
    const end = Date.now() + 300_000;
    await settle(10_000);
    // The answer omits the refresh token (the old one stays valid), then repeats it: its end stays.
    for (const refreshToken of [undefined, 'opaque-1']) {
      s.auth.refresh().subscribe();
      s.http
        .expectOne('/refresh')
        .flush({ access_token: fakeJwt({ sub: 'ada' }, { expiresInSeconds: 3600 }), refresh_token: refreshToken });
    }
    await settle(230_000);
    expect(s.auth.sessionWarning()).toEqual({ reason: 'expired', endsAt: new Date(end) });
  });

  it('keeps an end learned from refresh_expires_in across a reload (it is stored with the pair)', async () => {
    const s = setup();
    logIn(s, { refresh_token: 'opaque-1', refresh_expires_in: 300 });
    const end = Date.now() + 300_000;
    const stored = sessionStorage.getItem(JOT_STORAGE_KEY)!;
    expect(JSON.parse(stored)).toMatchObject({ endsAt: end });
    TestBed.resetTestingModule();
    sessionStorage.setItem(JOT_STORAGE_KEY, stored);

    const reloaded = setup();
    expect(reloaded.auth.isAuthenticated()).toBe(true);
    await settle(240_000);
    expect(reloaded.auth.sessionWarning()).toEqual({ reason: 'expired', endsAt: new Date(end) });
  });

  it.each([
    ['0', 0],
    ['negative', -30],
    ['a string', '300'],
    ['NaN', NaN],
  ])('ignores a refresh_expires_in that is %s (no warning)', async (_what, value) => {
    const s = setup();
    logIn(s, { refresh_token: 'opaque-1', refresh_expires_in: value });
    await settle(3_000_000);
    expect(s.auth.sessionWarning()).toBeNull();
    expect(kinds(s.events)).not.toContain('session-warning');
    expect(s.auth.isAuthenticated()).toBe(true);
  });

  it('uses withIdleLogout() warnSeconds, and shows the warning of whichever end comes first', async () => {
    const s = setup([withIdleLogout({ afterSeconds: 600, warnSeconds: 120 })]);
    logIn(s, { refresh_token: 'opaque-1', refresh_expires_in: 900 });
    await settle(480_000);
    expect(s.auth.sessionWarning()?.reason).toBe('idle');
    // Activity moves the idle end past the absolute one, whose warning shows from 120 s before it.
    s.auth.keepAlive();
    expect(s.auth.sessionWarning()).toBeNull();
    await settle(300_000);
    expect(s.auth.sessionWarning()).toEqual({ reason: 'expired', endsAt: new Date(Date.now() + 120_000) });
    await settle(120_000);
    expect(kinds(s.events)).toEqual(['login', 'session-warning', 'session-warning', 'logout:expired']);
  });
});
