import { provideHttpClient } from '@angular/common/http';
import { provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { JotTestingController, provideJotTesting } from 'ngx-jot/testing';

import { App } from './app';
import { routes } from './app.routes';
import { DEMO_CONFIG, type DemoConfig } from './demo-config';

const config: DemoConfig = {
  apiBaseUrl: '',
  apiOrigin: null,
  loginUrl: '/authenticate',
  refreshUrl: '/refresh',
  logoutUrl: null,
  restrictedUrl: '/api/restricted',
  expireUrl: null,
  foreignUrl: null,
  usernameField: 'username',
  storage: 'session',
  crossTabSync: true,
  idleSeconds: null,
  dpop: false,
};

// The demo's own components with ngx-jot/testing: zoneless, no network, no real token.
function setup(claims: Record<string, unknown> | null, idleLogout?: { afterSeconds: number; warnSeconds: number }) {
  TestBed.configureTestingModule({
    providers: [
      provideRouter(routes),
      provideHttpClient(),
      provideHttpClientTesting(),
      provideJotTesting({ claims, config: { forbiddenRoute: '/forbidden' }, idleLogout }),
      { provide: DEMO_CONFIG, useValue: config },
    ],
  });
}

describe('demo app with ngx-jot/testing', () => {
  it('shows who is signed in, and "Signed out" once another tab logs out', async () => {
    setup({ sub: 'ada', name: 'Ada Lovelace', roles: ['user'] });
    const fixture = TestBed.createComponent(App);
    await fixture.whenStable();
    const state = () =>
      (fixture.nativeElement as HTMLElement).querySelector('[data-testid="session-state"]')!.textContent;
    expect(state()).toContain('Ada Lovelace');
    expect(state()).toMatch(/\d+s/);

    TestBed.inject(JotTestingController).logoutInOtherTab();
    await fixture.whenStable();
    expect(state()).toContain('Signed out');
  });

  it('lets an admin into /admin', async () => {
    setup({ sub: 'ada', name: 'Ada', roles: ['user', 'admin'] });
    const harness = await RouterTestingHarness.create();
    await harness.navigateByUrl('/admin');
    expect(harness.routeNativeElement?.querySelector('[data-testid="admin"]')?.textContent).toContain('Welcome, Ada');
  });

  it('sends a user without the admin role to /forbidden, without a returnUrl', async () => {
    setup({ sub: 'bob', roles: ['user'] });
    const harness = await RouterTestingHarness.create();
    await harness.navigateByUrl('/admin');
    expect(TestBed.inject(Router).url).toBe('/forbidden');
    expect(harness.routeNativeElement?.querySelector('[data-testid="admin"]')).toBeNull();
  });

  it('sends a guest from /restricted to /login?returnUrl=%2Frestricted', async () => {
    setup(null);
    const harness = await RouterTestingHarness.create();
    await harness.navigateByUrl('/restricted');
    expect(TestBed.inject(Router).url).toBe('/login?returnUrl=%2Frestricted');
    expect(harness.routeNativeElement?.querySelector('[data-testid="login-submit"]')).not.toBeNull();
  });

  it('shows the idle warning with a countdown; "Stay signed in" ends it', async () => {
    localStorage.clear();
    setup({ sub: 'ada', name: 'Ada' }, { afterSeconds: 600, warnSeconds: 60 });
    const fixture = TestBed.createComponent(App);
    await fixture.whenStable();
    const banner = () => (fixture.nativeElement as HTMLElement).querySelector('[data-testid="session-warning"]');
    expect(banner()).toBeNull();

    TestBed.inject(JotTestingController).advanceIdleTime(570);
    await fixture.whenStable();
    expect(banner()?.textContent).toMatch(/signed out for inactivity in\s+(29|30)\s+s/);
    banner()!.querySelector<HTMLButtonElement>('[data-testid="stay-signed-in"]')!.click();
    await fixture.whenStable();
    expect(banner()).toBeNull();
  });
});
