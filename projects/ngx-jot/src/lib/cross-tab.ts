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
 * - Server rendering: nothing (the session (session-state.ts) makes this in the browser only).
 * Everywhere: a received state is applied only when newer than the one held and holding another
 * pair, and never re-broadcast (adopted and ended without broadcast, so no logout ping-pong); a
 * logout ends every tab holding an older state.
 *
 * The record in IndexedDB outlives the browser session (a logout erases the tokens from it). A
 * newly opened tab without a session of its own does not take one from it: it asks the live tabs
 * (`hello`), so `withStorage('session')` still ends with the browser.
 *
 * The units: shared-record-store.ts (where the entry lives, and this tab's reads and writes of
 * it), tab-channel.ts (messages between tabs), refresh-lock.ts (Web Locks or the lease),
 * shared-session-view.ts (which state this tab holds, and the clock that orders its own),
 * cross-tab-lock.ts (holding the lock: reading under it, committing before release), and this
 * file, which ties them to the session.
 */
import { DOCUMENT } from '@angular/common';
import { DestroyRef, NgZone, inject } from '@angular/core';

import { warnOnce } from './errors';
import { JotFeatureKind, makeJotFeature, type JotFeature } from './feature';
import { CrossTabLock, type LockedSession } from './cross-tab-lock';
import { CrossTabMessages, type MessagedSession } from './cross-tab-messages';
import { JOT_CROSS_TAB, type JotCrossTab, type JotHost, type JotRefreshSettler } from './feature-contracts';
import { leaseLock, webLock } from './refresh-lock';
import { type SharedEntry, SharedStoreAccess, indexedDbStore, localStorageStore } from './shared-record-store';
import { SharedSessionView } from './shared-session-view';
import type { JotRecord } from './storage';
import { isOtherSubject, type JotSession } from './jwt-session';
import { broadcastChannel, storageEventChannel } from './tab-channel';

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

const noop = () => undefined;

/** Made for the session in its injection context, in the browser only. */
export function createCrossTab(host: JotHost): JotCrossTab {
  const win = inject(DOCUMENT, { optional: true })?.defaultView;
  if (!win)
    return {
      publish: noop,
      refreshUnderLock: (_, _flight, call) => call(),
      recheck: () => false,
      exclusive: (fn) => fn(null),
    };
  const zone = inject(NgZone);
  // Storage, locks, timers and messages are not work of the app: they run outside Angular's zone,
  // so waiting for another tab never holds a zone.js app unstable. What they change comes back in
  // through apply() and the lock holder's work.
  const outside = <T>(fn: () => T): T => zone.runOutsideAngular(fn);
  const idb = probe(() => win.indexedDB);
  const locks = probe(() => win.navigator.locks);
  const Channel = probe(() => win.BroadcastChannel);
  const backup = localStorageStore(win);
  const [store, closeStore] = idb ? indexedDbStore(idb, backup) : [backup, noop];
  const session = new CrossTabSession(host, zone, new SharedStoreAccess(store, outside), randomId(win));
  const lease = leaseLock(win, session.view.id, () => !session.destroyed);
  const lock = new CrossTabLock(session, locks ? webLock(locks, lease) : lease, zone);
  const messages = new CrossTabMessages(session, lock, (receive) =>
    outside(() => (Channel ? broadcastChannel(Channel, receive) : storageEventChannel(win, receive))),
  );
  session.connect(lock, messages);
  inject(DestroyRef).onDestroy(() => {
    session.destroyed = true;
    messages.close();
    lock.cut();
    closeStore();
  });
  // Made before the session restores what was stored: looks at the shared record once that is done.
  void outside(() => session.start());
  return session;
}

/**
 * The tab's side of the shared session: tells the other tabs of this tab's changes, takes theirs,
 * and runs refreshes under the origin's lock (cross-tab-lock.ts).
 */
class CrossTabSession implements JotCrossTab, LockedSession, MessagedSession {
  readonly host: JotHost;
  readonly view: SharedSessionView;
  readonly access: SharedStoreAccess;
  readonly #zone: NgZone;
  /** Set by connect(), right after construction: they need this session themselves. */
  #lock!: CrossTabLock;
  #messages!: CrossTabMessages;
  destroyed = false;

  constructor(host: JotHost, zone: NgZone, access: SharedStoreAccess, id: string) {
    this.host = host;
    this.#zone = zone;
    this.access = access;
    this.view = new SharedSessionView(id, () => host.record());
  }

  connect(lock: CrossTabLock, messages: CrossTabMessages): void {
    this.#lock = lock;
    this.#messages = messages;
  }

  publish(record: JotRecord | null, { refreshed = false } = {}): void {
    if (this.destroyed) return;
    const lock = this.#lock;
    // Under the lock only this tab refreshes, so a state that arrived meanwhile is another tab's
    // login or setTokens, made after this refresh began: it wins. The refreshed pair is not
    // announced (it would outrank that state), and the lock's release applies the other state here too.
    if (refreshed && lock.working && lock.deferredLogin) return;
    const since = this.view.known;
    const entry = (this.view.known = this.view.own(record));
    const access = this.access;
    if (refreshed && record && lock.working) {
      // A logout or login elsewhere may have been stored while the refresh was on the wire, with
      // its message lost (BroadcastChannel is not reliable around the lock): the refreshed pair is
      // stored only if nothing newer than the state it refreshed was, and announced only then.
      // Bounded: a store that never answers must not swallow the announcement (the others would
      // then refresh with a spent token); it goes out before this tab's lock is released.
      const stored = access.bounded(access.write(entry, since), null);
      access.track(stored.then((winner) => (winner ? this.apply(winner) : this.#messages.announce(entry))));
      return;
    }
    // The session ended here: a refresh under the lock is void; the lock goes once this is stored.
    if (!record) lock.cut();
    this.#messages.announce(entry);
    access.track(access.write(entry));
  }

  refreshUnderLock(settler: JotRefreshSettler, flight: object, call: () => Promise<void>): Promise<void> {
    return this.#lock.exclusive((shared) => takeNewerOrCall(this.host, shared, settler, flight, call));
  }

  readonly recheck = (settler: JotRefreshSettler, flight: object, error: unknown): boolean =>
    recheckUnderLock(this, settler, flight, error);

  exclusive<T>(fn: (shared: JotRecord | null) => Promise<T>): Promise<T> {
    return this.#lock.exclusive(fn);
  }

  /**
   * Takes a newer state of another tab, not told back (no ping-pong). A logout there ends the
   * session here ('other-tab'), cuts short a refresh this tab holds the lock for (unless `locked`:
   * found by the lock holder itself, which decides), and the session leaves a protected page for
   * loginRoute. A pair is adopted; an unusable one is ignored and is not this tab's place in the order.
   */
  apply(entry: SharedEntry, { locked = false } = {}): void {
    const { host, view } = this;
    const pair = entry.record;
    if (!pair) {
      view.known = entry;
      if (view.held()) {
        if (!locked) this.#lock.cut();
        this.#zone.run(() => host.end('other-tab', { broadcast: false }));
      }
      return;
    }
    if (!view.holds(entry)) {
      const adopted = this.#zone.run(() => adoptShared(host, { ...pair }));
      if (typeof adopted === 'string') {
        // Not taken, so not this tab's place in the order either: a genuine state ordered
        // before this one (from a tab that never saw it) must still be taken.
        if (ngDevMode) warnOnce(host.config, `another tab shared an unusable token (${adopted}); it is ignored here.`);
        return;
      }
    }
    view.known = entry;
  }

  /**
   * What the store holds, taken in: nothing stored yet makes the pair held here the shared one; a
   * newer logout ends the session here; a newer entry of the pair held here is its place in the
   * order. Returns a newer entry holding another pair, for the caller to decide.
   */
  look(best: SharedEntry | null, { locked = false } = {}): SharedEntry | undefined {
    const view = this.view;
    if (!best) {
      // Nothing stored yet: the pair held here, not yet placed in the origin's order, becomes
      // the shared one.
      const record = view.held();
      if (record && !view.known.version) this.access.track(this.access.write((view.known = view.own(record))));
      return undefined;
    }
    view.learn(best);
    if (!view.isNewer(best)) return undefined;
    if (best.record && !view.holds(best)) return best;
    this.apply(best, { locked });
    return undefined;
  }

  async start(): Promise<void> {
    const stored = await this.access.read();
    if (this.destroyed) return;
    // Logged out elsewhere since this pair was stored: it ends here too. Another pair, or none
    // held: a restored pair of unknown age is settled by the next message or under the lock (a
    // write may still be on its way), and a new tab takes a session only from a live tab (hello),
    // not from disk.
    this.look(stored);
    this.#messages.hello();
  }
}

/**
 * A failed refresh that would end the session: take another tab's newer pair rather than end the
 * session in every tab; give up under the lock when there is none. Called under the lock (the
 * refresh call failed), the lock runs this at once, still under it.
 */
function recheckUnderLock(session: JotCrossTab, settler: JotRefreshSettler, flight: object, error: unknown): true {
  const giveUp = () => settler.giveUp(flight, error);
  // eslint-disable-next-line @typescript-eslint/require-await -- the call is a promise; async also turns a throw into a rejection.
  session.refreshUnderLock(settler, flight, async () => giveUp()).catch(giveUp);
  return true;
}

/** Under the lock: the refresh is still wanted and no newer pair of another tab is taken instead, so it calls. */
async function takeNewerOrCall(
  host: JotHost,
  shared: JotRecord | null,
  settler: JotRefreshSettler,
  flight: object,
  call: () => Promise<void>,
): Promise<void> {
  if (!settler.isCurrent(flight) || takeNewer(host, shared, settler, flight)) return;
  await call();
}

/** Under the lock: the shared pair, taken when it is newer than the one held and usable. True when taken. */
function takeNewer(host: JotHost, shared: JotRecord | null, settler: JotRefreshSettler, flight: object): boolean {
  const held = host.record();
  if (!shared || !held || !isNewer(shared, held)) return false;
  const before = host.session();
  const taken = adoptShared(host, shared);
  if (typeof taken === 'string') return false;
  // An expired pair of the same user is refreshed here with its refresh token (the call goes on);
  // another user's, expired or not, settles the flight: what waits is never sent as that user.
  if (Date.now() >= taken.staleAt && !(before && isOtherSubject(before, taken))) return false;
  settler.settleWith(flight, before, taken, 'other-tab');
  return true;
}

/**
 * Adopts another tab's pair. Taken, it takes its place in the origin's order: the session's version
 * steps to just below the stored one (the change it makes counts it), so this tab's next change is
 * newer than it. Not taken (unusable), the version stays.
 */
function adoptShared(host: JotHost, shared: JotRecord): JotSession | string {
  const version = host.version;
  if (shared.version !== undefined) host.version = Math.max(version, shared.version - 1);
  const adopted = host.adopt(shared, { fresh: false, from: 'other-tab' });
  if (typeof adopted === 'string') host.version = version;
  return adopted;
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
