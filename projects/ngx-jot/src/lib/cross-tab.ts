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
import { JotFeatureKind, type JotFeature } from './provide-jot';
import { badRecordField, type JotRecord } from './storage';
import { JOT_CROSS_TAB, type JotCrossTab, type JotHost } from './tokens';

/** The BroadcastChannel and the IndexedDB database. */
const NAME = 'ngx-jot';
const LOCK = 'ngx-jot-refresh';
const DB_STORE = 'sync';
const DB_KEY = 'record';
/** localStorage keys: messages without BroadcastChannel, the entry without IndexedDB, the lease without Web Locks. */
const MESSAGE_KEY = 'ngx-jot-sync';
const SHARED_KEY = 'ngx-jot-shared';
const LEASE_KEY = 'ngx-jot-lease';
const LEASE_MS = 10_000;
const LEASE_SETTLE_MS = 40;
const LEASE_RETRY_MS = 60;
/** A store that neither answers nor fails (a blocked database) must not keep the lock forever. */
const IO_TIMEOUT_MS = 5_000;

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
  return {
    ɵkind: JotFeatureKind.CrossTabSync,
    ɵproviders: [{ provide: JOT_CROSS_TAB, useValue: createCrossTab }],
  };
}

/** A pair as it travels between tabs. */
interface Pair {
  accessToken: string;
  refreshToken: string | null;
  skew?: number;
  /** Kept in local storage ("remember me"): the tab that refreshes next writes it there too. */
  remember?: boolean;
  /** The absolute end learned from `refresh_expires_in` (JotRecord.endsAt). */
  endsAt?: number;
}

/** A state of the origin's session (`record: null` is logged out), ordered by (version, by). */
interface Entry {
  version: number;
  by: string;
  record: Pair | null;
}

type Message = ({ type: 'state' } & Entry) | { type: 'hello'; by: string };

/**
 * Where the shared entry lives (IndexedDB, or localStorage without it): runs `body` with the
 * stored entry, atomically with the `put` it may make, and resolves with what `body` returned
 * once that is committed.
 */
type Store = <T>(body: (current: Entry | null, put: (entry: Entry) => void) => T, readonly?: boolean) => Promise<T>;

/**
 * Runs `fn` holding the origin-wide refresh lock. `fn` never rejects, and neither does the mutex
 * before `fn` ran (refused Web Locks fall back to the lease, which cannot fail).
 */
type Mutex = <T>(fn: () => Promise<T>) => Promise<T>;

/** Sends a message (may throw), and stops listening. */
type Wire = [send: (message: Message) => void, close: () => void];

const noop = () => undefined;

/** Made in JotAuth's injection context, in the browser only. */
export function createCrossTab(host: JotHost): JotCrossTab {
  const win = inject(DOCUMENT, { optional: true })?.defaultView;
  const zone = inject(NgZone);
  if (!win) return { publish: noop, exclusive: (fn) => fn(null) };

  // Storage, locks, timers and messages are not work of the app: they run outside Angular's
  // zone, so waiting for another tab never holds a zone.js app unstable. What they change comes
  // back in through apply() and the caller's `fn`.
  const outside = <T>(fn: () => T): T => zone.runOutsideAngular(fn);
  const id = randomId(win);
  const idb = probe(() => win.indexedDB);
  const locks = probe(() => win.navigator.locks);
  const Channel = probe(() => win.BroadcastChannel);
  const backup = localStore(win);
  const [store, closeStore] = idb ? idbStore(idb, backup) : [backup, noop];
  const lease = leaseMutex(win, id, () => !destroyed);
  const mutex = locks ? webLockMutex(locks, lease) : lease;
  let warned: Set<string> | undefined;

  /** Highest version seen: the next state this tab makes is ordered after it. */
  let clock = 0;
  /** The state this tab holds, with its place in the origin's order; version 0 = unknown (a restored pair, before it is confirmed). */
  let known: Entry = { version: 0, by: '', record: null };
  /** A state received while this tab waits for or holds the lock; taken into account under it. */
  let deferred: Entry | null = null;
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
  const own = (record: JotRecord | null): Entry => ({
    version: (clock = Math.max(clock + 1, Date.now())),
    by: id,
    record: record && pairOf(record),
  });
  const learn = (entry: Entry) => (clock = Math.max(clock, entry.version));
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
  const write = (entry: Entry, since?: Entry) =>
    outside(() =>
      store((current, put) => {
        // Another tab's state stored after `since`: it wins over an entry based on `since`.
        if (since && current && current.by !== entry.by && newer(current, since)) return current;
        if (!current || !newer(current, entry)) put(entry);
        return null;
      }),
    );
  const flushed = () => bounded(writes, null);
  const [send, closeWire] = outside(() => (Channel ? channelWire(Channel, receive) : storageWire(win, receive)));
  const post = (message: Message) => {
    try {
      send(message);
    } catch {
      // Closed while the app is torn down, or no storage: no messages.
    }
  };
  const announce = (entry: Entry) => post({ type: 'state', ...entry });

  inject(DestroyRef).onDestroy(() => {
    destroyed = true;
    closeWire();
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
    const message = type === 'state' ? asEntry(data) : null;
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
  function holds(entry: Entry): boolean {
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
  function apply(entry: Entry, locked?: boolean): void {
    const pair = entry.record;
    known = entry;
    if (!pair) {
      if (held()) {
        if (!locked) cut();
        zone.run(() => host.end('other-tab', { broadcast: false }));
      }
    } else if (!holds(entry)) {
      const adopted = zone.run(() => host.adopt({ ...pair }, { fresh: false, from: 'other-tab' }));
      if (typeof adopted === 'string' && (typeof ngDevMode === 'undefined' || ngDevMode))
        warnOnce((warned ??= new Set()), `another tab shared an unusable token (${adopted}); it is ignored here.`);
    }
  }

  /**
   * What the store holds, taken in: nothing stored yet makes the pair held here the shared one; a
   * newer logout ends the session here; a newer entry of the pair held here is its place in the
   * order. Returns a newer entry holding another pair, for the caller to decide.
   */
  function look(best: Entry | null, locked?: boolean): Entry | undefined {
    if (!best) {
      // Nothing stored yet: the pair held here, not yet placed in the origin's order, becomes
      // the shared one.
      const record = held();
      if (record && !known.version) track(write((known = own(record))));
    } else {
      learn(best);
      if (newer(best, known)) {
        if (best.record && !holds(best)) return best;
        apply(best, locked);
      }
    }
    return undefined;
  }

  function publish(record: JotRecord | null, refreshed = false): void {
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
      mutex(async () => {
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
    const candidate = look(best, true);
    const base = held()?.version ?? 0;
    try {
      return await zone.run(() => fn(best?.record ? { ...best.record, version: candidate ? base + 1 : base } : null));
    } finally {
      if (candidate && holds(candidate) && newer(candidate, known)) known = candidate;
    }
  }

  return { publish, exclusive };
}

// ---- ordering ----

function newer(a: Entry, b: Entry): boolean {
  return a.version > b.version || (a.version === b.version && a.by > b.by);
}

function newest(a: Entry | null, b: Entry | null): Entry | null {
  return !a || (b && newer(b, a)) ? b : a;
}

/** Only what travels, well-typed: for this tab's record and for what another tab sent alike. */
function pairOf(record: JotRecord): Pair {
  const { accessToken, refreshToken, skew, remember, endsAt } = record;
  return {
    accessToken,
    refreshToken: typeof refreshToken === 'string' ? refreshToken : null,
    skew: typeof skew === 'number' ? skew : undefined,
    remember: typeof remember === 'boolean' ? remember : undefined,
    endsAt: typeof endsAt === 'number' ? endsAt : undefined,
  };
}

function asEntry(value: unknown): Entry | null {
  const { version, by, record } = Object(value) as {
    version?: unknown;
    by?: unknown;
    record?: { accessToken?: unknown } | null;
  };
  // A safe integer: past 2 ** 53, `clock + 1 === clock` and the order of every tab would stop.
  return Number.isSafeInteger(version) &&
    typeof by === 'string' &&
    // A record with any badly typed field is ignored whole, like a malformed token.
    (record === null || (typeof record?.accessToken === 'string' && !badRecordField(record)))
    ? { version: version as number, by, record: record && pairOf(record as JotRecord) }
    : null;
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The JSON value under `key` in localStorage, or null; throws when storage or JSON does. */
function load(win: Window, key: string): unknown {
  return JSON.parse(win.localStorage.getItem(key) ?? 'null');
}

function save(win: Window, key: string, value: unknown): void {
  win.localStorage.setItem(key, JSON.stringify(value));
}

/** The entry in IndexedDB; a connection or transaction that fails hands over to `backup` for good. */
function idbStore(idb: IDBFactory, backup: Store): [Store, close: () => void] {
  let db: Promise<IDBDatabase> | null = null;
  let broken = false;
  let closed = false;
  const open = () =>
    (db ??= new Promise<IDBDatabase>((resolve, reject) => {
      if (closed) throw Error('closed');
      const request = idb.open(NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(DB_STORE);
      request.onsuccess = () => {
        const conn = request.result;
        // A future version of this library upgrading the database: let it.
        conn.onversionchange = () => {
          conn.close();
          db = null;
        };
        resolve(conn);
      };
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- in an error event, `error` is the DOMException (typed nullable).
      request.onerror = () => reject(request.error);
    }));
  const io: Store = (body, readonly) =>
    broken
      ? backup(body)
      : open()
          .then(
            (conn) =>
              new Promise<ReturnType<typeof body>>((resolve, reject) => {
                // Read and write in one transaction: a newer entry another tab committed stays.
                const tx = conn.transaction(DB_STORE, readonly ? 'readonly' : 'readwrite');
                const os = tx.objectStore(DB_STORE);
                const get = os.get(DB_KEY);
                let value: ReturnType<typeof body>;
                get.onsuccess = () => (value = body(asEntry(get.result), (entry) => os.put(entry, DB_KEY)));
                tx.oncomplete = () => resolve(value);
                // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the transaction's DOMException (null on an explicit abort, which this code never makes).
                tx.onerror = tx.onabort = () => reject(tx.error);
              }),
          )
          .catch(() => {
            broken = true;
            return backup(body);
          });
  return [
    io,
    () => {
      closed = true;
      void db?.then((conn) => conn.close(), noop);
      db = null;
    },
  ];
}

/** The entry in localStorage (no IndexedDB): whole, under one key. */
function localStore(win: Window): Store {
  // async, though nothing is awaited: a throw (bad JSON, storage refused) becomes a rejection the caller handles.
  // eslint-disable-next-line @typescript-eslint/require-await -- see above.
  return async (body) => body(asEntry(load(win, SHARED_KEY)), (entry) => save(win, SHARED_KEY, entry));
}

function webLockMutex(locks: LockManager, fallback: Mutex): Mutex {
  return <T>(fn: () => Promise<T>) => {
    let entered = false;
    // The lock is held until the callback's promise settles; request() resolves with its value.
    // Locks refused, at once or later (e.g. a sandboxed frame): the lease instead.
    return new Promise<T>((resolve) =>
      resolve(
        locks.request(LOCK, () => {
          entered = true;
          return fn();
        }) as Promise<unknown> as Promise<T>,
      ),
    ).catch((error: unknown): Promise<T> => (entered ? Promise.reject(error) : fallback(fn)));
  };
}

/** A lease in localStorage: claimed, re-read after a pause (the last writer wins), renewed while held. */
function leaseMutex(win: Window, id: string, alive: () => boolean): Mutex {
  const read = () => {
    try {
      const lease = Object(load(win, LEASE_KEY)) as { owner?: unknown; until?: unknown };
      if (typeof lease.owner === 'string' && typeof lease.until === 'number')
        return lease as { owner: string; until: number };
    } catch {
      // Unreadable: as if there were none.
    }
    return null;
  };
  const mine = () => read()?.owner === id;
  const claim = () => save(win, LEASE_KEY, { owner: id, until: Date.now() + LEASE_MS });
  /** One hold at a time within this tab too: the lease names the tab, not the call. */
  let chain: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const run = chain.then(() => hold(fn));
    chain = run.catch(noop);
    return run;
  };
  async function hold<T>(fn: () => Promise<T>): Promise<T> {
    for (;;) {
      // A closed app stops polling; its work (the refresher's, already cancelled) just runs out.
      if (!alive()) return fn();
      const lease = read();
      if (!lease || lease.owner === id || lease.until <= Date.now()) {
        try {
          claim();
        } catch {
          // No storage to coordinate through: this tab goes alone.
          return fn();
        }
        await sleep(LEASE_SETTLE_MS);
        if (mine()) break;
      }
      await sleep(LEASE_RETRY_MS + Math.random() * LEASE_RETRY_MS);
    }
    const renew = setInterval(() => {
      try {
        if (mine()) claim();
      } catch {
        // The lease lapses; the work goes on.
      }
    }, LEASE_MS / 3);
    try {
      return await fn();
    } finally {
      clearInterval(renew);
      try {
        if (mine()) win.localStorage.removeItem(LEASE_KEY);
      } catch {
        // It expires on its own.
      }
    }
  }
}

function channelWire(Channel: typeof BroadcastChannel, receive: (data: unknown) => void): Wire {
  const channel = new Channel(NAME);
  channel.onmessage = (event: MessageEvent) => receive(event.data);
  return [(message) => channel.postMessage(message), () => channel.close()];
}

/** Without BroadcastChannel: `storage` events of one key, which fire in the other tabs only. */
function storageWire(win: Window, receive: (data: unknown) => void): Wire {
  const listener = (event: StorageEvent) => {
    if (event.key !== MESSAGE_KEY || !event.newValue) return;
    try {
      receive(JSON.parse(event.newValue));
    } catch {
      // Not ours.
    }
  };
  win.addEventListener('storage', listener);
  let sent = 0;
  return [
    // The counter makes each message a change, so the event fires even for a repeat.
    (message) => save(win, MESSAGE_KEY, { ...message, n: `${Date.now()}-${sent++}` }),
    () => win.removeEventListener('storage', listener),
  ];
}
