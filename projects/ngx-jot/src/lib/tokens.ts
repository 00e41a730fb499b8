import { InjectionToken } from '@angular/core';
import type { HttpRequest } from '@angular/common/http';
import type { Observable } from 'rxjs';

import type { JotLogoutReason, ResolvedJotConfig } from './config';
import { configError } from './errors';
import type { JotRecord, JotStorage } from './storage';
import type { JotSession } from './token';

/** The checked configuration of `provideJot()`. */
export const JOT_CONFIG = new InjectionToken<ResolvedJotConfig>(ngDevMode ? 'JOT_CONFIG' : '', {
  providedIn: 'root',
  factory: () => {
    throw configError(
      ngDevMode
        ? `no configuration found. Add provideJot({ loginUrl: '/authenticate' }) to your application providers ` +
            `(app.config.ts), or provideJotTesting() from 'ngx-jot/testing' in tests.`
        : '',
    );
  },
});

/** The stores of this application, made by `provideJot()` from `withStorage()`. */
export const JOT_STORAGE = new InjectionToken<JotStorage>(ngDevMode ? 'JOT_STORAGE' : '');

/** Why the interceptor did or did not attach the token (read by `withJotDebug()`). */
export type JotVerdict = 'attached' | 'skip' | 'excluded' | 'origin' | 'no-token' | 'expired' | 'header-set';

/** The per-request log of `withJotDebug()`; `excludedBy` is the `excludedUrls` entry that matched. */
export type JotDebugLog = (req: HttpRequest<unknown>, verdict: JotVerdict, excludedBy?: string | RegExp) => void;

/** The per-request log of `withJotDebug()`. */
export const JOT_DEBUG = new InjectionToken<JotDebugLog>(ngDevMode ? 'JOT_DEBUG' : '');

/**
 * Why a refresh is asked for: `'needed'` (default), a request needs the new token (its own
 * expired, or got a 401); `'ahead'`, the proactive timer, the held token still good; `'app'`,
 * `JotAuth.refresh()`, which skips the minimum interval between refreshes.
 */
export type JotRefreshCause = 'needed' | 'ahead' | 'app';

/** The refresh engine, made by `withRefresh()` in JotAuth's injection context. */
export interface JotRefresher {
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
  /** Drops the refresh in flight (logout); its result is never applied. `quiet`: waiters complete instead of erroring. */
  cancel(quiet?: boolean): void;
}

/** The host side JotAuth offers to its plugins. */
export interface JotHost {
  /** The URL is relative, same-origin or on an allowed origin. */
  allows(url: string): boolean;
  /** The checked configuration. */
  readonly config: ResolvedJotConfig;
  /** The current session, or null. */
  session(): JotSession | null;
  /** Adopts a fresh pair from the server; returns the session, or a problem. */
  adopt(
    tokens: JotRecord,
    how: { fresh: boolean; remember?: boolean; from: 'refresh' | 'other-tab' },
  ): JotSession | string;
  /** Ends the session; `broadcast: false` when another tab already ended it. */
  end(reason: JotLogoutReason, opts?: { broadcast?: boolean }): void;
  /** Emits on `JotAuth.events`. */
  emit(event: import('./jot-auth').JotEvent): void;
  /** The current session as stored, or null. */
  record(): JotRecord | null;
  /** Cross-tab sync, when on (browser only). */
  sync(): JotCrossTab | null;
}

/** Makes the refresh engine for JotAuth; provided by `withRefresh()`. */
export const JOT_REFRESHER = new InjectionToken<(host: JotHost) => JotRefresher>(ngDevMode ? 'JOT_REFRESHER' : '');

/** Cross-tab sync, made by `withCrossTabSync()` in JotAuth's injection context. */
export interface JotCrossTab {
  /** Tells the other tabs of a change this tab made. */
  publish(record: JotRecord | null, refreshed?: boolean): void;
  /** Runs `fn` while holding the origin-wide refresh lock; `fn` first re-reads the shared record. */
  exclusive<T>(fn: (shared: JotRecord | null) => Promise<T>): Promise<T>;
}

/** Makes the cross-tab sync for JotAuth; provided by `withCrossTabSync()`. */
export const JOT_CROSS_TAB = new InjectionToken<(host: JotHost) => JotCrossTab>(ngDevMode ? 'JOT_CROSS_TAB' : '');
