// 1. Interceptor overhead: GETs through HttpClient against a synchronous in-memory backend,
// bare / ngx-jot / @auth0/angular-jwt, interleaved over rounds; medians of per-round numbers.
import { performance } from 'node:perf_hooks';

import {
  API_ORIGIN,
  HttpClient,
  SyncBackend,
  angularJwtApp,
  bareApp,
  fakeJwt,
  jot,
  jotApp,
  median,
} from './lib/harness.mjs';

/**
 * Same-origin (the common case), an allowed cross-origin API, and that API with a different path
 * on every request (REST ids: no per-URL cache can help).
 */
export const URLS = {
  relative: '/api/items/42?page=1',
  absolute: `${API_ORIGIN}/items/42?page=1`,
  'absolute, new path each time': (i) => `${API_ORIGIN}/items/${i}?page=1`,
};
const urlAt = (url, i) => (typeof url === 'function' ? url(i) : url);

async function makeVariants() {
  const backend = new SyncBackend();
  const token = fakeJwt();
  const bare = bareApp(backend);
  const withJot = jotApp(backend);
  withJot.get(jot.JotAuth).setTokens({ accessToken: token, refreshToken: 'refresh-1' });
  const apps = {
    bare,
    'ngx-jot': withJot,
    // The reference: angular-jwt's defaults, which never look inside the token.
    '@auth0/angular-jwt': await angularJwtApp(backend, token),
    // Its closest equivalent of ngx-jot's expiry judgement: decodes the token on every request.
    '@auth0/angular-jwt skipWhenExpired': await angularJwtApp(backend, token, { skipWhenExpired: true }),
  };

  // Each variant must do its job, or its time means nothing.
  for (const [name, app] of Object.entries(apps)) {
    for (const url of Object.values(URLS).map((u) => urlAt(u, 0))) {
      let header;
      backend.spy = (req) => (header = req.headers.get('Authorization'));
      let got;
      app
        .get(HttpClient)
        .get(url)
        .subscribe((body) => (got = body));
      backend.spy = null;
      const expected = name === 'bare' ? null : `Bearer ${token}`;
      if (got?.ok !== true || header !== expected) {
        throw new Error(
          `interceptor bench: ${name} on ${url} sent Authorization=${header}, got ${JSON.stringify(got)}`,
        );
      }
    }
  }
  const variants = [];
  for (const [name, app] of Object.entries(apps)) {
    for (const [kind, url] of Object.entries(URLS)) {
      variants.push({ name, kind, url, http: app.get(HttpClient), samples: [] });
    }
  }
  return { variants, destroy: () => Object.values(apps).forEach((a) => a.destroy()) };
}

/** µs per request for `n` GETs, each answered synchronously. */
function batch(http, url, n, offset) {
  let done = 0;
  // Varying URLs are made before the clock starts (and are new strings each round).
  const urls = typeof url === 'function' ? Array.from({ length: n }, (_, i) => url(offset + i)) : null;
  const next = () => done++;
  // No gc() here: forced full collections age and flush compiled code, which then re-warms inside
  // the timed loop (it made bare HttpClient 4x slower when tried).
  const t0 = performance.now();
  if (urls) for (let i = 0; i < n; i++) http.get(urls[i]).subscribe(next);
  else for (let i = 0; i < n; i++) http.get(url).subscribe(next);
  const t1 = performance.now();
  if (done !== n) throw new Error(`interceptor bench: ${done} of ${n} requests completed`);
  return ((t1 - t0) * 1000) / n;
}

export async function benchInterceptor({ requests = 20_000, rounds = 9, warmupRounds = 2, log = () => {} } = {}) {
  const { variants, destroy } = await makeVariants();
  try {
    for (let r = 0; r < warmupRounds + rounds; r++) {
      // Interleaved, and rotated each round so no variant always runs first or last.
      const order = variants.map((_, i) => variants[(i + r) % variants.length]);
      for (const v of order) {
        const us = batch(v.http, v.url, requests, r * requests);
        if (r >= warmupRounds) v.samples.push(us);
      }
      log(`  round ${r + 1}/${warmupRounds + rounds}${r < warmupRounds ? ' (warm-up)' : ''}`);
    }
  } finally {
    destroy();
  }
  const rows = [];
  for (const v of variants) {
    const bare = variants.find((b) => b.name === 'bare' && b.kind === v.kind);
    // Overhead from paired differences (same round): noise from other processes cancels better.
    const added = v.samples.map((s, i) => s - bare.samples[i]);
    rows.push({
      variant: v.name,
      url: v.kind,
      usPerRequest: median(v.samples),
      min: Math.min(...v.samples),
      max: Math.max(...v.samples),
      addedUs: v.name === 'bare' ? 0 : median(added),
      timesBare: median(v.samples.map((s, i) => s / bare.samples[i])),
      samples: v.samples,
    });
  }
  const ratios = {};
  for (const kind of Object.keys(URLS)) {
    const jotRow = rows.find((x) => x.variant === 'ngx-jot' && x.url === kind);
    const ajwt = rows.find((x) => x.variant === '@auth0/angular-jwt' && x.url === kind);
    ratios[kind] = jotRow.addedUs / ajwt.addedUs;
  }
  return { requests, rounds, warmupRounds, rows, jotOverAngularJwt: ratios };
}
