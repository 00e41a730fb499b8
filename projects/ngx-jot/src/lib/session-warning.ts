/*
 * The session warning: what core needs of it. The warning before an absolute end (the refresh
 * token's end) is judged by JotAuth itself; the idle warning comes from `withIdleLogout()`
 * (idle-logout.ts), which JotAuth reaches only through JOT_IDLE, so an app that does not call it
 * does not ship it.
 */
import { InjectionToken, type Signal } from '@angular/core';

import type { JotHost } from './tokens';

/** Why and when the session will end; `JotAuth.sessionWarning` holds it from `warnSeconds` before. */
export interface JotSessionWarning {
  /** `'idle'`: no user activity in any tab; `'expired'`: the session's absolute end (its refresh token's). */
  readonly reason: 'idle' | 'expired';
  /** When the session will end, on this device's clock. */
  readonly endsAt: Date;
}

/** How long before a session's end the warning starts, without `withIdleLogout({ warnSeconds })`. */
export const JOT_DEFAULT_WARN_SECONDS = 60;

/** The idle watch, made by `withIdleLogout()` in JotAuth's injection context, in the browser only. */
export interface JotIdle {
  /** `warnSeconds`, in ms: also how long before an absolute end its warning starts. */
  readonly warnMs: number;
  /** The idle warning, or null. */
  readonly warning: Signal<JotSessionWarning | null>;
  /** Counts as user activity (`JotAuth.keepAlive()`). */
  keepAlive(): void;
  /** The idle deadline has passed: a logout that another tab shares now counts as idle. */
  idle(): boolean;
  /** For ngx-jot/testing: the user has been idle `ms` longer. */
  advance(ms: number): void;
}

/** Makes the idle watch; provided by `withIdleLogout()`. */
export const JOT_IDLE = new InjectionToken<(host: JotHost) => JotIdle>(ngDevMode ? 'JOT_IDLE' : '');

/** The warning that ends first of two (either may be null). */
export function firstWarning(
  a: JotSessionWarning | null,
  b: JotSessionWarning | null | undefined,
): JotSessionWarning | null {
  return !a || (b && b.endsAt < a.endsAt) ? (b ?? null) : a;
}
