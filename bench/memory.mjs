// 4. Memory: 100,000 requests through the interceptor, half of them through a refresh (the server
// revokes the token before every other batch). Heap before and after (after forced full GCs),
// and what is left behind after logout(): timers, backend subscriptions, a refresh in flight.
import { window } from './lib/env.mjs';
import { HttpClient, ServerBackend, jot, jotApp } from './lib/harness.mjs';

const MB = 1024 * 1024;

/** Counts the timers created through the global setTimeout/setInterval that have not fired or been cleared. */
function trackTimers() {
  const live = new Set();
  const real = { setTimeout, clearTimeout, setInterval, clearInterval };
  globalThis.setTimeout = (fn, ms, ...args) => {
    const handle = real.setTimeout(
      (...a) => {
        live.delete(handle);
        fn(...a);
      },
      ms,
      ...args,
    );
    live.add(handle);
    // Who made it: the library's own timers are what must be gone after logout().
    // (the frame that called setTimeout, not one further down: jsdom's storage events come from its own code).
    handle.byJot = /ngx-jot\.mjs/.test((new Error().stack ?? '').split('\n')[2] ?? '');
    return handle;
  };
  globalThis.clearTimeout = (handle) => {
    live.delete(handle);
    real.clearTimeout(handle);
  };
  globalThis.setInterval = (fn, ms, ...args) => {
    const handle = real.setInterval(fn, ms, ...args);
    live.add(handle);
    return handle;
  };
  globalThis.clearInterval = (handle) => {
    live.delete(handle);
    real.clearInterval(handle);
  };
  return {
    live,
    /** Waits for timers due within `ms` (e.g. jsdom's 0 ms storage events) to fire. */
    settle: (ms) => new Promise((resolve) => real.setTimeout(resolve, ms)),
    restore: () => Object.assign(globalThis, real),
  };
}

const settleTurns = () => new Promise((r) => setImmediate(r));

async function heapUsed() {
  await settleTurns();
  for (let i = 0; i < 3; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}

export async function benchMemory({ total = 100_000, batch = 1_000, warmupBatches = 5, log = () => {} } = {}) {
  if (typeof globalThis.gc !== 'function') throw new Error('memory bench: run node with --expose-gc');
  const timers = trackTimers();
  const backend = new ServerBackend();
  const app = jotApp(backend);
  try {
    const auth = app.get(jot.JotAuth);
    const http = app.get(HttpClient);
    const pair = backend.issue();
    auth.setTokens({ accessToken: pair.access_token, refreshToken: pair.refresh_token });
    const counts = {};
    const events = auth.events.subscribe((e) => (counts[e.type] = (counts[e.type] ?? 0) + 1));

    let ok = 0;
    let failed = 0;
    const burst = (n, offset) =>
      new Promise((resolve) => {
        let left = n;
        const done = () => --left === 0 && resolve();
        const observer = { next: () => ok++, error: () => (failed++, done()), complete: done };
        for (let i = 0; i < n; i++) http.get(`/api/items/${offset + i}`).subscribe(observer);
      });
    const oneBatch = async (b) => {
      await burst(batch / 2, b * batch); // valid token: straight through
      backend.revokeAll(); // the next half all get 401, one refresh, each replayed
      await burst(batch / 2, b * batch + batch / 2);
    };

    for (let b = 0; b < warmupBatches; b++) await oneBatch(b);
    const before = await heapUsed();
    const refreshBefore = backend.refreshCalls;
    const apiBefore = backend.apiCalls;
    ok = failed = 0;
    const batches = Math.ceil(total / batch);
    for (let b = 0; b < batches; b++) {
      await oneBatch(b);
      if ((b + 1) % 25 === 0) log(`  ${(b + 1) * batch} requests`);
    }
    const after = await heapUsed();
    const requests = ok + failed;
    const jotTimers = () => [...timers.live].filter((h) => h.byJot).length;
    const timersWhileLoggedIn = jotTimers();

    auth.logout();
    await timers.settle(50);
    const afterLogout = {
      // Timers ngx-jot set that are still pending (the proactive refresh timer while logged in).
      jotTimers: jotTimers(),
      // Any timer still pending 50 ms after logout, whoever set it.
      allTimers: timers.live.size,
      backendSubscriptions: backend.live,
      refreshInFlight: !!app.get(jot.ɵJotSessionState).refresher?.busy,
      session: auth.token() !== null,
    };
    events.unsubscribe();
    // JotAuth's own event Subject (private field): our subscription was the only one.
    // `events` is the Subject's asObservable(); rxjs keeps the Subject as its `source`.
    afterLogout.eventObservers = auth.events.source?.observers?.length ?? null;
    app.destroy();
    const afterDestroy = await heapUsed();
    return {
      requests,
      failed,
      refreshes: backend.refreshCalls - refreshBefore,
      apiCalls: backend.apiCalls - apiBefore,
      beforeMB: before / MB,
      afterMB: after / MB,
      deltaMB: (after - before) / MB,
      afterDestroyMB: afterDestroy / MB,
      timersWhileLoggedIn,
      afterLogout,
      events: counts,
    };
  } finally {
    timers.restore();
  }
}

/**
 * Memory under `withCrossTabSync()`: `cycles` rounds of login (setTokens), a refresh-like
 * replacement of the pair (setTokens again) and logout, each a write of the shared record and a
 * message to the other tabs. Heap before and after (after forced full GCs), per cycle. (jsdom
 * has neither IndexedDB nor Web Locks nor BroadcastChannel: the shared record is in localStorage,
 * messages are storage events; the writes are tracked the same way.)
 */
export async function benchMemorySync({ cycles = 60_000, warmup = 2_000, log = () => {} } = {}) {
  if (typeof globalThis.gc !== 'function') throw new Error('memory bench: run node with --expose-gc');
  const backend = new ServerBackend();
  const app = jotApp(backend, [jot.withRefresh({ url: '/refresh' }), jot.withCrossTabSync()]);
  try {
    const auth = app.get(jot.JotAuth);
    const first = backend.issue();
    const second = backend.issue();
    const run = async (count) => {
      for (let i = 1; i <= count; i++) {
        auth.setTokens({ accessToken: first.access_token, refreshToken: `${first.refresh_token}-${i}` });
        auth.setTokens({ accessToken: second.access_token, refreshToken: `${second.refresh_token}-${i}` });
        auth.logout();
        // Let the writes settle now and then, as they do between a user's clicks.
        if (i % 1_000 === 0) await settleTurns();
        if (i % 20_000 === 0) log(`  ${i} sync cycles`);
      }
    };
    await run(warmup);
    const before = await heapUsed();
    await run(cycles);
    const after = await heapUsed();
    return {
      cycles,
      writes: cycles * 3,
      beforeMB: before / MB,
      afterMB: after / MB,
      deltaMB: (after - before) / MB,
      bytesPerCycle: (after - before) / cycles,
      // What logout() leaves in the shared store: the entry, with no tokens in it.
      sharedAfterLogout: window.localStorage.getItem('ngx-jot-shared'),
    };
  } finally {
    app.destroy();
  }
}
