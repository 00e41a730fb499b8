#!/usr/bin/env node
// CI budgets of ngx-jot, deterministic only (timings are reported by `npm run bench`, never asserted):
//   1. the main FESM of dist/ngx-jot does not grow past FESM_GZIP_BUDGET bytes gzip (level 9).
//      The goal of issue 8 is 4 kB; the library is several times that today (see RESULTS.md),
//      so this budget is a ratchet at today's size: it stops unnoticed growth, and is lowered as
//      the library shrinks. It moves up only on purpose, in the commit whose change needs the
//      bytes, with the reason written here.
//   2. 200 concurrent requests that all get 401 make exactly one refresh call, and each is
//      replayed once and succeeds.
// Builds dist/ngx-jot first when it is missing (or older than the library sources).
//
//   npm run test:budget        (node bench/budget.mjs)
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ensureDist } from './lib/dist.mjs';
import { fesmBySource, fesmSize } from './lib/fesm.mjs';

/**
 * 25.9 kB at first; 27.5 kB after the review fixes of 2026-11-29 (cross-tab conditional write of a
 * refreshed pair, refresh timeout, forbidden-redirect state, async-restore and storage guards),
 * plus about 3 % room. The goal is FESM_GZIP_GOAL.
 */
const FESM_GZIP_BUDGET = 28_300;
const FESM_GZIP_GOAL = 4000;
const STORM = 200;

ensureDist();

test(`main FESM is at most ${FESM_GZIP_BUDGET / 1000} kB gzip`, () => {
  const { raw, gzip } = fesmSize();
  console.log(
    `main FESM: ${gzip} bytes gzip; budget ${FESM_GZIP_BUDGET}; goal ${FESM_GZIP_GOAL} (${gzip <= FESM_GZIP_GOAL ? 'met' : 'not met'})`,
  );
  const largest = Object.entries(fesmBySource())
    .slice(0, 4)
    .map(([file, bytes]) => `${file} ${bytes} B`)
    .join(', ');
  assert.ok(
    gzip <= FESM_GZIP_BUDGET,
    `dist/ngx-jot/fesm2022/ngx-jot.mjs is ${gzip} bytes gzip (${raw} raw), over the ${FESM_GZIP_BUDGET}-byte budget. ` +
      `Largest raw parts: ${largest}. See bench/RESULTS.md (npm run bench) for where the bytes go.`,
  );
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
