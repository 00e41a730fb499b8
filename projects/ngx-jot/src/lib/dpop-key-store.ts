/*
 * Where the DPoP keys live: IndexedDB, one entry per key under its thumbprint (jkt). Sessions are
 * per tab (sessionStorage by default) while IndexedDB is per origin, so each session keeps its own
 * key: another tab's login or logout never changes the key this tab's tokens are bound to.
 * IndexedDB keeps a CryptoKey by structured clone, so the private key stays non-extractable there
 * too. An entry lists the `ath` of the access tokens answered to the token calls its key signed
 * (how a session, or a reloaded tab, finds its key again) and of those the server said were
 * DPoP-bound (`token_type: DPoP`). DpopKeyring is what withDpop() holds of it.
 */
import { type DpopKey, athOf, createDpopKey } from './dpop-proof';
import { decodeToken } from './jwt-session';

/** The IndexedDB database of withDpop(). */
export const DPOP_DB_NAME = 'ngx-jot-dpop';
const DB_STORE = 'keys';
/** How many tokens a key remembers (the current one and a few it replaced). */
const TOKENS_KEPT = 4;

/** A DPoP key as stored (the entry under its jkt); the `ath` lists are newest last. */
export interface StoredDpopKey extends DpopKey {
  /** The access tokens answered to a login or refresh call this key signed: the sessions using it. */
  readonly issued: readonly string[];
  /** Of those, the ones the server said are DPoP-bound. */
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

/** An entry as read: one of the one-key-per-origin layout (before keys by jkt) has no `issued`. */
type ReadDpopKey = Omit<StoredDpopKey, 'issued'> & { readonly issued?: readonly string[] };

/** Every stored key. */
async function readDpopKeys(): Promise<StoredDpopKey[]> {
  const entries = await transact<ReadDpopKey[]>('readonly', (store, done) => {
    const request = store.getAll();
    request.onsuccess = () => done(request.result as ReadDpopKey[]);
  });
  // The old layout's bound tokens are its session's.
  return (entries ?? []).map((entry) => ({ ...entry, issued: entry.issued ?? entry.bound }));
}

/** Stores `key` under its jkt, with no token issued to it yet. */
export async function writeDpopKey(key: DpopKey): Promise<StoredDpopKey> {
  const entry: StoredDpopKey = { keys: key.keys, jwk: key.jwk, jkt: key.jkt, issued: [], bound: [] };
  await transact('readwrite', (store) => store.put(entry, key.jkt));
  return entry;
}

/**
 * Notes that the token with this `ath` was answered to a call signed by the key `jkt` (and whether
 * it is bound); in one transaction, so a logout meanwhile is never undone.
 */
async function noteIssuedToken(jkt: string, ath: string, bound: boolean): Promise<void> {
  await transact('readwrite', (store) => {
    const request = store.get(jkt);
    request.onsuccess = () => {
      const stored = request.result as StoredDpopKey | undefined;
      if (!stored) return;
      const add = (list: readonly string[]) => (list.includes(ath) ? list : [...list, ath].slice(-TOKENS_KEPT));
      store.put({ ...stored, issued: add(stored.issued), bound: bound ? add(stored.bound) : stored.bound }, jkt);
    };
  });
}

/** Forgets the key `jkt` (its session's logout); the other sessions' keys stay. */
export async function deleteDpopKey(jkt: string): Promise<void> {
  await transact('readwrite', (store) => store.delete(jkt));
}

/** The `cnf.jkt` of a JWT access token: the key the server bound it to. */
function boundJktOf(token: string): unknown {
  const decoded = decodeToken(token);
  return 'claims' in decoded ? (decoded.claims as { cnf?: { jkt?: unknown } }).cnf?.jkt : undefined;
}

/**
 * The keys as one tab holds them: the key of this tab's session (found once per session by its
 * access token, never "the latest one stored", which may be another tab's), made at a login, and
 * which tokens are bound to which key.
 */
export class DpopKeyring {
  /** One key for the origin across sessions (`keyPerSession: false`). */
  readonly #shared: boolean;
  /** The key as found for a session. */
  #held: { session: unknown; key: Promise<StoredDpopKey | null> } | null = null;
  /** The jkt each access token was answered to, by this tab (in memory; their `ath` also in IndexedDB). */
  readonly #issued = new Map<string, { jkt: string; bound: boolean }>();

  constructor(shared: boolean) {
    this.#shared = shared;
  }

  /**
   * The key of the session holding `token` (made and stored when `create` and it has none).
   * `session` only tells when to look again.
   */
  current(session: unknown, token: string | undefined, create: boolean): Promise<StoredDpopKey | null> {
    let held = this.#held;
    if (!held || held.session !== session) held = this.#held = { session, key: this.#find(token) };
    return held.key.then((stored) => {
      if (stored || !create) return stored;
      // A second caller meanwhile shares the key being made.
      if (this.#held === held) this.#held = { session, key: createDpopKey().then(writeDpopKey) };
      return this.#held?.key ?? null;
    });
  }

  /** The key of the session holding `token`: noted at its token call, else its `cnf.jkt`, else the key whose call it answered. */
  async #find(token: string | undefined): Promise<StoredDpopKey | null> {
    const known = token === undefined ? undefined : (this.#issued.get(token)?.jkt ?? boundJktOf(token));
    const ath = token === undefined ? undefined : await athOf(token);
    const keys = await readDpopKeys();
    const found = keys.find((entry) => entry.jkt === known || (ath !== undefined && entry.issued.includes(ath)));
    return found ?? (this.#shared ? (keys[0] ?? null) : null);
  }

  /** A new key under its own jkt (a login: a new session gets a new key). */
  renew(session: unknown): Promise<StoredDpopKey | null> {
    const key = createDpopKey().then(writeDpopKey);
    this.#held = { session, key };
    return key;
  }

  /** Forgets the key of the session that held `token`, here and in IndexedDB (its logout). */
  forget(token: string | undefined): void {
    // Looked up before the notes of this tab's token calls are cleared (#find reads them at once).
    const key = this.#find(token);
    this.#held = null;
    this.#issued.clear();
    void key.then((stored) => (stored ? deleteDpopKey(stored.jkt) : undefined)).catch(() => undefined);
  }

  /** The server issued `token` bound to `key`: it said so (`token_type: DPoP`), or the token's `cnf.jkt` names the key. */
  isBound(token: string, ath: string, key: StoredDpopKey): boolean {
    const issued = this.#issued.get(token);
    if (issued?.bound) return issued.jkt === key.jkt;
    return key.bound.includes(ath) || boundJktOf(token) === key.jkt;
  }

  /**
   * The call signed by `key` was answered with `token` (bound or not): known here at once; resolves
   * once IndexedDB knows it too.
   */
  noteIssued(token: string, key: StoredDpopKey, bound: boolean): Promise<void> {
    if (this.#issued.size >= TOKENS_KEPT) this.#issued.clear();
    this.#issued.set(token, { jkt: key.jkt, bound });
    // A failed write loses only what a reloaded tab knows of this token (a JWT may say it by cnf.jkt).
    return athOf(token)
      .then((ath) => noteIssuedToken(key.jkt, ath, bound))
      .catch(() => undefined);
  }
}
