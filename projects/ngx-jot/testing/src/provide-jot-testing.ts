import { type EnvironmentProviders, Injectable, Injector, inject, makeEnvironmentProviders } from '@angular/core';
import {
  JotAuth,
  JOT_DEFAULT_REFRESH_BEFORE_EXPIRY_SECONDS,
  JotError,
  provideJot,
  withIdleLogout,
  withStorage,
  type JotConfig,
  type JotFeature,
  type JotIdleLogoutOptions,
  ɵJOT_REFRESHER,
  ɵJotSessionState,
  ɵrefreshRequestBody,
  type ɵJotHost,
  type ɵJotRefresher,
  type ɵJotSession,
} from 'ngx-jot';
import { type Observable, of, throwError } from 'rxjs';

import { fakeJwt } from './fake-jwt';

/** Options of `provideJotTesting()`. */
export interface JotTestingOptions {
  /** Claims of the fake token; `null` starts logged out. Default `{ sub: 'test-user' }`. */
  claims?: Record<string, unknown> | null;
  /** Lifetime of the fake token. Default 3600. */
  expiresInSeconds?: number;
  /** Refresh token held; default `'fake-refresh-token'`. `null` makes the session unrefreshable. */
  refreshToken?: string | null;
  /** More `JotConfig` (e.g. `loginRoute`) for guard tests. */
  config?: Partial<JotConfig>;
  /** Turns on `withIdleLogout()`; `JotTestingController.advanceIdleTime()` then moves its clock. */
  idleLogout?: JotIdleLogoutOptions;
}

type Outcome = { ok: true; claims?: Record<string, unknown> } | { ok: false; code: JotRefreshFailure };

/** How `JotTestingController.failNextRefresh()` fails: rejected (session ends) or unavailable (session kept). */
export type JotRefreshFailure = 'refresh-rejected' | 'refresh-unavailable';

/**
 * Drives the session of `provideJotTesting()`: expire the token, decide the next refresh,
 * log out "from another tab", let the user be idle.
 */
@Injectable()
export class JotTestingController {
  // Looked up lazily: JotAuth itself asks for the refresher this controller backs.
  private readonly injector = inject(Injector);
  private readonly outcomes: Outcome[] = [];
  /** Refreshes run so far. */
  refreshCount = 0;

  private get auth(): JotAuth {
    return this.injector.get(JotAuth);
  }

  private get session(): ɵJotSessionState {
    return this.injector.get(ɵJotSessionState);
  }

  /** Replaces the token with one that expired a minute ago (the refresh token stays). */
  expireToken(): void {
    const claims = (this.auth.claims() as Record<string, unknown> | null) ?? {};
    const { iat: _iat, exp: _exp, ...rest } = claims;
    this.session.adopt({ accessToken: fakeJwt(rest, { expiresInSeconds: -60 }) }, { fresh: false, from: 'refresh' });
  }

  /**
   * The next refresh succeeds (with these claims, default the current ones). Claims with another
   * `sub` begin that user's session, as a real refresh would: `logout`, `login`, and `'subject-changed'`.
   */
  succeedNextRefresh(claims?: Record<string, unknown>): void {
    this.outcomes.push({ ok: true, claims });
  }

  /**
   * The next refresh fails: `'refresh-rejected'` (default, as a 401 would be) ends the session with
   * reason `refresh-failed`; `'refresh-unavailable'` (as a network error or 5xx would be) keeps it.
   */
  failNextRefresh(code: JotRefreshFailure = 'refresh-rejected'): void {
    this.outcomes.push({ ok: false, code });
  }

  /** Another tab logged out: the session ends here with reason `other-tab`. */
  logoutInOtherTab(): void {
    this.session.end('other-tab', { broadcast: false });
  }

  /**
   * The user has been idle `seconds` longer (needs `provideJotTesting({ idleLogout })`): the idle
   * warning and the idle logout happen now if they are due, without waiting or fake timers.
   */
  advanceIdleTime(seconds: number): void {
    const idle = this.session.idle;
    if (!idle) {
      throw new JotError(
        'config',
        'advanceIdleTime() needs idle logout on: provideJotTesting({ idleLogout: { afterSeconds: 900 } }).',
      );
    }
    idle.advance(seconds * 1000);
  }

  /** @internal */
  ɵrefresh(host: ɵJotHost): Observable<ɵJotSession> {
    // Decided once per call, so every subscriber shares one outcome (single-flight, as the real one).
    if (!host.session()?.refreshToken) {
      const error = new JotError('no-refresh-token', 'no refresh token is held (provideJotTesting({ refreshToken })).');
      return throwError(() => error);
    }
    this.refreshCount++;
    host.emit({ type: 'refresh-start' });
    const outcome = this.outcomes.shift() ?? { ok: true };
    if (!outcome.ok) {
      const error = new JotError(outcome.code, 'the refresh failed (JotTestingController.failNextRefresh()).');
      host.emit({ type: 'refresh-failure', error });
      if (outcome.code === 'refresh-rejected') host.end('refresh-failed');
      return throwError(() => error);
    }
    const before = host.session()?.claims.sub;
    const { iat: _iat, exp: _exp, ...current } = (host.session()?.claims ?? {}) as Record<string, unknown>;
    const adopted = host.adopt(
      { accessToken: fakeJwt(outcome.claims ?? current), refreshToken: `fake-refresh-${this.refreshCount}` },
      { fresh: true, from: 'refresh' },
    );
    if (typeof adopted === 'string') return throwError(() => new JotError('refresh-invalid', adopted));
    if (before !== undefined && adopted.claims.sub !== undefined && adopted.claims.sub !== before) {
      // As the real refresher: another user's session began (logout, then login), and waiters error.
      const error = new JotError('subject-changed', 'the refresh answered for another user (succeedNextRefresh).');
      host.emit({ type: 'refresh-failure', error });
      return throwError(() => error);
    }
    host.emit({ type: 'refresh-success', source: 'this-tab' });
    return of(adopted);
  }
}

/**
 * A logged-in session with an unsigned fake token, for component and service tests; no HTTP
 * is needed, and refreshes are answered by `JotTestingController`.
 *
 * @usageNotes
 * ```ts
 * TestBed.configureTestingModule({ providers: [provideJotTesting({ claims: { sub: 'ada', roles: ['admin'] } })] });
 * ```
 */
export function provideJotTesting(options: JotTestingOptions = {}): EnvironmentProviders {
  const claims = options.claims === undefined ? { sub: 'test-user' } : options.claims;
  const record =
    claims === null
      ? null
      : {
          accessToken: fakeJwt(claims, { expiresInSeconds: options.expiresInSeconds }),
          refreshToken: options.refreshToken === undefined ? 'fake-refresh-token' : options.refreshToken,
        };
  return makeEnvironmentProviders([
    provideJot(
      { loginUrl: '/__jot-testing/login', ...options.config },
      withStorage({ get: () => record, set: () => undefined }),
      ...(options.idleLogout ? [withIdleLogout(options.idleLogout)] : ([] as JotFeature[])),
    ),
    JotTestingController,
    {
      provide: ɵJOT_REFRESHER,
      useFactory: () => {
        const controller = inject(JotTestingController);
        return (host: ɵJotHost): ɵJotRefresher => ({
          // No call is ever made: the controller answers refreshes.
          url: '',
          withCredentials: false,
          refreshBeforeMs: JOT_DEFAULT_REFRESH_BEFORE_EXPIRY_SECONDS * 1000,
          busy: false,
          ahead: false,
          body: (refreshToken) => ɵrefreshRequestBody(refreshToken),
          refresh: () => controller.ɵrefresh(host),
          cancel: () => undefined,
        });
      },
    },
  ]);
}
