/*
 * The tab's session: the one signal every other unit reads, and the only code that changes it.
 * Each change is written to the store synchronously and told to the other tabs (cross-tab sync),
 * and sets the expiry timer. JotAuth is its public face; the interceptor and the guards inject it;
 * the refresher and the cross-tab sync get it as a JotHost.
 */
import { isPlatformBrowser } from '@angular/common';
import { DestroyRef, Injectable, Injector, PLATFORM_ID, inject, signal } from '@angular/core';
import { Router } from '@angular/router';
import { Subject } from 'rxjs';

import { JOT_CONFIG, JOT_DEFAULT_REFRESH_BEFORE_EXPIRY_SECONDS, type JotLogoutReason } from './config';
import type { JotEvent } from './events';
import { ExpiryTimer } from './expiry-timer';
import {
  JOT_CROSS_TAB,
  JOT_DEBUG,
  JOT_IDLE,
  JOT_REFRESHER,
  type JotAdoptOptions,
  type JotCrossTab,
  type JotHost,
  type JotIdle,
  type JotRefresher,
} from './feature-contracts';
import { isOtherSubject, toSession, type JotSession, type Timing } from './jwt-session';
import { JOT_ORIGIN_POLICY } from './origin-policy';
import { redirectToLogin } from './protected-routes';
import { JOT_RESTORE } from './restore-contract';
import { restoreSession } from './restore-session';
import { JOT_STORAGE, type JotRecord } from './storage';

/** How a session ends. */
export interface JotEndOptions {
  /** Tell the other tabs (default); false when another tab ended it already. */
  broadcast?: boolean;
  /** Navigate to `loginRoute` even from an unprotected page (`logout({ redirect: true })`). */
  redirect?: boolean;
}

/** The session of this tab (one per `provideJot()`); not public API. */
@Injectable({ providedIn: 'root' })
export class SessionState implements JotHost {
  readonly config = inject(JOT_CONFIG);
  readonly policy = inject(JOT_ORIGIN_POLICY);
  /** The per-request log of `withJotDebug()`, when on: development only, so production builds drop the lookup. */
  readonly debug = ngDevMode ? inject(JOT_DEBUG, { optional: true }) : null;
  readonly storage = inject(JOT_STORAGE);
  readonly #injector = inject(Injector);
  readonly #session = signal<JotSession | null>(null);
  readonly #events = new Subject<JotEvent>();
  readonly events = this.#events.asObservable();
  /** Counts the changes of the session; stored with it, so tabs and async reads can order states. */
  version = 0;
  /** Restores the stored session at start-up; requests and guards wait with it while an async store is read. */
  readonly restore = inject(JOT_RESTORE);
  readonly refresher: JotRefresher | null;
  readonly crossTab: JotCrossTab | null;
  /** The idle watch of `withIdleLogout()`, in the browser only. */
  readonly idle: JotIdle | null;
  /** The expiry timer, in the browser only (a server render has no time to wait). */
  readonly timer: ExpiryTimer | null;

  constructor() {
    // Features get this session as their JotHost; they read what they need when they run.
    this.refresher = inject(JOT_REFRESHER, { optional: true })?.(this) ?? null;
    const browser = isPlatformBrowser(inject(PLATFORM_ID));
    this.crossTab = (browser && inject(JOT_CROSS_TAB, { optional: true })?.(this)) || null;
    this.idle = (browser && inject(JOT_IDLE, { optional: true })?.(this)) || null;
    this.timer = browser ? new ExpiryTimer(this) : null;
    inject(DestroyRef).onDestroy(() => {
      this.refresher?.cancel({ silently: true });
      // A request answered after teardown finds no session: no refresh, replay or cleared store.
      this.#session.set(null);
      this.#events.complete();
    });
    restoreSession(this);
  }

  /** Holds `session` as it is, without writing or telling anyone (restore-session.ts, at start-up). */
  hold(session: JotSession, version: number): void {
    this.version = version;
    this.#session.set(session);
  }

  /** The session held (a signal read): a well-formed token, not expired or refreshable. */
  session(): JotSession | null {
    return this.#session();
  }

  record(): JotRecord | null {
    return recordOf(this.#session(), this.version);
  }

  emit(event: JotEvent): void {
    this.#events.next(event);
  }

  /** The session can be renewed: refresh on, and a refresh token or a cookie to do it with. */
  canRefresh(session: JotSession): boolean {
    return !!this.refresher && (session.refreshToken !== null || this.refresher.withCredentials);
  }

  /** How time claims are judged. */
  timing(): Timing {
    const refreshBeforeMs = this.refresher?.refreshBeforeMs ?? JOT_DEFAULT_REFRESH_BEFORE_EXPIRY_SECONDS * 1000;
    return { leewayMs: this.config.leewayMs, refreshBeforeMs };
  }

  /** A new session from this tab (login, setTokens). */
  begin(session: JotSession, source: 'user' | 'set-tokens'): void {
    // A refresh still running belongs to the session before this one: never apply it.
    this.refresher?.cancel();
    this.set(session);
    this.emit({ type: 'login', source });
  }

  /** Holds `session`, writes it through synchronously (not in an effect) and tells the other tabs. */
  set(session: JotSession | null, { broadcast = true, refreshed = false } = {}): void {
    this.version++;
    this.#session.set(session);
    const record = this.record();
    this.storage.write(record, session?.remember);
    if (broadcast) this.crossTab?.publish(record, { refreshed });
    this.timer?.schedule();
  }

  adopt(tokens: JotRecord, { fresh, remember, from }: JotAdoptOptions): JotSession | string {
    const before = this.#session();
    const result = adoptedSession(tokens, before, this.timing(), { fresh, remember, from });
    if (typeof result === 'string') return result;
    // A refresh that answers for another user ends this session before that user's begins.
    const otherUser = !!before && isOtherSubject(before, result);
    const subjectChanged = from === 'refresh' && otherUser;
    if (subjectChanged) {
      this.#session.set(null);
      this.emit({ type: 'logout', reason: 'subject-changed' });
    }
    this.set(result, { broadcast: from !== 'other-tab', refreshed: from === 'refresh' });
    // With no session before, one begins here: another tab's, or a refresh through an HttpOnly cookie.
    // Another user's, logged in in another tab, begins here too: the app hears of the change of user.
    if (!before || otherUser) this.emit({ type: 'login', source: from });
    return result;
  }

  end(reason: JotLogoutReason, { broadcast = true, redirect = false }: JotEndOptions = {}): void {
    const had = this.#session() !== null;
    // Idle in every tab: the tab whose check came first ended it for all.
    if (reason === 'other-tab' && this.idle?.idle()) reason = 'idle';
    this.refresher?.cancel();
    this.set(null, { broadcast });
    if (had) this.emit({ type: 'logout', reason });
    // A session that ended by itself leaves a protected page; logout({ redirect }) leaves any page.
    if (redirect || (had && reason !== 'user'))
      redirectToLogin(this.#injector.get(Router, null), this.config.loginRoute, { always: redirect });
  }
}

/** A session as the stores and the other tabs keep it. */
function recordOf(session: JotSession | null, version: number): JotRecord | null {
  return (
    session && {
      accessToken: session.accessToken,
      refreshToken: session.refreshToken,
      skew: session.skew,
      version,
      remember: session.remember || undefined,
      endsAt: session.endsAt < Infinity ? session.endsAt : undefined,
    }
  );
}

/** The session a pair from a refresh or another tab makes, or why it is unusable. */
function adoptedSession(
  tokens: JotRecord,
  before: JotSession | null,
  timing: Timing,
  { fresh, remember, from }: JotAdoptOptions,
): JotSession | string {
  // A refresh response may omit the refresh token: the old one stays valid then.
  const refreshToken = tokens.refreshToken === undefined ? before?.refreshToken : tokens.refreshToken;
  // The same refresh token ends when it did: its end learned from `refresh_expires_in` stays known.
  const endsAt = tokens.endsAt ?? (refreshToken && refreshToken === before?.refreshToken ? before.endsAt : undefined);
  const result = toSession({ ...tokens, refreshToken, endsAt }, timing, {
    fresh,
    skew: tokens.skew,
    // Another tab's session keeps its "remember me", so whichever tab refreshes stores it there.
    remember: remember ?? (from === 'other-tab' ? !!tokens.remember : before?.remember),
  });
  if ('problem' in result) return result.problem;
  // A pair just issued that is already expired is refused before it is stored or shared.
  if (fresh && Date.now() >= result.staleAt)
    return ngDevMode ? `its token is already expired; check the server's clock and token lifetime` : '';
  return result;
}
