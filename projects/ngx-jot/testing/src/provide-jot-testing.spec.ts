import { ApplicationRef, Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { JotAuth, JotError, type JotEvent, jotGuard } from 'ngx-jot';

import { fakeJwt } from './fake-jwt';
import { JotTestingController, provideJotTesting } from './provide-jot-testing';

function setup(options: Parameters<typeof provideJotTesting>[0] = {}) {
  TestBed.configureTestingModule({ providers: [provideJotTesting(options)] });
  const auth = TestBed.inject(JotAuth);
  const events: JotEvent[] = [];
  auth.events.subscribe((e) => events.push(e));
  return { auth, events, ctrl: TestBed.inject(JotTestingController) };
}

describe('fakeJwt', () => {
  it('makes an unsigned token with iat, exp and the claims, UTF-8 safe', () => {
    const token = fakeJwt({ sub: 'ada', name: 'Ädä €' }, { expiresInSeconds: 60 });
    const [header, payload, signature] = token.split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'none', typ: 'JWT' });
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    expect(claims).toMatchObject({ sub: 'ada', name: 'Ädä €' });
    expect(claims.exp - claims.iat).toBe(60);
    expect(signature).toBe('');
  });
});

describe('provideJotTesting', () => {
  it('starts logged in with the given claims, no HTTP needed', () => {
    const { auth } = setup({ claims: { sub: 'ada', roles: ['admin'] } });
    expect(auth.isAuthenticated()).toBe(true);
    expect(auth.claims()).toMatchObject({ sub: 'ada', roles: ['admin'] });
    expect(auth.expiresAt()!.getTime()).toBeGreaterThan(Date.now() + 3_500_000);
  });

  it('starts logged out with claims: null', () => {
    const { auth } = setup({ claims: null });
    expect(auth.isAuthenticated()).toBe(false);
  });

  it('refreshes through the controller: succeed, then fail', () => {
    const { auth, ctrl, events } = setup({ claims: { sub: 'ada' } });
    let token: string | undefined;
    auth.refresh().subscribe((t) => (token = t));
    expect(token).toBe(auth.token());
    expect(ctrl.refreshCount).toBe(1); // the token itself may be byte-identical within one second
    expect(auth.claims()).toMatchObject({ sub: 'ada' });
    ctrl.failNextRefresh();
    let error: unknown;
    auth.refresh().subscribe({ error: (e) => (error = e) });
    expect((error as JotError).code).toBe('refresh-rejected');
    expect(auth.isAuthenticated()).toBe(false);
    expect(ctrl.refreshCount).toBe(2);
    expect(events.map((e) => e.type)).toEqual([
      'refresh-start',
      'refresh-success',
      'refresh-start',
      'refresh-failure',
      'logout',
    ]);
  });

  it('failNextRefresh("refresh-unavailable") fails as a network error does: the session is kept', () => {
    const { auth, ctrl, events } = setup({ claims: { sub: 'ada' } });
    ctrl.failNextRefresh('refresh-unavailable');
    let error: unknown;
    auth.refresh().subscribe({ error: (e) => (error = e) });
    expect((error as JotError).code).toBe('refresh-unavailable');
    expect(auth.isAuthenticated()).toBe(true);
    expect(events.map((e) => e.type)).toEqual(['refresh-start', 'refresh-failure']);
  });

  it('succeedNextRefresh() with another sub begins that session, as the real refresher does', () => {
    const { auth, ctrl, events } = setup({ claims: { sub: 'ada' } });
    ctrl.succeedNextRefresh({ sub: 'bob' });
    let error: unknown;
    auth.refresh().subscribe({ error: (e) => (error = e) });
    expect((error as JotError).code).toBe('subject-changed');
    expect(auth.claims()).toMatchObject({ sub: 'bob' });
    expect(events).toEqual([
      { type: 'refresh-start' },
      { type: 'logout', reason: 'subject-changed' },
      { type: 'login', source: 'refresh' },
      { type: 'refresh-failure', error },
    ]);
  });

  it('expireToken() makes the token stale so the next use refreshes', () => {
    const { auth, ctrl } = setup({ claims: { sub: 'ada' } });
    ctrl.expireToken();
    expect(auth.expiresAt()!.getTime()).toBeLessThan(Date.now());
    expect(auth.isAuthenticated()).toBe(true); // refreshable
    ctrl.succeedNextRefresh({ sub: 'ada', roles: ['new'] });
    auth.refresh().subscribe();
    expect(auth.claims()).toMatchObject({ roles: ['new'] });
    expect(auth.expiresAt()!.getTime()).toBeGreaterThan(Date.now());
  });

  it('refresh() without a refresh token fails as the real one does, and never logs anyone in', () => {
    const { auth } = setup({ claims: null });
    let error: JotError | undefined;
    auth.refresh().subscribe({ error: (e: JotError) => (error = e) });
    expect(error?.code).toBe('no-refresh-token');
    expect(auth.isAuthenticated()).toBe(false);
  });

  it('one refresh() call is one refresh, however many subscribe', () => {
    const { auth, ctrl } = setup();
    const shared = auth.refresh();
    shared.subscribe();
    shared.subscribe();
    expect(ctrl.refreshCount).toBe(1);
  });

  it('logoutInOtherTab() ends the session with reason other-tab', () => {
    const { auth, ctrl, events } = setup();
    ctrl.logoutInOtherTab();
    expect(auth.isAuthenticated()).toBe(false);
    expect(events).toContainEqual({ type: 'logout', reason: 'other-tab' });
  });
});

describe('JotTestingController.advanceIdleTime', () => {
  beforeEach(() => localStorage.clear());

  it('drives the idle warning and the idle logout at once, without fake timers', () => {
    const { auth, ctrl, events } = setup({ idleLogout: { afterSeconds: 600, warnSeconds: 60 } });
    ctrl.advanceIdleTime(530);
    expect(auth.sessionWarning()).toBeNull();
    ctrl.advanceIdleTime(20);
    expect(auth.sessionWarning()?.reason).toBe('idle');
    // The end is on the real clock (50 s left), so a countdown in a component shows 50.
    expect(Math.abs(auth.sessionWarning()!.endsAt.getTime() - (Date.now() + 50_000))).toBeLessThan(1000);
    expect(events.map((e) => e.type)).toEqual(['session-warning']);
    auth.keepAlive();
    expect(auth.sessionWarning()).toBeNull();
    ctrl.advanceIdleTime(600);
    expect(auth.isAuthenticated()).toBe(false);
    expect(events.at(-1)).toEqual({ type: 'logout', reason: 'idle' });
  });

  it('says what to add when idle logout is off', () => {
    const { ctrl } = setup();
    expect(() => ctrl.advanceIdleTime(60)).toThrow(/^ngx-jot: advanceIdleTime\(\) needs .*idleLogout/);
  });

  it('sends a user on a protected route to loginRoute?returnUrl= after an idle logout', async () => {
    @Component({ template: 'page' })
    class Page {}
    TestBed.configureTestingModule({
      providers: [
        provideJotTesting({ idleLogout: { afterSeconds: 300 } }),
        provideRouter([
          { path: 'login', component: Page },
          { path: 'account', canActivate: [jotGuard], component: Page },
        ]),
      ],
    });
    const harness = await RouterTestingHarness.create('/account?tab=2');
    const router = TestBed.inject(Router);
    expect(router.url).toBe('/account?tab=2');
    TestBed.inject(JotTestingController).advanceIdleTime(300);
    await TestBed.inject(ApplicationRef).whenStable();
    expect(router.url).toBe('/login?returnUrl=%2Faccount%3Ftab%3D2');
    expect(harness.routeNativeElement?.textContent).toBe('page');
  });
});
