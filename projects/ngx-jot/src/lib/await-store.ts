import { DestroyRef, InjectionToken, inject } from '@angular/core';

import { warnOnce } from './errors';

/** How long start-up and requests wait for an async store's `get()`; then the app runs logged out. */
export const RESTORE_TIMEOUT_MS = 5_000;

/**
 * Waits for an async store's first read: `apply` its answer, and resolve when it is applied or
 * after RESTORE_TIMEOUT_MS, whichever comes first; `done` runs then. Returns what waits.
 */
export type JotAwaitStore = <T>(
  read: Promise<T>,
  apply: (value: T) => void,
  done: () => void,
  application: object,
) => Promise<void>;

/**
 * Provided by `withStorage()` for a custom store, the only kind that can be async: an app with the
 * built-in stores (which answer synchronously) does not ship the wait.
 */
export const JOT_AWAIT_STORE = new InjectionToken<JotAwaitStore>(ngDevMode ? 'JOT_AWAIT_STORE' : '');

/**
 * A store that never answers must not hold start-up and every request forever: after
 * RESTORE_TIMEOUT_MS the app runs logged out, and the answer, if it still comes, is applied then
 * (`apply` checks that no login, setTokens() or logout() came first). Made in the session's
 * injection context.
 */
export const awaitStore: JotAwaitStore = (read, apply, done, application) => {
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
};
