/** What went wrong, as a stable string a caller can switch on. */
export type JotErrorCode = 'invalid-token-response' | 'refresh-failed' | 'no-refresh-token' | 'config';

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

/** Dev-mode check that survives builds without Angular's global (`ngDevMode` undefined = dev). */
export function isDevMode(): boolean {
  return typeof ngDevMode === 'undefined' || !!ngDevMode;
}

/** Warns in dev mode only, and once per distinct message per `seen` set (kept by the caller's injector). */
export function warnOnce(seen: Set<string>, message: string): void {
  if (isDevMode() && !seen.has(message)) {
    seen.add(message);
    console.warn(`ngx-jot: ${message}`);
  }
}

export function configError(message: string): JotError {
  return new JotError('config', message);
}
