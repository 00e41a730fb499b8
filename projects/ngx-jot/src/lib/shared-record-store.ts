/*
 * The shared record store: where the origin's session state lives between tabs, whole, as one
 * entry `{ version, by, record }` (never token by token, so no tab sees half a pair). IndexedDB
 * where present (its transaction completes before the refresh lock is released, which
 * localStorage does not guarantee between tabs in Chromium), localStorage otherwise.
 */
import type { JotRecord } from './storage';
import { badRecordField } from './storage';

/** The IndexedDB database (also the BroadcastChannel's name). */
export const SHARED_NAME = 'ngx-jot';
const DB_STORE = 'sync';
const DB_KEY = 'record';
/** localStorage key of the entry without IndexedDB. */
const SHARED_KEY = 'ngx-jot-shared';

/** A pair as it travels between tabs. */
export interface SharedPair {
  accessToken: string;
  refreshToken: string | null;
  skew?: number;
  /** Kept in local storage ("remember me"): the tab that refreshes next writes it there too. */
  remember?: boolean;
  /** The absolute end learned from `refresh_expires_in` (JotRecord.endsAt). */
  endsAt?: number;
}

/**
 * A state of the origin's session (`record: null` is logged out), ordered by (version, by):
 * `version` is max(last seen + 1, Date.now()), `by` the writing tab's random id.
 */
export interface SharedEntry {
  version: number;
  by: string;
  record: SharedPair | null;
}

/**
 * Where the shared entry lives: runs `body` with the stored entry, atomically with the `put` it
 * may make, and resolves with what `body` returned once that is committed.
 */
export type SharedRecordStore = <T>(
  body: (current: SharedEntry | null, put: (entry: SharedEntry) => void) => T,
  readonly?: boolean,
) => Promise<T>;

const noop = () => undefined;

/** `a` comes after `b` in the origin's order: a higher version, ties broken by the writing tab's id. */
export function newer(a: SharedEntry, b: SharedEntry): boolean {
  return a.version > b.version || (a.version === b.version && a.by > b.by);
}

/** The later of two entries (either may be null). */
export function newest(a: SharedEntry | null, b: SharedEntry | null): SharedEntry | null {
  return !a || (b && newer(b, a)) ? b : a;
}

/** Only what travels, well-typed: for this tab's record and for what another tab sent alike. */
export function pairOf(record: JotRecord): SharedPair {
  const { accessToken, refreshToken, skew, remember, endsAt } = record;
  return {
    accessToken,
    refreshToken: typeof refreshToken === 'string' ? refreshToken : null,
    skew: typeof skew === 'number' ? skew : undefined,
    remember: typeof remember === 'boolean' ? remember : undefined,
    endsAt: typeof endsAt === 'number' ? endsAt : undefined,
  };
}

/** A well-formed entry, or null: what is read or received is checked whole before it is used. */
export function readSharedEntry(value: unknown): SharedEntry | null {
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

/** The JSON value under `key` in localStorage, or null; throws when storage or JSON does. */
export function load(win: Window, key: string): unknown {
  return JSON.parse(win.localStorage.getItem(key) ?? 'null');
}

export function save(win: Window, key: string, value: unknown): void {
  win.localStorage.setItem(key, JSON.stringify(value));
}

/** The entry in IndexedDB; a connection or transaction that fails hands over to `backup` for good. */
export function indexedDbStore(idb: IDBFactory, backup: SharedRecordStore): [SharedRecordStore, close: () => void] {
  let db: Promise<IDBDatabase> | null = null;
  let broken = false;
  let closed = false;
  const open = () =>
    (db ??= new Promise<IDBDatabase>((resolve, reject) => {
      if (closed) throw Error('closed');
      const request = idb.open(SHARED_NAME, 1);
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
  const io: SharedRecordStore = (body, readonly) =>
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
                get.onsuccess = () => (value = body(readSharedEntry(get.result), (entry) => os.put(entry, DB_KEY)));
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
export function localStorageStore(win: Window): SharedRecordStore {
  // async, though nothing is awaited: a throw (bad JSON, storage refused) becomes a rejection the caller handles.
  // eslint-disable-next-line @typescript-eslint/require-await -- see above.
  return async (body) => body(readSharedEntry(load(win, SHARED_KEY)), (entry) => save(win, SHARED_KEY, entry));
}

/** A store that neither answers nor fails (a blocked database) must not keep the lock forever. */
const IO_TIMEOUT_MS = 5_000;

/**
 * This tab's access to the shared record store: reads bounded by IO_TIMEOUT_MS, writes that keep
 * a newer entry, and the writes still on their way (committed before the lock is released).
 */
export class SharedStoreAccess {
  readonly #store: SharedRecordStore;
  /** Runs `fn` outside Angular's zone: storage and timers are no work of the app. */
  readonly #outside: <T>(fn: () => T) => T;
  /** This tab's writes not yet committed (their values are not kept). */
  #writes: Promise<unknown> = Promise.resolve();

  constructor(store: SharedRecordStore, outside: <T>(fn: () => T) => T) {
    this.#store = store;
    this.#outside = outside;
  }

  /** The stored entry, or null (none, unreadable, or no answer in time). */
  read(): Promise<SharedEntry | null> {
    return this.bounded(
      this.#outside(() => this.#store((current) => current, true)),
      null,
    );
  }

  /**
   * Stores `entry` unless a newer entry is there already. With `since`, only if no other tab
   * stored a state newer than `since`, and resolves with that state instead.
   */
  write(entry: SharedEntry, since?: SharedEntry): Promise<SharedEntry | null> {
    return this.#outside(() =>
      this.#store((current, put) => {
        // Another tab's state stored after `since`: it wins over an entry based on `since`.
        if (since && current && current.by !== entry.by && newer(current, since)) return current;
        if (!current || !newer(current, entry)) put(entry);
        return null;
      }),
    );
  }

  /** Counts `write` among the writes to commit before the lock is released. */
  track(write: Promise<unknown>): void {
    // `.then(noop)`: Promise.all's value is the array of its inputs' values, so chaining on it
    // would keep every earlier write's value alive, nested, for the life of the tab.
    this.#writes = Promise.all([this.#writes, write.catch(noop)]).then(noop);
  }

  /** Settles when this tab's writes are committed (or after IO_TIMEOUT_MS). */
  flushed(): Promise<unknown> {
    return this.bounded(this.#writes, null);
  }

  /** `io`, or `fallback` when it fails or takes longer than IO_TIMEOUT_MS. */
  bounded<T>(io: Promise<T>, fallback: T): Promise<T> {
    return new Promise<T>((resolve) => {
      const timer = this.#outside(() => setTimeout(resolve, IO_TIMEOUT_MS, fallback));
      void io.then(resolve, () => resolve(fallback)).then(() => clearTimeout(timer));
    });
  }
}
