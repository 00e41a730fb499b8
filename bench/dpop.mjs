// 5. DPoP: the time withDpop() adds to a request (hashing the token for `ath`, signing a proof with
// WebCrypto: asynchronous, so requests are awaited one after another here, for both variants),
// against the plain interceptor on the same backend; interleaved rounds, medians.
import { performance } from 'node:perf_hooks';

// First: the harness sets up the environment (jsdom, the JIT linker) Angular's packages need.
import { API_ORIGIN, HttpClient, fakeJwt, jot, jotApp, median } from './lib/harness.mjs';
import { HttpResponse } from '@angular/common/http';
import { firstValueFrom, of } from 'rxjs';

/**
 * `indexedDB` for Node: one database whose stores keep values by reference (as structured clone
 * keeps a CryptoKey), requests answered on the next turn. Only what withDpop()'s key store uses.
 */
function memoryIndexedDB() {
  const stores = new Map();
  const later = (fn) => setTimeout(fn, 0);
  const request = (run) => {
    const req = { result: undefined, onsuccess: null, onerror: null, onupgradeneeded: null };
    later(() => run(req));
    return req;
  };
  const transaction = (name) => {
    const store = stores.get(name);
    const ops = [];
    const tx = { oncomplete: null, onerror: null, onabort: null };
    const queue = (run) => {
      const req = { result: undefined, onsuccess: null };
      ops.push(() => {
        req.result = run();
        req.onsuccess?.();
      });
      return req;
    };
    later(() => {
      while (ops.length) ops.shift()();
      tx.oncomplete?.();
    });
    tx.objectStore = () => ({
      get: (key) => queue(() => store.get(key)),
      put: (value, key) => queue(() => void store.set(key, value)),
      delete: (key) => queue(() => void stores.get(name).delete(key)),
    });
    return tx;
  };
  const db = {
    createObjectStore: (name) => void (stores.has(name) || stores.set(name, new Map())),
    transaction,
    close() {},
  };
  return {
    open: () =>
      request((req) => {
        req.result = db;
        req.onupgradeneeded?.();
        req.onsuccess?.();
      }),
  };
}

/** Answers the login with a DPoP-bound token, everything else with one shared 200. */
class TokenBackend {
  token = fakeJwt();
  response = new HttpResponse({ status: 200, body: { ok: true } });
  spy = null;
  handle(req) {
    this.spy?.(req);
    if (req.url === '/authenticate') {
      return of(new HttpResponse({ status: 200, body: { access_token: this.token, token_type: 'DPoP' } }));
    }
    return of(this.response);
  }
}

async function makeVariants() {
  globalThis.indexedDB ??= memoryIndexedDB();
  const variants = [];
  for (const [name, features] of [
    ['ngx-jot', [jot.withRefresh({ url: '/refresh' })]],
    ['ngx-jot + withDpop()', [jot.withRefresh({ url: '/refresh' }), jot.withDpop()]],
  ]) {
    const backend = new TokenBackend();
    const app = jotApp(backend, features);
    await firstValueFrom(app.get(jot.JotAuth).login({ username: 'u', password: 'p' }));
    const http = app.get(HttpClient);
    // Each variant must do its job, or its time means nothing.
    let seen;
    backend.spy = (req) => (seen = req);
    await firstValueFrom(http.get(`${API_ORIGIN}/items/1`));
    backend.spy = null;
    const dpop = name.includes('withDpop');
    const expected = `${dpop ? 'DPoP' : 'Bearer'} ${backend.token}`;
    if (seen.headers.get('Authorization') !== expected || seen.headers.has('DPoP') !== dpop) {
      throw new Error(`dpop bench: ${name} sent Authorization=${seen.headers.get('Authorization')}`);
    }
    variants.push({ name, app, http, samples: [] });
  }
  return variants;
}

/** µs per request for `n` GETs, each awaited before the next goes. */
async function batch(http, n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await firstValueFrom(http.get(`${API_ORIGIN}/items/${i}?page=1`));
  return ((performance.now() - t0) * 1000) / n;
}

export async function benchDpop({ requests = 500, rounds = 7, warmupRounds = 2, log = () => {} } = {}) {
  const variants = await makeVariants();
  for (let round = 0; round < warmupRounds + rounds; round++) {
    // Rotated order, so neither variant always runs first.
    const order = variants.map((_, i) => variants[(i + round) % variants.length]);
    for (const variant of order) {
      const us = await batch(variant.http, requests);
      if (round >= warmupRounds) variant.samples.push(us);
    }
    log(`  round ${round + 1}/${warmupRounds + rounds}`);
  }
  const [plain, dpop] = variants;
  const added = plain.samples.map((us, i) => dpop.samples[i] - us);
  const rows = variants.map((v) => ({ variant: v.name, usPerRequest: median(v.samples) }));
  for (const v of variants) v.app.destroy();
  return { requests, rounds, warmupRounds, rows, addedUs: median(added) };
}
