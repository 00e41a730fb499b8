import { Location } from '@angular/common';
import { showsProtectedRoute } from './protected-routes';
import { SessionState } from './session-state';
import { SpyLocation, provideLocationMocks } from '@angular/common/testing';
import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { ApplicationRef, Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import {
  type ActivatedRouteSnapshot,
  RedirectCommand,
  Router,
  type RouterStateSnapshot,
  type Routes,
  provideRouter,
} from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import {
  type JotConfig,
  type JotFeature,
  JotAuth,
  jotClaimsGuard,
  jotGuard,
  jotGuestGuard,
  jotInterceptor,
  provideJot,
  safeReturnUrl,
  withRefresh,
  withStorage,
} from 'ngx-jot';
import { fakeJwt } from '../../testing-private/fake-jwt';

@Component({ template: 'login page' })
class LoginPage {}

@Component({ template: 'forbidden page' })
class ForbiddenPage {}

@Component({ template: 'home page' })
class HomePage {}

let created = 0;
@Component({ template: 'protected page' })
class ProtectedPage {
  constructor() {
    created++;
  }
}

/** Fails a regression that loops between two routes instead of hanging Jest (see FINDINGS.md). */
let visits = 0;
const loopBreaker = () => ++visits < 20;

const isAdmin = (c: { roles?: string[] }) => c.roles?.includes('admin') ?? false;

function routes(lazy: { component: jest.Mock; children: jest.Mock }): Routes {
  return [
    { path: 'login', canActivate: [loopBreaker, jotGuestGuard], component: LoginPage },
    { path: 'forbidden', canActivate: [loopBreaker], component: ForbiddenPage },
    { path: 'admin', canActivate: [loopBreaker, jotGuard], component: ProtectedPage },
    { path: 'lazy', canMatch: [jotGuard], loadComponent: lazy.component },
    { path: 'lazy-area', canMatch: [jotGuard], loadChildren: lazy.children },
    { path: 'area', canActivateChild: [jotGuard], children: [{ path: 'page', component: ProtectedPage }] },
    { path: 'claims', canActivate: [loopBreaker, jotClaimsGuard(isAdmin)], component: ProtectedPage },
    { path: 'claims-match', canMatch: [jotClaimsGuard(isAdmin)], component: ProtectedPage },
    {
      path: 'throws',
      canActivate: [
        jotClaimsGuard(() => {
          throw new Error('boom');
        }),
      ],
      component: ProtectedPage,
    },
    { path: '', component: HomePage },
  ];
}

const returnUrlOf = (router: Router) => router.parseUrl(router.url).queryParams['returnUrl'];
const pathOf = (router: Router) => router.url.split('?')[0];
const text = (h: RouterTestingHarness) => h.routeNativeElement?.textContent ?? '';
const macrotask = () => new Promise((resolve) => setTimeout(resolve));
/** Navigations started outside the harness (logout, end of session) settle as pending tasks. */
const settle = () => TestBed.inject(ApplicationRef).whenStable();

describe('guards', () => {
  let lazy: { component: jest.Mock; children: jest.Mock };

  function setUp(
    options: {
      config?: Partial<JotConfig>;
      features?: JotFeature[];
      token?: string | null;
      refreshToken?: string;
      extra?: unknown[];
    } = {},
  ) {
    lazy = {
      component: jest.fn(async () => ProtectedPage),
      children: jest.fn(async () => [{ path: '', component: ProtectedPage }]),
    };
    TestBed.configureTestingModule({
      providers: [
        provideRouter(routes(lazy)),
        provideHttpClient(withInterceptors([jotInterceptor])),
        provideHttpClientTesting(),
        provideJot(
          { loginUrl: '/authenticate', ...options.config },
          withStorage('memory'),
          ...(options.features ?? []),
        ),
        ...((options.extra ?? []) as never[]),
      ],
    });
    if (options.token)
      TestBed.inject(JotAuth).setTokens({ accessToken: options.token, refreshToken: options.refreshToken });
    return {
      auth: TestBed.inject(JotAuth),
      router: TestBed.inject(Router),
      http: TestBed.inject(HttpTestingController),
    };
  }

  beforeEach(() => {
    created = 0;
    visits = 0;
  });

  afterEach(() => {
    TestBed.inject(HttpTestingController).verify();
  });

  describe('jotGuard', () => {
    it('sends an anonymous deep link to loginRoute with the full returnUrl and renders the login page', async () => {
      const { router } = setUp();
      const harness = await RouterTestingHarness.create('/admin?tab=2&q=a%20b#top');
      expect(pathOf(router)).toBe('/login');
      expect(returnUrlOf(router)).toBe('/admin?tab=2&q=a%20b#top');
      expect(text(harness)).toBe('login page');
      expect(created).toBe(0);
    });

    it('as canMatch, redirects before a lazy loadComponent or loadChildren is called', async () => {
      const { router } = setUp();
      const harness = await RouterTestingHarness.create('/');
      await harness.navigateByUrl('/lazy?x=1');
      expect(router.url).toBe('/login?returnUrl=%2Flazy%3Fx%3D1');
      await harness.navigateByUrl('/lazy-area');
      expect(returnUrlOf(router)).toBe('/lazy-area');
      expect(lazy.component).not.toHaveBeenCalled();
      expect(lazy.children).not.toHaveBeenCalled();
      expect(text(harness)).toBe('login page');
    });

    it('as canActivateChild, protects the children', async () => {
      const { router } = setUp();
      await RouterTestingHarness.create('/area/page');
      expect(pathOf(router)).toBe('/login');
      expect(returnUrlOf(router)).toBe('/area/page');
      expect(created).toBe(0);
    });

    it('lets a logged-in user through, decided synchronously from the local token without HTTP', async () => {
      const { auth, http } = setUp({ token: fakeJwt({ sub: 'ada' }) });
      const result = TestBed.runInInjectionContext(() =>
        jotGuard({} as ActivatedRouteSnapshot, { url: '/admin' } as RouterStateSnapshot),
      );
      expect(result).toBe(true);
      const harness = await RouterTestingHarness.create('/admin');
      expect(text(harness)).toBe('protected page');
      const router = TestBed.inject(Router);
      expect(showsProtectedRoute(router)).toBe(true);
      for (const url of ['/lazy', '/lazy-area', '/area/page']) {
        await harness.navigateByUrl(url);
        expect(text(harness)).toBe('protected page');
        expect(showsProtectedRoute(router)).toBe(true);
      }
      expect(lazy.component).toHaveBeenCalledTimes(1);
      expect(lazy.children).toHaveBeenCalledTimes(1);
      expect(auth.isAuthenticated()).toBe(true);
      http.verify();
    });

    it('redirects with replaceUrl, so the protected URL leaves no history entry', async () => {
      setUp({ extra: [provideLocationMocks()] });
      const result = TestBed.runInInjectionContext(() =>
        jotGuard({} as ActivatedRouteSnapshot, { url: '/admin?x=1' } as RouterStateSnapshot),
      );
      expect(result).toBeInstanceOf(RedirectCommand);
      expect((result as RedirectCommand).navigationBehaviorOptions).toEqual({ replaceUrl: true });
      expect(TestBed.inject(Router).serializeUrl((result as RedirectCommand).redirectTo)).toBe(
        '/login?returnUrl=%2Fadmin%3Fx%3D1',
      );

      const harness = await RouterTestingHarness.create('/');
      const location = TestBed.inject(Location) as SpyLocation;
      const before = location.urlChanges.length;
      await harness.navigateByUrl('/admin');
      expect(location.path()).toBe('/login?returnUrl=%2Fadmin');
      expect(location.urlChanges.slice(before)).toEqual(['replace: /login?returnUrl=%2Fadmin']);
    });

    it('waits for the single-flight refresh of an expired token, rendering nothing meanwhile, then lets through', async () => {
      const { http, router } = setUp({
        features: [withRefresh({ url: '/refresh' })],
        token: fakeJwt({ sub: 'ada' }, { expiresInSeconds: -60 }),
        refreshToken: 'r1',
      });
      const harness = await RouterTestingHarness.create('/');
      const navigation = harness.navigateByUrl('/admin');
      await macrotask();
      // One request, whoever started it (the guard or JotAuth's proactive timer).
      const refresh = http.expectOne('/refresh');
      expect(refresh.request.body).toEqual({ refresh_token: 'r1' });
      expect(created).toBe(0);
      expect(text(harness)).toBe('home page');
      refresh.flush({ access_token: fakeJwt({ sub: 'ada' }), refresh_token: 'r2' });
      await navigation;
      expect(router.url).toBe('/admin');
      expect(text(harness)).toBe('protected page');
    });

    it('is quiet when the app is torn down while it waits for that refresh', async () => {
      const { http } = setUp({
        features: [withRefresh({ url: '/refresh' })],
        token: fakeJwt({ sub: 'ada' }, { expiresInSeconds: -60 }),
        refreshToken: 'r1',
      });
      const uncaught: unknown[] = [];
      const onUncaught = (error: unknown) => uncaught.push(error);
      process.on('unhandledRejection', onUncaught);
      try {
        const harness = await RouterTestingHarness.create('/');
        const outcome = harness.navigateByUrl('/admin').then(
          () => 'settled',
          (error: unknown) => error,
        );
        await macrotask();
        http.expectOne('/refresh');
        TestBed.resetTestingModule(); // destroys the app while the guard waits
        // A module for this file's afterEach (it verifies an HttpTestingController).
        TestBed.configureTestingModule({ providers: [provideHttpClientTesting()] });
        await macrotask();
        const result = await Promise.race([outcome, macrotask().then(() => 'pending')]);
        // Either the navigation is dropped quietly or it settles; it never fails with NG0205.
        expect(String(result)).not.toMatch(/NG0205|Error/);
        expect(uncaught).toEqual([]);
        expect(created).toBe(0);
      } finally {
        process.off('unhandledRejection', onUncaught);
      }
    });

    it('sends the user to loginRoute when that refresh is rejected', async () => {
      const { http, router, auth } = setUp({
        features: [withRefresh({ url: '/refresh' })],
        token: fakeJwt({ sub: 'ada' }, { expiresInSeconds: -60 }),
        refreshToken: 'r1',
      });
      const harness = await RouterTestingHarness.create('/');
      const navigation = harness.navigateByUrl('/admin?x=1');
      await macrotask();
      expect(created).toBe(0);
      http.expectOne('/refresh').flush({}, { status: 401, statusText: 'Unauthorized' });
      await navigation;
      await settle();
      expect(pathOf(router)).toBe('/login');
      expect(returnUrlOf(router)).toBe('/admin?x=1');
      expect(text(harness)).toBe('login page');
      expect(auth.isAuthenticated()).toBe(false);
      expect(created).toBe(0);
    });
  });

  describe('jotClaimsGuard', () => {
    it('sends a logged-in user who fails the check to forbiddenRoute without a returnUrl', async () => {
      const { router } = setUp({
        config: { forbiddenRoute: '/forbidden' },
        token: fakeJwt({ sub: 'bob', roles: ['user'] }),
      });
      const harness = await RouterTestingHarness.create('/claims?x=1');
      expect(router.url).toBe('/forbidden');
      expect(text(harness)).toBe('forbidden page');
      await harness.navigateByUrl('/claims-match');
      expect(router.url).toBe('/forbidden');
      expect(created).toBe(0);
    });

    it('with forbiddenRoute defaulting to a loginRoute behind jotGuestGuard, shows the login page instead of bouncing', async () => {
      const { router } = setUp({ token: fakeJwt({ sub: 'bob', roles: ['user'] }) });
      const harness = await RouterTestingHarness.create('/');
      await harness.navigateByUrl('/claims');
      await settle();
      expect(router.url).toBe('/login');
      expect(text(harness)).toBe('login page');
      expect(visits).toBeLessThan(5);
    });

    it('never loops when the home route itself fails the claims check (forbiddenRoute = loginRoute)', async () => {
      TestBed.configureTestingModule({
        providers: [
          provideRouter([
            { path: 'login', canActivate: [loopBreaker, jotGuestGuard], component: LoginPage },
            { path: '', canActivate: [loopBreaker, jotClaimsGuard(isAdmin)], component: HomePage },
          ]),
          provideHttpClient(),
          provideHttpClientTesting(),
          provideJot({ loginUrl: '/authenticate' }, withStorage('memory')),
        ],
      });
      TestBed.inject(JotAuth).setTokens({ accessToken: fakeJwt({ sub: 'bob', roles: ['user'] }) });
      const harness = await RouterTestingHarness.create('/');
      await settle();
      expect(TestBed.inject(Router).url).toBe('/login');
      expect(text(harness)).toBe('login page');
      expect(visits).toBeLessThan(5);
    });

    it('lets a user who passes the check through, and sends an anonymous one to loginRoute with returnUrl', async () => {
      const { router, auth } = setUp({ config: { forbiddenRoute: '/forbidden' } });
      const harness = await RouterTestingHarness.create('/claims?x=1');
      expect(pathOf(router)).toBe('/login');
      expect(returnUrlOf(router)).toBe('/claims?x=1');
      auth.setTokens({ accessToken: fakeJwt({ sub: 'ada', roles: ['admin'] }) });
      await harness.navigateByUrl('/claims');
      expect(text(harness)).toBe('protected page');
    });

    it('denies when the predicate throws', async () => {
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
      const { router } = setUp({ config: { forbiddenRoute: '/forbidden' }, token: fakeJwt({ sub: 'ada' }) });
      await RouterTestingHarness.create('/throws');
      expect(router.url).toBe('/forbidden');
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('jotClaimsGuard predicate threw'));
      warn.mockRestore();
    });
  });

  describe('jotGuestGuard', () => {
    it('sends an authenticated user on to the returnUrl', async () => {
      const { router } = setUp({ token: fakeJwt({ sub: 'ada' }) });
      const harness = await RouterTestingHarness.create('/login?returnUrl=%2Fadmin%3Fx%3D1%23y');
      expect(router.url).toBe('/admin?x=1#y');
      expect(text(harness)).toBe('protected page');
    });

    it.each([
      ['an outside returnUrl', '/login?returnUrl=https:%2F%2Fevil.com'],
      ['a protocol-relative returnUrl', '/login?returnUrl=%2F%2Fevil.com'],
      ['no returnUrl', '/login'],
      ['a returnUrl to the login page itself', '/login?returnUrl=%2Flogin'],
    ])('sends an authenticated user with %s to /', async (_what, url) => {
      const { router } = setUp({ token: fakeJwt({ sub: 'ada' }) });
      const harness = await RouterTestingHarness.create(url);
      expect(router.url).toBe('/');
      expect(text(harness)).toBe('home page');
    });

    it('never redirects a logged-out visit to the login page', async () => {
      const { router } = setUp();
      const harness = await RouterTestingHarness.create('/login?returnUrl=%2Fadmin');
      expect(router.url).toBe('/login?returnUrl=%2Fadmin');
      expect(text(harness)).toBe('login page');
      expect(visits).toBe(1);
    });
  });

  describe('when the session ends on a protected page', () => {
    async function onAdmin(features: JotFeature[] = []) {
      const ctx = setUp({ features, token: fakeJwt({ sub: 'ada' }), refreshToken: 'r1' });
      const harness = await RouterTestingHarness.create('/admin?x=1');
      expect(text(harness)).toBe('protected page');
      return { ...ctx, harness };
    }

    it('logout({ redirect: true }) ends on loginRoute with returnUrl', async () => {
      const { auth, router, harness } = await onAdmin();
      expect(showsProtectedRoute(router)).toBe(true);
      auth.logout({ redirect: true });
      await settle();
      expect(pathOf(router)).toBe('/login');
      expect(returnUrlOf(router)).toBe('/admin?x=1');
      harness.detectChanges();
      expect(text(harness)).toBe('login page');
    });

    it('a rejected refresh ends on loginRoute with returnUrl', async () => {
      const { auth, router, http } = await onAdmin([withRefresh({ url: '/refresh' })]);
      auth.refresh().subscribe({ error: () => undefined });
      http.expectOne('/refresh').flush({}, { status: 401, statusText: 'Unauthorized' });
      await settle();
      expect(pathOf(router)).toBe('/login');
      expect(returnUrlOf(router)).toBe('/admin?x=1');
    });

    it('another tab logging out ends on loginRoute with returnUrl', async () => {
      const { router } = await onAdmin();
      TestBed.inject(SessionState).end('other-tab', { broadcast: false });
      await settle();
      expect(pathOf(router)).toBe('/login');
      expect(returnUrlOf(router)).toBe('/admin?x=1');
    });

    it('another tab logging out leaves a protected page whether or not a guard ran in this app', async () => {
      const { router } = setUp({ token: fakeJwt({ sub: 'ada' }) });
      await RouterTestingHarness.create('/');
      // The page shown becomes protected without any guard running here (its route gains jotGuard
      // after the navigation): the redirect is told from the routes, not installed by a guard.
      const home = router.config.find((route) => route.path === '')!;
      home.canActivate = [jotGuard];
      TestBed.inject(SessionState).end('other-tab', { broadcast: false });
      await settle();
      expect(pathOf(router)).toBe('/login');
      expect(returnUrlOf(router)).toBe('/');
    });

    it('does not move a user off a public page', async () => {
      const { router } = setUp({ token: fakeJwt({ sub: 'ada' }) });
      const harness = await RouterTestingHarness.create('/admin');
      await harness.navigateByUrl('/');
      expect(showsProtectedRoute(router)).toBe(false);
      TestBed.inject(SessionState).end('other-tab', { broadcast: false });
      await settle();
      expect(router.url).toBe('/');
    });
  });
});

describe('checkLoginRoute (dev mode)', () => {
  const configure = (routes: Routes) =>
    TestBed.configureTestingModule({
      providers: [
        provideRouter(routes),
        provideHttpClient(),
        provideHttpClientTesting(),
        provideJot({ loginUrl: '/authenticate' }),
      ],
    });

  it.each<[string, Routes]>([
    ['jotGuard', [{ path: 'login', canActivate: [jotGuard], component: LoginPage }]],
    ['a claims guard as canMatch', [{ path: 'login', canMatch: [jotClaimsGuard(() => true)], component: LoginPage }]],
    [
      'a parent canActivateChild',
      [{ path: '', canActivateChild: [jotGuard], children: [{ path: 'login', component: LoginPage }] }],
    ],
  ])('refuses to start when loginRoute is protected by %s', (_what, routes) => {
    configure(routes);
    expect(() => TestBed.inject(Router)).toThrow(/ngx-jot: loginRoute '\/login' is protected by jotGuard/);
  });

  it('accepts a login route behind jotGuestGuard beside protected routes', () => {
    configure([
      { path: 'login', canActivate: [jotGuestGuard], component: LoginPage },
      { path: '', canActivateChild: [jotGuard], children: [{ path: 'admin', component: ProtectedPage }] },
      { path: '**', canActivate: [jotGuard], component: ProtectedPage },
    ]);
    expect(() => TestBed.inject(Router)).not.toThrow();
  });
});

describe('safeReturnUrl', () => {
  it.each([
    '//evil.com',
    '/\\evil.com',
    '\\\\evil.com',
    'https://evil.com',
    'javascript:alert(1)',
    ' /x',
    '\t//evil.com',
    '/\t/evil.com',
    '/\n/evil.com',
    '/x\u0000',
    'evil.com',
    '',
    null,
    undefined,
  ])('turns %j into /', (url) => {
    expect(safeReturnUrl(url as string | null)).toBe('/');
  });

  it.each(['/', '/admin?x=1#y', '/a/b;m=1?returnUrl=%2F%2Fevil.com', '/%2F%2Fevil.com'])(
    'keeps the app path %j',
    (url) => {
      expect(safeReturnUrl(url)).toBe(url);
    },
  );
});
