import { HttpContextToken, HttpErrorResponse, HttpResponse, type HttpInterceptorFn } from '@angular/common/http';
import { inject } from '@angular/core';
import { JotError } from 'ngx-jot';
import { defer, finalize, tap } from 'rxjs';

import { Activity } from './activity';
import { ApiStatus, PROBE } from './api-status';

/** Log id of a request, set by the outer logging interceptor. */
const LOG_ID = new HttpContextToken<number>(() => 0);

/**
 * Outermost interceptor: logs what the app asked for, and how it ended. With `logAttempts`
 * inside jotInterceptor, the log tells a request that was held (asked for, not yet sent) from
 * one that was replayed (sent twice).
 */
export const logRequests: HttpInterceptorFn = (req, next) => {
  if (req.context.get(PROBE)) return next(req);
  const activity = inject(Activity);
  return defer(() => {
    const id = activity.startRequest(req.method, req.urlWithParams);
    req.context.set(LOG_ID, id);
    const out = next(req);
    // jotInterceptor hands a request on synchronously unless it holds it for a refresh.
    activity.markHeld(id);
    return out.pipe(
      tap({
        next: (event) => {
          if (event instanceof HttpResponse) activity.settle(id, 'ok');
        },
        error: (error: unknown) => activity.settle(id, 'failed', failureWords(error)),
      }),
      // Settles nothing that already settled: only a request dropped before its answer.
      finalize(() => activity.settle(id, 'failed', 'cancelled')),
    );
  });
};

/** Innermost interceptor: logs each attempt that really goes out, and tells ApiStatus what came back. */
export const logAttempts: HttpInterceptorFn = (req, next) => {
  const id = req.context.get(LOG_ID);
  if (id === 0) return next(req);
  const activity = inject(Activity);
  const apiStatus = inject(ApiStatus);
  activity.attemptStarted(id, req.headers.has('Authorization'));
  const foreign = activity.isForeign(req.urlWithParams);
  return next(req).pipe(
    tap({
      next: (event) => {
        if (!(event instanceof HttpResponse)) return;
        activity.attemptEnded(id, event.status, event.body);
        if (!foreign) apiStatus.report(event.status);
      },
      error: (error: unknown) => {
        const status = error instanceof HttpErrorResponse ? error.status : 0;
        activity.attemptEnded(id, status);
        if (!foreign) apiStatus.report(status);
      },
    }),
  );
};

/** Why a request failed, in plain words: never a bare 0. */
export function failureWords(error: unknown): string {
  if (error instanceof JotError) return `never sent: ${error.message.replace(/^ngx-jot: /, '')}`;
  if (error instanceof HttpErrorResponse) {
    return error.status === 0 ? 'network error (API unreachable)' : `${error.status} ${error.statusText}`.trim();
  }
  return String(error);
}
