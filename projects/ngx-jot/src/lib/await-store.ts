/*
 * The wait for a custom store that answers get() with a promise (Capacitor Preferences, IndexedDB):
 * provided by `withStorage(customStore)` as its JOT_RESTORE, the only kind of store that can be
 * async, so an app with the built-in stores (which answer synchronously) does not ship it.
 */
import { DestroyRef, inject } from '@angular/core';
import { Observable, defer, switchMap } from 'rxjs';

import { warnOnce } from './errors';
import type { JotRestore } from './restore-contract';

/** How long start-up and requests wait for an async store's `get()`; then the app runs logged out. */
export const RESTORE_TIMEOUT_MS = 5_000;

/**
 * The restore of a custom store: an answer given at once is applied at once; a promise is waited
 * for (bounded), and requests, guards and the app initializer wait for it meanwhile (`ready`).
 */
export class AwaitedRestore implements JotRestore {
  /** Set while the store's answer is awaited. */
  ready: Promise<void> | undefined;

  start<T>(
    read: T | Promise<T>,
    apply: (value: T) => void,
    host: { readonly version: number; readonly config: object },
  ): void {
    if (!isPromise(read)) {
      apply(read);
      return;
    }
    const startedAt = host.version;
    let destroyed = false;
    inject(DestroyRef).onDestroy(() => (destroyed = true));
    const applyUnlessOvertaken = (value: T) => {
      // A login, setTokens() or logout() while the store was read is newer than what it held.
      // After destroy nothing may run: a session applied now would arm a timer that outlives the app.
      if (host.version === startedAt && !destroyed) apply(value);
    };
    this.ready = awaitStore(read, applyUnlessOvertaken, () => (this.ready = undefined), host.config);
  }

  after<T>(then: () => Observable<T>): Observable<T>;
  after<T>(then: () => T | Observable<T>): T | Observable<T>;
  after<T>(then: () => T | Observable<T>): T | Observable<T> {
    const ready = this.ready;
    if (!ready) return then();
    // defer() and instanceof, not from() and isObservable(): what the library already uses elsewhere.
    return defer(() => ready).pipe(
      switchMap(() => {
        const result = then();
        // (An array is an ObservableInput of its items.)
        return result instanceof Observable ? result : [result];
      }),
    );
  }
}

/**
 * A store that never answers must not hold start-up and every request forever: after
 * RESTORE_TIMEOUT_MS the app runs logged out, and the answer, if it still comes, is applied then
 * (`apply` checks that no login, setTokens() or logout() came first). `done` runs once it is
 * applied or the time is up. Called in the session's injection context.
 */
function awaitStore<T>(read: Promise<T>, apply: (value: T) => void, done: () => void, application: object) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  inject(DestroyRef).onDestroy(() => clearTimeout(timer));
  return new Promise<void>((settled) => {
    void read.then(apply, () => undefined).then(settled, settled);
    timer = setTimeout(() => {
      if (ngDevMode)
        warnOnce(
          application,
          `the token store did not answer get() within ${RESTORE_TIMEOUT_MS} ms; starting logged out. ` +
            `Make get() of your JotTokenStore settle (resolve null when it has nothing).`,
        );
      settled();
    }, RESTORE_TIMEOUT_MS);
  }).finally(() => {
    clearTimeout(timer);
    done();
  });
}

export function isPromise<T>(v: unknown): v is Promise<T> {
  return !!v && typeof (v as Promise<T>).then === 'function';
}
