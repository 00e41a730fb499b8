/**
 * CORS headers. The configured origins get credentialed CORS on every route; `/api/echo` plays the
 * open "third-party API" and allows any origin (without credentials). No state.
 */
import type http from 'node:http';

/** The one path open to every origin. */
export const OPEN_CORS_PATH = '/api/echo';

const CORS_ALLOW_METHODS = 'GET, POST, OPTIONS';
const CORS_ALLOW_HEADERS = 'Authorization, Content-Type, X-XSRF-TOKEN, DPoP';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

/** Sets the CORS headers of the answer to `req` (a preflight when `preflight`); `pathname` has no query. */
export function applyCors(
  allowedOrigins: ReadonlySet<string>,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  pathname: string,
  preflight: boolean,
): void {
  if (pathname === OPEN_CORS_PATH) {
    // The "third-party API": open to everyone, and it would happily accept a leaked token.
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (preflight) {
      res.setHeader('Access-Control-Allow-Methods', 'GET, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', CORS_ALLOW_HEADERS);
      res.setHeader('Access-Control-Max-Age', PREFLIGHT_MAX_AGE_SECONDS);
    }
    return;
  }
  res.setHeader('Vary', 'Origin');
  const origin = req.headers.origin;
  if (origin === undefined || !allowedOrigins.has(origin)) return;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  res.setHeader('Access-Control-Expose-Headers', 'WWW-Authenticate, DPoP-Nonce');
  if (preflight) {
    res.setHeader('Access-Control-Allow-Methods', CORS_ALLOW_METHODS);
    res.setHeader('Access-Control-Allow-Headers', CORS_ALLOW_HEADERS);
    res.setHeader('Access-Control-Max-Age', PREFLIGHT_MAX_AGE_SECONDS);
  }
}
