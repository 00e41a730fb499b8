import { HttpClient, HttpContext, HttpErrorResponse, HttpXsrfTokenExtractor } from '@angular/common/http';
import { inject } from '@angular/core';
import {
  Observable,
  defer,
  type Subscriber,
  type Subscription,
  TimeoutError,
  finalize,
  retry,
  switchMap,
  throwError,
  timeout,
  timer,
} from 'rxjs';

import { JotError } from './errors';
import { JOT_SKIP } from './context';
import type { JotRecord } from './storage';
import { isOtherSubject, type JotSession } from './token';
import type { JotHost, JotRefreshCause, JotRefresher } from './tokens';

/** Options of `withRefresh()`. */
export interface JotRefreshOptions {
  /** Where the refresh token is POSTed. */
  url: string;
  /** Maps the refresh token to the POST body. Default `{ refresh_token }`. */
  body?: (refreshToken: string | null) => unknown;
  /** For a refresh token held in an HttpOnly cookie: the refresh, login and logout calls carry cookies. */
  withCredentials?: boolean;
  /** How long before `exp` a proactive refresh runs (at half the lifetime for shorter tokens). Default 30. */
  refreshBeforeExpirySeconds?: number;
  /** XSRF header sent with a credentialed refresh to the API origin. Default `X-XSRF-TOKEN`. */
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
 * The hard floor between two refresh calls when ngx-jot starts the second by itself (timer, held
 * or refused requests): whatever lifetimes, clocks and failures the server sends, never more than
 * one a second. `JotAuth.refresh()`, which the app calls on purpose, runs at once.
 */
const MIN_REFRESH_INTERVAL_MS = 1_000;

/** Default margin of the proactive refresh, in seconds. */
export const JOT_DEFAULT_REFRESH_BEFORE_EXPIRY_SECONDS = 30;

/** How a refresh ended: a session, an error, or neither (the app was torn down). */
interface Outcome {
  session?: JotSession;
  error?: JotError;
}

/**
 * One refresh's result, shared by every waiter. Waiters live in a Set, so joining, leaving and
 * settling cost O(1) each: an rxjs Subject removes observers by array search, which made settling
 * 10,000 waiters quadratic (bench/RESULTS.md).
 */
class Flight {
  readonly #waiters = new Set<Subscriber<JotSession>>();
  #outcome: Outcome | null = null;
  readonly result = new Observable<JotSession>((waiter) => {
    if (this.#outcome) {
      deliver(waiter, this.#outcome);
      return;
    }
    this.#waiters.add(waiter);
    return () => this.#waiters.delete(waiter);
  });

  settle(outcome: Outcome): void {
    if (this.#outcome) return;
    this.#outcome = outcome;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) deliver(waiter, outcome);
  }
}

function deliver(waiter: Subscriber<JotSession>, { session, error }: Outcome): void {
  if (error) {
    waiter.error(error);
    return;
  }
  if (session) waiter.next(session);
  waiter.complete();
}

const defaultBody = (refreshToken: string | null) => (refreshToken ? { refresh_token: refreshToken } : {});

/** Made in JotAuth's injection context by the `withRefresh()` feature. */
export function createRefresher(host: JotHost, options: JotRefreshOptions): JotRefresher {
  const http = inject(HttpClient);
  const xsrf = inject(HttpXsrfTokenExtractor, { optional: true });
  const withCredentials = !!options.withCredentials;
  const body = options.body ?? defaultBody;
  let flight: Flight | null = null;
  let request: Subscription | null = null;
  /** Bumped by cancel(): a refresh that began before it is never applied. */
  let epoch = 0;
  /** A 408/429 that ended a refresh, and until when its server asked not to be called again. */
  let busyAnswer: unknown;
  let busyUntil = 0;
  /** When the last refresh call went (or goes) out. */
  let lastStartedAt = -Infinity;
  /** The flight runs ahead of need (see JotRefresher.ahead). */
  let ahead = false;

  function post(refreshToken: string | null): Observable<unknown> {
    let headers: Record<string, string> | undefined;
    const token = withCredentials ? xsrf?.getToken() : null;
    // Angular's own XSRF interceptor skips cross-origin calls; a cookie refresh to the API origin
    // still needs the header, so it is added here, for an allowed origin only.
    if (token && host.allows(options.url)) {
      headers = { [options.xsrfHeaderName ?? 'X-XSRF-TOKEN']: token };
    }
    // Deferred: each call out (a retry, or one that waited for the lock) counts for the floor.
    return defer(() => {
      lastStartedAt = Math.max(lastStartedAt, Date.now());
      return http.post<unknown>(options.url, body(refreshToken), {
        context: new HttpContext().set(JOT_SKIP, true),
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

  function settle(subject: Flight, outcome: JotSession | JotError) {
    if (flight === subject) {
      flight = null;
      request = null;
    }
    subject.settle(outcome instanceof JotError ? { error: outcome } : { session: outcome });
  }

  function fail(subject: Flight, error: unknown, mine: number, rechecked = false) {
    if (mine !== epoch) return;
    const pause = busyPause(error, 0);
    if (pause < Infinity) {
      busyAnswer = error;
      busyUntil = Date.now() + pause;
    }
    const transient =
      pause < Infinity ||
      error instanceof TimeoutError ||
      (error instanceof HttpErrorResponse && (error.status === 0 || error.status >= 500));
    const sync = host.sync();
    if (!transient && sync && !rechecked) {
      // Another tab may have stored a newer pair (a login, or a refresh whose message is not here
      // yet): take it rather than end the session in every tab. Called under the lock, exclusive()
      // runs this at once, still under it.
      const giveUp = () => fail(subject, error, mine, true);
      sync
        // eslint-disable-next-line @typescript-eslint/require-await -- exclusive() takes a promise-returning fn; async also turns a throw into a rejection.
        .exclusive(async (shared) => takeShared(subject, shared, mine) || giveUp())
        .catch(giveUp);
      return;
    }
    const jotError = new JotError(
      transient ? 'refresh-unavailable' : error instanceof JotError ? error.code : 'refresh-rejected',
      ngDevMode
        ? transient
          ? `the refresh call to ${options.url} failed (${error instanceof HttpErrorResponse ? error.status || 'network error' : 'no answer in 30 s'}); the session is kept and the next request tries again.`
          : error instanceof JotError
            ? error.message.replace(/^ngx-jot: /, '')
            : `the refresh call to ${options.url} was rejected${error instanceof HttpErrorResponse ? ` (${error.status})` : ''}; the session has ended.`
        : '',
      error,
    );
    host.emit({ type: 'refresh-failure', error: jotError });
    // Detach first, so ending the session does not cancel this flight with a vaguer error.
    if (flight === subject) flight = request = null;
    // End the session before the waiters hear of it, so what they see next is consistent.
    if (!transient) host.end('refresh-failed');
    settle(subject, jotError);
  }

  /**
   * Under the lock: another tab stored a newer pair than the one held (it refreshed, or logged
   * in): adopt it instead of spending a refresh token it may have rotated. True when taken.
   */
  function takeShared(subject: Flight, shared: JotRecord | null, mine: number): boolean {
    const held = host.record();
    if (mine !== epoch || !shared || !held || !isNewer(shared, held)) return false;
    const before = host.session();
    const adopted = host.adopt(shared, { fresh: false, from: 'other-tab' });
    if (typeof adopted === 'string' || Date.now() >= adopted.staleAt) return false;
    settleWith(subject, before, adopted);
    return true;
  }

  /** Ends `subject` with the session now held; the waiters of another user's session never get it. */
  function settleWith(subject: Flight, before: JotSession | null, adopted: JotSession) {
    if (before && isOtherSubject(before, adopted)) {
      // What waits belongs to the user before, and is never sent as the new one.
      const changed = new JotError(
        'subject-changed',
        ngDevMode
          ? `the session changed to another user ("sub") during the refresh; requests of the user before are not replayed.`
          : '',
      );
      host.emit({ type: 'refresh-failure', error: changed });
      settle(subject, changed);
      return;
    }
    host.emit({ type: 'refresh-success' });
    settle(subject, adopted);
  }

  function succeed(subject: Flight, response: unknown, mine: number) {
    if (mine !== epoch) return;
    const before = host.session();
    const tokens = host.config.readTokens(response);
    const adopted = tokens
      ? host.adopt(tokens, { fresh: true, from: 'refresh' })
      : 'it holds no token; map its shape with readTokens';
    if (typeof adopted === 'string') {
      const why = ngDevMode ? `the refresh from ${options.url} is unusable (${adopted}); the session has ended.` : '';
      fail(subject, new JotError('refresh-invalid', why), mine);
      return;
    }
    // Of another user, that user's session began (JotAuth emitted logout, then login).
    settleWith(subject, before, adopted);
  }

  const refresher: JotRefresher = {
    withCredentials,
    body,
    refreshBeforeMs: (options.refreshBeforeExpirySeconds ?? JOT_DEFAULT_REFRESH_BEFORE_EXPIRY_SECONDS) * 1000,
    get busy() {
      return flight !== null;
    },
    get ahead() {
      return flight !== null && ahead;
    },
    refresh(cause: JotRefreshCause = 'needed'): Observable<JotSession> {
      // A request that needs the new token makes a refresh begun ahead of time a needed one.
      if (cause === 'needed') ahead = false;
      else if (!flight) ahead = true;
      if (flight) return flight.result;
      const session = host.session();
      if (!session?.refreshToken && !withCredentials) {
        return throwError(
          () =>
            new JotError(
              'no-refresh-token',
              ngDevMode
                ? session
                  ? `no refresh token is held, so the session cannot be refreshed. Return a refresh_token from ${host.config.loginUrl}, or use withRefresh({ withCredentials: true }) for a cookie-held one.`
                  : `there is no session to refresh; log in first.`
                : '',
            ),
        );
      }
      const subject = new Flight();
      const mine = epoch;
      flight = subject;
      host.emit({ type: 'refresh-start' });
      if (Date.now() < busyUntil) {
        // The server's Retry-After has not passed: calling it again now would only be refused.
        fail(subject, busyAnswer, mine);
        return subject.result;
      }
      const pause = cause === 'app' ? 0 : lastStartedAt + MIN_REFRESH_INTERVAL_MS - Date.now();
      lastStartedAt = Date.now() + Math.max(0, pause);
      // The refresh token is read when the call goes out: another tab may have rotated it by then.
      const send = () => post(host.session()?.refreshToken ?? null);
      const call = () => (pause > 0 ? timer(pause).pipe(switchMap(send)) : send());
      const sync = host.sync();
      if (sync) {
        // Another tab may hold the lock and rotate the refresh token meanwhile: under the lock,
        // adopt what it stored instead of spending our (now spent) refresh token.
        void sync
          .exclusive(async (shared) => {
            if (mine !== epoch || takeShared(subject, shared, mine)) return;
            // finalize: the lock is released however the call ends, cancellation included.
            await new Promise<void>((resolve) => {
              request = call()
                .pipe(finalize(resolve))
                .subscribe({ next: (r) => succeed(subject, r, mine), error: (e) => fail(subject, e, mine) });
            });
          })
          .catch((e: unknown) => fail(subject, e, mine));
      } else {
        // Subscribed here, not by the callers: callers that leave (route change, switchMap) do
        // not cancel it, and its tokens are stored even when nobody waits (the server rotated).
        request = call().subscribe({
          next: (r) => succeed(subject, r, mine),
          error: (e) => fail(subject, e, mine),
        });
      }
      return subject.result;
    },
    cancel(quiet) {
      epoch++;
      const subject = flight;
      request?.unsubscribe();
      request = null;
      flight = null;
      // On logout the waiters learn why; when the app is torn down they just end.
      subject?.settle(
        quiet
          ? {}
          : {
              error: new JotError(
                'refresh-cancelled',
                ngDevMode ? 'the session ended or changed while the token was being refreshed.' : '',
              ),
            },
      );
    },
  };
  return refresher;
}

/** A shared record is another tab's newer session: a higher version and another token pair. */
export function isNewer(shared: JotRecord, held: JotRecord): boolean {
  return (
    (shared.version ?? 0) > (held.version ?? 0) &&
    (shared.refreshToken !== held.refreshToken || shared.accessToken !== held.accessToken)
  );
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
