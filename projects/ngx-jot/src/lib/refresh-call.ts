/*
 * The refresh call: the POST itself (timeout, 408/429 retries, XSRF header for a cookie refresh),
 * what its failure means (refreshFailureCode), and its pacing (the floor between two calls, and a
 * server's Retry-After). The refresher (refresher.ts) decides when to call and what the answer does.
 */
import { HttpClient, HttpErrorResponse, HttpXsrfTokenExtractor } from '@angular/common/http';
import { inject } from '@angular/core';
import { type Observable, TimeoutError, defer, retry, switchMap, throwError, timeout, timer } from 'rxjs';

import { skipJotContext } from './context';
import { JotError, type JotErrorCode } from './errors';
import type { JotHost, JotRefreshCause } from './feature-contracts';
import { JOT_ORIGIN_POLICY } from './origin-policy';
import { refreshRequestBody } from './refresh-body';

/** What the refresh call needs of `withRefresh()`'s options. */
export interface RefreshCallOptions {
  url: string;
  body?: (refreshToken: string | null) => unknown;
  withCredentials?: boolean;
  xsrfHeaderName?: string;
}

/**
 * A refresh that has not answered by then counts as a network failure: every request waits on it,
 * and with cross-tab sync so does every tab's lock.
 */
const REFRESH_TIMEOUT_MS = 30_000;

/** A refresh answered 408 or 429 ("not now") is retried this many times before it is unavailable. */
const BUSY_RETRIES = 3;
/** Without `Retry-After`, the first retry waits this long, and each next one twice as long. */
const BUSY_FIRST_PAUSE_MS = 1_000;
/**
 * Requests wait on the retries: a server asking for a longer pause (`Retry-After: 120`) is not
 * waited for; the refresh is unavailable at once, and until then.
 */
const BUSY_MAX_PAUSE_MS = 10_000;

/**
 * The hard floor between two refresh calls when ngx-jot starts the second by itself (timer, guards, held
 * or refused requests): whatever lifetimes, clocks and failures the server sends, never more than
 * one a second. `JotAuth.refresh()`, which the app calls on purpose, runs at once.
 */
const MIN_REFRESH_INTERVAL_MS = 1_000;

/** A 408/429 answer whose Retry-After has not passed yet. */
export interface RefreshRefusal {
  readonly answer: unknown;
}

/** Sends refresh calls for the refresher; made in its injection context. */
export class RefreshCaller {
  readonly #host: JotHost;
  readonly #options: RefreshCallOptions;
  readonly #http = inject(HttpClient);
  readonly #xsrf = inject(HttpXsrfTokenExtractor, { optional: true });
  readonly #policy = inject(JOT_ORIGIN_POLICY);
  /** When the last refresh call went (or goes) out. */
  #lastStartedAt = -Infinity;
  /** A 408/429 that ended a refresh, and until when its server asked not to be called again. */
  #refusal: RefreshRefusal | null = null;
  #refusedUntil = 0;

  constructor(host: JotHost, options: RefreshCallOptions) {
    this.#host = host;
    this.#options = options;
  }

  /** The refresh token as the POST body (`withRefresh({ body })`). */
  body(refreshToken: string | null): unknown {
    return refreshRequestBody(refreshToken, this.#options.body);
  }

  /** The server's refusal, while its Retry-After has not passed. */
  refusal(): RefreshRefusal | null {
    return Date.now() < this.#refusedUntil ? this.#refusal : null;
  }

  /** Remembers a 408/429 answer: no call until the pause it asked for has passed. */
  noteFailure(error: unknown): void {
    const pause = busyPause(error, 0);
    if (pause === Infinity) return;
    this.#refusal = { answer: error };
    this.#refusedUntil = Date.now() + pause;
  }

  /**
   * The refresh call, once subscribed: at once for `'app'` (JotAuth.refresh()), else no sooner
   * than MIN_REFRESH_INTERVAL_MS after the last one. The refresh token is read when the call goes
   * out: another tab may have rotated it by then.
   */
  call(cause: JotRefreshCause): Observable<unknown> {
    const pause = cause === 'app' ? 0 : this.#lastStartedAt + MIN_REFRESH_INTERVAL_MS - Date.now();
    this.#lastStartedAt = Date.now() + Math.max(0, pause);
    // Deferred: the body is built when the call is subscribed, which may be after the lock was
    // granted and another tab's rotated pair taken.
    const send = () => defer(() => this.#post(this.body(this.#host.session()?.refreshToken ?? null)));
    return pause > 0 ? timer(pause).pipe(switchMap(send)) : send();
  }

  /** POST, bounded by REFRESH_TIMEOUT_MS; a 408/429 is retried after the pause it asks for. */
  #post(body: unknown): Observable<unknown> {
    const { url, xsrfHeaderName, withCredentials } = this.#options;
    const xsrfToken = withCredentials ? this.#xsrf?.getToken() : null;
    // Angular's own XSRF interceptor skips cross-origin calls; a cookie refresh to the API origin
    // still needs the header, so it is added here, for an allowed origin only.
    const headers =
      xsrfToken && this.#policy.allowsOrigin(url) ? { [xsrfHeaderName ?? 'X-XSRF-TOKEN']: xsrfToken } : undefined;
    // Deferred: each call out (a retry, or one that waited for the lock) counts for the floor.
    return defer(() => {
      this.#lastStartedAt = Math.max(this.#lastStartedAt, Date.now());
      return this.#http.post<unknown>(url, body, {
        context: skipJotContext(),
        withCredentials: withCredentials || undefined,
        headers,
      });
    }).pipe(
      timeout({ first: REFRESH_TIMEOUT_MS }),
      // 408 and 429 say "not now", not "no": the same call again, after the pause the server asked for.
      retry({
        count: BUSY_RETRIES,
        delay: (error: unknown, retryCount) => {
          const pause = busyPause(error, BUSY_FIRST_PAUSE_MS * 2 ** (retryCount - 1));
          return pause <= BUSY_MAX_PAUSE_MS ? timer(pause) : throwError(() => error);
        },
      }),
    );
  }
}

/**
 * What a failed refresh call means: `'refresh-unavailable'` when it is transient (network, 5xx,
 * no answer in time, 408/429 after its retries, a DPoP nonce still asked for: the session is kept),
 * else the code of a failure that ends the session (`'refresh-rejected'`, or the code of a JotError
 * such as `'refresh-invalid'`).
 */
export function refreshFailureCode(error: unknown): JotErrorCode {
  const transient =
    busyPause(error, 0) < Infinity ||
    error instanceof TimeoutError ||
    (error instanceof HttpErrorResponse && (error.status === 0 || error.status >= 500 || asksForDpopNonce(error)));
  if (transient) return 'refresh-unavailable';
  return error instanceof JotError ? error.code : 'refresh-rejected';
}

/**
 * A server that still asks for a DPoP nonce (RFC 9449 `use_dpop_nonce`) after withDpop()'s one
 * retry has said nothing about the refresh token: not now, rather than no.
 */
function asksForDpopNonce(error: HttpErrorResponse): boolean {
  const body = error.error as { error?: unknown } | null;
  return body?.error === 'use_dpop_nonce' || !!error.headers.get('WWW-Authenticate')?.includes('use_dpop_nonce');
}

/** The dev-mode message of a failed refresh call (production builds drop it). */
export function failureMessage(code: JotErrorCode, error: unknown, url: string): string {
  if (code === 'refresh-unavailable') {
    const what = error instanceof HttpErrorResponse ? error.status || 'network error' : 'no answer in 30 s';
    return `the refresh call to ${url} failed (${what}); the session is kept and the next request tries again.`;
  }
  if (error instanceof JotError) return error.message.replace(/^ngx-jot: /, '');
  const status = error instanceof HttpErrorResponse ? ` (${error.status})` : '';
  return `the refresh call to ${url} was rejected${status}; the session has ended.`;
}

/**
 * How long a 408 or 429 ("not now", not "no") asks to wait: its `Retry-After` (seconds, or an HTTP
 * date), else `fallback`. Infinity for any other error, which is no reason to call again.
 */
function busyPause(error: unknown, fallback: number): number {
  if (!(error instanceof HttpErrorResponse && (error.status === 408 || error.status === 429))) return Infinity;
  const retryAfter = error.headers.get('Retry-After');
  const ms = retryAfter ? Number(retryAfter) * 1000 || Date.parse(retryAfter) - Date.now() : NaN;
  return ms >= 0 ? ms : fallback;
}
