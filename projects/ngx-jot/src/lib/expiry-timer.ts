import { DOCUMENT } from '@angular/common';
import { DestroyRef, NgZone, inject, signal } from '@angular/core';

import type { JotLogoutReason } from './config';
import type { JotEvent, JotSessionWarning } from './events';
import type { JotIdle, JotRefresher } from './feature-contracts';
import type { JotSession } from './jwt-session';
import { JOT_DEFAULT_WARN_SECONDS } from './session-warning';

/** setTimeout's largest delay; a longer one fires at once. */
const MAX_TIMER_MS = 2_147_483_647;
/** Wait before another proactive refresh after one failed on the network or with 5xx. */
const RETRY_MS = 5_000;

/** What the timer needs of the session. */
export interface ExpiryTimerHost {
  session(): JotSession | null;
  readonly refresher: JotRefresher | null;
  canRefresh(session: JotSession): boolean;
  end(reason: JotLogoutReason): void;
  emit(event: JotEvent): void;
  /** `withIdleLogout()`, whose `warnSeconds` is also the lead of the warning before the absolute end. */
  readonly idle: JotIdle | null;
}

/**
 * One timer per session: the proactive refresh when it is due, else the end of an expired
 * session; and the warning before the session's absolute end (its refresh token's), then that
 * end. Made in the browser only, runs outside Angular's zone so it never delays stability; timers are late or
 * frozen after sleep, so the session is judged again when the tab comes back or goes online.
 * Made in the session's injection context.
 */
export class ExpiryTimer {
  /** The warning before the session's absolute end (`JotAuth.sessionWarning` shows it, or the idle one). */
  readonly warning = signal<JotSessionWarning | null>(null);
  readonly #host: ExpiryTimerHost;
  readonly #zone = inject(NgZone);
  /** How long before the absolute end its warning starts. */
  readonly #warnMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(host: ExpiryTimerHost) {
    this.#host = host;
    this.#warnMs = host.idle?.warnMs ?? JOT_DEFAULT_WARN_SECONDS * 1000;
    const doc = inject(DOCUMENT, { optional: true });
    const destroyRef = inject(DestroyRef);
    destroyRef.onDestroy(() => clearTimeout(this.#timer));
    if (!doc) return;
    const win = doc.defaultView;
    const recheck = () => this.check();
    const whenVisible = () => doc.visibilityState === 'visible' && recheck();
    this.#zone.runOutsideAngular(() => {
      doc.addEventListener('visibilitychange', whenVisible);
      win?.addEventListener('online', recheck);
    });
    destroyRef.onDestroy(() => {
      doc.removeEventListener('visibilitychange', whenVisible);
      win?.removeEventListener('online', recheck);
    });
  }

  /** Sets the timer for the session now held (none for no session), at least `minDelay` ms away. */
  schedule(minDelay = 0): void {
    clearTimeout(this.#timer);
    const session = this.#host.session();
    // A warning of an end this session no longer has is over (a refresh moved the end, or it ended).
    const warning = this.warning();
    if (warning && +warning.endsAt !== session?.endsAt) this.warning.set(null);
    if (!session) return;
    const { endsAt } = session;
    const due = Math.min(
      this.#host.canRefresh(session) ? session.refreshAt : session.staleAt,
      this.warning() ? endsAt : endsAt - this.#warnMs,
    );
    if (due === Infinity) return;
    const delay = Math.min(Math.max(due - Date.now(), minDelay), MAX_TIMER_MS);
    this.#zone.runOutsideAngular(() => {
      this.#timer = setTimeout(() => this.check(), delay);
    });
  }

  /** Judges the session against the clock now: refresh it, end it, or wait on. */
  check(): void {
    const host = this.#host;
    const session = host.session();
    if (!session) return;
    const { endsAt } = session;
    // The absolute end: the refresh token can no longer renew the session.
    if (Date.now() >= endsAt) {
      host.end('expired');
      return;
    }
    if (Date.now() >= endsAt - this.#warnMs && !this.warning()) {
      const warning = { reason: 'expired', endsAt: new Date(endsAt) } as const;
      this.warning.set(warning);
      host.emit({ type: 'session-warning', ...warning });
    }
    const refresher = host.refresher;
    if (host.canRefresh(session) && refresher) {
      // A refresh already running sets the next timer when it succeeds.
      if (refresher.busy) return;
      if (Date.now() >= session.refreshAt) {
        // The refresher handles failures (4xx ends the session); after a network error or 5xx,
        // try again later rather than at once.
        refresher.refresh('ahead').subscribe({ error: () => this.schedule(RETRY_MS) });
        return;
      }
    } else if (Date.now() >= session.staleAt) {
      host.end('expired');
      return;
    }
    this.schedule();
  }
}
