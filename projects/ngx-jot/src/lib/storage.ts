import type { JotTokens } from './config';
import { warnOnce } from './errors';

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
  private readonly written = new Set<'primary' | 'remember'>();
  private remember: JotTokenStore | null = null;
  private degraded = false;

  constructor(
    private primary: JotTokenStore,
    private readonly rememberFactory: (() => JotTokenStore) | null,
    private readonly warned: Set<string>,
  ) {}

  /** Reads the configured store, then the "remember me" store. */
  read(): { record: JotRecord | null; remember: boolean } | Promise<{ record: JotRecord | null; remember: boolean }> {
    const fromPrimary = this.guard('primary', () => this.primary.get(), null);
    // The store a session is read from counts as written: a later login elsewhere clears it.
    const found = (record: JotTokens | null, remember: boolean) => {
      if (record) this.written.add(remember ? 'remember' : 'primary');
      return { record, remember: remember && !!record };
    };
    const then = (record: JotTokens | null) => {
      if (record) return found(record, false);
      const rem = this.rememberStore();
      const fromRemember = rem ? this.guard('remember', () => rem.get(), null) : null;
      return isPromise(fromRemember) ? fromRemember.then((r) => found(r, true)) : found(fromRemember, true);
    };
    return isPromise(fromPrimary) ? fromPrimary.then(then) : then(fromPrimary);
  }

  /** Writes synchronously where the store allows, so a reload right after sees the change. */
  write(record: JotRecord | null, remember = false): void {
    const target = remember ? 'remember' : 'primary';
    if (record) {
      this.written.add(target);
      // `void`: guard() already catches an async store's failure; writes are not awaited.
      void this.guard(target, () => this.store(target)?.set(record), undefined);
      // A session lives in one store only: "remember me" moves it out of the default store.
      const other = target === 'primary' ? 'remember' : 'primary';
      if (this.written.has(other)) void this.guard(other, () => this.store(other)?.set(null), undefined);
    } else {
      void this.guard('primary', () => this.primary.set(null), undefined);
      // "Remember me" may have been written by another tab or an earlier visit: always cleared.
      void this.guard('remember', () => this.rememberStore()?.set(null), undefined);
      this.written.clear();
    }
  }

  private rememberStore(): JotTokenStore | null {
    if (!this.remember && this.rememberFactory) this.remember = this.rememberFactory();
    return this.remember;
  }

  private store(which: 'primary' | 'remember'): JotTokenStore | null {
    return which === 'primary' ? this.primary : this.rememberStore();
  }

  private guard<T>(which: 'primary' | 'remember', fn: () => T | Promise<T>, fallback: T): T | Promise<T> {
    try {
      const result = fn();
      return isPromise(result) ? result.catch((e: unknown) => this.degrade(which, e, fallback)) : result;
    } catch (e) {
      return this.degrade(which, e, fallback);
    }
  }

  private degrade<T>(which: 'primary' | 'remember', error: unknown, fallback: T): T {
    if (!this.degraded) {
      this.degraded = true;
      if (typeof ngDevMode === 'undefined' || ngDevMode)
        warnOnce(
          this.warned,
          `the ${which === 'primary' ? 'token' : '"remember me" (local)'} storage failed (${String(error)}); ` +
            `keeping the session in memory for this page instead. Use withStorage('memory') or a custom JotTokenStore if storage is unavailable here.`,
        );
    }
    const mem = memoryStore();
    if (which === 'primary') this.primary = mem;
    else this.remember = mem;
    return fallback;
  }
}

export function isPromise<T>(v: unknown): v is Promise<T> {
  return !!v && typeof (v as Promise<T>).then === 'function';
}
