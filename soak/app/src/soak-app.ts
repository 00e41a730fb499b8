/**
 * The chaos soak's app: ngx-jot with withRefresh + withCrossTabSync + local storage, a public and a
 * protected route, and random traffic started by the soak driver through `window.soak`. Every
 * request, every attempt that leaves for the network (with the token it carried), every answer and
 * every error is reported to the driver, with the request's `X-Request-Id`, so the driver can join
 * them with the reference API's fault log.
 */
import {
  HttpClient,
  HttpErrorResponse,
  HttpHeaders,
  type HttpInterceptorFn,
  provideHttpClient,
  withInterceptors,
} from '@angular/common/http';
import {
  type ApplicationConfig,
  Component,
  inject,
  Injectable,
  provideAppInitializer,
  provideZonelessChangeDetection,
} from '@angular/core';
import { NavigationEnd, provideRouter, Router, RouterLink, RouterOutlet, type Routes } from '@angular/router';
import {
  JotAuth,
  JotError,
  jotGuard,
  jotInterceptor,
  provideJot,
  withCrossTabSync,
  withRefresh,
  withStorage,
} from 'ngx-jot';

import { SOAK_REPORT, type SoakControl, type SoakEvent, type SoakRequestKind } from '../../protocol';

/**
 * Events go to the driver in batches, a few times a second: one call per event was enough CDP
 * traffic to slow the driver's process, which also runs the API. The timer is the page's own
 * (untracked) one, so it is not counted among the timers left after logout.
 */
const pendingEvents: SoakEvent[] = [];
const report = (event: SoakEvent): void => void pendingEvents.push(event);
function flushEvents(): void {
  if (pendingEvents.length > 0) window[SOAK_REPORT]?.(pendingEvents.splice(0));
}
(window.__soakUntrackedSetInterval ?? setInterval)(flushEvents, 250);
addEventListener('pagehide', flushEvents);
const REQUEST_ID = 'X-Request-Id';

/** The kind of an ngx-jot call, told by its URL; app calls carry their kind in their id. */
function kindOf(url: string, id: string | null): SoakRequestKind {
  if (url.endsWith('/refresh')) return 'refresh';
  if (url.endsWith('/authenticate')) return 'login';
  if (url.endsWith('/logout')) return 'logout';
  return id?.includes('-f') ? 'foreign' : 'api';
}

let ownCallCount = 0;
/**
 * The prefix of this page's request ids; the driver sets it when it starts the tab. Until then
 * (a reload on the protected route asks the API before that), a prefix of its own keeps ids unique.
 */
let idPrefix = `boot${Math.random().toString(36).slice(2, 8)}`;

/** Outermost: gives ngx-jot's own calls (refresh, login, logout) an id too, so the API's log names them. */
const tagRequest: HttpInterceptorFn = (req, next) => {
  if (req.headers.has(REQUEST_ID)) return next(req);
  const id = `${idPrefix}-j${++ownCallCount}`;
  report({ type: 'request', id, kind: kindOf(req.url, id), at: Date.now() });
  return next(req.clone({ setHeaders: { [REQUEST_ID]: id } }));
};

/** Reads `jti` and `exp` of the bearer token a request carries (never the token itself). */
function claimsOf(authorization: string | null): { jti: string | null; exp: number | null } {
  const payload = authorization?.split(' ')[1]?.split('.')[1];
  if (!payload) return { jti: null, exp: null };
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { jti?: string; exp?: number };
    return { jti: claims.jti ?? null, exp: claims.exp ?? null };
  } catch {
    return { jti: null, exp: null };
  }
}

/** Innermost: every attempt that leaves for the network, with the token it carries. */
const recordAttempt: HttpInterceptorFn = (req, next) => {
  const id = req.headers.get(REQUEST_ID) ?? '?';
  report({
    type: 'attempt',
    id,
    kind: kindOf(req.url, id),
    at: Date.now(),
    ...claimsOf(req.headers.get('Authorization')),
  });
  return next(req);
};

/** The random traffic of one tab. */
@Injectable({ providedIn: 'root' })
class Traffic implements SoakControl {
  readonly #http = inject(HttpClient);
  readonly #auth = inject(JotAuth);
  readonly #router = inject(Router);
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #pending = 0;
  #count = 0;
  #random: () => number = Math.random;
  #foreignUrl = '';
  #running = false;

  constructor() {
    this.#auth.events.subscribe((event) =>
      report({
        type: 'auth',
        event: event.type,
        detail: 'reason' in event ? event.reason : 'source' in event ? event.source : null,
        at: Date.now(),
      }),
    );
    this.#router.events.subscribe((event) => {
      if (event instanceof NavigationEnd) report({ type: 'navigated', url: event.urlAfterRedirects, at: Date.now() });
    });
  }

  start(options: { idPrefix: string; seed: number; foreignUrl: string; pace: number }): void {
    idPrefix = options.idPrefix;
    this.#random = seeded(options.seed);
    this.#foreignUrl = options.foreignUrl;
    this.#running = true;
    this.#loop('single', 150 * options.pace, 1200 * options.pace, () => this.#single());
    this.#loop('burst', 2500 * options.pace, 7000 * options.pace, () => this.#burst());
    this.#loop('navigate', 800, 4000, () => this.#navigate());
  }

  stop(): void {
    this.#running = false;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  pending(): number {
    return this.#pending;
  }

  isAuthenticated(): boolean {
    return this.#auth.isAuthenticated();
  }

  login(): Promise<boolean> {
    return new Promise((resolve) =>
      this.#auth.login({ username: 'john.doe', password: 'foobar' }).subscribe({
        next: () => resolve(true),
        error: () => resolve(false),
      }),
    );
  }

  logout(): void {
    this.#auth.logout();
  }

  flush(): void {
    flushEvents();
  }

  /** Runs `step` again and again, a random pause of `[min, max)` ms apart, until stopped. */
  #loop(name: string, min: number, max: number, step: () => void): void {
    const timer = setTimeout(
      () => {
        this.#timers.delete(timer);
        if (!this.#running) return;
        step();
        this.#loop(name, min, max, step);
      },
      min + this.#random() * (max - min),
    );
    this.#timers.add(timer);
  }

  #single(): void {
    if (this.#random() < 0.15) this.#call('foreign');
    else this.#call('api');
  }

  #burst(): void {
    const size = 3 + Math.floor(this.#random() * 8);
    for (let i = 0; i < size; i++) this.#call('api');
  }

  #navigate(): void {
    const to = this.#random() < 0.5 ? '/protected' : this.#random() < 0.5 ? '/public' : '/';
    void this.#router.navigateByUrl(to);
  }

  /** One app request; API calls only while signed in (a signed-out app has nothing to ask the API). */
  call(kind: 'api' | 'foreign'): void {
    this.#call(kind);
  }

  #call(kind: 'api' | 'foreign'): void {
    if (kind === 'api' && !this.#auth.isAuthenticated()) return;
    const id = `${idPrefix}-${kind === 'api' ? 'a' : 'f'}${++this.#count}`;
    const url = kind === 'api' ? '/api/restricted' : this.#foreignUrl;
    report({ type: 'request', id, kind, at: Date.now() });
    this.#pending++;
    this.#http.get(url, { headers: new HttpHeaders({ [REQUEST_ID]: id }), observe: 'response' }).subscribe({
      next: (response) => report({ type: 'answered', id, status: response.status, at: Date.now() }),
      error: (error: unknown) => {
        this.#pending--;
        report({
          type: 'errored',
          id,
          status: error instanceof HttpErrorResponse ? error.status : null,
          code: error instanceof JotError ? error.code : error instanceof HttpErrorResponse ? null : String(error),
          at: Date.now(),
        });
      },
      complete: () => this.#pending--,
    });
  }
}

/** mulberry32, so a tab's schedule follows from its seed (the fault mode's `seededRandom`, which is Node code). */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

@Component({ selector: 'soak-page', template: '<p data-testid="page">public</p>' })
class PublicPage {}

/** The protected route asks the API once when it opens. */
@Component({ selector: 'soak-protected', template: '<p data-testid="page">protected</p>' })
class ProtectedPage {
  constructor() {
    inject(Traffic).call('api');
  }
}

@Component({ selector: 'soak-login', template: '<p data-testid="page">login</p>' })
class LoginPage {}

const routes: Routes = [
  { path: '', component: PublicPage },
  { path: 'public', component: PublicPage },
  { path: 'login', component: LoginPage },
  { path: 'protected', component: ProtectedPage, canActivate: [jotGuard] },
  { path: '**', redirectTo: '' },
];

@Component({
  selector: 'soak-root',
  imports: [RouterOutlet, RouterLink],
  template: `<nav><a routerLink="/">home</a> <a routerLink="/protected">protected</a></nav>
    <router-outlet />`,
})
export class SoakApp {}

export const soakConfig: ApplicationConfig = {
  providers: [
    provideZonelessChangeDetection(),
    provideRouter(routes),
    provideHttpClient(withInterceptors([tagRequest, jotInterceptor, recordAttempt])),
    provideJot(
      { loginUrl: '/authenticate', logoutUrl: '/logout' },
      withRefresh({ url: '/refresh' }),
      withStorage('local'),
      withCrossTabSync(),
    ),
    provideAppInitializer(() => {
      window.soak = inject(Traffic);
    }),
  ],
};
