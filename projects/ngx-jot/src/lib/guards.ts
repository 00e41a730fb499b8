import { isPlatformServer } from '@angular/common';
import { PLATFORM_ID, inject } from '@angular/core';
import {
  type ActivatedRouteSnapshot,
  type CanActivateChildFn,
  type CanActivateFn,
  type CanMatchFn,
  type GuardResult,
  type MaybeAsync,
  type PartialMatchRouteSnapshot,
  type Params,
  RedirectCommand,
  type Route,
  ROUTES,
  Router,
  type RouterStateSnapshot,
  type UrlSegment,
  type UrlSegmentGroup,
  UrlTree,
} from '@angular/router';
import type { JwtPayload } from 'jwt-decode';
import { type Observable, catchError, from, map, of, switchMap } from 'rxjs';

import { configError, warnOnce } from './errors';
import { JotAuth, type JotInternals } from './jot-auth';
import type { JotSession } from './token';
import { JOT_CONFIG } from './tokens';

/**
 * A guard that serves as `canActivate`, `canActivateChild` and `canMatch` alike.
 *
 * @inline
 */
type JotGuardFn = CanActivateFn & CanActivateChildFn & CanMatchFn;

/** Navigation state of a claims guard's redirect to `forbiddenRoute`. */
const FORBIDDEN_STATE = 'ɵjotForbidden';

/** Marks the protecting guards, so JotAuth can tell whether the page shown is protected. */
const PROTECTS = Symbol(typeof ngDevMode === 'undefined' || ngDevMode ? 'ngx-jot protecting guard' : '');

/** How a guard was called: the router passes `(snapshot, state)` to activation guards, `(route, segments)` to `canMatch`. */
type GuardArgs = [ActivatedRouteSnapshot | Route, RouterStateSnapshot | UrlSegment[], PartialMatchRouteSnapshot?];

/**
 * Lets an authenticated user through; anyone else is sent to `loginRoute` with
 * `?returnUrl=<the URL asked for>` before anything of the route renders (with `canMatch`, before
 * its lazy chunk loads). An expired token that can be refreshed waits for the refresh, then decides.
 *
 * @usageNotes
 * ```ts
 * { path: 'account', canActivate: [jotGuard], component: Account },
 * { path: 'admin', canMatch: [jotGuard], loadChildren: () => import('./admin/routes') },
 * ```
 */
export const jotGuard: JotGuardFn = protecting(null);

/**
 * `jotGuard` plus a check of the token's claims (roles, scopes). A logged-in user who fails it is
 * sent to `forbiddenRoute` (default `loginRoute`) without a `returnUrl`, so a guest guard there
 * cannot bounce them back.
 *
 * @usageNotes
 * ```ts
 * { path: 'admin', canMatch: [jotClaimsGuard<MyClaims>((c) => c.roles?.includes('admin') ?? false)], ... }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- public API: callers write jotClaimsGuard<MyClaims>(...) to type the predicate.
export function jotClaimsGuard<TClaims = JwtPayload>(predicate: (claims: TClaims) => boolean): JotGuardFn {
  if (typeof predicate !== 'function') {
    throw configError(
      ngDevMode
        ? `jotClaimsGuard() takes a predicate, e.g. jotClaimsGuard((claims) => claims.roles?.includes('admin')).`
        : '',
    );
  }
  return protecting(predicate as (claims: JwtPayload) => boolean);
}

/**
 * For the login page: an authenticated user is sent on to `safeReturnUrl(returnUrl)` (or `/`);
 * anyone else sees the page.
 *
 * @usageNotes
 * ```ts
 * { path: 'login', canActivate: [jotGuestGuard], component: Login },
 * ```
 */
export const jotGuestGuard: JotGuardFn = (...args: GuardArgs) => {
  const auth = inject(JotAuth);
  const jot = setUp(auth.ɵ);
  const router = inject(Router);
  if (isPlatformServer(inject(PLATFORM_ID)) && jot.config.ssr === 'defer') {
    // The server may render the (public) login page, but leaves any redirect to the browser.
    return jot.session() === null;
  }
  // Sent here as "forbidden" (forbiddenRoute is loginRoute): show the page, e.g. to switch user.
  // Sending them on could land on another route they may not see, and back here, forever.
  if (router.currentNavigation()?.extras.state?.[FORBIDDEN_STATE]) return true;
  return whenJudged(auth, (session) => {
    if (!session) return true;
    const [route, state, partial] = args;
    const queryParams = Array.isArray(state)
      ? (partial?.queryParams ?? router.currentNavigation()?.extractedUrl.queryParams ?? {})
      : (route as ActivatedRouteSnapshot).queryParams;
    const raw: unknown = queryParams['returnUrl'];
    let target = router.parseUrl(safeReturnUrl(typeof raw === 'string' ? raw : null));
    // A returnUrl that is the login page itself would only come back here.
    if (samePath(target, router.parseUrl(jot.config.loginRoute))) target = router.parseUrl('/');
    return new RedirectCommand(target, { replaceUrl: true });
  });
};

/**
 * Returns `url` when it is an app-internal path (`/x...`), else `/`: never another origin
 * (`//evil.com`, `/\evil.com`, `https://…`), a script URL, or anything with whitespace or
 * control characters, which browsers strip or reinterpret.
 */
export function safeReturnUrl(url: string | null | undefined): string {
  if (typeof url !== 'string' || url.charCodeAt(0) !== 47 /* / */) return '/';
  const second = url.charCodeAt(1);
  // "//host" and "/\host" are network-path references: the browser goes to another host.
  if (second === 47 || second === 92 /* \ */) return '/';
  // Browsers drop tabs and newlines inside URLs ("/\t/evil.com" is "//evil.com"): reject them all.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point of this check.
  if (/[\s\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\ufeff]/.test(url)) return '/';
  try {
    if (new URL(url, 'http://x').origin !== 'http://x') return '/';
  } catch {
    return '/';
  }
  return url;
}

/**
 * Dev-mode start-up check (an app initializer of `provideJot()`): a `loginRoute` that is itself
 * behind `jotGuard` or `jotClaimsGuard` would redirect to itself forever.
 */
export function checkLoginRoute(): void {
  const routes = inject(ROUTES, { optional: true })?.flat() ?? [];
  const { loginRoute } = inject(JOT_CONFIG);
  const segments = loginRoute.split(/[?#;]/, 1)[0].split('/').filter(Boolean);
  if (guardsPath(routes, segments, false) === true) {
    throw configError(
      ngDevMode
        ? `loginRoute '${loginRoute}' is protected by jotGuard or jotClaimsGuard, so a logged-out user sent there ` +
            `would be sent there again, forever. Remove that guard from the login route (and from its parents), ` +
            `use jotGuestGuard there instead, or set loginRoute to an unprotected path.`
        : '',
    );
  }
}

// ---- internals ----

function protecting(predicate: ((claims: JwtPayload) => boolean) | null): JotGuardFn {
  const guard: JotGuardFn = (...args: GuardArgs) => {
    const auth = inject(JotAuth);
    const jot = setUp(auth.ɵ);
    const router = inject(Router);
    const server = isPlatformServer(inject(PLATFORM_ID));
    // The server knows no browser session: it renders neither the page nor a redirect, and the
    // browser decides after hydration.
    if (server && jot.config.ssr === 'defer') return false;
    return whenJudged(auth, (session) => {
      if (!session) return new RedirectCommand(loginTree(router, jot, askedFor(router, args)), { replaceUrl: true });
      if (predicate && !passes(jot, predicate, session)) {
        // No returnUrl: a guest guard on that route would send the user straight back here. The
        // state tells a guest guard there (forbiddenRoute defaults to loginRoute) to let them in.
        return new RedirectCommand(router.parseUrl(jot.config.forbiddenRoute), {
          replaceUrl: true,
          state: { [FORBIDDEN_STATE]: true },
        });
      }
      return true;
    });
  };
  Object.defineProperty(guard, PROTECTS, { value: true });
  return guard;
}

/** Installs, once per JotAuth, the hook that tells whether the page shown is protected. */
function setUp(jot: JotInternals): JotInternals {
  jot.isGuarded ??= showsProtectedRoute;
  return jot;
}

/**
 * Decides from the local session, synchronously when it can: only a stale token that can be
 * refreshed waits, for the one refresh in flight; a refresh that fails means no session.
 */
function whenJudged(
  auth: JotAuth<unknown>,
  decide: (session: JotSession | null) => GuardResult,
): MaybeAsync<GuardResult> {
  const jot = auth.ɵ;
  // An async store is still being read (normally done by the app initializer already).
  if (jot.restoring) return from(jot.restoring).pipe(switchMap(() => toObservable(judge(auth, decide))));
  return judge(auth, decide);
}

function judge(auth: JotAuth<unknown>, decide: (session: JotSession | null) => GuardResult): MaybeAsync<GuardResult> {
  const jot = auth.ɵ;
  const session = jot.session();
  if (!session || Date.now() < session.staleAt) return decide(session);
  // A stale token that cannot be refreshed is no session; JotAuth's timer ends it.
  if (!jot.canRefresh(session)) return decide(null);
  return auth.refresh().pipe(
    map(() => {
      const fresh = jot.session();
      return decide(fresh && Date.now() < fresh.staleAt ? fresh : null);
    }),
    // Rejected (the session has ended) or unreachable (kept, but still stale): not logged in now.
    catchError(() => of(decide(null))),
  );
}

function toObservable(result: MaybeAsync<GuardResult>): Observable<GuardResult> {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a guard written in JavaScript may return null; `in` would throw on it.
  return typeof result === 'object' && result !== null && ('subscribe' in result || 'then' in result)
    ? from(result)
    : of(result);
}

function passes(jot: JotInternals, predicate: (claims: JwtPayload) => boolean, session: JotSession): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare -- only a real `true` lets through; a truthy non-boolean from an untyped predicate denies.
    return predicate(session.claims) === true;
  } catch (e) {
    // A predicate that throws (a claim of an unexpected shape) denies rather than lets through.
    if (typeof ngDevMode === 'undefined' || ngDevMode)
      warnOnce(jot.warned, `a jotClaimsGuard predicate threw (${String(e)}); access was denied.`);
    return false;
  }
}

/** The URL the user asked for, with its query and fragment. */
function askedFor(router: Router, [, state]: GuardArgs): string {
  if (!Array.isArray(state)) return state.url;
  // canMatch runs before the final URL is known: the navigation holds what was asked for.
  const nav = router.currentNavigation();
  const tree = nav?.extractedUrl ?? nav?.initialUrl;
  return tree ? router.serializeUrl(tree) : `/${state.map((s) => s.path).join('/')}`;
}

function loginTree(router: Router, jot: JotInternals, returnUrl: string): UrlTree {
  const login = router.parseUrl(jot.config.loginRoute);
  const queryParams: Params = { ...login.queryParams, returnUrl };
  return new UrlTree(login.root, queryParams, login.fragment);
}

function samePath(a: UrlTree, b: UrlTree): boolean {
  const path = (t: UrlTree) => {
    // Typed as always there, but '/' has no primary child.
    const primary = t.root.children['primary'] as UrlSegmentGroup | undefined;
    return primary?.segments.map((s) => s.path).join('/') ?? '';
  };
  return path(a) === path(b);
}

const isProtecting = (guards: unknown): boolean =>
  Array.isArray(guards) &&
  guards.some((g) => typeof g === 'function' && (g as unknown as Record<symbol, unknown>)[PROTECTS] === true);

/** Does the route tree shown use `jotGuard` or a `jotClaimsGuard`? (The `isGuarded` hook of JotAuth.) */
function showsProtectedRoute(router: Router): boolean {
  const visit = (snapshot: ActivatedRouteSnapshot): boolean => {
    const config = snapshot.routeConfig;
    if (
      config &&
      (isProtecting(config.canActivate) ||
        isProtecting(config.canMatch) ||
        (snapshot.children.length > 0 && isProtecting(config.canActivateChild)))
    ) {
      return true;
    }
    return snapshot.children.some(visit);
  };
  return visit(router.routerState.snapshot.root);
}

/**
 * Whether the first route that matches `segments` is protected (by its own guards or its parents'),
 * `null` when none matches. Lazy children (not loaded at start-up) count as unknown.
 */
function guardsPath(routes: readonly Route[], segments: readonly string[], inherited: boolean): boolean | null {
  for (const route of routes) {
    if (route.redirectTo !== undefined || route.matcher || (route.outlet && route.outlet !== 'primary')) continue;
    const parts = (route.path ?? '').split('/').filter(Boolean);
    const guarded = inherited || isProtecting(route.canActivate) || isProtecting(route.canMatch);
    if (parts[0] === '**') return guarded;
    if (parts.length > segments.length || !parts.every((p, i) => p.startsWith(':') || p === segments[i])) continue;
    const rest = segments.slice(parts.length);
    if (route.children) {
      const found = guardsPath(route.children, rest, guarded || isProtecting(route.canActivateChild));
      if (found !== null) return found;
    } else if (route.loadChildren) {
      if (guarded || (rest.length > 0 && isProtecting(route.canActivateChild))) return true;
    } else if (rest.length === 0) {
      return guarded;
    }
  }
  return null;
}
