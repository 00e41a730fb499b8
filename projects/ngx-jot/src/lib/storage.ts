import { DOCUMENT, isPlatformBrowser } from '@angular/common';
import { InjectionToken, PLATFORM_ID, inject } from '@angular/core';

import type { JotTokens } from './config';
import { AwaitedRestore, isPromise } from './await-store';
import { JOT_CONFIG } from './config';
import { configError, warnOnce } from './errors';
import { JOT_RESTORE } from './restore-contract';
import { JotFeatureKind, makeJotFeature, type JotFeature } from './feature';
import { isUsableSkew } from './jwt-session';

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
  return { get: () => value, set: (tokens) => void (value = tokens) };
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
      // Unreadable JSON is a malformed record, not a broken storage: restore-session.ts warns once and clears it.
      return parsed && typeof parsed === 'object' ? (parsed as JotRecord) : { accessToken: '' };
    },
    set(tokens) {
      if (tokens) storage().setItem(JOT_STORAGE_KEY, JSON.stringify(tokens));
      else storage().removeItem(JOT_STORAGE_KEY);
    },
  };
}

const isStorageKind = (value: unknown): boolean => ['session', 'local', 'memory'].includes(value as string);

/** Which store the application uses; set by `withStorage()`, `'session'` by default. */
export const JOT_STORE_CHOICE = new InjectionToken<JotStorageKind | JotTokenStore>(ngDevMode ? 'JOT_STORE_CHOICE' : '');

/** The stores of this application, made by `provideJot()` from `withStorage()`. */
export const JOT_STORAGE = new InjectionToken<JotStorage>(ngDevMode ? 'JOT_STORAGE' : '');

/**
 * Where tokens live: `'session'` (default), `'local'`, `'memory'`, or a custom `JotTokenStore`.
 * A store that throws degrades to memory and never crashes the app.
 *
 * @usageNotes
 * ```ts
 * provideJot({ loginUrl: '/authenticate' }, withStorage('local'))
 * ```
 */
export function withStorage(store: JotStorageKind | JotTokenStore): JotFeature<JotFeatureKind.Storage> {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- runtime check for JavaScript callers and `any`; the type cannot promise it.
  const custom = typeof store === 'object' && store !== null;
  if (
    ngDevMode &&
    !(custom ? typeof store.get === 'function' && typeof store.set === 'function' : isStorageKind(store))
  ) {
    throw configError(
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- whatever a JavaScript caller passed; String() never throws on it.
      `withStorage() takes 'session', 'local', 'memory' or an object with get() and set(tokens); got ${String(store)}.`,
    );
  }
  return makeJotFeature(
    JotFeatureKind.Storage,
    // A custom store may answer get() with a promise: start-up waits for it (bounded).
    custom
      ? [
          { provide: JOT_STORE_CHOICE, useValue: store },
          { provide: JOT_RESTORE, useFactory: () => new AwaitedRestore() },
        ]
      : [{ provide: JOT_STORE_CHOICE, useValue: store }],
    custom ? 'custom' : store,
  );
}

/** The factory of `JOT_STORAGE`. */
export function createStorage(): JotStorage {
  const choice = inject(JOT_STORE_CHOICE);
  const win = isPlatformBrowser(inject(PLATFORM_ID)) ? inject(DOCUMENT).defaultView : null;
  // On the server there is no web storage: memory, silently (one store per request's injector).
  const configured =
    typeof choice === 'object' ? choice : win && choice !== 'memory' ? webStore(win, choice) : memoryStore();
  return new JotStorage(configured, win ? () => webStore(win, 'local') : null, ngDevMode ? inject(JOT_CONFIG) : {});
}

/** Which of the two stores: the configured one, or local storage for "remember me". */
type StoreRole = 'configured' | 'remember';

/**
 * The stores of one application: the configured one, and local storage for "remember me"
 * sessions. A store that throws or rejects is replaced by memory for the rest of the app's
 * life (one dev-mode warning); the session goes on.
 */
export class JotStorage {
  /** The stores; "remember me" is made on first use (it may never be needed). */
  readonly #stores: Record<StoreRole, JotTokenStore | null>;
  /** Which stores may hold a session now (written or read from): a logout or a move clears them. */
  readonly #written: Record<StoreRole, boolean> = { configured: false, remember: false };
  readonly #makeRememberStore: (() => JotTokenStore) | null;
  /** Whose warnings these are (the application's config, in development). */
  readonly #application: object;
  #degraded = false;

  constructor(configured: JotTokenStore, makeRememberStore: (() => JotTokenStore) | null, application: object) {
    this.#stores = { configured, remember: null };
    this.#makeRememberStore = makeRememberStore;
    this.#application = application;
  }

  /** Reads the configured store, then the "remember me" store. */
  read(): { record: JotRecord | null; remember: boolean } | Promise<{ record: JotRecord | null; remember: boolean }> {
    // The store a session is read from counts as written: a later login elsewhere clears it.
    const found = (record: JotTokens | null, role: StoreRole) => {
      if (record) this.#written[role] = true;
      return { record, remember: role === 'remember' && !!record };
    };
    const orRemembered = (record: JotTokens | null) => {
      if (record) return found(record, 'configured');
      // The "remember me" store is local storage, or memory once that failed: it answers at once,
      // so only the configured store (a custom one) can make the read asynchronous.
      return found(this.#use('remember', (store) => store.get(), null) as JotTokens | null, 'remember');
    };
    const configured = this.#use('configured', (store) => store.get(), null);
    return isPromise(configured) ? configured.then(orRemembered) : orRemembered(configured);
  }

  /** Writes synchronously where the store allows, so a reload right after sees the change. */
  write(record: JotRecord | null, remember = false): void {
    const target: StoreRole = remember ? 'remember' : 'configured';
    for (const role of ['configured', 'remember'] as const) {
      // A session lives in one store only: "remember me" moves it out of the default store. A
      // logout clears both ("remember me" may have been written by another tab or an earlier visit).
      const value = role === target ? record : null;
      if (value || !record || this.#written[role]) {
        this.#written[role] = !!value;
        // `void`: #use() already catches an async store's failure; writes are not awaited.
        void this.#use(role, (store) => store.set(value), undefined);
      }
    }
  }

  /** Runs `fn` on a store; a store that throws or rejects is replaced by memory. */
  #use<T>(role: StoreRole, fn: (store: JotTokenStore) => T | Promise<T>, fallback: T): T | Promise<T> {
    if (role === 'remember') this.#stores.remember ??= this.#makeRememberStore?.() ?? null;
    const store = this.#stores[role];
    if (!store) return fallback;
    const degrade = (error: unknown): T => {
      // One warning for the first failure, in development.
      if (ngDevMode && !this.#degraded) {
        this.#degraded = true;
        warnOnce(
          this.#application,
          `the ${role === 'remember' ? '"remember me" (local)' : 'token'} storage failed (${String(error)}); ` +
            `keeping the session in memory for this page instead. Use withStorage('memory') or a custom JotTokenStore if storage is unavailable here.`,
        );
      }
      this.#stores[role] = memoryStore();
      return fallback;
    };
    try {
      const result = fn(store);
      return isPromise(result) ? result.catch(degrade) : result;
    } catch (error) {
      return degrade(error);
    }
  }
}
