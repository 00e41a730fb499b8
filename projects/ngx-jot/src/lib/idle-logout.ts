/*
 * Idle logout: the session ends after `afterSeconds` without user input in any tab of the origin,
 * with a warning `warnSeconds` before.
 *
 * - Activity is input on the page (pointerdown, keydown, wheel, touchstart, scroll, and mousemove
 *   that moved; at most one per second) and `JotAuth.keepAlive()`; HTTP traffic is not. Its time is shared
 *   with the other tabs through one localStorage key (and its `storage` events), written at most
 *   once a second. This works with or without `withCrossTabSync()`: the user sits at the browser,
 *   not at a tab, so activity in one tab keeps every tab alive. (Cross-tab sync's channel is not
 *   reused: it carries session states, ordered and held under a lock; a timestamp needs neither.)
 * - Deadlines are times, not timer counts. Time idle is the larger of what the wall clock and this
 *   tab's monotonic clock say: a sleeping laptop (the monotonic clock may pause) or a clock set
 *   back never extends the session; a clock set forward counts as time passed. Timers only prompt
 *   a check, at the next deadline but at least every COARSE_MS, and so do focus, visibilitychange
 *   and pageshow: a throttled or frozen tab ends the session at its first check after the deadline.
 * - The tab whose check comes first logs out (logoutUrl, cross-tab logout). A tab that hears of
 *   that logout from another tab within a second of its own deadline reports it as idle too.
 * - Browser only: JotAuth does not create this on the server.
 */
import { DOCUMENT } from '@angular/common';
import { DestroyRef, Injector, NgZone, inject, signal } from '@angular/core';

import { configError } from './errors';
import type { JotSessionWarning } from './events';
import { JotFeatureKind, makeJotFeature, type JotFeature } from './feature';
import { JOT_IDLE, type JotHost, type JotIdle } from './feature-contracts';
import { JotAuth } from './jot-auth';
import { JOT_DEFAULT_WARN_SECONDS } from './session-warning';

/** Options of `withIdleLogout()`. */
export interface JotIdleLogoutOptions {
  /** Seconds without user activity, in any tab, after which the session ends (logout reason `'idle'`). */
  afterSeconds: number;
  /** Seconds before the end that `JotAuth.sessionWarning` is set; less than `afterSeconds`, 0 for none. Default 60. */
  warnSeconds?: number;
}

/** localStorage key of the last activity's time (ms since the epoch), shared by the tabs of the origin. */
export const JOT_ACTIVITY_KEY = 'ngx-jot-activity';
/** Input events that count as activity. */
const ACTIVITY_EVENTS = ['pointerdown', 'keydown', 'wheel', 'touchstart', 'scroll', 'mousemove'];
/** Activity is taken (and shared) at most this often, unless a warning shows. */
const THROTTLE_MS = 1_000;
/** The longest a check waits: a clock set forward or a lost timer is noticed by then. */
const COARSE_MS = 15_000;
/** How far before its own deadline a tab still calls another tab's logout idle. */
const SAME_DEADLINE_MS = 1_000;

/**
 * Ends the session after `afterSeconds` without user activity in any tab of the origin (logout
 * reason `'idle'`), and sets `JotAuth.sessionWarning` `warnSeconds` (default 60) before. A user on
 * a protected route lands on `loginRoute?returnUrl=…`. HTTP traffic is not activity;
 * `JotAuth.keepAlive()` is. Inert on the server.
 *
 * @usageNotes
 * ```ts
 * provideJot({ loginUrl: '/authenticate' }, withIdleLogout({ afterSeconds: 15 * 60, warnSeconds: 60 }))
 * ```
 */
export function withIdleLogout(options: JotIdleLogoutOptions): JotFeature<JotFeatureKind.IdleLogout> {
  // Optional chains: runtime checks for JavaScript callers and `any`; the type cannot promise them.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- see above.
  const after = options?.afterSeconds;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- see above.
  const warn = options?.warnSeconds ?? JOT_DEFAULT_WARN_SECONDS;
  // Number.isFinite is false for anything but a finite number (no coercion).
  if (!(Number.isFinite(after) && after > 0)) {
    throw configError(
      ngDevMode
        ? `withIdleLogout() needs afterSeconds, a finite number of seconds > 0, e.g. withIdleLogout({ afterSeconds: 900 }); got ${String(after)}.`
        : '',
    );
  }
  if (!(Number.isFinite(warn) && warn >= 0 && warn < after)) {
    throw configError(
      ngDevMode
        ? `withIdleLogout() warnSeconds must be a number >= 0 and less than afterSeconds (${after}); got ${String(warn)}. ` +
            `Lower warnSeconds (0 for no warning) or raise afterSeconds.`
        : '',
    );
  }
  return makeJotFeature(JotFeatureKind.IdleLogout, [
    { provide: JOT_IDLE, useValue: (host: JotHost) => createIdle(host, after * 1000, warn * 1000) },
  ]);
}

/** Two warnings say the same: the signal skips an equal one, and no second event goes out. */
const sameWarning = (a: JotSessionWarning | null, b: JotSessionWarning | null): boolean =>
  a === b || (!!a && !!b && +a.endsAt === +b.endsAt);

/** Made in the session's injection context, in the browser only. */
function createIdle(host: JotHost, afterMs: number, warnMs: number): JotIdle {
  const doc = inject(DOCUMENT);
  const zone = inject(NgZone);
  const injector = inject(Injector);
  const shared = sharedActivity(doc.defaultView);
  const warning = signal<JotSessionWarning | null>(null, { equal: sameWarning });
  /** Idle time added by ngx-jot/testing (`advanceIdleTime()`). */
  let skipped = 0;
  const wallNow = () => Date.now() + skipped;
  const monoNow = () => performance.now() + skipped;
  /** The last activity known here: its time on the wall clock (what tabs share) and on this tab's monotonic clock. */
  let lastWall = -Infinity;
  let lastMono = -Infinity;
  /** When this tab last shared its activity (monotonic: a clock set back must not stop it). */
  let sharedMono = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let destroyed = false;

  /** The shared time last read: only a change (another tab's write) is activity to take. */
  let seenShared = 0;
  // Taken on each clock where it is later (after a clock set back, only the monotonic); never a future one.
  const learn = (wall: number) => {
    if (wall === seenShared) return;
    seenShared = wall;
    const now = wallNow();
    if (wall > now) return;
    lastWall = Math.max(lastWall, wall);
    lastMono = Math.max(lastMono, monoNow() - (now - wall));
  };
  const idleFor = () => Math.max(wallNow() - lastWall, monoNow() - lastMono);

  /** User activity here: taken, shared (at most once a second), and judged. */
  const active = () => {
    if (destroyed || !host.session()) return;
    lastWall = wallNow();
    lastMono = monoNow();
    if (lastMono - sharedMono >= THROTTLE_MS) {
      sharedMono = lastMono;
      shared.write(lastWall);
    }
    check();
  };

  function check(): void {
    clearTimeout(timer);
    if (destroyed || !host.session()) {
      warning.set(null);
      return;
    }
    learn(shared.read());
    const left = afterMs - idleFor();
    if (left <= 0) {
      warning.set(null);
      // logout(), not the session's end(): logoutUrl ends the session on the server too.
      zone.run(() => injector.get(JotAuth).logout({ reason: 'idle' }));
      return;
    }
    const next: JotSessionWarning | null =
      // On the real clock: time skipped by ngx-jot/testing moved the end closer, not the clock on.
      left <= warnMs ? { reason: 'idle', endsAt: new Date(Math.round(Date.now() + left)) } : null;
    if (!sameWarning(next, warning())) {
      warning.set(next);
      if (next) zone.run(() => host.emit({ type: 'session-warning', ...next }));
    }
    const wait = left > warnMs ? left - warnMs : left;
    timer = zone.runOutsideAngular(() => setTimeout(check, Math.min(wait, COARSE_MS)));
  }

  /** Where the pointer was: browsers send a mousemove without movement when the page moves under it. */
  let pointer = '';
  // Input is frequent: one check a second at most, but at once while a warning shows.
  const onInput = (event: Event) => {
    if (event.type === 'mousemove') {
      const { screenX, screenY } = event as MouseEvent;
      if (`${screenX},${screenY}` === pointer) return;
      pointer = `${screenX},${screenY}`;
    }
    if (warning() !== null || monoNow() - lastMono >= THROTTLE_MS) active();
  };
  const onStorage = (event: Event) => {
    const { key, newValue } = event as StorageEvent;
    if (key !== JOT_ACTIVITY_KEY) return;
    learn(Number(newValue) || 0);
    check();
  };
  const win = doc.defaultView;
  const unlisten = zone.runOutsideAngular(() => [
    listen(win, ACTIVITY_EVENTS, onInput, { capture: true, passive: true }),
    listen(win, ['storage'], onStorage),
    listen(win, ['focus', 'pageshow'], check),
    listen(doc, ['visibilitychange'], check),
  ]);
  // Page load is no activity: what the tabs shared counts, and only without it the load.
  const stored = shared.read();
  learn(stored && stored <= wallNow() ? stored : wallNow());
  // Judged once restored (an async store answers after start-up, and no login announces it).
  whenRestored(host, check);
  // A session that begins counts as activity; one that ends stops the timer and the warning.
  const subscription = host.events.subscribe((event) => {
    if (event.type === 'login') active();
    else if (event.type === 'logout') check();
  });
  inject(DestroyRef).onDestroy(() => {
    destroyed = true;
    clearTimeout(timer);
    subscription.unsubscribe();
    for (const remove of unlisten) remove();
  });

  return {
    warnMs,
    warning,
    keepAlive: active,
    idle: () => !!host.session() && (learn(shared.read()), idleFor() >= afterMs - SAME_DEADLINE_MS),
    advance(ms) {
      skipped += ms;
      check();
    },
  };
}

/** Runs `then` once the session restored itself: after this task, or once an async store answered. */
function whenRestored(host: JotHost, then: () => void): void {
  void Promise.resolve()
    .then(() => host.restore.ready)
    .then(then);
}

/** The time of the origin's last activity, in localStorage; storage that throws leaves each tab alone. */
function sharedActivity(win: Window | null) {
  return {
    read(): number {
      try {
        return Number(win?.localStorage.getItem(JOT_ACTIVITY_KEY)) || 0;
      } catch {
        return 0;
      }
    },
    write(wall: number): void {
      try {
        win?.localStorage.setItem(JOT_ACTIVITY_KEY, String(wall));
      } catch {
        // Blocked or full: the other tabs do not hear of it.
      }
    },
  };
}

/** Adds `handler` for each of `types` on `target`; returns what removes them. */
function listen(
  target: EventTarget | null,
  types: readonly string[],
  handler: (event: Event) => void,
  options?: AddEventListenerOptions,
): () => void {
  for (const type of types) target?.addEventListener(type, handler, options);
  return () => {
    for (const type of types) target?.removeEventListener(type, handler, options);
  };
}
