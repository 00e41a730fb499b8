/*
 * The refresh lock: one tab of the origin at a time runs a refresh. Web Locks where present; a
 * localStorage lease otherwise (owner id + expiry, written, re-read after a pause, renewed while
 * held, retried): best effort, as two tabs racing within the pause on a store that lags can both
 * hold it. Without localStorage either, a tab goes alone.
 */
import { load, save } from './shared-record-store';

const LOCK = 'ngx-jot-refresh';
/** localStorage key of the lease without Web Locks. */
const LEASE_KEY = 'ngx-jot-lease';
const LEASE_MS = 10_000;
const LEASE_SETTLE_MS = 40;
const LEASE_RETRY_MS = 60;

/**
 * Runs `fn` holding the origin-wide refresh lock. `fn` never rejects, and neither does the lock
 * before `fn` ran (refused Web Locks fall back to the lease, which cannot fail).
 */
export type RefreshLock = <T>(fn: () => Promise<T>) => Promise<T>;

const noop = () => undefined;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The Web Lock of the origin; refused locks (a sandboxed frame) fall back to `fallback`. */
export function webLock(locks: LockManager, fallback: RefreshLock): RefreshLock {
  return <T>(fn: () => Promise<T>) => {
    let entered = false;
    // The lock is held until the callback's promise settles; request() resolves with its value.
    // Locks refused, at once or later (e.g. a sandboxed frame): the lease instead.
    return new Promise<T>((resolve) =>
      resolve(
        locks.request(LOCK, () => {
          entered = true;
          return fn();
        }) as Promise<unknown> as Promise<T>,
      ),
    ).catch((error: unknown): Promise<T> => (entered ? Promise.reject(error) : fallback(fn)));
  };
}

/** A lease in localStorage: claimed, re-read after a pause (the last writer wins), renewed while held. */
export function leaseLock(win: Window, id: string, alive: () => boolean): RefreshLock {
  const read = () => {
    try {
      const lease = Object(load(win, LEASE_KEY)) as { owner?: unknown; until?: unknown };
      if (typeof lease.owner === 'string' && typeof lease.until === 'number')
        return lease as { owner: string; until: number };
    } catch {
      // Unreadable: as if there were none.
    }
    return null;
  };
  const mine = () => read()?.owner === id;
  const claim = () => save(win, LEASE_KEY, { owner: id, until: Date.now() + LEASE_MS });
  /** One hold at a time within this tab too: the lease names the tab, not the call. */
  let chain: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const run = chain.then(() => hold(fn));
    chain = run.catch(noop);
    return run;
  };
  async function hold<T>(fn: () => Promise<T>): Promise<T> {
    for (;;) {
      // A closed app stops polling; its work (the refresher's, already cancelled) just runs out.
      if (!alive()) return fn();
      const lease = read();
      if (!lease || lease.owner === id || lease.until <= Date.now()) {
        try {
          claim();
        } catch {
          // No storage to coordinate through: this tab goes alone.
          return fn();
        }
        await sleep(LEASE_SETTLE_MS);
        if (mine()) break;
      }
      await sleep(LEASE_RETRY_MS + Math.random() * LEASE_RETRY_MS);
    }
    const renew = setInterval(() => {
      try {
        if (mine()) claim();
      } catch {
        // The lease lapses; the work goes on.
      }
    }, LEASE_MS / 3);
    try {
      return await fn();
    } finally {
      clearInterval(renew);
      try {
        if (mine()) win.localStorage.removeItem(LEASE_KEY);
      } catch {
        // It expires on its own.
      }
    }
  }
}
