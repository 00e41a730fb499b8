/**
 * What went wrong, as a stable string a caller can switch on (production messages are empty).
 *
 * - `'invalid-token-response'`: the login response held no usable token.
 * - `'no-refresh-token'`: a refresh was asked for without a refresh token (or a session).
 * - `'config'`: a configuration mistake; the message says what to change.
 * - `'refresh-unavailable'`: the refresh failed transiently (network, 5xx, no answer in time,
 *   408/429 after its retries). The session is kept; the next request tries again.
 * - `'refresh-rejected'`: the server refused the refresh (another 4xx). The session has ended.
 * - `'refresh-invalid'`: the refresh answer was unusable, or its token already expired. The session has ended.
 * - `'refresh-cancelled'`: `logout()`, `login()` or `setTokens()` ran during the refresh; its result is never applied.
 * - `'subject-changed'`: the refresh answered with another user's token (`sub`): a new session began,
 *   and requests of the old one are not replayed under the new identity.
 * - `'dpop-unavailable'`: `withDpop()` is on but the browser lacks WebCrypto (an insecure context:
 *   plain http other than localhost) or IndexedDB; with `fallback: 'refuse'` (default) the login and
 *   refresh calls fail with it.
 */
export type JotErrorCode =
  | 'invalid-token-response'
  | 'no-refresh-token'
  | 'config'
  | 'refresh-unavailable'
  | 'refresh-rejected'
  | 'refresh-invalid'
  | 'refresh-cancelled'
  | 'subject-changed'
  | 'dpop-unavailable';

/**
 * The one error type of ngx-jot. Its message starts with `ngx-jot:` and says what to change.
 *
 * @usageNotes
 * ```ts
 * auth.login(creds).subscribe({
 *   error: (e) => (e instanceof JotError ? showBug(e.code) : showWrongPassword(e)),
 * });
 * ```
 */
export class JotError extends Error {
  // Declared, and assigned in the constructor: class fields would add a declaration each to the
  // minified code. The instance gets the same own properties, in the same order (code, cause, name).
  /** Stable code of the failure. */
  declare readonly code: JotErrorCode;
  /** The underlying error (an `HttpErrorResponse`, a storage exception), when there is one. */
  declare readonly cause?: unknown;
  /** Always `'JotError'`. */
  declare readonly name: 'JotError';

  constructor(code: JotErrorCode, message: string, cause?: unknown) {
    // Production builds drop the long messages (ngDevMode); the code still says what failed.
    super(`ngx-jot: ${message || code}`);
    this.code = code;
    this.cause = cause;
    this.name = 'JotError';
  }
}

/** Dev-mode warnings already given, per application (keyed by its `JOT_CONFIG`): each is given once. */
const givenWarnings = new WeakMap<object, Set<string>>();

/**
 * Warns once per distinct message per application. Every call sits in an `if (ngDevMode)` branch,
 * so production builds drop the calls and this function. (`ngDevMode` is the one dev-mode test of
 * this library, as in Angular's own code: @angular/core defines it when it loads.)
 */
export function warnOnce(application: object, message: string): void {
  let given = givenWarnings.get(application);
  if (!given) givenWarnings.set(application, (given = new Set()));
  if (given.has(message)) return;
  given.add(message);
  console.warn(`ngx-jot: ${message}`);
}

export function configError(message: string): JotError {
  return new JotError('config', message);
}
