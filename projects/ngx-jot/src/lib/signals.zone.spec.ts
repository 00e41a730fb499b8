import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { provideHttpClientTesting } from '@angular/common/http/testing';
import {
  ChangeDetectionStrategy,
  Component,
  NgZone,
  inject,
  provideZoneChangeDetection,
  ɵNoopNgZone as NoopNgZone,
} from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { fakeJwt } from '../../testing-private/fake-jwt';

import { JotAuth } from './jot-auth';
import { jotInterceptor } from './jot-interceptor';
import { provideJot } from './provide-jot';
import { withStorage } from './storage';

@Component({
  selector: 'jot-whoami',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<span class="name">{{ auth.claims()?.name ?? 'nobody' }}</span
    >|<span class="auth">{{ auth.isAuthenticated() }}</span>`,
})
class Whoami {
  readonly auth = inject<JotAuth<{ name?: string }>>(JotAuth);
}

// zone.js: the view follows the signals whether the change comes from inside the zone (an event
// handler) or from outside it (a timer or another tab's message run outside Angular).
describe('JotAuth signals in a zone.js app', () => {
  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [
        provideZoneChangeDetection(),
        provideHttpClient(withInterceptors([jotInterceptor])),
        provideHttpClientTesting(),
        provideJot({ loginUrl: '/authenticate' }, withStorage('memory')),
      ],
    });
  });

  it('runs under a real NgZone', () => {
    expect(typeof (globalThis as { Zone?: unknown }).Zone).toBe('function');
    expect(TestBed.inject(NgZone)).not.toBeInstanceOf(NoopNgZone);
  });

  it.each([
    ['inside the zone', (zone: NgZone, fn: () => void) => zone.run(fn)],
    ['outside the zone', (zone: NgZone, fn: () => void) => zone.runOutsideAngular(fn)],
  ])('re-renders claims() and isAuthenticated() after setTokens() and after logout() (%s)', async (_where, run) => {
    const fixture = TestBed.createComponent(Whoami);
    fixture.autoDetectChanges();
    const text = () => (fixture.nativeElement as HTMLElement).textContent;
    const zone = TestBed.inject(NgZone);
    const auth = TestBed.inject(JotAuth);
    await fixture.whenStable();
    expect(text()).toBe('nobody|false');

    run(zone, () => auth.setTokens({ accessToken: fakeJwt({ name: 'Ada' }) }));
    await fixture.whenStable();
    expect(text()).toBe('Ada|true');

    run(zone, () => auth.logout());
    await fixture.whenStable();
    expect(text()).toBe('nobody|false');
  });
});
