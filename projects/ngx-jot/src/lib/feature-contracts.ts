/*
 * What the session (session-state.ts) and its optional features promise each other: the DI tokens
 * a `withX()` feature provides, and the small interfaces behind them. The session injects these
 * tokens (optionally); features never import the session, only this file.
 */
import { InjectionToken, type Signal } from '@angular/core';
import type { HttpHandlerFn, HttpRequest } from '@angular/common/http';
import type { Observable } from 'rxjs';

import type { JotLogoutReason, ResolvedJotConfig } from './config';
import type { JotEvent, JotRefreshSource, JotSessionWarning } from './events';
import type { JotSession } from './jwt-session';
import type { JotRestore } from './restore-contract';
import type { JotRecord } from './storage';

/** Why the interceptor did or did not attach the token (read by `withJotDebug()`). */
export type JotVerdict = 'attached' | 'skip' | 'excluded' | 'origin' | 'no-token' | 'expired' | 'header-set';

/** The per-request log of `withJotDebug()`; `excludedBy` is the `excludedUrls` entry that matched. */
export type JotDebugLog = (req: HttpRequest<unknown>, verdict: JotVerdict, excludedBy?: string | RegExp) => void;

/** The per-request log of `withJotDebug()`. */
export const JOT_DEBUG = new InjectionToken<JotDebugLog>(ngDevMode ? 'JOT_DEBUG' : '');

/**
 * Why a refresh is asked for: `'needed'` (default), a request or a guard needs the new token (its
 * own expired, or got a 401); `'ahead'`, the proactive timer, the held token still good; `'app'`,
 * `JotAuth.refresh()`, which skips the minimum interval between refreshes.
 */
export type JotRefreshCause = 'needed' | 'ahead' | 'app';

/** How the session takes a pair it did not log in with. */
export interface JotAdoptOptions {
  /** Just issued by the server: its `iat` teaches the clock offset, and an expired one is refused. */
  fresh: boolean;
  /** Keep it in local storage; default: as the pair it replaces (or as another tab kept it). */
  remember?: boolean;
  /** A refresh answered it, or another tab shared it. */
  from: 'refresh' | 'other-tab';
}

/** The session as its features see it: what the refresher and the cross-tab sync may read and do. */
export interface JotHost {
  /** The checked configuration. */
  readonly config: ResolvedJotConfig;
  /** The current session, or null. */
  session(): JotSession | null;
  /** The current session as stored (with its version), or null. */
  record(): JotRecord | null;
  /** Counts the changes of the session; another tab's pair taken here takes its place in the order. */
  version: number;
  /** Takes a pair from a refresh or another tab; returns the session, or why the pair is unusable. */
  adopt(tokens: JotRecord, options: JotAdoptOptions): JotSession | string;
  /** Ends the session; `broadcast: false` when another tab already ended it. */
  end(reason: JotLogoutReason, options?: { broadcast?: boolean }): void;
  /** Emits on `JotAuth.events`. */
  emit(event: JotEvent): void;
  /** `JotAuth.events`. */
  readonly events: Observable<JotEvent>;
  /** Cross-tab sync, when on (browser only). */
  readonly crossTab: JotCrossTab | null;
  /** The refresh engine, when `withRefresh()` is on. */
  readonly refresher: JotRefresher | null;
  /** The restore at start-up: `ready` while an async store is read. */
  readonly restore: JotRestore;
}

/** The refresh engine, made by `withRefresh()` for the session. */
export interface JotRefresher {
  /** The refresh endpoint (`withRefresh({ url })`). */
  readonly url: string;
  /** The refresh call sends cookies (an HttpOnly refresh token). */
  readonly withCredentials: boolean;
  /** How long before expiry a proactive refresh starts, in ms. */
  readonly refreshBeforeMs: number;
  /** A refresh is in flight. */
  readonly busy: boolean;
  /** The refresh in flight runs ahead of need: the held token is still good, and no request was refused it. */
  readonly ahead: boolean;
  /** The refresh token as a POST body (`withRefresh({ body })`), also used for `logoutUrl`. */
  body(refreshToken: string | null): unknown;
  /** Single-flight: every caller during one refresh shares it. */
  refresh(cause?: JotRefreshCause): Observable<JotSession>;
  /**
   * Drops the refresh in flight (logout, login); its result is never applied. Its waiters error
   * with `'refresh-cancelled'`, or, with `silently` (the app is torn down), just complete.
   */
  cancel(options?: { silently?: boolean }): void;
}

/** Makes the refresh engine for the session; provided by `withRefresh()`. */
export const JOT_REFRESHER = new InjectionToken<(host: JotHost) => JotRefresher>(ngDevMode ? 'JOT_REFRESHER' : '');

/**
 * How the refresher's flights are settled, as the cross-tab sync sees it: it runs a refresh under the
 * origin's lock and may take another tab's newer pair instead (`flight` is opaque to it).
 */
export interface JotRefreshSettler {
  /** Still wanted: no logout, login or setTokens since `flight` began (else nothing is taken or called). */
  isCurrent(flight: object): boolean;
  /**
   * Ends `flight` with the session now held (`before`: the session it replaced); with `'other-tab'`,
   * another tab's newer pair was taken under the lock instead of a call.
   */
  settleWith(flight: object, before: JotSession | null, adopted: JotSession, source: JotRefreshSource): void;
  /** A failed refresh ends the session after all: no newer pair was found under the lock. */
  giveUp(flight: object, error: unknown): void;
}

/** Cross-tab sync, made by `withCrossTabSync()` for the session (browser only). */
export interface JotCrossTab {
  /** Tells the other tabs of a change this tab made; `refreshed`: by this tab's refresh call. */
  publish(record: JotRecord | null, options?: { refreshed?: boolean }): void;
  /**
   * Under the origin-wide refresh lock: takes the newer pair another tab stored (it refreshed, or
   * logged in), rather than spend a refresh token it may have rotated; else runs `call()` (the
   * refresh call), holding the lock until it settles.
   */
  refreshUnderLock(settler: JotRefreshSettler, flight: object, call: () => Promise<void>): Promise<void>;
  /**
   * A refresh failed in a way that ends the session: look once more under the lock for a newer pair
   * another tab stored (a login, or a refresh whose message is not here yet) and take it; else
   * `settler.giveUp()`. False when there is no other tab to look at (the caller gives up itself).
   */
  recheck(settler: JotRefreshSettler, flight: object, error: unknown): boolean;
  /** Runs `fn` while holding the origin-wide refresh lock; `fn` gets the shared record, read under it. */
  exclusive<T>(fn: (shared: JotRecord | null) => Promise<T>): Promise<T>;
}

/** The idle watch, made by `withIdleLogout()` for the session (browser only). */
export interface JotIdle {
  /** `warnSeconds`, in ms: also how long before an absolute end its warning starts. */
  readonly warnMs: number;
  /** The idle warning, or null. */
  readonly warning: Signal<JotSessionWarning | null>;
  /** Counts as user activity (`JotAuth.keepAlive()`). */
  keepAlive(): void;
  /** The idle deadline has passed: a logout that another tab shares now counts as idle. */
  idle(): boolean;
  /** For ngx-jot/testing: the user has been idle `ms` longer. */
  advance(ms: number): void;
}

/** Makes the idle watch for the session; provided by `withIdleLogout()`. */
export const JOT_IDLE = new InjectionToken<(host: JotHost) => JotIdle>(ngDevMode ? 'JOT_IDLE' : '');

/** Makes the cross-tab sync for the session; provided by `withCrossTabSync()`. */
export const JOT_CROSS_TAB = new InjectionToken<(host: JotHost) => JotCrossTab>(ngDevMode ? 'JOT_CROSS_TAB' : '');

/**
 * `withDpop()` (dpop.ts): wraps the `next` of `jotInterceptor`, so every request the interceptor
 * sends (ngx-jot's own login and refresh calls too) passes through it; it adds proofs where they
 * belong. Null on the server (no key there).
 */
export type JotDpop = (host: JotHost, next: HttpHandlerFn) => HttpHandlerFn;

/** The DPoP hook of `jotInterceptor`; provided by `withDpop()`. */
export const JOT_DPOP = new InjectionToken<JotDpop | null>(ngDevMode ? 'JOT_DPOP' : '');
