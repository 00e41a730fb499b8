/*
 * The refresher: one refresh at a time, shared by every waiter (the Flight), the refresh call
 * itself, and what each way a refresh can end does to the session (see refreshFailureCode()).
 */
import { HttpClient, HttpErrorResponse, HttpXsrfTokenExtractor } from '@angular/common/http';
import { inject } from '@angular/core';
import {
  Observable,
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

import { JOT_DEFAULT_REFRESH_BEFORE_EXPIRY_SECONDS } from './config';
import { skipJotContext } from './context';
import { JotError, configError, type JotErrorCode } from './errors';
import { JotFeatureKind, makeJotFeature, type JotFeature } from './feature';
import {
  JOT_REFRESHER,
  type JotHost,
  type JotLockedRefresh,
  type JotRefreshCause,
  type JotRefresher,
} from './feature-contracts';
import { isOtherSubject, type JotSession } from './jwt-session';
import type { JotRefreshSource } from './events';
import { JOT_ORIGIN_POLICY } from './origin-policy';
import { refreshRequestBody } from './refresh-body';

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

/**
 * Turns on refresh: on a 401 one refresh runs while requests queue, then each is replayed once;
 * a proactive refresh runs before `exp`.
 *
 * @usageNotes
 * ```ts
 * provideJot({ loginUrl: '/authenticate' }, withRefresh({ url: '/refresh' }))
 * ```
 */
export function withRefresh(options: JotRefreshOptions): JotFeature<JotFeatureKind.Refresh> {
  // Development builds say what is wrong; production builds drop the checks.
  if (ngDevMode) checkRefreshOptions(options);
  return makeJotFeature(JotFeatureKind.Refresh, [
    { provide: JOT_REFRESHER, useValue: (host: JotHost) => new Refresher(host, options) },
  ]);
}

/** Development only: the refresh endpoint is given, and the margin is a number. */
function checkRefreshOptions(options: JotRefreshOptions): void {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- runtime check for JavaScript callers and `any`; the type cannot promise it.
  if (!options || typeof options.url !== 'string' || options.url.trim() === '') {
    throw configError(`withRefresh() needs the refresh endpoint, e.g. withRefresh({ url: '/refresh' }).`);
  }
  const before = options.refreshBeforeExpirySeconds;
  if (before !== undefined && (typeof before !== 'number' || !(before >= 0) || !Number.isFinite(before))) {
    throw configError(`refreshBeforeExpirySeconds must be a finite number >= 0; got ${String(before)}.`);
  }
}

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
  /** The session epoch it belongs to: a cancel() since (logout, login, setTokens) makes it void. */
  readonly epoch: number;
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

  constructor(epoch: number) {
    this.epoch = epoch;
  }

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

/** What a failed refresh call means: transient (session kept), or the code of a failure that ends the session. */
export function refreshFailureCode(error: unknown): JotErrorCode {
  const transient =
    busyPause(error, 0) < Infinity ||
    error instanceof TimeoutError ||
    (error instanceof HttpErrorResponse && (error.status === 0 || error.status >= 500));
  if (transient) return 'refresh-unavailable';
  return error instanceof JotError ? error.code : 'refresh-rejected';
}

/** The dev-mode message of a failed refresh call (production builds drop it). */
function failureMessage(code: JotErrorCode, error: unknown, url: string): string {
  if (code === 'refresh-unavailable') {
    const what = error instanceof HttpErrorResponse ? error.status || 'network error' : 'no answer in 30 s';
    return `the refresh call to ${url} failed (${what}); the session is kept and the next request tries again.`;
  }
  if (error instanceof JotError) return error.message.replace(/^ngx-jot: /, '');
  const status = error instanceof HttpErrorResponse ? ` (${error.status})` : '';
  return `the refresh call to ${url} was rejected${status}; the session has ended.`;
}

/** The refresh call: POST, bounded by REFRESH_TIMEOUT_MS, a 408/429 retried after the pause it asks for. */
function postRefresh(
  http: HttpClient,
  options: JotRefreshOptions,
  body: unknown,
  xsrfHeader: Record<string, string> | undefined,
): Observable<unknown> {
  return http
    .post<unknown>(options.url, body, {
      context: skipJotContext(),
      withCredentials: options.withCredentials || undefined,
      headers: xsrfHeader,
    })
    .pipe(
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

/** Made by `withRefresh()` for the session, in its injection context. */
export class Refresher implements JotRefresher {
  readonly #host: JotHost;
  readonly #options: JotRefreshOptions;
  readonly #http = inject(HttpClient);
  readonly #xsrf = inject(HttpXsrfTokenExtractor, { optional: true });
  readonly #policy = inject(JOT_ORIGIN_POLICY);
  /** The refresh in flight, and its call (null while it waits for the lock or the floor). */
  #flight: Flight | null = null;
  #call: Subscription | null = null;
  /** Bumped by cancel(): a refresh that began before it is never applied. */
  #epoch = 0;
  /** A 408/429 that ended a refresh, and until when its server asked not to be called again. */
  #busyAnswer: unknown;
  #busyUntil = 0;
  /** When the last refresh call went (or goes) out. */
  #lastStartedAt = -Infinity;
  /** The flight runs ahead of need (see JotRefresher.ahead). */
  #ahead = false;
  readonly withCredentials: boolean;
  readonly refreshBeforeMs: number;

  constructor(host: JotHost, options: JotRefreshOptions) {
    this.#host = host;
    this.#options = options;
    this.withCredentials = !!options.withCredentials;
    this.refreshBeforeMs = (options.refreshBeforeExpirySeconds ?? JOT_DEFAULT_REFRESH_BEFORE_EXPIRY_SECONDS) * 1000;
  }

  get busy(): boolean {
    return this.#flight !== null;
  }

  get ahead(): boolean {
    return this.#flight !== null && this.#ahead;
  }

  body(refreshToken: string | null): unknown {
    return refreshRequestBody(refreshToken, this.#options.body);
  }

  refresh(cause: JotRefreshCause = 'needed'): Observable<JotSession> {
    // A request that needs the new token makes a refresh begun ahead of time a needed one.
    if (cause === 'needed') this.#ahead = false;
    else if (!this.#flight) this.#ahead = true;
    if (this.#flight) return this.#flight.result;
    const session = this.#host.session();
    if (!session?.refreshToken && !this.withCredentials) return throwError(() => this.#noRefreshToken(session));
    const flight = (this.#flight = new Flight(this.#epoch));
    this.#host.emit({ type: 'refresh-start' });
    if (Date.now() < this.#busyUntil) {
      // The server's Retry-After has not passed: calling it again now would only be refused.
      this.#fail(flight, this.#busyAnswer);
      return flight.result;
    }
    const pause = cause === 'app' ? 0 : this.#lastStartedAt + MIN_REFRESH_INTERVAL_MS - Date.now();
    this.#lastStartedAt = Date.now() + Math.max(0, pause);
    // The refresh token is read when the call goes out; the call is subscribed here, not by the
    // callers: callers that leave (route change, switchMap) do not cancel it, and its tokens are
    // stored even when nobody waits (the server rotated). finalize: the lock (with cross-tab sync)
    // is released however the call ends, cancellation included.
    const refresh = this.#locked(
      flight,
      () =>
        new Promise<void>((released) => {
          this.#call = this.#callAfter(pause).pipe(finalize(released)).subscribe(this.#answers(flight));
        }),
    );
    // With cross-tab sync, under the origin's lock, where another tab's newer pair is taken
    // instead of spending a refresh token it may have rotated; without, at once.
    (this.#host.crossTab?.refreshUnderLock(refresh) ?? refresh.call()).catch((error: unknown) =>
      this.#fail(flight, error),
    );
    return flight.result;
  }

  cancel({ silently = false } = {}): void {
    this.#epoch++;
    const flight = this.#flight;
    this.#call?.unsubscribe();
    this.#call = null;
    this.#flight = null;
    // On logout the waiters learn why; when the app is torn down they just end.
    const why = ngDevMode ? 'the session ended or changed while the token was being refreshed.' : '';
    flight?.settle(silently ? {} : { error: new JotError('refresh-cancelled', why) });
  }

  /** `flight` is still the refresh of this session: no cancel() since it began. */
  #isCurrent(flight: Flight): boolean {
    return flight.epoch === this.#epoch;
  }

  /** What the refresh call's answer does to `flight`. */
  #answers(flight: Flight) {
    return {
      next: (response: unknown) => this.#succeed(flight, response),
      error: (error: unknown) => this.#fail(flight, error),
    };
  }

  /** The refresh call, `pause` ms from now; the refresh token is read when it goes out (another tab may have rotated it). */
  #callAfter(pause: number): Observable<unknown> {
    const send = () => {
      const { url, xsrfHeaderName } = this.#options;
      const xsrfToken = this.withCredentials ? this.#xsrf?.getToken() : null;
      // Angular's own XSRF interceptor skips cross-origin calls; a cookie refresh to the API origin
      // still needs the header, so it is added here, for an allowed origin only.
      const header =
        xsrfToken && this.#policy.allowsOrigin(url) ? { [xsrfHeaderName ?? 'X-XSRF-TOKEN']: xsrfToken } : undefined;
      return postRefresh(this.#http, this.#options, this.body(this.#host.session()?.refreshToken ?? null), header);
    };
    return pause > 0 ? timer(pause).pipe(switchMap(send)) : send();
  }

  #noRefreshToken(session: JotSession | null): JotError {
    const why = !ngDevMode
      ? ''
      : session
        ? `no refresh token is held, so the session cannot be refreshed. Return a refresh_token from ${this.#host.config.loginUrl}, or use withRefresh({ withCredentials: true }) for a cookie-held one.`
        : `there is no session to refresh; log in first.`;
    return new JotError('no-refresh-token', why);
  }

  /** The call answered: adopt its pair, or fail with why it is unusable. */
  #succeed(flight: Flight, response: unknown): void {
    if (!this.#isCurrent(flight)) return;
    const host = this.#host;
    const before = host.session();
    const tokens = host.config.readTokens(response);
    const adopted = tokens
      ? host.adopt(tokens, { fresh: true, from: 'refresh' })
      : ngDevMode
        ? 'it holds no token; map its shape with readTokens'
        : '';
    if (typeof adopted === 'string') {
      const why = ngDevMode
        ? `the refresh from ${this.#options.url} is unusable (${adopted}); the session has ended.`
        : '';
      this.#fail(flight, new JotError('refresh-invalid', why));
      return;
    }
    // Of another user, that user's session began (the session emitted logout, then login).
    this.#settleWith(flight, before, adopted, 'this-tab');
  }

  /**
   * The call (or the lock) failed. A failure that ends the session looks at the shared record once
   * more first (`afterRecheck` false): another tab may have stored a newer pair.
   */
  #fail(flight: Flight, error: unknown, { afterRecheck = false } = {}): void {
    if (!this.#isCurrent(flight)) return;
    const pause = busyPause(error, 0);
    if (pause < Infinity) {
      this.#busyAnswer = error;
      this.#busyUntil = Date.now() + pause;
    }
    const code = refreshFailureCode(error);
    const endsSession = code !== 'refresh-unavailable';
    const crossTab = this.#host.crossTab;
    if (endsSession && crossTab && !afterRecheck) {
      // Another tab may have stored a newer pair (a login, or a refresh whose message is not here
      // yet): take it rather than end the session in every tab. Called under the lock, the
      // cross-tab sync runs this at once, still under it.
      const giveUp = () => this.#fail(flight, error, { afterRecheck: true });
      // eslint-disable-next-line @typescript-eslint/require-await -- call() returns a promise; async also turns a throw into a rejection.
      crossTab.refreshUnderLock(this.#locked(flight, async () => giveUp())).catch(giveUp);
      return;
    }
    const jotError = new JotError(code, ngDevMode ? failureMessage(code, error, this.#options.url) : '', error);
    this.#host.emit({ type: 'refresh-failure', error: jotError });
    // Detach first, so ending the session does not cancel this flight with a vaguer error.
    this.#detach(flight);
    // End the session before the waiters hear of it, so what they see next is consistent.
    if (endsSession) this.#host.end('refresh-failed');
    flight.settle({ error: jotError });
  }

  /** `flight` as the cross-tab sync runs it under the lock: `call`, unless another tab's newer pair is taken. */
  #locked(flight: Flight, call: () => Promise<void>): JotLockedRefresh {
    return {
      wanted: () => this.#isCurrent(flight),
      took: (before, taken) => this.#settleWith(flight, before, taken, 'other-tab'),
      call,
    };
  }

  /** Ends `flight` with the session now held; the waiters of another user's session never get it. */
  #settleWith(flight: Flight, before: JotSession | null, adopted: JotSession, source: JotRefreshSource): void {
    let outcome: Outcome = { session: adopted };
    if (before && isOtherSubject(before, adopted)) {
      // What waits belongs to the user before, and is never sent as the new one.
      const why = ngDevMode
        ? `the session changed to another user ("sub") during the refresh; requests of the user before are not replayed.`
        : '';
      outcome = { error: new JotError('subject-changed', why) };
      this.#host.emit({ type: 'refresh-failure', error: outcome.error });
    } else {
      this.#host.emit({ type: 'refresh-success', source });
    }
    this.#detach(flight);
    flight.settle(outcome);
  }

  #detach(flight: Flight): void {
    if (this.#flight !== flight) return;
    this.#flight = null;
    this.#call = null;
  }
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
