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
  RedirectCommand,
  type Route,
  ROUTES,
  Router,
  type RouterStateSnapshot,
  type UrlSegment,
  type UrlSegmentGroup,
  type UrlTree,
} from '@angular/router';
import type { JwtPayload } from 'jwt-decode';
import { type Observable, catchError, defaultIfEmpty, map } from 'rxjs';

import { JOT_CONFIG } from './config';
import { configError, warnOnce } from './errors';
import type { JotSession } from './jwt-session';
import { isProtecting, markProtecting } from './protected-routes';
import { SessionState } from './session-state';

/**
 * A guard that serves as `canActivate`, `canActivateChild` and `canMatch` alike.
 *
 * @inline
 */
type JotGuardFn = CanActivateFn & CanActivateChildFn & CanMatchFn;

/** Navigation state of a claims guard's redirect to `forbiddenRoute`. */
const FORBIDDEN_STATE = 'ɵjotForbidden';

/**
 * "/" not followed by "/" or "\" ("//host" and "/\host" are network-path references: the browser
 * goes to another host), then none of the whitespace or control characters: browsers drop tabs
 * and newlines inside URLs ("/\t/evil.com" is "//evil.com"), so all of them are refused.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point of this check.
const SAFE_PATH = /^\/(?![/\\])[^\s\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\ufeff]*$/;

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
  return protecting(claimsCheck(predicate as (claims: JwtPayload) => boolean));
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
  const state = inject(SessionState);
  const router = inject(Router);
  if (isPlatformServer(inject(PLATFORM_ID)) && state.config.ssr === 'defer') {
    // The server may render the (public) login page, but leaves any redirect to the browser.
    return state.session() === null;
  }
  // Sent here as "forbidden" (forbiddenRoute is loginRoute): show the page, e.g. to switch user.
  // Sending them on could land on another route they may not see, and back here, forever.
  if (router.currentNavigation()?.extras.state?.[FORBIDDEN_STATE]) return true;
  return whenJudged(state, (session) => {
    if (!session) return true;
    const [route, routerState, partial] = args;
    const queryParams = Array.isArray(routerState)
      ? (partial?.queryParams ?? router.currentNavigation()?.extractedUrl.queryParams ?? {})
      : (route as ActivatedRouteSnapshot).queryParams;
    // Anything but a string (an array, for a repeated parameter) is '/'.
    let target = router.parseUrl(safeReturnUrl(queryParams['returnUrl'] as string | undefined));
    // A returnUrl that is the login page itself would only come back here.
    if (samePath(target, router.parseUrl(state.config.loginRoute))) target = router.parseUrl('/');
    return new RedirectCommand(target, { replaceUrl: true });
  });
};

/**
 * Returns `url` when it is an app-internal path (`/x...`), else `/`: never another origin
 * (`//evil.com`, `/\evil.com`, `https://…`), a script URL, or anything with whitespace or
 * control characters, which browsers strip or reinterpret.
 */
export function safeReturnUrl(url: string | null | undefined): string {
  if (typeof url !== 'string' || !SAFE_PATH.test(url)) return '/';
  // Last, the parser's word: the URL must stay on the origin it is resolved against.
  try {
    return new URL(url, 'http://x').origin === 'http://x' ? url : '/';
  } catch {
    return '/';
  }
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

/**
 * What a logged-in user meets beyond "logged in": `jotGuard` has none (true); `jotClaimsGuard`
 * checks the claims. Passed in, so an app with `jotGuard` alone does not ship the claims check.
 */
type SessionCheck = (session: JotSession, state: SessionState, router: Router) => GuardResult;

function protecting(check: SessionCheck | null): JotGuardFn {
  const guard: JotGuardFn = (...args: GuardArgs) => {
    const state = inject(SessionState);
    const router = inject(Router);
    // The server knows no browser session: it renders neither the page nor a redirect. For
    // @angular/ssr that `false` is a failed navigation (404, or a failed prerender): the route
    // belongs in the browser, which `ng add` sets up with jotProtectedPaths().
    if (isPlatformServer(inject(PLATFORM_ID)) && state.config.ssr === 'defer') {
      if (ngDevMode) {
        warnOnce(
          state.config,
          `a route behind jotGuard or jotClaimsGuard was rendered on the server, which cannot see the browser's ` +
            `session, so the server's navigation fails (@angular/ssr answers 404; prerendering fails the build). ` +
            `Render it in the browser: first in app.routes.server.ts, add ` +
            `...jotProtectedPaths(routes).map((path): ServerRoute => ({ path, renderMode: RenderMode.Client })).`,
        );
      }
      return false;
    }
    return whenJudged(state, (session) =>
      session ? (check?.(session, state, router) ?? true) : toLogin(router, state.config.loginRoute, args[1]),
    );
  };
  markProtecting(guard);
  return guard;
}

/** The redirect of a user without a session: `loginRoute`, with the URL asked for as `returnUrl`. */
function toLogin(router: Router, loginRoute: string, routerState: RouterStateSnapshot | UrlSegment[]): RedirectCommand {
  let returnUrl: string;
  if (Array.isArray(routerState)) {
    // canMatch runs before the final URL is known: the navigation holds what was asked for.
    const nav = router.currentNavigation();
    const tree = nav?.extractedUrl ?? nav?.initialUrl;
    returnUrl = tree ? router.serializeUrl(tree) : `/${routerState.map((segment) => segment.path).join('/')}`;
  } else {
    returnUrl = routerState.url;
  }
  // The URL asked for, with its query and fragment, joins the query of loginRoute.
  // (parseUrl makes a new tree each time, so changing it is safe.)
  const login = router.parseUrl(loginRoute);
  login.queryParams = { ...login.queryParams, returnUrl };
  return new RedirectCommand(login, { replaceUrl: true });
}

/** `jotClaimsGuard`'s check: the predicate, or `forbiddenRoute` (no returnUrl) when it fails or throws. */
function claimsCheck(predicate: (claims: JwtPayload) => boolean): SessionCheck {
  return (session, state, router) => {
    let passes = false;
    try {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare -- only a real `true` lets through; a truthy non-boolean from an untyped predicate denies.
      passes = predicate(session.claims) === true;
    } catch (error) {
      // A predicate that throws (a claim of an unexpected shape) denies rather than lets through.
      if (ngDevMode) warnOnce(state.config, `a jotClaimsGuard predicate threw (${String(error)}); access was denied.`);
    }
    // No returnUrl: a guest guard on that route would send the user straight back here. The
    // state tells a guest guard there (forbiddenRoute defaults to loginRoute) to let them in.
    return (
      passes ||
      new RedirectCommand(router.parseUrl(state.config.forbiddenRoute), {
        replaceUrl: true,
        state: { [FORBIDDEN_STATE]: true },
      })
    );
  };
}

/**
 * Decides from the local session, synchronously when it can: only a stale token that can be
 * refreshed waits, for the one refresh in flight; a refresh that fails means no session.
 * `decide` always answers synchronously.
 */
function whenJudged(state: SessionState, decide: (session: JotSession | null) => GuardResult): MaybeAsync<GuardResult> {
  /** The session while its token is fresh, else null. */
  const fresh = (session: JotSession | null) => (session && Date.now() < session.staleAt ? session : null);
  const judge = (): GuardResult | Observable<GuardResult> => {
    const session = state.session();
    if (!session || fresh(session)) return decide(session);
    // A stale token that cannot be refreshed is no session; the expiry timer ends it.
    const refresher = state.refresher;
    if (!refresher || !state.canRefresh(session)) return decide(null);
    // Asked for by ngx-jot, not by the app: it keeps the floor between refreshes ('needed').
    return refresher.refresh().pipe(
      map(() => decide(fresh(state.session()))),
      // Rejected (the session has ended) or unreachable (kept, but still stale): not logged in now.
      // (An array is an ObservableInput of its items.)
      catchError(() => [decide(null)]),
      // Ended without a token: the app is being torn down (its refresh was dropped quietly). A plain
      // "no" cancels the navigation without a redirect, which would need the destroyed injectors (NG0205).
      defaultIfEmpty(false),
    );
  };
  // An async store is still being read (normally done by the app initializer already).
  return state.restore.after(judge);
}

function samePath(a: UrlTree, b: UrlTree): boolean {
  const path = (t: UrlTree) => {
    // Typed as always there, but '/' has no primary child.
    const primary = t.root.children['primary'] as UrlSegmentGroup | undefined;
    return primary?.segments.map((segment) => segment.path).join('/') ?? '';
  };
  return path(a) === path(b);
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
