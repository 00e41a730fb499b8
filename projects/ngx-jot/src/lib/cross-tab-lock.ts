import type { NgZone } from '@angular/core';

import type { JotHost } from './feature-contracts';
import type { RefreshLock } from './refresh-lock';
import { type SharedEntry, type SharedStoreAccess, newest } from './shared-record-store';
import type { SharedSessionView } from './shared-session-view';
import type { JotRecord } from './storage';

const noop = () => undefined;

/** What the lock holder needs of the tab's shared session (cross-tab.ts). */
export interface LockedSession {
  readonly host: JotHost;
  readonly view: SharedSessionView;
  readonly access: SharedStoreAccess;
  /** The app was torn down: nothing more is read or applied. */
  readonly destroyed: boolean;
  /** Takes in what the store holds; returns a newer entry holding another pair, for the holder to decide. */
  look(best: SharedEntry | null, options: { locked: boolean }): SharedEntry | undefined;
  /** Takes a newer state of another tab. */
  apply(entry: SharedEntry): void;
}

/**
 * This tab's side of the origin-wide refresh lock: waits for it, reads the shared record under
 * it, runs the holder's work (and the calls that work makes meanwhile), and commits this tab's
 * writes before the lock is released.
 */
export class CrossTabLock {
  readonly #session: LockedSession;
  readonly #lock: RefreshLock;
  /** Waiting for the lock is no work of the app; the holder's work is. */
  readonly #zone: NgZone;
  /** exclusive() calls waiting for the lock or holding it. */
  #callers = 0;
  /**
   * While this tab holds the lock and its holder is at work: that work and the calls it made
   * (awaited before release). Null otherwise: a call then waits for the lock like any other.
   */
  #work: Promise<unknown>[] | null = null;
  /** Cuts the holder's work short (the session ended here); the lock goes once this tab's writes are stored. */
  #cut: () => void = noop;
  /** A state received while this tab waits for or holds the lock; taken into account under it. */
  #deferred: SharedEntry | null = null;

  constructor(session: LockedSession, lock: RefreshLock, zone: NgZone) {
    this.#session = session;
    this.#lock = lock;
    this.#zone = zone;
  }

  /** A call waits for the lock or holds it. */
  get busy(): boolean {
    return this.#callers > 0;
  }

  /** This tab holds the lock and its holder is at work. */
  get working(): boolean {
    return this.#work !== null;
  }

  /** A state received meanwhile, holding a pair (another tab's login or setTokens). */
  get deferredLogin(): boolean {
    return !!this.#deferred?.record;
  }

  /** Keeps a received state for the holder, who reads it under the lock. */
  defer(entry: SharedEntry): void {
    this.#deferred = newest(this.#deferred, entry);
  }

  /** The session ended here: the holder's work is void; the lock goes once this tab's writes are stored. */
  cut(): void {
    this.#cut();
  }

  /** Runs `fn` holding the lock, with the shared record read under it (see JotCrossTab.exclusive). */
  exclusive<T>(fn: (shared: JotRecord | null) => Promise<T>): Promise<T> {
    if (this.#session.destroyed) return fn(null);
    if (this.#work) {
      // Only the holder's own work asks while the lock is held (the refresher looking at the
      // store once more before it gives up): it is ours already, and waiting would deadlock.
      const run = this.#underLock(fn);
      this.#work.push(run);
      return run;
    }
    this.#callers++;
    return this.#zone.runOutsideAngular(() => this.#lock(() => this.#hold(fn))).then((box) => box[0]);
  }

  /** Holding the lock: the work and the calls it makes meanwhile, unless cut short; then this tab's writes. */
  async #hold<T>(fn: (shared: JotRecord | null) => Promise<T>): Promise<readonly [Promise<T>]> {
    const pending: Promise<unknown>[] = (this.#work = []);
    const ended = new Promise<void>(
      (resolve) =>
        (this.#cut = () => {
          this.#work = null;
          resolve();
        }),
    );
    try {
      const run = this.#underLock(fn);
      pending.push(run);
      while (pending.length > 0 && this.#work === pending) {
        await Promise.race([Promise.all(pending.splice(0).map((call) => call.catch(noop))), ended]);
      }
      this.#cut();
      // Whatever this tab now holds is committed before another tab may read it.
      await this.#session.access.flushed();
      // Boxed: returning `run` itself would keep the lock until it settles.
      return [run] as const;
    } finally {
      this.#done();
    }
  }

  /** The holder is done (the lock goes next): a state that arrived meanwhile and is still newer is taken. */
  #done(): void {
    this.#callers--;
    const entry = this.#deferred;
    if (entry && !this.#callers && !this.#session.destroyed) {
      this.#deferred = null;
      if (this.#session.view.isNewer(entry)) this.#session.apply(entry);
    }
  }

  /** Reads the shared state (what this tab wrote last included) and runs `fn` with it. */
  async #underLock<T>(fn: (shared: JotRecord | null) => Promise<T>): Promise<T> {
    const { access, view, destroyed } = this.#session;
    if (destroyed) return fn(null); // granted after the app was closed: no database to reopen
    await access.flushed();
    const best = newest(await access.read(), this.#deferred);
    this.#deferred = null;
    const candidate = this.#session.look(best, { locked: true });
    // Taken in by `fn` (the refresher adopts it, then may refresh it): its place in the order is
    // this tab's at once, so what `fn` then publishes counts as newer than it, not as lost to it.
    const place = () => {
      if (candidate && view.holds(candidate) && view.isNewer(candidate)) view.known = candidate;
    };
    try {
      const run = this.#zone.run(() => fn(restated(best, candidate, view.held())));
      place();
      return await run;
    } finally {
      place();
    }
  }
}

/**
 * The shared record restated in this tab's counter (`JotRecord.version` is each tab's own): newer
 * than the held record exactly when the shared state is newer in the origin's order and holds
 * another pair (`candidate`, from look()).
 */
function restated(
  best: SharedEntry | null,
  candidate: SharedEntry | undefined,
  held: JotRecord | null,
): JotRecord | null {
  const base = held?.version ?? 0;
  return best?.record ? { ...best.record, version: candidate ? base + 1 : base } : null;
}
