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
 */
import { DOCUMENT } from '@angular/common';
import { DestroyRef, NgZone, inject } from '@angular/core';

import { warnOnce } from './errors';
import { JotFeatureKind, type JotFeature } from './provide-jot';
import type { JotRecord } from './storage';
import { JOT_CROSS_TAB, type JotCrossTab, type JotHost } from './tokens';

const CHANNEL = 'ngx-jot';
const LOCK = 'ngx-jot-refresh';
const DB_NAME = 'ngx-jot';
const DB_STORE = 'sync';
const DB_KEY = 'record';
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
}

/** A state of the origin's session (`record: null` is logged out), ordered by (version, by). */
interface Entry {
  version: number;
  by: string;
  record: Pair | null;
}

type Stamp = Pick<Entry, 'version' | 'by'>;
type Message = ({ type: 'state' } & Entry) | { type: 'hello'; by: string };

/** Where the shared entry lives: IndexedDB, or localStorage without it. */
interface SharedStore {
  read(): Promise<Entry | null>;
  /**
   * Resolves once committed; keeps a newer entry already there. With `since`, writes only if no
   * other tab stored a state newer than `since`, and resolves with that state instead.
   */
  write(entry: Entry, since?: Entry): Promise<Entry | null>;
  close(): void;
}

/** Another tab's state stored after `since`: it wins over an entry based on `since`. */
function overtaken(current: Entry | null, since: Entry | undefined, entry: Entry): Entry | null {
  return since && current && current.by !== entry.by && newer(current, since) ? current : null;
}

/** Runs `fn` holding the origin-wide refresh lock. `fn` never rejects. */
type Mutex = <T>(fn: () => Promise<T>) => Promise<T>;

interface Wire {
  post(message: Message): void;
  close(): void;
}

/** The lock as held by this tab. A session ending here cuts the hold short. */
interface Hold {
  readonly ended: Promise<void>;
  /** Past its work: a later call waits for the lock like any other. */
  readonly over: boolean;
  end(): void;
  /** Calls made by the holder's own work, awaited before release. */
  readonly nested: Promise<unknown>[];
}

const noop = () => undefined;

/** Made in JotAuth's injection context, in the browser only. */
export function createCrossTab(host: JotHost): JotCrossTab {
  const win = inject(DOCUMENT, { optional: true })?.defaultView ?? null;
  const zone = inject(NgZone);
  const destroyRef = inject(DestroyRef);
  if (!win) return { publish: noop, exclusive: (fn) => fn(null) };

  const id = randomId(win);
  const local = () => win.localStorage;
  const idb = probe(() => win.indexedDB);
  const locks = probe(() => win.navigator.locks);
  const Channel = probe(() => win.BroadcastChannel);
  const backup = localSharedStore(local);
  const store = idb ? idbSharedStore(idb, backup) : backup;
  const lease = leaseMutex(local, id, () => !destroyed);
  const mutex = locks ? webLockMutex(locks, lease) : lease;
  const warned = new Set<string>();

  /** Highest version seen: the next state this tab makes is ordered after it. */
  let clock = 0;
  /** The state this tab holds, with its place in the origin's order; version 0 = unknown (a restored pair, before it is confirmed). */
  let known: Entry = { version: 0, by: '', record: null };
  /** A state received while this tab waits for or holds the lock; taken into account under it. */
  let deferred: Entry | null = null;
  let waiting = 0;
  let hold: Hold | null = null;
  let writes: Promise<unknown> = Promise.resolve();
  let destroyed = false;

  const tick = () => (clock = Math.max(clock + 1, Date.now()));
  const learn = (version: number) => (clock = Math.max(clock, version));
  const track = (write: Promise<void>) => {
    writes = Promise.all([writes, write.catch(noop)]);
  };
  /** `io`, or `fallback` when it fails or takes longer than IO_TIMEOUT_MS. */
  const bounded = <T>(io: Promise<T>, fallback: T) =>
    new Promise<T>((resolve) => {
      const timer = zone.runOutsideAngular(() => setTimeout(() => resolve(fallback), IO_TIMEOUT_MS));
      const done = (value: T) => {
        clearTimeout(timer);
        resolve(value);
      };
      io.then(done, () => done(fallback));
    });
  const read = () =>
    bounded(
      zone.runOutsideAngular(() => store.read()),
      null,
    );
  const write = (entry: Entry) => track(zone.runOutsideAngular(() => store.write(entry)).then(noop));
  const flushed = () => bounded(writes.then(noop), undefined);

  const wire = zone.runOutsideAngular(() =>
    Channel ? channelWire(Channel, receive) : storageWire(win, local, receive),
  );

  destroyRef.onDestroy(() => {
    destroyed = true;
    wire.close();
    hold?.end();
    store.close();
  });

  // The factory runs before JotAuth restores the session: look at it once that is done.
  zone.runOutsideAngular(() => void start());

  async function start(): Promise<void> {
    const stored = await read();
    if (destroyed) return;
    if (stored) {
      learn(stored.version);
      zone.run(() => {
        if (!newer(stored, known)) return;
        const held = host.record();
        // Logged out elsewhere since this pair was stored: it ends here too.
        if (!stored.record) apply(stored);
        else if (held && samePair(held, stored.record)) known = stored;
        // Another pair, or none held: a restored pair of unknown age is settled by the next
        // message or under the lock (a write may still be on its way), and a new tab takes a
        // session only from a live tab (below), not from disk.
      });
    } else {
      const held = host.record();
      if (held && known.version === 0) seed(held);
    }
    wire.post({ type: 'hello', by: id });
  }

  function receive(data: unknown): void {
    if (destroyed) return;
    const message = asMessage(data);
    if (!message) return;
    if (message.type === 'hello') {
      answer();
      return;
    }
    learn(message.version);
    // Stale, or a state this tab already holds.
    if (!newer(message, known)) return;
    // A refresh here is waiting for the lock: what another tab stored is read under it, where
    // the refresher decides; adopting now would make it refresh the adopted pair once more.
    if (message.record && (waiting > 0 || hold)) {
      deferred = newest(deferred, message);
      return;
    }
    zone.run(() => apply(message));
  }

  /** Takes a newer state of another tab, without broadcasting it again. */
  function apply(entry: Entry): void {
    const held = host.record();
    known = entry;
    if (!entry.record) {
      if (held) {
        hold?.end();
        host.end('other-tab', { broadcast: false });
      }
      return;
    }
    if (held && samePair(held, entry.record)) return;
    const adopted = host.adopt({ ...entry.record }, { fresh: false, from: 'other-tab' });
    if (typeof adopted === 'string' && (typeof ngDevMode === 'undefined' || ngDevMode))
      warnOnce(warned, `another tab shared an unusable token (${adopted}); it is ignored here.`);
  }

  /** A new tab asked what the session is: the state this tab holds, if it knows its place. */
  function answer(): void {
    const held = host.record();
    const current = held ? known.record && samePair(held, known.record) : !known.record;
    if (known.version > 0 && current) wire.post({ type: 'state', ...known });
  }

  /** Gives a pair no other tab has stored a place in the origin's order, and stores it. */
  function seed(held: JotRecord): void {
    known = { version: tick(), by: id, record: pairOf(held) };
    write(known);
  }

  function publish(record: JotRecord | null, refreshed = false): void {
    if (destroyed) return;
    // Under the lock only this tab refreshes, so a state that arrived meanwhile is another tab's
    // login or setTokens, made after this refresh began: it wins. The refreshed pair is not
    // announced (it would outrank that state), and drain() applies the other state here too.
    if (refreshed && hold && !hold.over && deferred?.record) return;
    const entry: Entry = { version: tick(), by: id, record: record && pairOf(record) };
    if (refreshed && record && hold && !hold.over) {
      // A logout or login elsewhere may have been stored while the refresh was on the wire, with
      // its message lost (BroadcastChannel is not reliable around the lock): the refreshed pair is
      // stored only if nothing newer than the state it refreshed was, and announced only then.
      const since = known;
      known = entry;
      // Bounded: a store that never answers must not swallow the announcement (the others would
      // then refresh with a spent token); it goes out before this tab's lock is released.
      track(
        bounded(
          zone.runOutsideAngular(() => store.write(entry, since)),
          null,
        ).then((winner) =>
          zone.run(() => {
            if (winner) apply(winner);
            else wire.post({ type: 'state', ...entry });
          }),
        ),
      );
      return;
    }
    known = entry;
    // The session ended here: a refresh under the lock is void; the lock goes once this is stored.
    if (!record) hold?.end();
    wire.post({ type: 'state', ...entry });
    write(entry);
  }

  function exclusive<T>(fn: (shared: JotRecord | null) => Promise<T>): Promise<T> {
    if (destroyed) return fn(null);
    if (hold && !hold.over) {
      // Only the holder's own work asks while the lock is held (the refresher looking at the
      // store once more before it gives up): it is ours already, and waiting would deadlock.
      const run = underLock(fn);
      hold.nested.push(run);
      return run;
    }
    waiting++;
    let entered = false;
    const locked = zone.runOutsideAngular(() =>
      mutex(async () => {
        entered = true;
        waiting--;
        const current = (hold = newHold());
        try {
          const run = underLock(fn);
          await Promise.race([run.then(noop, noop), current.ended]);
          while (current.nested.length > 0 && !current.over) {
            await Promise.race([Promise.all(current.nested.splice(0).map((p) => p.then(noop, noop))), current.ended]);
          }
          current.end();
          // Whatever this tab now holds is committed before another tab may read it.
          await flushed();
          return { run };
        } finally {
          hold = null;
          drain();
        }
      }),
    );
    return locked.then(
      (box) => box.run,
      (error: unknown) => {
        if (!entered) {
          waiting--;
          drain();
        }
        throw error;
      },
    );
  }

  /** Reads the shared state (what this tab wrote last included) and runs `fn` with it. */
  async function underLock<T>(fn: (shared: JotRecord | null) => Promise<T>): Promise<T> {
    // Granted after the app was closed: nothing to read (and no database to reopen).
    if (destroyed) return fn(null);
    await flushed();
    const stored = await read();
    const best = newest(stored, deferred);
    deferred = null;
    if (best) learn(best.version);
    let candidate: Entry | null = null;
    const shared = zone.run((): JotRecord | null => {
      const held = host.record();
      if (!best) {
        // Nothing stored yet: the pair held here becomes the shared one.
        if (held && known.version === 0) seed(held);
        return null;
      }
      if (!best.record) {
        if (newer(best, known)) {
          known = best;
          if (held) host.end('other-tab', { broadcast: false });
        }
        return null;
      }
      const isNewer = newer(best, known) && !(held && samePair(held, best.record));
      if (held && samePair(held, best.record) && newer(best, known)) known = best;
      if (isNewer) candidate = best;
      const base = held?.version ?? 0;
      return { ...best.record, version: isNewer ? base + 1 : base };
    });
    try {
      return await zone.run(() => fn(shared));
    } finally {
      const held = host.record();
      const taken = candidate as Entry | null;
      if (taken?.record && held && samePair(held, taken.record) && newer(taken, known)) known = taken;
    }
  }

  /** After the lock: a state that arrived meanwhile and is still newer. */
  function drain(): void {
    const entry = deferred;
    if (!entry || waiting > 0 || hold || destroyed) return;
    deferred = null;
    if (newer(entry, known)) zone.run(() => apply(entry));
  }

  return { publish, exclusive };
}

// ---- ordering ----

function newer(a: Stamp, b: Stamp): boolean {
  return a.version > b.version || (a.version === b.version && a.by > b.by);
}

function newest(a: Entry | null, b: Entry | null): Entry | null {
  if (!a) return b;
  if (!b) return a;
  return newer(b, a) ? b : a;
}

/** Same tokens. The refresh token counts: consecutive access tokens can be byte-identical. */
function samePair(a: JotRecord | Pair, b: Pair): boolean {
  return a.accessToken === b.accessToken && (a.refreshToken ?? null) === b.refreshToken;
}

function pairOf(record: JotRecord): Pair {
  return {
    accessToken: record.accessToken,
    refreshToken: record.refreshToken ?? null,
    skew: record.skew,
    remember: record.remember,
  };
}

function asEntry(value: unknown): Entry | null {
  if (!value || typeof value !== 'object') return null;
  const { version, by, record } = value as Partial<Entry>;
  if (typeof version !== 'number' || !Number.isFinite(version) || typeof by !== 'string') return null;
  if (record === null) return { version, by, record: null };
  if (!record || typeof record !== 'object' || typeof record.accessToken !== 'string') return null;
  return {
    version,
    by,
    record: {
      accessToken: record.accessToken,
      refreshToken: typeof record.refreshToken === 'string' ? record.refreshToken : null,
      skew: typeof record.skew === 'number' ? record.skew : undefined,
      remember: typeof record.remember === 'boolean' ? record.remember : undefined,
    },
  };
}

function asMessage(value: unknown): Message | null {
  if (!value || typeof value !== 'object') return null;
  const { type, by } = value as { type?: unknown; by?: unknown };
  if (type === 'hello') return typeof by === 'string' ? { type, by } : null;
  if (type !== 'state') return null;
  const entry = asEntry(value);
  return entry && { type, ...entry };
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

function newHold(): Hold {
  let resolve = noop as () => void;
  const hold = {
    ended: new Promise<void>((r) => (resolve = r)),
    over: false,
    end: () => {
      hold.over = true;
      resolve();
    },
    nested: [] as Promise<unknown>[],
  };
  return hold;
}

/** The entry in IndexedDB; a connection or transaction that fails hands over to `backup` for good. */
function idbSharedStore(idb: IDBFactory, backup: SharedStore): SharedStore {
  let db: Promise<IDBDatabase> | null = null;
  let broken = false;
  let closed = false;
  const open = () =>
    (db ??= new Promise<IDBDatabase>((resolve, reject) => {
      if (closed) {
        reject(new Error('closed'));
        return;
      }
      const request = idb.open(DB_NAME, 1);
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
  /** One transaction; resolves with what `body` reported once it has completed. */
  const run = <T>(mode: IDBTransactionMode, body: (os: IDBObjectStore, report: (value: T) => void) => void) =>
    open().then(
      (conn) =>
        new Promise<T>((resolve, reject) => {
          const tx = conn.transaction(DB_STORE, mode);
          let value: T;
          body(tx.objectStore(DB_STORE), (v) => (value = v));
          tx.oncomplete = () => resolve(value);
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the transaction's DOMException (null on an explicit abort, which this code never makes).
          tx.onerror = tx.onabort = () => reject(tx.error);
        }),
    );
  const guarded = <T>(primary: () => Promise<T>, fallback: () => Promise<T>) =>
    broken
      ? fallback()
      : primary().catch(() => {
          broken = true;
          return fallback();
        });
  return {
    read: () =>
      guarded(
        () =>
          run<Entry | null>('readonly', (os, report) => {
            const get = os.get(DB_KEY);
            get.onsuccess = () => report(asEntry(get.result));
          }),
        () => backup.read(),
      ),
    write: (entry, since) =>
      guarded(
        () =>
          run<Entry | null>('readwrite', (os, report) => {
            // Read and write in one transaction: a newer entry another tab committed stays.
            report(null);
            const get = os.get(DB_KEY);
            get.onsuccess = () => {
              const current = asEntry(get.result);
              const winner = overtaken(current, since, entry);
              if (winner) report(winner);
              else if (!current || !newer(current, entry)) os.put(entry, DB_KEY);
            };
          }),
        () => backup.write(entry, since),
      ),
    close: () => {
      closed = true;
      void db?.then((conn) => conn.close(), noop);
      db = null;
    },
  };
}

/** The entry in localStorage (no IndexedDB): whole, under one key. */
function localSharedStore(local: () => Storage): SharedStore {
  const read = () => asEntry(JSON.parse(local().getItem(SHARED_KEY) ?? 'null'));
  return {
    // async, though nothing is awaited: a throw (bad JSON, storage refused) becomes a rejection the caller handles.
    // eslint-disable-next-line @typescript-eslint/require-await -- see above.
    read: async () => read(),
    // eslint-disable-next-line @typescript-eslint/require-await -- see above.
    write: async (entry, since) => {
      const current = read();
      const winner = overtaken(current, since, entry);
      if (!winner && (!current || !newer(current, entry))) local().setItem(SHARED_KEY, JSON.stringify(entry));
      return winner;
    },
    close: noop,
  };
}

function webLockMutex(locks: LockManager, fallback: Mutex): Mutex {
  return <T>(fn: () => Promise<T>) => {
    let entered = false;
    let request: Promise<T>;
    try {
      // The lock is held until the callback's promise settles; request() resolves with its value.
      request = locks.request(LOCK, () => {
        entered = true;
        return fn();
      }) as Promise<unknown> as Promise<T>;
    } catch {
      return fallback(fn);
    }
    // Locks refused (e.g. a sandboxed frame): the lease instead.
    return request.catch((error: unknown): Promise<T> => (entered ? Promise.reject(error) : fallback(fn)));
  };
}

/** A lease in localStorage: claimed, re-read after a pause (the last writer wins), renewed while held. */
function leaseMutex(local: () => Storage, id: string, alive: () => boolean): Mutex {
  const read = (): { owner: string; until: number } | null => {
    try {
      const lease: unknown = JSON.parse(local().getItem(LEASE_KEY) ?? 'null');
      const { owner, until } = (lease ?? {}) as { owner?: unknown; until?: unknown };
      return typeof owner === 'string' && typeof until === 'number' ? { owner, until } : null;
    } catch {
      return null;
    }
  };
  const claim = () => local().setItem(LEASE_KEY, JSON.stringify({ owner: id, until: Date.now() + LEASE_MS }));
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
        if (read()?.owner === id) break;
      }
      await sleep(LEASE_RETRY_MS + Math.random() * LEASE_RETRY_MS);
    }
    const renew = setInterval(() => {
      try {
        if (read()?.owner === id) claim();
      } catch {
        // The lease lapses; the work goes on.
      }
    }, LEASE_MS / 3);
    try {
      return await fn();
    } finally {
      clearInterval(renew);
      try {
        if (read()?.owner === id) local().removeItem(LEASE_KEY);
      } catch {
        // It expires on its own.
      }
    }
  }
}

function channelWire(Channel: typeof BroadcastChannel, receive: (data: unknown) => void): Wire {
  const channel = new Channel(CHANNEL);
  channel.onmessage = (event: MessageEvent) => receive(event.data);
  return {
    post: (message) => {
      try {
        channel.postMessage(message);
      } catch {
        // Closed while the app is torn down.
      }
    },
    close: () => channel.close(),
  };
}

/** Without BroadcastChannel: `storage` events of one key, which fire in the other tabs only. */
function storageWire(win: Window, local: () => Storage, receive: (data: unknown) => void): Wire {
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
  return {
    post: (message) => {
      try {
        // The counter makes each message a change, so the event fires even for a repeat.
        local().setItem(MESSAGE_KEY, JSON.stringify({ ...message, n: `${Date.now()}-${sent++}` }));
      } catch {
        // No storage: no messages.
      }
    },
    close: () => win.removeEventListener('storage', listener),
  };
}
