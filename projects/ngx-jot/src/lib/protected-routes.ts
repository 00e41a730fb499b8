/*
 * Which routes are protected: the guards register themselves here when they are made (at import,
 * not when they first run), so whether the page shown is protected can be told from the route
 * configuration alone, whether or not a guard has run yet in this app.
 */
import type { ActivatedRouteSnapshot, Router } from '@angular/router';

/** The protecting guards (`jotGuard`, each `jotClaimsGuard`). */
const PROTECTING = new WeakSet();

/** Registers a guard as protecting (guards.ts does, for each guard it makes). */
export function markProtecting(guard: object): void {
  PROTECTING.add(guard);
}

/** One of `guards` (a route's `canActivate`, `canMatch` or `canActivateChild`) is a protecting guard. */
export function isProtecting(guards: unknown): boolean {
  return Array.isArray(guards) && guards.some((guard: unknown) => PROTECTING.has(guard as object));
}

/** The route tree shown uses `jotGuard` or a `jotClaimsGuard`. */
export function showsProtectedRoute(router: Router): boolean {
  return protects(router.routerState.snapshot.root);
}

/** This route, or one below it, is behind a protecting guard. */
function protects(snapshot: ActivatedRouteSnapshot): boolean {
  const config = snapshot.routeConfig;
  return (
    (!!config &&
      (isProtecting(config.canActivate) ||
        isProtecting(config.canMatch) ||
        (snapshot.children.length > 0 && isProtecting(config.canActivateChild)))) ||
    snapshot.children.some(protects)
  );
}

/**
 * After the session ended: to `loginRoute`, with `returnUrl` when the page shown is protected.
 * `always` (logout({ redirect: true })) goes there from an unprotected page too.
 */
export function redirectToLogin(router: Router | null, loginRoute: string, { always }: { always: boolean }): void {
  if (!router) return;
  const guarded = showsProtectedRoute(router);
  if (!guarded && !always) return;
  const tree = router.parseUrl(loginRoute);
  if (guarded) tree.queryParams = { ...tree.queryParams, returnUrl: router.url };
  void router.navigateByUrl(tree, { replaceUrl: true });
}
