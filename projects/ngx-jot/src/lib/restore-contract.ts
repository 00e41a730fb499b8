/*
 * What the session and `withStorage(customStore)` promise each other about start-up (the one
 * contract of a feature that storage.ts itself provides, so it imports nothing of the library).
 */
import { InjectionToken } from '@angular/core';
import type { Observable } from 'rxjs';

/**
 * How the stored session is restored at start-up, and what requests and guards wait for. By
 * default the store answered at once: restored already. Only a custom store can answer `get()` with
 * a promise, so `withStorage(customStore)` provides the variant that waits for it (await-store.ts),
 * and apps without a custom store do not ship the wait.
 */
export interface JotRestore {
  /**
   * Applies the store's answer: `apply(read)` at once, or, for a promise (a custom store), once it
   * settles (bounded), unless the session changed since (`host.version`) or the app was destroyed.
   * Called in the session's injection context; `host.config` is whose warnings these are.
   */
  start<T>(
    read: T | Promise<T>,
    apply: (value: T) => void,
    host: { readonly version: number; readonly config: object },
  ): void;
  /** Runs `then` now, or, while an async store is still being read, once it is (as an Observable). */
  after<T>(then: () => Observable<T>): Observable<T>;
  after<T>(then: () => T | Observable<T>): T | Observable<T>;
  /** What the app initializer waits for: the async store's read, if one is under way. */
  readonly ready?: Promise<void>;
}

/** Restored already: the store answered synchronously (every built-in store does). */
const restoredAlready: JotRestore = {
  start: <T>(read: T | Promise<T>, apply: (value: T) => void) => apply(read as T),
  after: (then) => then(),
};

/** How the session is restored; `withStorage(customStore)` provides the async variant. */
export const JOT_RESTORE = new InjectionToken<JotRestore>(ngDevMode ? 'JOT_RESTORE' : '', {
  factory: () => restoredAlready,
});
