// Angular outside the browser: an environment injector with HttpClient, an in-memory HttpBackend
// and either nothing, ngx-jot (the built dist FESM) or @auth0/angular-jwt in the pipeline.
import { APP_ORIGIN, document } from './env.mjs';
import './angular.mjs';
import { DOCUMENT } from '@angular/common';
import {
  HttpClient,
  HttpErrorResponse,
  HttpHeaders,
  HttpResponse,
  provideHttpClient,
  withInterceptors,
  withInterceptorsFromDi,
  HttpBackend,
} from '@angular/common/http';
import {
  Injector,
  NgZone,
  PLATFORM_ID,
  createEnvironmentInjector,
  importProvidersFrom,
  ɵINJECTOR_SCOPE as INJECTOR_SCOPE,
  ɵNoopNgZone as NoopNgZone,
  ɵChangeDetectionScheduler as ChangeDetectionScheduler,
} from '@angular/core';
import { Observable, of } from 'rxjs';

import { FESM } from './dist.mjs';

export { APP_ORIGIN };
export const API_ORIGIN = 'https://api.example.com';

/** ngx-jot as an app gets it: the compiled dist FESM, not the sources. */
export const jot = await import(FESM);

/** An unsigned JWT (the client never checks signatures). */
let serial = 0;
export function fakeJwt(claims = {}, { expiresInSeconds = 3600 } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const payload = { sub: 'user-1', iat: now, exp: now + expiresInSeconds, jti: `t${++serial}`, ...claims };
  return `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(payload)}.c2lnbmF0dXJl`;
}

/** Answers every request synchronously with one shared 200: the pipeline is all that costs. */
export class SyncBackend {
  response = new HttpResponse({ status: 200, body: { ok: true } });
  /** Set to a function to look at requests (sanity checks only, never while timing). */
  spy = null;
  handle(req) {
    this.spy?.(req);
    return of(this.response);
  }
}

/**
 * A server: access tokens it accepts, a refresh endpoint that rotates them. Responses arrive in
 * batches on the next event-loop turn (setImmediate), as from a network: requests made in the
 * same turn are concurrent.
 */
export class ServerBackend {
  /** Access tokens the server accepts now. */
  valid = new Set();
  refreshCalls = 0;
  apiCalls = 0;
  /** Backend subscriptions not yet torn down (completed, errored or unsubscribed). */
  live = 0;
  /** Hook: runs at the start of each delivered batch. */
  onBatch = null;
  pending = [];
  scheduled = false;
  ok = new HttpResponse({ status: 200, body: { ok: true } });
  challenge = new HttpHeaders({ 'WWW-Authenticate': 'Bearer error="invalid_token"' });

  /** A fresh pair the server accepts. */
  issue() {
    const accessToken = fakeJwt();
    this.valid.add(accessToken);
    return { access_token: accessToken, refresh_token: `r-${accessToken.slice(-12)}` };
  }

  /** The server forgets every access token (rotation, restart): the next calls get 401. */
  revokeAll() {
    this.valid.clear();
  }

  handle(req) {
    return new Observable((subscriber) => {
      this.live++;
      const entry = { req, subscriber, closed: false };
      this.pending.push(entry);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
      return () => {
        entry.closed = true;
        this.live--;
      };
    });
  }

  flush() {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    this.onBatch?.(batch);
    for (const entry of batch) if (!entry.closed) this.respond(entry);
  }

  respond({ req, subscriber }) {
    if (req.url.endsWith('/refresh')) {
      this.refreshCalls++;
      subscriber.next(new HttpResponse({ status: 200, body: this.issue(), url: req.url }));
      subscriber.complete();
      return;
    }
    this.apiCalls++;
    const auth = req.headers.get('Authorization');
    if (auth && this.valid.has(auth.slice(7))) {
      subscriber.next(this.ok);
      subscriber.complete();
    } else {
      subscriber.error(
        new HttpErrorResponse({ status: 401, statusText: 'Unauthorized', url: req.url, headers: this.challenge }),
      );
    }
  }
}

/** A root environment injector as an app's, without bootstrapping a platform. */
export function createApp(providers) {
  return createEnvironmentInjector(
    [
      { provide: INJECTOR_SCOPE, useValue: 'root' },
      { provide: DOCUMENT, useValue: document },
      { provide: PLATFORM_ID, useValue: 'browser' },
      { provide: NgZone, useClass: NoopNgZone },
      // HttpClient counts requests as pending tasks and tells the change-detection scheduler
      // when one ends; there is no view to refresh here (and no timers wanted), so it listens only.
      { provide: ChangeDetectionScheduler, useValue: { runningTick: false, notify() {} } },
      providers,
    ],
    Injector.NULL,
  );
}

/** The JotConfig used throughout: relative URLs plus one allowed API origin, as in API.md. */
export const JOT_CONFIG = { loginUrl: '/authenticate', allowedOrigins: [API_ORIGIN] };

export function bareApp(backend) {
  return createApp([provideHttpClient(), { provide: HttpBackend, useValue: backend }]);
}

export function jotApp(backend, features = [jot.withRefresh({ url: '/refresh' })]) {
  return createApp([
    provideHttpClient(withInterceptors([jot.jotInterceptor])),
    { provide: HttpBackend, useValue: backend },
    jot.provideJot(JOT_CONFIG, ...features),
  ]);
}

/**
 * @auth0/angular-jwt wired as its README says, configured like ngx-jot above. `skipWhenExpired`
 * is off by default there; on, it decodes the token on every request to judge its expiry.
 */
export async function angularJwtApp(backend, token, { skipWhenExpired = false } = {}) {
  const { JwtModule } = await import('@auth0/angular-jwt');
  return createApp([
    provideHttpClient(withInterceptorsFromDi()),
    { provide: HttpBackend, useValue: backend },
    importProvidersFrom(
      JwtModule.forRoot({
        config: {
          // The token held in memory, as ngx-jot holds it (not re-read from storage per request).
          tokenGetter: () => token,
          allowedDomains: [new URL(API_ORIGIN).host],
          skipWhenExpired,
        },
      }),
    ),
  ]);
}

export { HttpClient };

/** Median of numbers. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
