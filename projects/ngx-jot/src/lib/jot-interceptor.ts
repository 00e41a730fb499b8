import {
  HttpErrorResponse,
  HttpEventType,
  type HttpEvent,
  type HttpHandlerFn,
  type HttpInterceptorFn,
  type HttpRequest,
} from '@angular/common/http';
import { inject } from '@angular/core';
import { Observable, catchError, filter, switchMap, throwError, timeout } from 'rxjs';

import { JOT_SKIP } from './context';
import { JotError } from './errors';
import { JOT_DPOP } from './feature-contracts';
import { isOtherSubject, type JotSession } from './jwt-session';
import { SessionState } from './session-state';

/**
 * How long a request whose token is still good waits for a proactive refresh (one ahead of
 * expiry) before it goes out with that token: long enough for a normal refresh, short enough
 * that a hanging one is not noticed.
 */
const AHEAD_REFRESH_WAIT_MS = 5_000;

/**
 * Adds `Authorization: Bearer <token>` to relative, same-origin and `allowedOrigins` requests
 * only, and on a 401 refreshes once (with `withRefresh()`) while other requests wait, then
 * replays each once.
 *
 * @usageNotes
 * ```ts
 * provideHttpClient(withInterceptors([jotInterceptor]))
 * ```
 */
export const jotInterceptor: HttpInterceptorFn = (req, handler) => {
  const state = inject(SessionState);
  // withDpop(): every request goes out through it; it adds a proof where one belongs.
  const next = inject(JOT_DPOP, { optional: true })?.(state, handler) ?? handler;
  const { policy, config } = state;
  // Why the token stays off, if it does; a caller that set the credential itself keeps it (and its 401).
  // (The log of withJotDebug() exists in development only, so production builds drop its calls.)
  if (isSkipped(req)) {
    if (ngDevMode) state.debug?.(req, 'skip');
    return next(req);
  }
  if (!policy.allowsOrigin(req.url)) {
    if (ngDevMode) state.debug?.(req, 'origin');
    return next(req);
  }
  const excludedBy = config.excludedUrls.length ? policy.excludedBy(req.url) : undefined;
  if (excludedBy !== undefined) {
    if (ngDevMode) state.debug?.(req, 'excluded', excludedBy);
    return next(req);
  }
  if (req.headers.has(config.headerName)) {
    if (ngDevMode) state.debug?.(req, 'header-set');
    return next(req);
  }
  // An async store is still being read: the token this request should carry may be in it.
  return state.restore.after(() => send(state, req, next));
};

/** Sends with the current token, first waiting for a refresh that runs or that an expired token needs. */
function send(state: SessionState, req: HttpRequest<unknown>, next: HttpHandlerFn): Observable<HttpEvent<unknown>> {
  const session = state.session();
  if (!session) {
    if (ngDevMode) state.debug?.(req, 'no-token');
    return next(req);
  }
  const refresher = state.refresher;
  const stale = Date.now() >= session.staleAt;
  if (stale && !state.canRefresh(session)) {
    // Sending a token known to be expired only earns a 401: the session is over.
    state.end('expired');
    if (ngDevMode) state.debug?.(req, 'expired');
    return next(req);
  }
  if (refresher && (refresher.busy || stale)) {
    // Held, not sent: it goes out once, with the token the refresh brings. Its refresh failing
    // is the error it sees (a JotError, its code saying why), since it never got a response.
    if (stale || !refresher.ahead) {
      return refresher.refresh().pipe(switchMap((fresh) => attempt(state, req, next, fresh, true)));
    }
    // A refresh ahead of expiry: this token is still good, so the request waits a little for the
    // new one, but not for a refresh that fails transiently or hangs; it goes out with this token.
    return refresher.refresh('ahead').pipe(
      // Never until the token goes stale (tokens under a minute): it goes out while still good.
      timeout({ first: Math.min(AHEAD_REFRESH_WAIT_MS, (session.staleAt - Date.now()) / 2), with: () => [null] }),
      // (An array is an ObservableInput of its items.)
      catchError((error: unknown) =>
        error instanceof JotError && error.code === 'refresh-unavailable' ? [null] : throwError(() => error),
      ),
      switchMap((fresh) => {
        if (fresh) return attempt(state, req, next, fresh, true);
        const held = state.session();
        // Expired meanwhile (or the session changed): judged again, as a request arriving now.
        return held && Date.now() < held.staleAt ? attempt(state, req, next, held, false) : send(state, req, next);
      }),
    );
  }
  return attempt(state, req, next, session, false);
}

/** One try with `session`'s token; a 401 goes to `recover`. */
function attempt(
  state: SessionState,
  req: HttpRequest<unknown>,
  next: HttpHandlerFn,
  session: JotSession,
  renewed: boolean,
): Observable<HttpEvent<unknown>> {
  const { headerName, scheme } = state.config;
  if (ngDevMode) state.debug?.(req, 'attached');
  const authorized = req.clone({
    setHeaders: { [headerName]: scheme ? `${scheme} ${session.accessToken}` : session.accessToken },
  });
  return next(authorized).pipe(
    catchError((error: unknown) =>
      error instanceof HttpErrorResponse && error.status === 401 && isOurChallenge(error, scheme)
        ? recover(state, req, next, session, renewed, error)
        : throwError(() => error),
    ),
  );
}

/**
 * A 401 for `used`. Each request is replayed at most once, and only a 401 for the token
 * still held starts a refresh, so no timing can make a loop.
 */
function recover(
  state: SessionState,
  req: HttpRequest<unknown>,
  next: HttpHandlerFn,
  used: JotSession,
  renewed: boolean,
  error: HttpErrorResponse,
): Observable<HttpEvent<unknown>> {
  const current = state.session();
  const refresher = state.refresher;
  const fail = () => throwError(() => error);
  // Another user's session (or none) now: this request is never replayed as that user.
  if (!current || isOtherSubject(current, used)) return fail();
  // Compared by session, not by token string: two consecutive tokens can be byte-identical.
  const newer = current !== used;
  if (renewed || !refresher) {
    // A fresh token rejected too (or no way to get one): the session is over, unless a newer
    // token arrived meanwhile, which this 401 says nothing about.
    if (!newer) state.end(refresher ? 'refresh-failed' : 'expired');
    return fail();
  }
  // A newer token known to be expired would only earn another 401: it waits for the refresh below.
  if (newer && !refresher.busy && Date.now() < current.staleAt)
    return attempt(state, req, next, current, true).pipe(hideReplay);
  if (!state.canRefresh(current)) {
    state.end('expired');
    return fail();
  }
  // Whatever ends the refresh, a caller that got a 401 sees its own 401.
  return refresher.refresh().pipe(
    catchError(fail),
    switchMap((fresh) => attempt(state, req, next, fresh, true)),
    hideReplay,
  );
}

/**
 * The caller already saw the first try's `Sent` (and progress): of the replay it sees only the
 * final response, as if the request had been sent once.
 */
const hideReplay = filter((event: HttpEvent<unknown>) => event.type === HttpEventType.Response);

/** A 401 is ours unless its `WWW-Authenticate` names only other schemes (e.g. `Basic`). */
function isOurChallenge(error: HttpErrorResponse, scheme: string): boolean {
  const challenge = error.headers.get('WWW-Authenticate');
  if (!challenge || !scheme) return true;
  // A DPoP nonce challenge (withDpop() retried it once already) says nothing about the token: no refresh.
  if (challenge.includes('use_dpop_nonce')) return false;
  const wanted = scheme.toLowerCase();
  // Challenges are "scheme params, scheme params"; a scheme is the first word of a part. A DPoP
  // challenge is ours too: withDpop() sends a bound token under that scheme.
  return challenge.split(',').some((part) => [wanted, 'dpop'].includes(part.trim().split(/\s/, 1)[0].toLowerCase()));
}

/**
 * `JOT_SKIP`, or a JSONP request: a <script> tag carries no header, and Angular rejects a JSONP
 * request that has one (NG02812).
 */
function isSkipped(req: HttpRequest<unknown>): boolean {
  return req.context.get(JOT_SKIP) || req.method === 'JSONP';
}
