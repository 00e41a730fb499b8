import type { Route } from '@angular/router';

import { isProtecting } from './protected-routes';

/**
 * The paths of the routes behind `jotGuard` or a `jotClaimsGuard`, in the form server routes
 * (`@angular/ssr`) take: give them `RenderMode.Client`. The server holds no browser session, so
 * it can neither render a protected page nor tell where to send the visitor: a guard's `false`
 * there is a 404 (`RenderMode.Server`), and prerendering fails the build. Rendered in the
 * browser, the page is served with 200 and the guard decides where the session is.
 * `ng add ngx-jot` adds this line to `app.routes.server.ts`.
 *
 * Lazily loaded children behind a guard are covered by `'<path>/**'`; guards inside lazily
 * loaded children cannot be seen here: list those paths yourself.
 *
 * @usageNotes
 * ```ts
 * export const serverRoutes: ServerRoute[] = [
 *   ...jotProtectedPaths(routes).map((path): ServerRoute => ({ path, renderMode: RenderMode.Client })),
 *   { path: '**', renderMode: RenderMode.Prerender },
 * ];
 * ```
 */
export function jotProtectedPaths(routes: readonly Route[]): string[] {
  const paths = new Set<string>();
  collect(routes, '', false, paths);
  return [...paths];
}

function collect(routes: readonly Route[], parent: string, inherited: boolean, paths: Set<string>): void {
  for (const route of routes) {
    // A redirect renders nothing; a matcher or another outlet has no path to name.
    if (route.redirectTo !== undefined || route.matcher || (route.outlet && route.outlet !== 'primary')) continue;
    const path = [parent, route.path ?? ''].filter(Boolean).join('/');
    const guarded = inherited || isProtecting(route.canActivate) || isProtecting(route.canMatch);
    const childrenGuarded = guarded || isProtecting(route.canActivateChild);
    if (route.children) {
      collect(route.children, path, childrenGuarded, paths);
    } else if (route.loadChildren) {
      // `@angular/ssr` lets a '/**' server route match nothing yet, and it covers `path` itself.
      if (childrenGuarded) paths.add(path ? `${path}/**` : '**');
    } else if (guarded) {
      paths.add(path);
    }
  }
}
