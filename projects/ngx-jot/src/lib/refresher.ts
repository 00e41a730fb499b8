/*
 * The refresher: one refresh at a time, shared by every waiter (a Flight, refresh-flight.ts).
 * The call itself, its pacing and what its failure means (refreshFailureCode()) are in
 * refresh-call.ts; what each way a refresh ends does to the session, in refresh-outcomes.ts.
 */
import { type Observable, type Subscription, finalize, throwError } from 'rxjs';

import { JOT_DEFAULT_REFRESH_BEFORE_EXPIRY_SECONDS } from './config';
import { JotError, configError } from './errors';
import { JotFeatureKind, makeJotFeature, type JotFeature } from './feature';
import { JOT_REFRESHER, type JotHost, type JotRefreshCause, type JotRefresher } from './feature-contracts';
import type { JotSession } from './jwt-session';
import { RefreshCaller } from './refresh-call';
import { Flight } from './refresh-flight';
import { type FlightOwner, RefreshOutcomes } from './refresh-outcomes';

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

export class Refresher implements JotRefresher, FlightOwner {
  readonly #host: JotHost;
  /** The refresh call itself, and its pacing. */
  readonly #caller: RefreshCaller;
  /** What each way a refresh ends does. */
  readonly #outcomes: RefreshOutcomes;
  /** The refresh in flight, and its call (null while it waits for the lock or the floor). */
  #flight: Flight | null = null;
  #request: Subscription | null = null;
  /** Bumped by cancel(): a refresh that began before it is never applied. */
  #epoch = 0;
  /** The flight runs ahead of need (see JotRefresher.ahead). */
  #ahead = false;
  /** The refresh endpoint (withDpop() adds proofs to its calls; messages name it). */
  readonly url: string;
  readonly withCredentials: boolean;
  readonly refreshBeforeMs: number;

  constructor(host: JotHost, options: JotRefreshOptions) {
    this.#host = host;
    this.#caller = new RefreshCaller(host, options);
    this.#outcomes = new RefreshOutcomes(host, this, this.#caller);
    this.url = options.url;
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
    return this.#caller.body(refreshToken);
  }

  refresh(cause: JotRefreshCause = 'needed'): Observable<JotSession> {
    // A request that needs the new token makes a refresh begun ahead of time a needed one.
    if (cause === 'needed') this.#ahead = false;
    else if (!this.#flight) this.#ahead = true;
    if (this.#flight) return this.#flight.result;
    const session = this.#host.session();
    if (!session?.refreshToken && !this.withCredentials)
      return throwError(
        () =>
          new JotError('no-refresh-token', ngDevMode ? noRefreshTokenMessage(session, this.#host.config.loginUrl) : ''),
      );
    const flight = (this.#flight = new Flight(this.#epoch));
    this.#host.emit({ type: 'refresh-start' });
    const refusal = this.#caller.refusal();
    if (refusal) {
      // The server's Retry-After has not passed: calling it again now would only be refused.
      this.#outcomes.fail(flight, refusal.answer);
      return flight.result;
    }
    const call = this.#caller.call(cause);
    // The refresh token is read when the call goes out; the call is subscribed here, not by the
    // callers: callers that leave (route change, switchMap) do not cancel it, and its tokens are
    // stored even when nobody waits (the server rotated). finalize: the lock (with cross-tab sync)
    // is released however the call ends, cancellation included.
    const refresh = () =>
      new Promise<void>((released) => {
        this.#request = call.pipe(finalize(released)).subscribe(this.#outcomes.answers(flight));
      });
    // With cross-tab sync, under the origin's lock, where another tab's newer pair is taken
    // instead of spending a refresh token it may have rotated; without, at once.
    (this.#host.crossTab?.refreshUnderLock(this.#outcomes, flight, refresh) ?? refresh()).catch((error: unknown) =>
      this.#outcomes.fail(flight, error),
    );
    return flight.result;
  }

  cancel({ silently = false } = {}): void {
    this.#epoch++;
    const flight = this.#flight;
    this.#request?.unsubscribe();
    this.#request = null;
    this.#flight = null;
    // On logout the waiters learn why; when the app is torn down they just end.
    flight?.settle(
      silently
        ? {}
        : {
            error: new JotError(
              'refresh-cancelled',
              ngDevMode ? 'the session ended or changed while the token was being refreshed.' : '',
            ),
          },
    );
  }

  /** `flight` is still the refresh of this session: no cancel() since it began. */
  isCurrent(flight: Flight): boolean {
    return flight.epoch === this.#epoch;
  }

  /** Forgets `flight` as the one in flight (before it settles). */
  detach(flight: Flight): void {
    if (this.#flight !== flight) return;
    this.#flight = null;
    this.#request = null;
  }
}

/** Development only: why there is nothing to refresh with. */
function noRefreshTokenMessage(session: JotSession | null, loginUrl: string): string {
  return session
    ? `no refresh token is held, so the session cannot be refreshed. Return a refresh_token from ${loginUrl}, or use withRefresh({ withCredentials: true }) for a cookie-held one.`
    : `there is no session to refresh; log in first.`;
}
