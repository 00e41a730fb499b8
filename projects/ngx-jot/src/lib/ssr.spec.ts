import {
  HttpBackend,
  HttpClient,
  type HttpEvent,
  type HttpRequest,
  HttpResponse,
  provideHttpClient,
  withFetch,
  withInterceptors,
} from '@angular/common/http';
import { Component, inject, provideAppInitializer, provideZonelessChangeDetection } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { type BootstrapContext, bootstrapApplication } from '@angular/platform-browser';
import { provideServerRendering, renderApplication } from '@angular/platform-server';
import {
  type Event as RouterEvent,
  NavigationCancel,
  NavigationEnd,
  NavigationStart,
  Router,
  RouterOutlet,
  type Routes,
  provideRouter,
} from '@angular/router';
import { JotAuth, type JotConfig, jotGuard, jotGuestGuard, jotInterceptor, provideJot, withRefresh } from 'ngx-jot';
import { fakeJwt } from '../../testing-private/fake-jwt';
import { Observable } from 'rxjs';

// Jest's esbuild transform imports this CommonJS-in-ESM bundle with Node's interop (default = the
// whole module object), so platform-server's `domino.impl` would be undefined: hand it the default.
jest.mock(
  '../../../../node_modules/@angular/platform-server/third_party/domino/bundled-domino.mjs',
  () =>
    jest.requireActual('../../../../node_modules/@angular/platform-server/third_party/domino/bundled-domino.mjs')
      .default,
);

@Component({ selector: 'app-root', imports: [RouterOutlet], template: '<h1>shell</h1><router-outlet />' })
class App {}

@Component({ template: 'login page' })
class LoginPage {}

@Component({ template: 'protected page of {{ claims()?.sub }}, api says {{ me() }}' })
class ProtectedPage {
  readonly claims = inject(JotAuth).claims;
  readonly me = toSignal(inject(HttpClient).get('/api/me', { responseType: 'text' }));
}

const routes: Routes = [
  { path: 'login', canActivate: [jotGuestGuard], component: LoginPage },
  { path: 'admin', canActivate: [jotGuard], component: ProtectedPage },
];

/** Answers with the Authorization header it got, after `delay` ms, so concurrent renders interleave. */
class EchoBackend implements HttpBackend {
  constructor(
    private readonly delay: number,
    readonly seen: string[],
  ) {}

  handle(req: HttpRequest<unknown>): Observable<HttpEvent<unknown>> {
    const auth = req.headers.get('Authorization') ?? 'none';
    this.seen.push(auth);
    return new Observable((sub) => {
      const t = setTimeout(() => {
        sub.next(new HttpResponse({ status: 200, body: `[${auth}]` }));
        sub.complete();
      }, this.delay);
      return () => clearTimeout(t);
    });
  }
}

interface RenderOptions {
  config?: Partial<JotConfig>;
  token?: string;
  refreshToken?: string;
  delay?: number;
}

/** One server render of `url`, with a session adopted by an app initializer (as from a cookie). */
async function render(url: string, opts: RenderOptions = {}) {
  const seen: string[] = [];
  const events: RouterEvent[] = [];
  const bootstrap = (context: BootstrapContext) =>
    bootstrapApplication(
      App,
      {
        providers: [
          provideServerRendering(),
          provideZonelessChangeDetection(),
          provideRouter(routes),
          provideHttpClient(withFetch(), withInterceptors([jotInterceptor])),
          { provide: HttpBackend, useFactory: () => new EchoBackend(opts.delay ?? 5, seen) },
          provideJot({ loginUrl: '/authenticate', ...opts.config }, withRefresh({ url: '/refresh' })),
          provideAppInitializer(() => {
            inject(Router).events.subscribe((e) => events.push(e));
            if (opts.token) inject(JotAuth).setTokens({ accessToken: opts.token, refreshToken: opts.refreshToken });
          }),
        ],
      },
      context,
    );
  const html = await renderApplication(bootstrap, {
    document: '<html><head></head><body><app-root></app-root></body></html>',
    url,
  });
  const navigatedTo = events.filter((e): e is NavigationStart => e instanceof NavigationStart).map((e) => e.url);
  return { html, seen, events, navigatedTo };
}

describe('server rendering', () => {
  let quiet: jest.SpyInstance[];

  beforeEach(() => {
    const warn = console.warn.bind(console);
    quiet = [
      jest.spyOn(console, 'log').mockImplementation(() => undefined), // "Angular is running in development mode."
      // NG02801 (use fetch on the server) is about the real backend, which the EchoBackend replaces;
      // the advice to render protected routes in the browser has its own test.
      jest.spyOn(console, 'warn').mockImplementation((m: unknown, ...rest: unknown[]) => {
        if (!/NG02801|^ngx-jot: a route behind jotGuard/.test(String(m))) warn(m, ...rest);
      }),
    ];
  });

  afterEach(() => {
    for (const spy of quiet) spy.mockRestore();
  });

  describe("ssr: 'defer' (default)", () => {
    it.each([
      ['logged out', undefined],
      ['logged in', fakeJwt({ sub: 'ada' })],
    ])('renders a protected URL %s without redirecting and without protected content', async (_what, token) => {
      const { html, seen, events, navigatedTo } = await render('/admin', { token });
      expect(html).toContain('<h1>shell</h1>');
      expect(html).not.toContain('protected page');
      expect(html).not.toContain('login page');
      expect(navigatedTo).toEqual(['/admin']);
      expect(events.at(-1)).toBeInstanceOf(NavigationCancel);
      expect(seen).toEqual([]);
    });

    it('tells the developer to render protected routes in the browser (RenderMode.Client)', async () => {
      await render('/admin');
      const warnings = (console.warn as jest.Mock).mock.calls.map((args: unknown[]) => String(args[0]));
      expect(warnings).toContainEqual(
        expect.stringMatching(/^ngx-jot: a route behind jotGuard .*renderMode: RenderMode\.Client/),
      );
    });

    it('renders the (public) login page', async () => {
      const { html, navigatedTo } = await render('/login?returnUrl=%2Fadmin');
      expect(html).toContain('login page');
      expect(navigatedTo).toEqual(['/login?returnUrl=%2Fadmin']);
    });
  });

  describe("ssr: 'redirect'", () => {
    it('redirects a logged-out visitor to loginRoute with returnUrl, as the browser would', async () => {
      const { html, events } = await render('/admin?x=1', { config: { ssr: 'redirect' } });
      expect(html).toContain('login page');
      expect(html).not.toContain('protected page');
      const end = events.filter((e): e is NavigationEnd => e instanceof NavigationEnd).at(-1);
      expect(end?.urlAfterRedirects).toBe('/login?returnUrl=%2Fadmin%3Fx%3D1');
    });

    it('renders protected content for the session adopted during the render', async () => {
      const token = fakeJwt({ sub: 'ada' });
      const { html, seen } = await render('/admin', { config: { ssr: 'redirect' }, token });
      expect(html).toContain(`protected page of ada, api says [Bearer ${token}]`);
      expect(seen).toEqual([`Bearer ${token}`]);
    });
  });

  it('touches neither window nor web storage (the server store is memory)', async () => {
    const storage = Object.getPrototypeOf(window.sessionStorage) as Storage;
    const spies = [
      jest.spyOn(storage, 'getItem'),
      jest.spyOn(storage, 'setItem'),
      jest.spyOn(storage, 'removeItem'),
      jest.spyOn(window, 'addEventListener'),
      jest.spyOn(document, 'addEventListener'),
    ];
    try {
      await render('/admin', { token: fakeJwt({ sub: 'ada' }), refreshToken: 'r1' });
      await render('/admin', { config: { ssr: 'redirect' }, token: fakeJwt({ sub: 'ada' }), refreshToken: 'r1' });
      await render('/admin', { config: { ssr: 'redirect' } });
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
      expect(window.sessionStorage.length).toBe(0);
      expect(window.localStorage.length).toBe(0);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it('schedules no expiry or refresh timer that could hold the render (or the server) up', async () => {
    const timers = jest.spyOn(globalThis, 'setTimeout');
    try {
      const started = Date.now();
      const { html } = await render('/admin', {
        config: { ssr: 'redirect' },
        // Expires in 40 s: a browser would schedule a refresh about 10 s from now.
        token: fakeJwt({ sub: 'ada' }, { expiresInSeconds: 40 }),
        refreshToken: 'r1',
      });
      expect(html).toContain('protected page of ada');
      expect(Date.now() - started).toBeLessThan(2000);
      const long = timers.mock.calls.filter(([, ms]) => (ms ?? 0) >= 1000);
      expect(long).toEqual([]);
    } finally {
      timers.mockRestore();
    }
  });

  it('keeps concurrent renders for different sessions apart', async () => {
    const users = ['ada', 'bob', 'cy', 'dee'];
    const tokens = users.map((sub) => fakeJwt({ sub }));
    // Later renders answer sooner, so their work interleaves with the earlier ones'.
    const results = await Promise.all(
      users.map((_, i) => render('/admin', { config: { ssr: 'redirect' }, token: tokens[i], delay: 40 - i * 10 })),
    );
    results.forEach(({ html, seen }, i) => {
      expect(html).toContain(`protected page of ${users[i]}, api says [Bearer ${tokens[i]}]`);
      expect(seen).toEqual([`Bearer ${tokens[i]}`]);
      for (const other of tokens.filter((_, j) => j !== i)) expect(html).not.toContain(other);
    });
  });
});
