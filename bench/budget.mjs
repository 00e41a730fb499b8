#!/usr/bin/env node
// CI budgets of ngx-jot, deterministic only (timings are reported by `npm run bench`, never asserted):
//   1. what an app ships (bench/size.mjs: the Angular CLI's production transform + esbuild,
//      minified, ngDevMode false) does not grow past APP_GZIP_BUDGET for the core and the
//      every-feature entries.
//   2. 200 concurrent requests that all get 401 make exactly one refresh call, and each is
//      replayed once and succeeds.
// Builds dist/ngx-jot first when it is missing (or older than the library sources).
//
//   npm run test:budget        (node bench/budget.mjs)
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ensureDist } from './lib/dist.mjs';
import { appCost, closeTransformer, entries } from './size.mjs';

/**
 * App cost, gzip bytes (issue 15, 2026-11-30): readability decides, size is measured. The core
 * (provideJot + withRefresh + jotInterceptor + jotGuard) must stay at or under 7.5 kB by design:
 * development-only checks, what only a feature needs shipped with that feature. NOT MET since tokens
 * are decoded with jwt-decode again (API.md, the standards; its runtime costs +254 B gzip). The size
 * passes since moved out of the core by design: the cross-tab steps of the refresh (behind the
 * JotCrossTab contract: refreshUnderLock(settler, flight, call), recheck(), the other-tab version
 * step; 7,721 -> 7,642 B), the wait for an async custom store (JOT_RESTORE, provided as
 * AwaitedRestore by withStorage(customStore) only; 7,642 -> 7,576 B) and two small wrappers
 * (7,576 -> 7,562 B). The core measures 7,562 B: 62 B over. Still in it, found in the minified
 * core: the promise checks of JotStorage (isPromise; moving them behind JOT_RESTORE saved 2 B, so
 * not done), imports that only development checks use (ROUTES, provideEnvironmentInitializer), and
 * JotFeatureKind's reverse mapping (public API).
 * Every feature: 10 kB is the goal, not met: 11,006 B measured, the cross-tab sync split
 * into named classes (whose public member names minifiers keep) costing some 500 B of it, and the
 * contracts that keep the cross-tab steps and the async wait out of the core some 75 B more. This
 * ceiling holds that point with no room until the goal is reached.
 * The published FESM's size is no goal, so it has no budget.
 */
const APP_GZIP_BUDGET = { 'ngx-jot core': 7500, 'ngx-jot everything': 11_006 };
const STORM = 200;

ensureDist();

test('what an app ships stays within its budget', async () => {
  try {
    for (const entry of entries().filter((e) => e.name in APP_GZIP_BUDGET)) {
      assert.deepEqual(entry.missing, [], `${entry.name}: dist/ngx-jot lacks ${entry.missing.join(', ')}`);
      const { gzip, byPackage } = await appCost(entry.contents);
      const budget = APP_GZIP_BUDGET[entry.name];
      console.log(
        `${entry.name}: ${gzip} bytes gzip; budget ${budget}; goal ${entry.budgetGzip} (${gzip <= entry.budgetGzip ? 'met' : 'not met'})`,
      );
      assert.ok(
        gzip <= budget,
        `${entry.name} (${entry.detail}) costs an app ${gzip} bytes gzip, over its ${budget}-byte budget. ` +
          `Minified bytes by package: ${JSON.stringify(byPackage)}. See bench/RESULTS.md (npm run bench).`,
      );
    }
  } finally {
    await closeTransformer();
  }
});

test(`${STORM} concurrent 401s make exactly one refresh call`, async () => {
  const { storm } = await import('./storm.mjs');
  const result = await storm(STORM);
  assert.equal(
    result.refreshCalls,
    1,
    `expected 1 refresh call for ${STORM} concurrent 401s, got ${result.refreshCalls}`,
  );
  assert.equal(
    result.apiCalls,
    STORM * 2,
    `each request should be sent twice (the 401, then one replay); server saw ${result.apiCalls}`,
  );
  assert.equal(result.liveSubscriptions, 0, 'no backend subscription may stay open');
});
