/*
 * What the session needs of its warnings: the default lead time, and which of two warnings shows.
 * The warning before the absolute end (the refresh token's) is set by the expiry timer; the idle
 * one comes from `withIdleLogout()` (idle-logout.ts), which the session reaches only through
 * JOT_IDLE (feature-contracts.ts), so an app that does not call it does not ship it.
 */
import type { JotSessionWarning } from './events';

/** How long before a session's end the warning starts, without `withIdleLogout({ warnSeconds })`. */
export const JOT_DEFAULT_WARN_SECONDS = 60;

/** The warning that ends first of two (either may be null). */
export function firstWarning(
  a: JotSessionWarning | null,
  b: JotSessionWarning | null | undefined,
): JotSessionWarning | null {
  return !a || (b && b.endsAt < a.endsAt) ? (b ?? null) : a;
}
