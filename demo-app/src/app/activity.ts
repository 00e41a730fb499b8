import { HttpContextToken, HttpErrorResponse, HttpResponse, type HttpInterceptorFn } from '@angular/common/http';
import { DestroyRef, Injectable, inject, signal } from '@angular/core';
import { JotAuth, JotError, type JotEvent } from 'ngx-jot';
import { defer, finalize, tap } from 'rxjs';

import { DEMO_CONFIG, shortUrl } from './demo-config';

/** Where a logged request stands. */
export type RequestState = 'pending' | 'held' | 'in-flight' | 'replayed' | 'ok' | 'failed';

/** One line of the request log: an HTTP call, or a session event. */
export interface LogEntry {
  readonly id: number;
  readonly at: Date;
  readonly kind: 'request' | 'auth' | 'event';
  readonly label: string;
  readonly state: RequestState | 'event';
  /** Status codes of each try, in order (0 = network error). */
  readonly tries: readonly number[];
  /** The request was held back (sent after a refresh, or waiting for one after a 401). */
  readonly held: boolean;
  /** The request was sent again after a refresh. */
  readonly replayed: boolean;
  /** An Authorization header went out on the last try. */
  readonly token: boolean | null;
  readonly detail: string;
}

const MAX_ENTRIES = 150;

/** Log id of a request, set by the outer logging interceptor. */
const LOG_ID = new HttpContextToken<number>(() => 0);

/**
 * The activity of this tab: every HTTP call with its tries, and the session's events. Fed by two
 * interceptors around `jotInterceptor`: the outer one sees what the app asked for and what it
 * finally got; the inner one sees every request that really went out, so it can tell a request
 * that was held (asked for, not yet sent) and one that was replayed (sent twice).
 */
@Injectable({ providedIn: 'root' })
export class Activity {
  private readonly auth = inject(JotAuth);
  private readonly config = inject(DEMO_CONFIG);
  private nextId = 1;
  private readonly entriesSignal = signal<readonly LogEntry[]>([]);
  private readonly refreshStarts = signal(0);
  private readonly lastLogout = signal<(JotEvent & { type: 'logout' }) | null>(null);

  /** Newest first. */
  readonly entries = this.entriesSignal.asReadonly();
  /** Refreshes this tab has started (`refresh-start` events). */
  readonly refreshCount = this.refreshStarts.asReadonly();
  /** The last `logout` event, to explain on the login page why the session ended. */
  readonly endedSession = this.lastLogout.asReadonly();

  constructor() {
    const sub = this.auth.events.subscribe((event) => this.onEvent(event));
    inject(DestroyRef).onDestroy(() => sub.unsubscribe());
  }

  /** Drops the finished requests and the events. */
  clear(): void {
    this.entriesSignal.update((list) =>
      list.filter((e) => e.kind !== 'event' && e.state !== 'ok' && e.state !== 'failed'),
    );
  }

  /** Forget why the last session ended (a new login). */
  acknowledgeLogout(): void {
    this.lastLogout.set(null);
  }

  /** Logs a new request (called by `logRequests`); returns its id. */
  start(method: string, url: string): number {
    const id = this.nextId++;
    const auth = [this.config.loginUrl, this.config.refreshUrl, this.config.logoutUrl].includes(url);
    this.push({
      id,
      at: new Date(),
      kind: auth ? 'auth' : 'request',
      label: `${method} ${shortUrl(url)}`,
      state: 'pending',
      tries: [],
      held: false,
      replayed: false,
      token: null,
      detail: '',
    });
    return id;
  }

  /** Updates a logged request (called by the logging interceptors). */
  update(id: number, change: (e: LogEntry) => Partial<LogEntry>): void {
    this.entriesSignal.update((list) => list.map((e) => (e.id === id ? { ...e, ...change(e) } : e)));
  }

  private push(entry: LogEntry): void {
    this.entriesSignal.update((list) => [entry, ...list].slice(0, MAX_ENTRIES));
  }

  private onEvent(event: JotEvent): void {
    let detail = '';
    switch (event.type) {
      case 'refresh-start':
        this.refreshStarts.update((n) => n + 1);
        break;
      case 'logout':
        detail = `reason: ${event.reason}`;
        this.lastLogout.set(event);
        break;
      case 'login':
        detail = `via ${event.source}`;
        this.lastLogout.set(null);
        break;
      case 'refresh-failure':
        detail = event.error instanceof Error ? event.error.message.replace(/^ngx-jot: /, '') : String(event.error);
        break;
    }
    this.push({
      id: this.nextId++,
      at: new Date(),
      kind: 'event',
      label: event.type,
      state: 'event',
      tries: [],
      held: false,
      replayed: false,
      token: null,
      detail,
    });
  }
}

/** Outermost interceptor: logs what the app asked for, and how it ended. */
export const logRequests: HttpInterceptorFn = (req, next) => {
  const activity = inject(Activity);
  return defer(() => {
    const id = activity.start(req.method, req.urlWithParams);
    req.context.set(LOG_ID, id);
    let settled = false;
    const out = next(req);
    // jotInterceptor hands a request on synchronously unless it holds it for a refresh.
    activity.update(id, (e) =>
      e.tries.length === 0 && e.state === 'pending'
        ? { state: 'held', held: true, detail: 'waiting for a refresh' }
        : {},
    );
    return out.pipe(
      tap({
        next: (ev) => {
          if (ev instanceof HttpResponse) {
            settled = true;
            activity.update(id, () => ({ state: 'ok', detail: '' }));
          }
        },
        error: (err: unknown) => {
          settled = true;
          const detail =
            err instanceof JotError
              ? `${err.code}: never sent`
              : err instanceof HttpErrorResponse
                ? err.status === 0
                  ? 'network error'
                  : `${err.status} ${err.statusText}`.trim()
                : String(err);
          activity.update(id, () => ({ state: 'failed', detail }));
        },
      }),
      finalize(() => {
        if (!settled)
          activity.update(id, (e) =>
            e.state === 'ok' || e.state === 'failed' ? {} : { state: 'failed', detail: 'cancelled' },
          );
      }),
    );
  });
};

/** Innermost interceptor: logs each request that really goes out, with or without a token. */
export const logTries: HttpInterceptorFn = (req, next) => {
  const activity = inject(Activity);
  const id = req.context.get(LOG_ID);
  if (id === 0) return next(req);
  const token = req.headers.has('Authorization');
  activity.update(id, (e) => {
    const replay = e.tries.length > 0;
    return {
      state: replay ? 'replayed' : 'in-flight',
      replayed: e.replayed || replay,
      token,
      detail: replay ? 'sent again with the new token' : '',
    };
  });
  return next(req).pipe(
    tap({
      next: (ev) => {
        if (ev instanceof HttpResponse) activity.update(id, (e) => ({ tries: [...e.tries, ev.status] }));
      },
      error: (err: unknown) => {
        const status = err instanceof HttpErrorResponse ? err.status : 0;
        activity.update(id, (e) => ({
          tries: [...e.tries, status],
          // A 401 on an allowed request goes to jotInterceptor's queue; the outer logger settles it.
          ...(status === 401 && e.kind === 'request' && token
            ? { state: 'held', held: true, detail: '401: waiting for the refresh' }
            : {}),
        }));
      },
    }),
  );
};
