// 2. Refresh storm: N concurrent requests whose token the server no longer accepts, all 401.
// One refresh must run; every request is replayed once with the new token.
import { PerformanceObserver, performance } from 'node:perf_hooks';

import { AsyncSubject, Observable, switchMap } from 'rxjs';

import { HttpClient, ServerBackend, jot, jotApp, median } from './lib/harness.mjs';

/** One storm in a fresh app. Times in ms. */
export async function storm(n) {
  const backend = new ServerBackend();
  const app = jotApp(backend);
  try {
    const auth = app.get(jot.JotAuth);
    const pair = backend.issue();
    auth.setTokens({ accessToken: pair.access_token, refreshToken: pair.refresh_token });
    backend.revokeAll();
    const http = app.get(HttpClient);
    let refreshArrived = 0;
    backend.onBatch = (batch) => {
      if (!refreshArrived && batch.some((e) => e.req.url.endsWith('/refresh'))) refreshArrived = performance.now();
    };
    let ok = 0;
    let failed = 0;
    // Garbage collection during the storm: 10,000 requests in flight at once keep a lot alive.
    const gcs = [];
    const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
    observer.observe({ entryTypes: ['gc'] });
    const t0 = performance.now();
    let sent = 0;
    const end = await new Promise((resolve) => {
      const settle = () => ok + failed === n && resolve(performance.now());
      const observer = {
        next: () => ok++,
        error: () => {
          failed++;
          settle();
        },
        complete: settle,
      };
      for (let i = 0; i < n; i++) http.get(`/api/items/${i}`).subscribe(observer);
      sent = performance.now();
    });
    await new Promise((resolve) => setImmediate(resolve));
    observer.disconnect();
    const gcMs = gcs.filter((e) => e.startTime >= t0 && e.startTime < end).reduce((sum, e) => sum + e.duration, 0);
    if (failed || ok !== n) throw new Error(`storm ${n}: ${ok} ok, ${failed} failed`);
    return {
      n,
      refreshCalls: backend.refreshCalls,
      // Every request sent twice (the 401, the replay), never more.
      apiCalls: backend.apiCalls,
      totalMs: end - t0,
      sendMs: sent - t0,
      // From the refresh response to the last replay answered.
      drainMs: end - refreshArrived,
      gcMs,
      liveSubscriptions: backend.live,
    };
  } finally {
    app.destroy();
  }
}

export async function benchStorm({ sizes = [100, 1_000, 10_000], rounds = 5, warmupRounds = 1, log = () => {} } = {}) {
  const runs = Object.fromEntries(sizes.map((n) => [n, []]));
  for (let r = 0; r < warmupRounds + rounds; r++) {
    const order = sizes.map((_, i) => sizes[(i + r) % sizes.length]);
    for (const n of order) {
      const result = await storm(n);
      if (r >= warmupRounds) runs[n].push(result);
    }
    log(`  round ${r + 1}/${warmupRounds + rounds}${r < warmupRounds ? ' (warm-up)' : ''}`);
  }
  const rows = sizes.map((n) => {
    const rs = runs[n];
    return {
      n,
      refreshCalls: [...new Set(rs.map((x) => x.refreshCalls))].join('/'),
      apiCallsPerRequest: [...new Set(rs.map((x) => x.apiCalls / n))].join('/'),
      totalMs: median(rs.map((x) => x.totalMs)),
      drainMs: median(rs.map((x) => x.drainMs)),
      usPerRequest: median(rs.map((x) => (x.totalMs * 1000) / n)),
      drainUsPerRequest: median(rs.map((x) => (x.drainMs * 1000) / n)),
      gcMs: median(rs.map((x) => x.gcMs)),
      usPerRequestWithoutGc: median(rs.map((x) => ((x.totalMs - x.gcMs) * 1000) / n)),
      liveSubscriptionsAfter: Math.max(...rs.map((x) => x.liveSubscriptions)),
    };
  });
  const per = (n) => rows.find((x) => x.n === n)?.usPerRequest;
  const perNoGc = (n) => rows.find((x) => x.n === n)?.usPerRequestWithoutGc;
  return {
    rounds,
    rows,
    ratio10kOver1k: per(10_000) / per(1_000),
    ratio10kOver1kWithoutGc: perNoGc(10_000) / perNoGc(1_000),
  };
}

/**
 * Why the drain grows faster than N: the refresh queue's waiters are subscribers of one rxjs
 * AsyncSubject (before the Flight of refresh-flight.ts); Subject.complete() shift()s each observer and each waiter's
 * teardown then runs arrRemove (an indexOf) over the observers left: O(N²). The same waiters held in
 * a Set (O(1) removal) for comparison. µs per waiter to settle N waiters whose replay is pending.
 */
export function benchWaiters({ sizes = [1_000, 10_000, 40_000], rounds = 3 } = {}) {
  const pending = () => new Observable(() => undefined);
  const viaAsyncSubject = (n) => {
    const flight = new AsyncSubject();
    for (let i = 0; i < n; i++) flight.pipe(switchMap(pending)).subscribe();
    const t0 = performance.now();
    flight.next(1);
    flight.complete();
    return ((performance.now() - t0) * 1000) / n;
  };
  const viaSet = (n) => {
    const waiters = new Set();
    const flight = new Observable((sub) => {
      waiters.add(sub);
      return () => waiters.delete(sub);
    });
    for (let i = 0; i < n; i++) flight.pipe(switchMap(pending)).subscribe();
    const t0 = performance.now();
    const list = [...waiters];
    waiters.clear();
    for (const sub of list) {
      sub.next(1);
      sub.complete();
    }
    return ((performance.now() - t0) * 1000) / n;
  };
  // Warm-up (JIT).
  for (let i = 0; i < 5; i++) {
    viaAsyncSubject(1_000);
    viaSet(1_000);
  }
  const rows = [];
  for (const n of sizes) {
    const a = [];
    const b = [];
    for (let r = 0; r < rounds; r++) {
      a.push(viaAsyncSubject(n));
      b.push(viaSet(n));
    }
    rows.push({ n, asyncSubjectUs: median(a), setUs: median(b) });
  }
  return rows;
}
