import { DestroyRef, inject } from '@angular/core';

import { badRecordField, isPromise, type JotRecord, type JotStorage } from './storage';
import { toSession, type JotSession, type Timing } from './jwt-session';
import { warnOnce } from './errors';
import type { ResolvedJotConfig } from './config';

/** How long start-up and requests wait for an async store's `get()`; then the app runs logged out. */
export const RESTORE_TIMEOUT_MS = 5_000;

/** What restoring needs of the session. */
export interface RestoreHost {
  readonly storage: JotStorage;
  readonly config: ResolvedJotConfig;
  version: number;
  restoring: Promise<void> | null;
  readonly destroyed: boolean;
  timing(): Timing;
  restored(session: JotSession, version: number | undefined): void;
}

/**
 * Start-up: holds the stored session, if any is usable. A synchronous store is read at once; an
 * async one sets `host.restoring` (requests, guards and an app initializer wait for it), bounded
 * by RESTORE_TIMEOUT_MS. Called in the session's injection context.
 */
export function restoreSession(host: RestoreHost): void {
  const startedAt = host.version;
  const apply = ({ record, remember }: { record: JotRecord | null; remember: boolean }) => {
    // A login, setTokens() or logout() while an async store was read is newer than what it held.
    // After destroy nothing may run: a session applied now would arm a timer that outlives the app.
    if (!record || host.version !== startedAt || host.destroyed) return;
    // Every field is checked: a bad one (a `skew` of "abc") would make an expired token count as valid.
    const badField = badRecordField(record);
    const result = badField
      ? { problem: ngDevMode ? `its field "${badField}" has the wrong type or is out of range` : '' }
      : toSession(record, host.timing(), { fresh: false, skew: record.skew, remember });
    if ('problem' in result) {
      if (ngDevMode) warnOnce(host.config, `the stored token is malformed (${result.problem}); starting logged out.`);
      host.storage.write(null);
      return;
    }
    host.restored(result, record.version);
  };
  let read: ReturnType<JotStorage['read']>;
  try {
    read = host.storage.read();
  } catch {
    return;
  }
  if (!isPromise(read)) {
    apply(read);
    return;
  }
  // A store that never answers must not hold start-up and every request forever: after
  // RESTORE_TIMEOUT_MS the app runs logged out, and the answer, if it still comes, is applied
  // then (unless a login, setTokens() or logout() came first: `apply` checks).
  let timer: ReturnType<typeof setTimeout> | undefined;
  inject(DestroyRef).onDestroy(() => clearTimeout(timer));
  host.restoring = new Promise<void>((done) => {
    void read.then(apply, () => undefined).then(done, done);
    timer = setTimeout(() => {
      if (ngDevMode)
        warnOnce(
          host.config,
          `the token store did not answer get() within ${RESTORE_TIMEOUT_MS} ms; starting logged out. ` +
            `Make get() of your JotTokenStore settle (resolve null when it has nothing).`,
        );
      done();
    }, RESTORE_TIMEOUT_MS);
  }).finally(() => {
    clearTimeout(timer);
    host.restoring = null;
  });
}
