/**
 * The one place that says how ngx-jot sends a refresh token: the refresh call (refresher.ts), the
 * `logoutUrl` call (jot-auth.ts) and `ngx-jot/testing` all build their body here.
 * `withRefresh({ body })` maps the token itself; the default is `{ refresh_token }`, and `{}`
 * when no token is held (a cookie-held one), never `{ refresh_token: null }`.
 */
export function refreshRequestBody(
  refreshToken: string | null,
  custom?: (refreshToken: string | null) => unknown,
): unknown {
  if (custom) return custom(refreshToken);
  return refreshToken ? { refresh_token: refreshToken } : {};
}
