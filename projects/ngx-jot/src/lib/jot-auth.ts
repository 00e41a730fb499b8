import { HttpClient } from '@angular/common/http';
import { Injectable, computed, inject, type Signal } from '@angular/core';
import type { JwtPayload } from 'jwt-decode';
import { type Observable, defer, map, throwError } from 'rxjs';

import type { JotLogoutReason, JotTokens } from './config';
import { skipJotContext } from './context';
import { JotError, configError, warnOnce } from './errors';
import type { JotEvent, JotSessionWarning } from './events';
import { toSession } from './jwt-session';
import { refreshRequestBody } from './refresh-body';
import { SessionState } from './session-state';
import { firstWarning } from './session-warning';

/** Options of `JotAuth.login()`. */
export interface JotLoginOptions {
  /** Keep this session in local storage (survives closing the browser), whatever the configured storage. */
  remember?: boolean;
}

/** Options of `JotAuth.logout()`. */
export interface JotLogoutOptions {
  /** Recorded in the `logout` event. Default `'user'`. */
  reason?: JotLogoutReason;
  /** Navigate to `loginRoute` afterwards (with `returnUrl` when the current route is protected). */
  redirect?: boolean;
}

/**
 * The session: the current token as signals, and login, logout, refresh.
 *
 * @usageNotes
 * ```ts
 * const auth = inject(JotAuth);
 * auth.login({ username, password }).subscribe(() => router.navigateByUrl('/'));
 * readonly name = computed(() => this.auth.claims()?.sub);
 * ```
 */
@Injectable({ providedIn: 'root' })
export class JotAuth<TClaims = JwtPayload> {
  readonly #state = inject(SessionState);
  readonly #http = inject(HttpClient, { optional: true });

  /** The current access token, or null. */
  readonly token: Signal<string | null> = computed(() => this.#state.session()?.accessToken ?? null);
  /** The decoded payload of the current token, or null. */
  readonly claims: Signal<TClaims | null> = computed(
    () => (this.#state.session()?.claims as TClaims | undefined) ?? null,
  );
  /** A well-formed token is held that is not expired, or can be refreshed. */
  readonly isAuthenticated: Signal<boolean> = computed(() => this.#state.session() !== null);
  /** When the token expires (its `exp`, on this device's clock), or null. */
  readonly expiresAt: Signal<Date | null> = computed(() => {
    const at = this.#state.session()?.expiresAt;
    return at == null ? null : new Date(at);
  });
  /** `login`, `logout` (with its reason), `session-warning`, `refresh-*` (`refresh-success` with its source). */
  readonly events: Observable<JotEvent> = this.#state.events;
  /** Set from `warnSeconds` (default 60) before the session ends, idle or absolute; see the README. */
  readonly sessionWarning: Signal<JotSessionWarning | null> = computed(() =>
    firstWarning(this.#state.timer?.warning() ?? null, this.#state.idle?.warning()),
  );
  /** Counts as user activity for `withIdleLogout()` (a video playing); bound, so it can be passed as a callback. */
  readonly keepAlive = (): void => this.#state.idle?.keepAlive();

  /**
   * POSTs the credentials to `loginUrl` and stores the tokens. Errors (an `HttpErrorResponse`,
   * or `JotError('invalid-token-response')`) leave the session as it was.
   */
  login(credentials: object, options: JotLoginOptions = {}): Observable<TClaims> {
    const state = this.#state;
    const { loginUrl, readTokens } = state.config;
    return defer(() =>
      this.#requireHttp().post<unknown>(loginUrl, credentials, {
        context: skipJotContext(),
        // A cookie-held refresh token is set by the login response: it must be a credentialed call.
        withCredentials: state.refresher?.withCredentials || undefined,
      }),
    ).pipe(
      map((body) => {
        const tokens = readTokens(body);
        const result = tokens ? toSession(tokens, state.timing(), { fresh: true, remember: options.remember }) : null;
        if (!result || 'problem' in result) {
          throw new JotError(
            'invalid-token-response',
            ngDevMode
              ? `the login response from ${loginUrl} holds no usable token` +
                  (result ? ` (${result.problem})` : '') +
                  `. Expected { access_token, refresh_token }, { accessToken, refreshToken } or { token }; ` +
                  `map other shapes with the readTokens option of provideJot().`
              : '',
          );
        }
        state.begin(result, 'user');
        return result.claims as TClaims;
      }),
    );
  }

  /**
   * Forgets the tokens everywhere (every store written, and other tabs with sync); POSTs to
   * `logoutUrl` best-effort. With `redirect`, navigates to `loginRoute`.
   */
  logout(options: JotLogoutOptions = {}): void {
    const state = this.#state;
    const session = state.session();
    const url = state.config.logoutUrl;
    if (session && url && this.#http) {
      const refresher = state.refresher;
      const body = refresher ? refresher.body(session.refreshToken) : refreshRequestBody(session.refreshToken);
      this.#http
        .post(url, body, { context: skipJotContext(), withCredentials: refresher?.withCredentials || undefined })
        .subscribe({ error: () => undefined });
    }
    state.end(options.reason ?? 'user', { redirect: !!options.redirect });
  }

  /** Single-flight refresh: every caller during one refresh shares that one request. */
  refresh(): Observable<string> {
    const refresher = this.#state.refresher;
    if (!refresher) {
      return throwError(() =>
        configError(
          ngDevMode ? `refresh() needs the refresh feature: add withRefresh({ url: '/refresh' }) to provideJot().` : '',
        ),
      );
    }
    return refresher.refresh('app').pipe(map((session) => session.accessToken));
  }

  /** Adopts tokens obtained elsewhere (SSO, a native shell); `null` ends the session. */
  setTokens(tokens: JotTokens | null): void {
    const state = this.#state;
    if (!tokens) {
      state.end('user');
      return;
    }
    const result = toSession(tokens, state.timing(), { fresh: false });
    if ('problem' in result) {
      if (ngDevMode)
        warnOnce(state.config, `setTokens() got a malformed token (${result.problem}); the session is ended instead.`);
      state.end('user');
      return;
    }
    state.begin(result, 'set-tokens');
  }

  /** HttpClient, which login() needs; development builds say how to provide it when it is missing. */
  #requireHttp(): HttpClient {
    if (ngDevMode && !this.#http) {
      throw configError(
        `login() needs HttpClient: add provideHttpClient(withInterceptors([jotInterceptor])) to your providers.`,
      );
    }
    // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- checked above in development; a missing HttpClient is a configuration mistake.
    return this.#http!;
  }
}
