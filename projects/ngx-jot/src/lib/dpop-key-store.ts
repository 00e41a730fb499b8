/*
 * Where the DPoP key lives: one IndexedDB entry per origin, shared by its tabs. IndexedDB keeps a
 * CryptoKey by structured clone, so the private key stays non-extractable there too. The entry
 * also lists the `ath` of the tokens the server said were DPoP-bound (`token_type: DPoP`), so a
 * reloaded tab knows an opaque token is bound. DpopKeyring is what withDpop() holds of it.
 */
import { type DpopKey, athOf, createDpopKey } from './dpop-proof';
import { decodeToken } from './jwt-session';

/** The IndexedDB database of withDpop(). */
export const DPOP_DB_NAME = 'ngx-jot-dpop';
const DB_STORE = 'keys';
const DB_KEY = 'key';
/** How many bound tokens are remembered (the current one and a few it replaced). */
const BOUND_KEPT = 4;

/** The DPoP key as stored (the entry), with the `ath` of the tokens issued bound to it, newest last. */
export interface StoredDpopKey extends DpopKey {
  readonly bound: readonly string[];
}

function failure(error: DOMException | null): Error {
  return error ?? new Error('ngx-jot: IndexedDB failed');
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DPOP_DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(DB_STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(failure(request.error));
  });
}

/** Runs `body` in one transaction; resolves with what it read once the transaction has committed. */
async function transact<T>(
  mode: IDBTransactionMode,
  body: (store: IDBObjectStore, done: (value: T) => void) => void,
): Promise<T | undefined> {
  const db = await open();
  try {
    return await new Promise<T | undefined>((resolve, reject) => {
      const transaction = db.transaction(DB_STORE, mode);
      let result: T | undefined;
      body(transaction.objectStore(DB_STORE), (value) => (result = value));
      transaction.oncomplete = () => resolve(result);
      transaction.onerror = transaction.onabort = () => reject(failure(transaction.error));
    });
  } finally {
    db.close();
  }
}

/** The stored key, or null. */
export async function readDpopKey(): Promise<StoredDpopKey | null> {
  const entry = await transact<StoredDpopKey | undefined>('readonly', (store, done) => {
    const request = store.get(DB_KEY);
    request.onsuccess = () => done(request.result as StoredDpopKey | undefined);
  });
  return entry ?? null;
}

/** Stores `key` (replacing any other), with no token bound to it yet. */
export async function writeDpopKey(key: DpopKey): Promise<StoredDpopKey> {
  const entry: StoredDpopKey = { keys: key.keys, jwk: key.jwk, jkt: key.jkt, bound: [] };
  await transact('readwrite', (store) => store.put(entry, DB_KEY));
  return entry;
}

/**
 * Notes that the token with this `ath` is bound to the stored key `jkt`; in one transaction, so a
 * logout or another tab's new key meanwhile is never overwritten.
 */
async function noteBoundToken(jkt: string, ath: string): Promise<void> {
  await transact('readwrite', (store) => {
    const request = store.get(DB_KEY);
    request.onsuccess = () => {
      const stored = request.result as StoredDpopKey | undefined;
      if (stored?.jkt !== jkt || stored.bound.includes(ath)) return;
      store.put({ ...stored, bound: [...stored.bound, ath].slice(-BOUND_KEPT) }, DB_KEY);
    };
  });
}

/** Forgets the key (logout). */
export async function deleteDpopKey(): Promise<void> {
  await transact('readwrite', (store) => store.delete(DB_KEY));
}

/**
 * The key as one tab holds it: read from IndexedDB once per session (another tab may have made a
 * new one at its login), made when a token call needs one, and which tokens are bound to it.
 */
export class DpopKeyring {
  /** The key as read for a session. */
  #held: { session: unknown; key: Promise<StoredDpopKey | null> } | null = null;
  /** Access tokens the server issued as `token_type: DPoP` (in memory; their `ath` also in IndexedDB). */
  readonly #boundTokens = new Set<string>();

  /** The stored key for `session` (made and stored when `create` and there is none). */
  current(session: unknown, create: boolean): Promise<StoredDpopKey | null> {
    let held = this.#held;
    if (!held || held.session !== session) held = this.#held = { session, key: readDpopKey() };
    return held.key.then((stored) => {
      if (stored || !create) return stored;
      // A second caller meanwhile shares the key being made.
      if (this.#held === held) this.#held = { session, key: createDpopKey().then(writeDpopKey) };
      return this.#held?.key ?? null;
    });
  }

  /** A new key, replacing the stored one (a login: a new session gets a new key). */
  renew(session: unknown): Promise<StoredDpopKey | null> {
    this.#boundTokens.clear();
    const key = createDpopKey().then(writeDpopKey);
    this.#held = { session, key };
    return key;
  }

  /** Forgets the key, here and in IndexedDB (logout). */
  forget(): void {
    this.#held = null;
    this.#boundTokens.clear();
    void deleteDpopKey().catch(() => undefined);
  }

  /** The server issued `token` bound to `key`: it said so (`token_type: DPoP`), or the token's `cnf.jkt` names the key. */
  isBound(token: string, ath: string, key: StoredDpopKey): boolean {
    if (this.#boundTokens.has(token) || key.bound.includes(ath)) return true;
    const decoded = decodeToken(token);
    const cnf = 'claims' in decoded ? (decoded.claims as { cnf?: { jkt?: unknown } }).cnf : undefined;
    return cnf?.jkt === key.jkt;
  }

  /** The server issued `token` as DPoP-bound to `key`: known here at once; resolves once IndexedDB knows it too. */
  noteBound(token: string, key: StoredDpopKey): Promise<void> {
    if (this.#boundTokens.size >= BOUND_KEPT) this.#boundTokens.clear();
    this.#boundTokens.add(token);
    // A failed write loses only what a reloaded tab knows of an opaque token (a JWT says it by cnf.jkt).
    return athOf(token)
      .then((ath) => noteBoundToken(key.jkt, ath))
      .catch(() => undefined);
  }
}
