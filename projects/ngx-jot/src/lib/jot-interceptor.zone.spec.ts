import { HttpClient, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { ApplicationRef, NgZone, provideZoneChangeDetection } from '@angular/core';
import { TestBed, fakeAsync, flushMicrotasks, tick } from '@angular/core/testing';
import { fakeJwt } from '../../testing-private/fake-jwt';

import { JotAuth } from './jot-auth';
import { jotInterceptor } from './jot-interceptor';
import { provideJot } from './provide-jot';
import { withRefresh } from './refresher';
import { withStorage } from './storage';

// The same library under zone.js: timers must not hold the zone unstable, and the refresh
// queue must behave as it does zoneless.
describe('ngx-jot with zone.js', () => {
  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [
        provideZoneChangeDetection(),
        provideHttpClient(withInterceptors([jotInterceptor])),
        provideHttpClientTesting(),
        provideJot({ loginUrl: '/authenticate' }, withRefresh({ url: '/refresh' }), withStorage('memory')),
      ],
    });
  });
  afterEach(() => TestBed.inject(HttpTestingController).verify());

  it('runs under a real NgZone', () => {
    expect(typeof (globalThis as { Zone?: unknown }).Zone).toBe('function');
    expect(TestBed.inject(NgZone)).toBeInstanceOf(NgZone);
  });

  it('a session with a proactive refresh timer does not keep the app from becoming stable', async () => {
    const auth = TestBed.inject(JotAuth);
    TestBed.inject(NgZone).run(() =>
      auth.setTokens({ accessToken: fakeJwt({}, { expiresInSeconds: 3600 }), refreshToken: 'r1' }),
    );
    const zone = TestBed.inject(NgZone);
    expect(zone.hasPendingMacrotasks).toBe(false);
    await expect(TestBed.inject(ApplicationRef).whenStable()).resolves.toBeUndefined();
  });

  it('queues under fakeAsync: one refresh for concurrent 401s, proactive refresh on time', fakeAsync(() => {
    const auth = TestBed.inject(JotAuth);
    const http = TestBed.inject(HttpClient);
    const ctrl = TestBed.inject(HttpTestingController);
    auth.setTokens({ accessToken: fakeJwt({}, { expiresInSeconds: 120 }), refreshToken: 'r1' });
    const answers: string[] = [];
    for (const id of ['a', 'b', 'c']) http.get(`/api/${id}`).subscribe((v) => answers.push(v as string));
    for (const r of ctrl.match((r) => r.url.startsWith('/api/')))
      r.flush(null, { status: 401, statusText: 'Unauthorized' });
    const fresh = fakeJwt({ n: 2 }, { expiresInSeconds: 120 });
    ctrl.expectOne('/refresh').flush({ access_token: fresh, refresh_token: 'r2' });
    for (const r of ctrl.match((r) => r.url.startsWith('/api/'))) {
      expect(r.request.headers.get('Authorization')).toBe(`Bearer ${fresh}`);
      r.flush(r.request.url);
    }
    flushMicrotasks();
    expect(answers.sort()).toEqual(['/api/a', '/api/b', '/api/c']);
    tick(89_000);
    ctrl.expectNone('/refresh');
    tick(2_000);
    ctrl
      .expectOne('/refresh')
      .flush({ access_token: fakeJwt({ n: 3 }, { expiresInSeconds: 120 }), refresh_token: 'r3' });
    auth.logout();
  }));
});
