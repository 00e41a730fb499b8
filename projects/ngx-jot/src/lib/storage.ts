import type { JotTokens } from './config';
import { warnOnce } from './errors';
import { isUsableSkew } from './token';

/**
 * Where tokens live. `get()` may return a Promise (Capacitor Preferences, IndexedDB); such a store
 * is restored by an app initializer before the first navigation.
 */
export interface JotTokenStore {
  /** Reads the stored pair, or null. */
  get(): JotTokens | null | Promise<JotTokens | null>;
  /** Stores the pair; null clears it. */
  set(tokens: JotTokens | null): void | Promise<void>;
}

/** The built-in storage choices of `withStorage()`. */
export type JotStorageKind = 'session' | 'local' | 'memory';

/** What the built-in stores persist: the pair plus what was learned when it was received. */
export interface JotRecord extends JotTokens {
  /** Server clock minus local clock (ms). */
  skew?: number;
  /** Increases with every change of the session; lets tabs order what they see. */
  version?: number;
  /** The session lives in local storage ("remember me"); shared so every tab keeps it there. */
  remember?: boolean;
  /** The session's absolute end (local clock, ms), when it was learned from `refresh_expires_in`. */
  endsAt?: number;
}

/**
 * The first field of a record read from a store or from another tab that has the wrong type
 * (the access token itself is judged by `toSession()`), or null when every field is usable.
 */
export function badRecordField(record: object): keyof JotRecord | null {
  const { refreshToken, skew, version, remember, endsAt } = record as Record<keyof JotRecord, unknown>;
  if (refreshToken != null && typeof refreshToken !== 'string') return 'refreshToken';
  if (skew !== undefined && !isUsableSkew(skew)) return 'skew';
  if (version !== undefined && !(Number.isSafeInteger(version) && (version as number) >= 0)) return 'version';
  if (remember !== undefined && typeof remember !== 'boolean') return 'remember';
  if (endsAt !== undefined && !Number.isFinite(endsAt)) return 'endsAt';
  return null;
}

/** Key under which the built-in web stores keep the session. */
export const JOT_STORAGE_KEY = 'ngx-jot';

/** A store that keeps the tokens in this injector only. */
export function memoryStore(): JotTokenStore {
  let value: JotTokens | null = null;
  return { get: () => value, set: (t) => void (value = t) };
}

/** A store over `window.sessionStorage` / `localStorage`; every access may throw (private mode, quota, policies). */
export function webStore(win: Window, kind: 'session' | 'local'): JotTokenStore {
  const storage = () => (kind === 'local' ? win.localStorage : win.sessionStorage);
  return {
    get() {
      const raw = storage().getItem(JOT_STORAGE_KEY);
      if (raw === null) return null;
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        parsed = null;
      }
      // Unreadable JSON is a malformed record, not a broken storage: JotAuth warns once and clears it.
      return parsed && typeof parsed === 'object' ? (parsed as JotRecord) : { accessToken: '' };
    },
    set(tokens) {
      if (tokens) storage().setItem(JOT_STORAGE_KEY, JSON.stringify(tokens));
      else storage().removeItem(JOT_STORAGE_KEY);
    },
  };
}

/**
 * The stores of one application: the configured one, and local storage for "remember me"
 * sessions. A store that throws or rejects is replaced by memory for the rest of the app's
 * life (one dev-mode warning); the session goes on.
 */
export class JotStorage {
  /** [0]: the configured store; [1]: local storage for "remember me", made on first use. */
  readonly #stores: (JotTokenStore | null)[];
  readonly #written = [false, false];
  #degraded = false;

  constructor(
    primary: JotTokenStore,
    private readonly rememberFactory: (() => JotTokenStore) | null,
    private readonly warned: Set<string>,
  ) {
    this.#stores = [primary, null];
  }

  /** Reads the configured store, then the "remember me" store. */
  read(): { record: JotRecord | null; remember: boolean } | Promise<{ record: JotRecord | null; remember: boolean }> {
    // The store a session is read from counts as written: a later login elsewhere clears it.
    const found = (record: JotTokens | null, which: 0 | 1) => {
      if (record) this.#written[which] = true;
      return { record, remember: which === 1 && !!record };
    };
    const then = (record: JotTokens | null) => {
      if (record) return found(record, 0);
      const fromRemember = this.#use(1, (s) => s.get(), null);
      return isPromise(fromRemember) ? fromRemember.then((r) => found(r, 1)) : found(fromRemember, 1);
    };
    const fromPrimary = this.#use(0, (s) => s.get(), null);
    return isPromise(fromPrimary) ? fromPrimary.then(then) : then(fromPrimary);
  }

  /** Writes synchronously where the store allows, so a reload right after sees the change. */
  write(record: JotRecord | null, remember = false): void {
    const target = remember ? 1 : 0;
    for (const which of [0, 1] as const) {
      // A session lives in one store only: "remember me" moves it out of the default store. A
      // logout clears both ("remember me" may have been written by another tab or an earlier visit).
      const value = which === target ? record : null;
      if (value || !record || this.#written[which]) {
        this.#written[which] = !!value;
        // `void`: #use() already catches an async store's failure; writes are not awaited.
        void this.#use(which, (s) => s.set(value), undefined);
      }
    }
  }

  /** Runs `fn` on a store; a store that throws or rejects is replaced by memory. */
  #use<T>(which: 0 | 1, fn: (store: JotTokenStore) => T | Promise<T>, fallback: T): T | Promise<T> {
    if (which && !this.#stores[1] && this.rememberFactory) this.#stores[1] = this.rememberFactory();
    const store = this.#stores[which];
    if (!store) return fallback;
    const degrade = (error: unknown): T => {
      if (!this.#degraded) {
        this.#degraded = true;
        if (typeof ngDevMode === 'undefined' || ngDevMode)
          warnOnce(
            this.warned,
            `the ${which ? '"remember me" (local)' : 'token'} storage failed (${String(error)}); ` +
              `keeping the session in memory for this page instead. Use withStorage('memory') or a custom JotTokenStore if storage is unavailable here.`,
          );
      }
      this.#stores[which] = memoryStore();
      return fallback;
    };
    try {
      const result = fn(store);
      return isPromise(result) ? result.catch(degrade) : result;
    } catch (e) {
      return degrade(e);
    }
  }
}

export function isPromise<T>(v: unknown): v is Promise<T> {
  return !!v && typeof (v as Promise<T>).then === 'function';
}
