import { DOCUMENT, isPlatformBrowser } from '@angular/common';
import { HttpClient, HttpContext } from '@angular/common/http';
import {
  DestroyRef,
  Injectable,
  Injector,
  NgZone,
  PLATFORM_ID,
  computed,
  inject,
  signal,
  type Signal,
} from '@angular/core';
import { Router } from '@angular/router';
import type { JwtPayload } from 'jwt-decode';
import { Observable, Subject, defer, map, throwError } from 'rxjs';

import type { JotLogoutReason, JotTokens, ResolvedJotConfig } from './config';
import { JOT_SKIP } from './context';
import { JotError, configError, warnOnce } from './errors';
import { OriginPolicy } from './origin-policy';
import { badRecordField, isPromise, type JotRecord, type JotStorage } from './storage';
import {
  JOT_DEFAULT_WARN_SECONDS,
  JOT_IDLE,
  firstWarning,
  type JotIdle,
  type JotSessionWarning,
} from './session-warning';
import { isOtherSubject, toSession, type JotSession } from './token';
import {
  JOT_CONFIG,
  JOT_CROSS_TAB,
  JOT_DEBUG,
  JOT_REFRESHER,
  JOT_STORAGE,
  type JotCrossTab,
  type JotHost,
  type JotRefresher,
  type JotDebugLog,
} from './tokens';

/** What `JotAuth.events` emits. */
export type JotEvent =
  | {
      /** A session began. */
      readonly type: 'login';
      /** Who began it: `login()`, `setTokens()`, another tab, or a refresh (an HttpOnly refresh cookie, no token held). */
      readonly source: 'user' | 'set-tokens' | 'other-tab' | 'refresh';
    }
  | {
      /** The session ended. */
      readonly type: 'logout';
      /** Why it ended. */
      readonly reason: JotLogoutReason;
    }
  | {
      /** A session warning began (see `JotAuth.sessionWarning`): the session will end at `endsAt`. */
      readonly type: 'session-warning';
      /** `'idle'` (no user activity) or `'expired'` (the session's absolute end). */
      readonly reason: JotSessionWarning['reason'];
      /** When the session will end. */
      readonly endsAt: Date;
    }
  | {
      /** A refresh call started. */
      readonly type: 'refresh-start';
    }
  | {
      /** A refresh brought a new token. */
      readonly type: 'refresh-success';
    }
  | {
      /** A refresh failed. */
      readonly type: 'refresh-failure';
      /**
       * What it failed with: a `JotError` whose code tells why (`'refresh-unavailable'`,
       * `'refresh-rejected'`, `'refresh-invalid'`, `'subject-changed'`).
       */
      readonly error: unknown;
    };

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

/** Internals shared by the interceptor, guards and features; not public API. */
export interface JotInternals extends JotHost {
  readonly policy: OriginPolicy;
  readonly refresher: JotRefresher | null;
  readonly debug: JotDebugLog | null;
  /** Set while an async store is being read; requests wait for it. */
  restoring: Promise<void> | null;
  /** Installed by the guards: is the route now shown protected by one of them? */
  isGuarded: ((router: Router) => boolean) | null;
  readonly warned: Set<string>;
  /** The idle watch of `withIdleLogout()` (browser only), for ngx-jot/testing. */
  readonly idle: JotIdle | null;
  /** The session can be renewed (refresh on, and a refresh token or a cookie to do it with). */
  canRefresh(session: JotSession): boolean;
  /** Re-judges the session against the clock now (timers are late after sleep). */
  check(): void;
}

const MAX_TIMER_MS = 2_147_483_647;
/** How long start-up and requests wait for an async store's `get()`; then the app runs logged out. */
export const RESTORE_TIMEOUT_MS = 5_000;
/** Wait before another proactive refresh after one failed on the network or with 5xx. */
const RETRY_MS = 5_000;

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
  readonly #config: ResolvedJotConfig = inject(JOT_CONFIG);
  readonly #storage = inject(JOT_STORAGE);
  readonly #http = inject(HttpClient, { optional: true });
  readonly #injector = inject(Injector);
  readonly #zone = inject(NgZone);
  readonly #browser = isPlatformBrowser(inject(PLATFORM_ID));
  readonly #doc = inject(DOCUMENT, { optional: true });
  readonly #session = signal<JotSession | null>(null);
  readonly #eventSubject = new Subject<JotEvent>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The bound on an async store's first read (RESTORE_TIMEOUT_MS). */
  #restoreTimer: ReturnType<typeof setTimeout> | undefined;
  #destroyed = false;
  #version = 0;
  #crossTab: JotCrossTab | null = null;
  /** The warning before the session's absolute end (its refresh token's); the idle one is `ɵ.idle`'s. */
  readonly #endWarning = signal<JotSessionWarning | null>(null);
  /** How long before an end its warning starts: `withIdleLogout({ warnSeconds })`, else the default. */
  #warnMs = JOT_DEFAULT_WARN_SECONDS * 1000;

  /** The current access token, or null. */
  readonly token: Signal<string | null> = computed(() => this.#session()?.accessToken ?? null);
  /** The decoded payload of the current token, or null. */
  readonly claims: Signal<TClaims | null> = computed(() => (this.#session()?.claims as TClaims | undefined) ?? null);
  /** A well-formed token is held that is not expired, or can be refreshed. */
  readonly isAuthenticated: Signal<boolean> = computed(() => this.#session() !== null);
  /** When the token expires (its `exp`, on this device's clock), or null. */
  readonly expiresAt: Signal<Date | null> = computed(() => {
    const at = this.#session()?.expiresAt;
    return at == null ? null : new Date(at);
  });
  /** `login`, `logout` (with its reason), `session-warning`, `refresh-start`, `refresh-success`, `refresh-failure`. */
  readonly events: Observable<JotEvent> = this.#eventSubject.asObservable();
  /**
   * Non-null from `warnSeconds` (default 60) before the session will end: idle (`withIdleLogout()`)
   * or at its absolute end (a refresh token that is a JWT with `exp`, or `refresh_expires_in`).
   * Null again after user activity, or once a refresh moves the end.
   */
  readonly sessionWarning: Signal<JotSessionWarning | null> = computed(() =>
    firstWarning(this.#endWarning(), this.ɵ.idle?.warning()),
  );

  /** @internal */
  readonly ɵ: JotInternals;

  constructor() {
    const refresherFactory = inject(JOT_REFRESHER, { optional: true });
    const crossTabFactory = inject(JOT_CROSS_TAB, { optional: true });
    const idleFactory = inject(JOT_IDLE, { optional: true });
    const internals: JotInternals = {
      config: this.#config,
      policy: new OriginPolicy(this.#config, this.#doc),
      refresher: null,
      debug: inject(JOT_DEBUG, { optional: true }),
      restoring: null,
      isGuarded: null,
      warned: new Set(),
      idle: null,
      session: () => this.#session(),
      record: () => this.#recordOf(this.#session()),
      allows: (url) => internals.policy.allowsOrigin(url),
      sync: () => this.#crossTab,
      adopt: (tokens, how) => this.#adopt(tokens, how),
      end: (reason, opts) => this.#end(reason, opts?.broadcast ?? true),
      emit: (event) => this.#eventSubject.next(event),
      canRefresh: (s) => {
        const r = this.ɵ.refresher;
        return !!r && (s.refreshToken !== null || r.withCredentials);
      },
      check: () => this.#onDue(),
    };
    this.ɵ = internals;
    (internals as { refresher: JotRefresher | null }).refresher = refresherFactory?.(internals) ?? null;
    if (this.#browser) {
      this.#crossTab = crossTabFactory?.(internals) ?? null;
      const idle = ((internals as { idle: JotIdle | null }).idle = idleFactory?.(internals) ?? null);
      if (idle) this.#warnMs = idle.warnMs;
    }

    this.#restore();

    if (this.#browser && this.#doc) {
      // Timers are late or frozen after sleep: re-judge the token when the tab comes back.
      const win = this.#doc.defaultView;
      const recheck = () => this.#onDue();
      const visible = () => this.#doc?.visibilityState === 'visible' && recheck();
      this.#zone.runOutsideAngular(() => {
        this.#doc?.addEventListener('visibilitychange', visible);
        win?.addEventListener('online', recheck);
      });
      inject(DestroyRef).onDestroy(() => {
        this.#doc?.removeEventListener('visibilitychange', visible);
        win?.removeEventListener('online', recheck);
      });
    }
    inject(DestroyRef).onDestroy(() => {
      this.#destroyed = true;
      clearTimeout(this.#timer);
      clearTimeout(this.#restoreTimer);
      this.ɵ.refresher?.cancel(true);
      this.#eventSubject.complete();
    });
  }

  /**
   * POSTs the credentials to `loginUrl` and stores the tokens. Errors (an `HttpErrorResponse`,
   * or `JotError('invalid-token-response')`) leave the session as it was.
   */
  login(credentials: object, options: JotLoginOptions = {}): Observable<TClaims> {
    return defer(() => {
      const http = this.#requireHttp('login()');
      return http.post<unknown>(this.#config.loginUrl, credentials, {
        context: new HttpContext().set(JOT_SKIP, true),
        // A cookie-held refresh token is set by the login response: it must be a credentialed call.
        withCredentials: this.ɵ.refresher?.withCredentials || undefined,
      });
    }).pipe(
      map((body) => {
        const tokens = this.#config.readTokens(body);
        const result = tokens ? toSession(tokens, this.#timing(), { fresh: true, remember: options.remember }) : null;
        if (!result || 'problem' in result) {
          throw new JotError(
            'invalid-token-response',
            ngDevMode
              ? `the login response from ${this.#config.loginUrl} holds no usable token` +
                  (result ? ` (${result.problem})` : '') +
                  `. Expected { access_token, refresh_token }, { accessToken, refreshToken } or { token }; ` +
                  `map other shapes with the readTokens option of provideJot().`
              : '',
          );
        }
        this.#begin(result, 'user');
        return result.claims as TClaims;
      }),
    );
  }

  /**
   * Forgets the tokens everywhere (every store written, and other tabs with sync); POSTs to
   * `logoutUrl` best-effort. With `redirect`, navigates to `loginRoute`.
   */
  logout(options: JotLogoutOptions = {}): void {
    const session = this.#session();
    const url = this.#config.logoutUrl;
    if (session && url && this.#http) {
      const r = this.ɵ.refresher;
      const body = r ? r.body(session.refreshToken) : { refresh_token: session.refreshToken };
      this.#http
        .post(url, body, {
          context: new HttpContext().set(JOT_SKIP, true),
          withCredentials: r?.withCredentials || undefined,
        })
        .subscribe({ error: () => undefined });
    }
    this.#end(options.reason ?? 'user', true, !!options.redirect);
  }

  /** Single-flight refresh: every caller during one refresh shares that one request. */
  refresh(): Observable<string> {
    const r = this.ɵ.refresher;
    if (!r) {
      return throwError(() =>
        configError(
          ngDevMode ? `refresh() needs the refresh feature: add withRefresh({ url: '/refresh' }) to provideJot().` : '',
        ),
      );
    }
    return r.refresh('app').pipe(map((s) => s.accessToken));
  }

  /** Counts as user activity for `withIdleLogout()` (input the page does not see, e.g. a video playing). */
  keepAlive(): void {
    this.ɵ.idle?.keepAlive();
  }

  /** Adopts tokens obtained elsewhere (SSO, a native shell); `null` ends the session. */
  setTokens(tokens: JotTokens | null): void {
    if (!tokens) {
      this.#end('user', true);
      return;
    }
    const result = toSession(tokens, this.#timing(), { fresh: false });
    if ('problem' in result) {
      if (typeof ngDevMode === 'undefined' || ngDevMode)
        warnOnce(this.ɵ.warned, `setTokens() got a malformed token (${result.problem}); the session is ended instead.`);
      this.#end('user', true);
      return;
    }
    this.#begin(result, 'set-tokens');
  }

  /** A new session from this tab (login, setTokens). */
  #begin(session: JotSession, source: 'user' | 'set-tokens'): void {
    // A refresh still running belongs to the session before this one: never apply it.
    this.ɵ.refresher?.cancel();
    this.#set(session, true);
    this.#eventSubject.next({ type: 'login', source });
  }

  // ---- internals ----

  #requireHttp(what: string): HttpClient {
    if (!this.#http) {
      throw configError(
        ngDevMode
          ? `${what} needs HttpClient: add provideHttpClient(withInterceptors([jotInterceptor])) to your providers.`
          : '',
      );
    }
    return this.#http;
  }

  #timing() {
    return { leewayMs: this.#config.leewayMs, refreshBeforeMs: this.ɵ.refresher?.refreshBeforeMs ?? 30_000 };
  }

  #recordOf(s: JotSession | null): JotRecord | null {
    return (
      s && {
        accessToken: s.accessToken,
        refreshToken: s.refreshToken,
        skew: s.skew,
        version: this.#version,
        remember: s.remember || undefined,
        endsAt: s.endsAt < Infinity ? s.endsAt : undefined,
      }
    );
  }

  /** Applies a new session and writes it through synchronously (not in an effect). */
  #set(session: JotSession, broadcast: boolean, refreshed = false): void {
    this.#version++;
    this.#session.set(session);
    // A warning of an end this session no longer has is over (a refresh moved the end).
    if (+(this.#endWarning()?.endsAt ?? session.endsAt) !== session.endsAt) this.#endWarning.set(null);
    const record = this.#recordOf(session);
    this.#storage.write(record, session.remember);
    if (broadcast) this.#crossTab?.publish(record, refreshed);
    this.#schedule();
  }

  #adopt(
    tokens: JotRecord,
    how: { fresh: boolean; remember?: boolean; from: 'refresh' | 'other-tab' },
  ): JotSession | string {
    const prev = this.#session();
    // A refresh response may omit the refresh token: the old one stays valid then.
    const refreshToken = tokens.refreshToken === undefined ? prev?.refreshToken : tokens.refreshToken;
    const result = toSession({ ...tokens, refreshToken }, this.#timing(), {
      fresh: how.fresh,
      skew: tokens.skew,
      // Another tab's session keeps its "remember me", so whichever tab refreshes stores it there.
      remember: how.remember ?? (how.from === 'other-tab' ? !!tokens.remember : prev?.remember),
    });
    if ('problem' in result) return result.problem;
    // A pair just issued that is already expired is refused before it is stored or shared.
    if (how.fresh && Date.now() >= result.staleAt)
      return ngDevMode ? `its token is already expired; check the server's clock and token lifetime` : '';
    if (how.from === 'other-tab' && tokens.version !== undefined)
      this.#version = Math.max(this.#version, tokens.version - 1);
    // A refresh that answers for another user ends this session before that user's begins.
    const subjectChanged = how.from === 'refresh' && !!prev && isOtherSubject(prev, result);
    if (subjectChanged) {
      this.#session.set(null);
      this.#eventSubject.next({ type: 'logout', reason: 'subject-changed' });
    }
    this.#set(result, how.from !== 'other-tab', how.from === 'refresh');
    // With no session before, one begins here: another tab's, or a refresh through an HttpOnly cookie.
    if (!prev || subjectChanged) this.#eventSubject.next({ type: 'login', source: how.from });
    return result;
  }

  #end(reason: JotLogoutReason, broadcast: boolean, redirect = false): void {
    const had = this.#session() !== null;
    // Idle in every tab: the tab whose timer came first ended it for all.
    if (reason === 'other-tab' && this.ɵ.idle?.idle()) reason = 'idle';
    this.#endWarning.set(null);
    clearTimeout(this.#timer);
    this.ɵ.refresher?.cancel();
    this.#version++;
    this.#session.set(null);
    this.#storage.write(null);
    if (broadcast) this.#crossTab?.publish(null);
    if (had) this.#eventSubject.next({ type: 'logout', reason });
    if (redirect || (had && reason !== 'user')) this.#navigateToLogin(redirect);
  }

  #navigateToLogin(always: boolean): void {
    const router = this.#injector.get(Router, null);
    if (!router) return;
    const guarded = this.ɵ.isGuarded?.(router) ?? false;
    if (!guarded && !always) return;
    const tree = router.parseUrl(this.#config.loginRoute);
    if (guarded) tree.queryParams = { ...tree.queryParams, returnUrl: router.url };
    void router.navigateByUrl(tree, { replaceUrl: true });
  }

  #restore(): void {
    const startedAt = this.#version;
    const apply = ({ record, remember }: { record: JotRecord | null; remember: boolean }) => {
      // A login, setTokens() or logout() while an async store was read is newer than what it held.
      // After destroy nothing may run: a session applied now would arm a timer that outlives the app.
      if (!record || this.#version !== startedAt || this.#destroyed) return;
      // Every field is checked: a bad one (a `skew` of "abc") would make an expired token count as valid.
      const badField = badRecordField(record);
      const result = badField
        ? { problem: ngDevMode ? `its field "${badField}" has the wrong type or is out of range` : '' }
        : toSession(record, this.#timing(), { fresh: false, skew: record.skew, remember });
      if ('problem' in result) {
        if (typeof ngDevMode === 'undefined' || ngDevMode)
          warnOnce(this.ɵ.warned, `the stored token is malformed (${result.problem}); starting logged out.`);
        this.#storage.write(null);
        return;
      }
      if (typeof record.version === 'number') this.#version = record.version;
      this.#session.set(result);
      // An expired token that cannot be refreshed is no session at all.
      if (Date.now() >= result.staleAt && !this.ɵ.canRefresh(result)) {
        this.#end('expired', false);
        return;
      }
      this.#schedule();
    };
    let read: ReturnType<JotStorage['read']>;
    try {
      read = this.#storage.read();
    } catch {
      return;
    }
    if (isPromise(read)) {
      // A store that never answers must not hold start-up and every request forever: after
      // RESTORE_TIMEOUT_MS the app runs logged out, and the answer, if it still comes, is applied
      // then (unless a login, setTokens() or logout() came first: `apply` checks).
      this.ɵ.restoring = new Promise<void>((done) => {
        void read.then(apply, () => undefined).then(done, done);
        this.#restoreTimer = setTimeout(() => {
          if (typeof ngDevMode === 'undefined' || ngDevMode)
            warnOnce(
              this.ɵ.warned,
              `the token store did not answer get() within ${RESTORE_TIMEOUT_MS} ms; starting logged out. ` +
                `Make get() of your JotTokenStore settle (resolve null when it has nothing).`,
            );
          done();
        }, RESTORE_TIMEOUT_MS);
      }).finally(() => {
        clearTimeout(this.#restoreTimer);
        this.ɵ.restoring = null;
      });
    } else {
      apply(read);
    }
  }

  /** One timer per session, outside Angular's zone so it never delays stability. */
  #schedule(minDelay = 0): void {
    clearTimeout(this.#timer);
    const s = this.#session();
    if (!s || !this.#browser) return;
    // Also due: the warning before the absolute end, then the end itself.
    const due = Math.min(
      this.ɵ.canRefresh(s) ? s.refreshAt : s.staleAt,
      this.#endWarning() ? s.endsAt : s.endsAt - this.#warnMs,
    );
    if (due === Infinity) return;
    const delay = Math.min(Math.max(due - Date.now(), minDelay), MAX_TIMER_MS);
    this.#zone.runOutsideAngular(() => {
      this.#timer = setTimeout(() => this.#onDue(), delay);
    });
  }

  #onDue(): void {
    const s = this.#session();
    if (!s) return;
    const now = Date.now();
    // The absolute end: the refresh token can no longer renew the session.
    if (now >= s.endsAt) {
      this.#end('expired', true);
      return;
    }
    if (now >= s.endsAt - this.#warnMs && !this.#endWarning()) {
      const warning = { reason: 'expired', endsAt: new Date(s.endsAt) } as const;
      this.#endWarning.set(warning);
      this.#eventSubject.next({ type: 'session-warning', ...warning });
    }
    const r = this.ɵ.refresher;
    if (this.ɵ.canRefresh(s)) {
      // A refresh already running sets the next timer when it succeeds.
      if (r?.busy) return;
      if (now >= s.refreshAt && r) {
        // The refresher handles failures (4xx ends the session); after a network error or 5xx,
        // try again later rather than at once.
        r.refresh('ahead').subscribe({ error: () => this.#schedule(RETRY_MS) });
        return;
      }
    } else if (now >= s.staleAt) {
      this.#end('expired', true);
      return;
    }
    this.#schedule();
  }
}
