/*
 * Cross-tab sync: the tabs of one origin share login, logout and refreshed tokens, and only one
 * of them refreshes at a time.
 *
 * The shared state is one entry `{ version, by, record }`, written and read whole (never token by
 * token), so no tab sees half a pair. `version` orders the origin's states: max(last seen + 1,
 * Date.now()), ties broken by `by`, the writing tab's random id. `JotRecord.version` is each
 * tab's own counter and is not compared across tabs (a fresh tab restarts it); `exclusive()`
 * hands `shared` to its caller restated in this tab's counter: newer than the held record
 * exactly when the shared state is newer in the origin's order and holds another pair.
 *
 * What holds where:
 * - Web Locks and IndexedDB (current Chromium, Firefox, Safari 15.4+): one refresh at a time per
 *   origin. The lock holder commits the record it now holds to IndexedDB before the lock is
 *   released, and the next holder reads IndexedDB first, so no tab spends a refresh token another
 *   tab (a duplicated twin included) has already rotated.
 * - Web Locks without IndexedDB: refreshes are still serialized, but the record is handed over in
 *   localStorage, which Chromium does not show the next lock holder reliably; a message that has
 *   arrived meanwhile is taken into account. A second spend becomes unlikely, not impossible.
 * - No Web Locks (older Safari, some webviews): a localStorage lease (owner id + expiry, written,
 *   re-read after a pause, renewed while held, retried). Best effort: two tabs racing within the
 *   pause on a store that lags can both hold it.
 * - No BroadcastChannel: messages travel as `storage` events of one localStorage key.
 * - No localStorage either (storage blocked): no lease and no fallback store; tabs refresh on
 *   their own.
 * - Server rendering: nothing (JotAuth creates this in the browser only).
 * Everywhere: a received state is applied only when newer than the one held and holding another
 * pair, and never re-broadcast (adopted and ended without broadcast, so no logout ping-pong); a
 * logout ends every tab holding an older state.
 *
 * The record in IndexedDB outlives the browser session (a logout erases the tokens from it). A
 * newly opened tab without a session of its own does not take one from it: it asks the live tabs
 * (`hello`), so `withStorage('session')` still ends with the browser.
 *
 * Size: this file is the largest part of an app that uses every feature, so its private state
 * lives in closure variables (which minifiers rename) rather than in objects, and the two stores,
 * the two lock kinds and the two message wires share what they can.
 */
import { DOCUMENT } from '@angular/common';
import { DestroyRef, NgZone, inject } from '@angular/core';

import { warnOnce } from './errors';
import { JotFeatureKind, makeJotFeature, type JotFeature } from './feature';
import { JOT_CROSS_TAB, type JotCrossTab, type JotHost, type JotLockedRefresh } from './feature-contracts';
import { leaseLock, webLock } from './refresh-lock';
import {
  type SharedEntry,
  indexedDbStore,
  localStorageStore,
  newer,
  newest,
  pairOf,
  readSharedEntry,
} from './shared-record-store';
import type { JotRecord } from './storage';
import { broadcastChannel, storageEventChannel, type TabMessage } from './tab-channel';

/**
 * Shares login, logout and refreshed tokens between the tabs of an origin, and lets one tab at a
 * time refresh (Web Locks where present, a localStorage lease otherwise; IndexedDB hands the
 * rotated pair to the next tab). Browser only; cannot be combined with `withStorage('memory')`.
 *
 * @usageNotes
 * ```ts
 * provideJot({ loginUrl: '/authenticate' }, withRefresh({ url: '/refresh' }), withCrossTabSync())
 * ```
 */
export function withCrossTabSync(): JotFeature<JotFeatureKind.CrossTabSync> {
  return makeJotFeature(JotFeatureKind.CrossTabSync, [{ provide: JOT_CROSS_TAB, useValue: createCrossTab }]);
}

/** A store that neither answers nor fails (a blocked database) must not keep the lock forever. */
const IO_TIMEOUT_MS = 5_000;

const noop = () => undefined;

/** Made in JotAuth's injection context, in the browser only. */
export function createCrossTab(host: JotHost): JotCrossTab {
  const win = inject(DOCUMENT, { optional: true })?.defaultView;
  const zone = inject(NgZone);
  if (!win) return { publish: noop, refreshUnderLock: (refresh) => refresh.call(), exclusive: (fn) => fn(null) };

  // Storage, locks, timers and messages are not work of the app: they run outside Angular's
  // zone, so waiting for another tab never holds a zone.js app unstable. What they change comes
  // back in through apply() and the caller's `fn`.
  const outside = <T>(fn: () => T): T => zone.runOutsideAngular(fn);
  const id = randomId(win);
  const idb = probe(() => win.indexedDB);
  const locks = probe(() => win.navigator.locks);
  const Channel = probe(() => win.BroadcastChannel);
  const backup = localStorageStore(win);
  const [store, closeStore] = idb ? indexedDbStore(idb, backup) : [backup, noop];
  const lease = leaseLock(win, id, () => !destroyed);
  const lock = locks ? webLock(locks, lease) : lease;

  /** Highest version seen: the next state this tab makes is ordered after it. */
  let clock = 0;
  /** The state this tab holds, with its place in the origin's order; version 0 = unknown (a restored pair, before it is confirmed). */
  let known: SharedEntry = { version: 0, by: '', record: null };
  /** A state received while this tab waits for or holds the lock; taken into account under it. */
  let deferred: SharedEntry | null = null;
  /** exclusive() calls waiting for the lock or holding it. */
  let busy = 0;
  /**
   * While this tab holds the lock and its holder is at work: that work and the calls it made
   * (awaited before release). Null otherwise: a call then waits for the lock like any other.
   */
  let work: Promise<unknown>[] | null = null;
  /** Cuts the holder's work short (the session ended here); the lock goes once this tab's writes are stored. */
  let cut: () => void = noop;
  let writes: Promise<unknown> = Promise.resolve();
  let destroyed = false;

  /** A state this tab makes, ordered after every state seen. */
  const own = (record: JotRecord | null): SharedEntry => ({
    version: (clock = Math.max(clock + 1, Date.now())),
    by: id,
    record: record && pairOf(record),
  });
  const learn = (entry: SharedEntry) => (clock = Math.max(clock, entry.version));
  /** The record this tab holds now. */
  const held = () => host.record();
  const track = (write: Promise<unknown>) => {
    // `.then(noop)`: Promise.all's value is the array of its inputs' values, so chaining on it
    // would keep every earlier write's value alive, nested, for the life of the tab.
    writes = Promise.all([writes, write.catch(noop)]).then(noop);
  };
  /** `io`, or `fallback` when it fails or takes longer than IO_TIMEOUT_MS. */
  const bounded = <T>(io: Promise<T>, fallback: T) =>
    new Promise<T>((resolve) => {
      const timer = outside(() => setTimeout(resolve, IO_TIMEOUT_MS, fallback));
      void io.then(resolve, () => resolve(fallback)).then(() => clearTimeout(timer));
    });
  const read = () =>
    bounded(
      outside(() => store((current) => current, true)),
      null,
    );
  /**
   * Stores `entry` unless a newer entry is there already. With `since`, only if no other tab
   * stored a state newer than `since`, and resolves with that state instead.
   */
  const write = (entry: SharedEntry, since?: SharedEntry) =>
    outside(() =>
      store((current, put) => {
        // Another tab's state stored after `since`: it wins over an entry based on `since`.
        if (since && current && current.by !== entry.by && newer(current, since)) return current;
        if (!current || !newer(current, entry)) put(entry);
        return null;
      }),
    );
  const flushed = () => bounded(writes, null);
  const channel = outside(() => (Channel ? broadcastChannel(Channel, receive) : storageEventChannel(win, receive)));
  const post = (message: TabMessage) => {
    try {
      channel.send(message);
    } catch {
      // Closed while the app is torn down, or no storage: no messages.
    }
  };
  const announce = (entry: SharedEntry) => post({ type: 'state', ...entry });

  inject(DestroyRef).onDestroy(() => {
    destroyed = true;
    channel.close();
    cut();
    closeStore();
  });

  // The factory runs before JotAuth restores the session: look at it once that is done.
  void outside(async () => {
    const stored = await read();
    if (destroyed) return;
    // Logged out elsewhere since this pair was stored: it ends here too. Another pair, or none
    // held: a restored pair of unknown age is settled by the next message or under the lock (a
    // write may still be on its way), and a new tab takes a session only from a live tab (hello),
    // not from disk.
    look(stored);
    post({ type: 'hello', by: id });
  });

  function receive(data: unknown): void {
    if (destroyed) return;
    const { type, by } = Object(data) as { type?: unknown; by?: unknown };
    if (type === 'hello') {
      // A new tab asks what the session is: the state this tab holds, if it knows its place.
      if (typeof by === 'string' && known.version > 0 && holds(known)) announce(known);
      return;
    }
    const message = type === 'state' ? readSharedEntry(data) : null;
    if (!message) return;
    learn(message);
    // Stale, or a state this tab already holds.
    if (!newer(message, known)) return;
    // A refresh here is waiting for the lock: what another tab stored is read under it, where
    // the refresher decides; adopting now would make it refresh the adopted pair once more.
    if (message.record && busy > 0) deferred = newest(deferred, message);
    else apply(message);
  }

  /** This tab holds the pair of `entry` (or, for a logged-out entry, none). */
  function holds(entry: SharedEntry): boolean {
    const mine = held();
    const pair = entry.record;
    // The refresh token counts: consecutive access tokens can be byte-identical.
    return mine && pair
      ? mine.accessToken === pair.accessToken && (mine.refreshToken ?? null) === pair.refreshToken
      : !mine && !pair;
  }

  /**
   * Takes a newer state of another tab, without broadcasting it again. `locked`: found by this
   * tab's lock holder, whose work goes on (it decides itself).
   */
  function apply(entry: SharedEntry, { locked = false } = {}): void {
    const pair = entry.record;
    if (!pair) {
      known = entry;
      if (held()) {
        if (!locked) cut();
        zone.run(() => host.end('other-tab', { broadcast: false }));
      }
      return;
    }
    if (!holds(entry)) {
      const adopted = zone.run(() => host.adopt({ ...pair }, { fresh: false, from: 'other-tab' }));
      if (typeof adopted === 'string') {
        // Not taken, so not this tab's place in the order either: a genuine state ordered
        // before this one (from a tab that never saw it) must still be taken.
        if (ngDevMode) warnOnce(host.config, `another tab shared an unusable token (${adopted}); it is ignored here.`);
        return;
      }
    }
    known = entry;
  }

  /**
   * What the store holds, taken in: nothing stored yet makes the pair held here the shared one; a
   * newer logout ends the session here; a newer entry of the pair held here is its place in the
   * order. Returns a newer entry holding another pair, for the caller to decide.
   */
  function look(best: SharedEntry | null, { locked = false } = {}): SharedEntry | undefined {
    if (!best) {
      // Nothing stored yet: the pair held here, not yet placed in the origin's order, becomes
      // the shared one.
      const record = held();
      if (record && !known.version) track(write((known = own(record))));
    } else {
      learn(best);
      if (newer(best, known)) {
        if (best.record && !holds(best)) return best;
        apply(best, { locked });
      }
    }
    return undefined;
  }

  function publish(record: JotRecord | null, { refreshed = false } = {}): void {
    if (destroyed) return;
    // Under the lock only this tab refreshes, so a state that arrived meanwhile is another tab's
    // login or setTokens, made after this refresh began: it wins. The refreshed pair is not
    // announced (it would outrank that state), and the lock's release applies the other state here too.
    if (refreshed && work && deferred?.record) return;
    const since = known;
    const entry = (known = own(record));
    if (refreshed && record && work) {
      // A logout or login elsewhere may have been stored while the refresh was on the wire, with
      // its message lost (BroadcastChannel is not reliable around the lock): the refreshed pair is
      // stored only if nothing newer than the state it refreshed was, and announced only then.
      // Bounded: a store that never answers must not swallow the announcement (the others would
      // then refresh with a spent token); it goes out before this tab's lock is released.
      track(bounded(write(entry, since), null).then((winner) => (winner ? apply(winner) : announce(entry))));
      return;
    }
    // The session ended here: a refresh under the lock is void; the lock goes once this is stored.
    if (!record) cut();
    announce(entry);
    track(write(entry));
  }

  function exclusive<T>(fn: (shared: JotRecord | null) => Promise<T>): Promise<T> {
    if (destroyed) return fn(null);
    if (work) {
      // Only the holder's own work asks while the lock is held (the refresher looking at the
      // store once more before it gives up): it is ours already, and waiting would deadlock.
      const run = underLock(fn);
      work.push(run);
      return run;
    }
    busy++;
    return outside(() =>
      lock(async () => {
        const pending: Promise<unknown>[] = (work = []);
        const ended = new Promise<void>(
          (resolve) =>
            (cut = () => {
              work = null;
              resolve();
            }),
        );
        try {
          const run = underLock(fn);
          pending.push(run);
          // The work and the calls it makes meanwhile, unless it is cut short.
          while (pending.length > 0 && work === pending) {
            await Promise.race([Promise.all(pending.splice(0).map((p) => p.catch(noop))), ended]);
          }
          cut();
          // Whatever this tab now holds is committed before another tab may read it.
          await flushed();
          // Boxed: returning `run` itself would keep the lock until it settles.
          return [run] as const;
        } finally {
          busy--;
          // After the lock: a state that arrived meanwhile and is still newer.
          const entry = deferred;
          if (entry && !busy && !destroyed) {
            deferred = null;
            if (newer(entry, known)) apply(entry);
          }
        }
      }),
    ).then((box) => box[0]);
  }

  /** Reads the shared state (what this tab wrote last included) and runs `fn` with it. */
  async function underLock<T>(fn: (shared: JotRecord | null) => Promise<T>): Promise<T> {
    // Granted after the app was closed: nothing to read (and no database to reopen).
    if (destroyed) return fn(null);
    await flushed();
    const best = newest(await read(), deferred);
    deferred = null;
    const candidate = look(best, { locked: true });
    const base = held()?.version ?? 0;
    try {
      return await zone.run(() => fn(best?.record ? { ...best.record, version: candidate ? base + 1 : base } : null));
    } finally {
      if (candidate && holds(candidate) && newer(candidate, known)) known = candidate;
    }
  }

  /** Takes the newer pair another tab stored, or runs the refresh call; see JotCrossTab.refreshUnderLock. */
  function refreshUnderLock(refresh: JotLockedRefresh): Promise<void> {
    return exclusive(async (shared) => {
      if (!refresh.wanted() || takeNewer(shared, refresh)) return;
      await refresh.call();
    });
  }

  /** Under the lock: the shared pair, taken when it is newer than the one held and usable. True when taken. */
  function takeNewer(shared: JotRecord | null, refresh: JotLockedRefresh): boolean {
    const held = host.record();
    if (!shared || !held || !isNewer(shared, held)) return false;
    const before = host.session();
    const taken = host.adopt(shared, { fresh: false, from: 'other-tab' });
    if (typeof taken === 'string' || Date.now() >= taken.staleAt) return false;
    refresh.took(before, taken);
    return true;
  }

  return { publish, refreshUnderLock, exclusive };
}

/** A shared record is another tab's newer session: a higher version and another token pair. */
export function isNewer(shared: JotRecord, held: JotRecord): boolean {
  return (
    (shared.version ?? 0) > (held.version ?? 0) &&
    (shared.refreshToken !== held.refreshToken || shared.accessToken !== held.accessToken)
  );
}

// ---- platform ----

function probe<T>(get: () => T | undefined | null): T | null {
  try {
    return get() ?? null;
  } catch {
    // Sandboxed frames and privacy modes throw on access.
    return null;
  }
}

function randomId(win: Window): string {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- randomUUID exists only in secure contexts (and crypto not everywhere); the DOM typings omit that.
  const uuid = probe(() => win.crypto?.randomUUID?.());
  return uuid ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
