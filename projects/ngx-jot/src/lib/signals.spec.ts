import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { provideHttpClientTesting } from '@angular/common/http/testing';
import { ChangeDetectionStrategy, Component, NgZone, inject, ɵNoopNgZone as NoopNgZone } from '@angular/core';
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

// Zoneless (the default of new apps): nothing but the signals tells Angular to render again.
describe('JotAuth signals in a zoneless app', () => {
  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(withInterceptors([jotInterceptor])),
        provideHttpClientTesting(),
        provideJot({ loginUrl: '/authenticate' }, withStorage('memory')),
      ],
    });
  });

  it('runs without zone.js', () => {
    expect((globalThis as { Zone?: unknown }).Zone).toBeUndefined();
    expect(TestBed.inject(NgZone)).toBeInstanceOf(NoopNgZone);
  });

  it('re-renders claims() and isAuthenticated() after setTokens() and after logout(), without detectChanges()', async () => {
    const fixture = TestBed.createComponent(Whoami);
    const text = () => (fixture.nativeElement as HTMLElement).textContent;
    await fixture.whenStable();
    expect(text()).toBe('nobody|false');

    const auth = TestBed.inject(JotAuth);
    auth.setTokens({ accessToken: fakeJwt({ name: 'Ada' }) });
    await fixture.whenStable();
    expect(text()).toBe('Ada|true');

    auth.setTokens({ accessToken: fakeJwt({ name: 'Grace' }) });
    await fixture.whenStable();
    expect(text()).toBe('Grace|true');

    auth.logout();
    await fixture.whenStable();
    expect(text()).toBe('nobody|false');
  });
});
