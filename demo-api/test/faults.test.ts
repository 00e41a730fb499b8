import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { FaultDecision, FaultPlan } from '../src/faults.ts';
import { FakeClock, errorBody, login, postJson, useServer } from './helpers.ts';

const bearer = (jwt: string, requestId: string): Record<string, string> => ({
  Authorization: `Bearer ${jwt}`,
  'X-Request-Id': requestId,
});

/** GET /api/restricted; a dropped connection is reported as status 0. */
async function callApi(base: string, jwt: string, requestId: string): Promise<number> {
  try {
    const res = await fetch(`${base}/api/restricted`, { headers: bearer(jwt, requestId) });
    await res.text();
    return res.status;
  } catch {
    return 0;
  }
}

/** What a decision decided, without the times and the sequence number. */
const decided = (d: FaultDecision) => ({
  key: d.key,
  kind: d.kind,
  faultStatus: d.faultStatus,
  latencyMs: d.latencyMs,
  aftermath: d.aftermath,
  clockJumpMs: d.clockJumpMs,
});

const busyPlan: FaultPlan = {
  seed: 1234,
  meanLatencyMs: 2,
  apiErrorRate: 0.1,
  apiDropRate: 0.1,
  tooManyRate: 0.1,
  revokeRate: 0.1,
  keyRotationRate: 0.05,
  clockJumpRate: 0.1,
  clockJumpMs: 1500,
};

const first = useServer({ faults: busyPlan });
const second = useServer({ faults: busyPlan });
const otherSeed = useServer({ faults: { ...busyPlan, seed: 99 } });
const off = useServer({ testHooks: false });

/** 120 API calls with ids req-0..req-119, one at a time, logging in again whenever a fault made the token useless. */
async function traffic(base: string): Promise<number[]> {
  let jwt = (await login(base)).access_token;
  const statuses: number[] = [];
  for (let i = 0; i < 120; i++) {
    const status = await callApi(base, jwt, `req-${i}`);
    statuses.push(status);
    if (status === 401) jwt = (await login(base)).access_token;
  }
  return statuses;
}

describe('fault mode: seeded and reproducible', () => {
  it('decides the same for the same seed and request ids, and differently for another seed', async () => {
    await traffic(first.url);
    await traffic(second.url);
    await traffic(otherSeed.url);
    const firstLog = first.api.faults!.log.map(decided);
    assert.equal(firstLog.length, 120);
    // Same seed, same ids: the same decisions, whatever the timing of the run.
    assert.deepEqual(second.api.faults!.log.map(decided), firstLog);
    const otherKinds = otherSeed.api.faults!.log.map((d) => d.kind);
    assert.notDeepEqual(
      otherKinds,
      firstLog.map((d) => d.kind),
    );
  });

  it('makes every kind of API fault happen, near its share, and answers each as logged', () => {
    const log = first.api.faults!.log;
    const count = (pick: (d: FaultDecision) => boolean): number => log.filter(pick).length;
    for (const kind of ['server-error', 'drop', 'too-many'] as const) {
      const seen = count((d) => d.kind === kind);
      assert.ok(seen >= 4 && seen <= 24, `${kind}: ${seen} of 120 for a share of 0.1`);
    }
    for (const change of ['revoke-token', 'rotate-key', 'clock-jump'] as const) {
      assert.ok(count((d) => d.aftermath.includes(change)) >= 1, `${change} never happened`);
    }
    for (const d of log) {
      if (d.kind === 'drop') assert.equal(d.outcome, 'dropped', d.key);
      else if (d.kind !== 'none') assert.equal(d.outcome, d.faultStatus, d.key);
      if (d.kind === 'server-error') assert.ok([500, 502, 503].includes(d.faultStatus!), d.key);
      assert.ok(d.latencyMs >= 0 && d.latencyMs <= 8, `latency ${d.latencyMs} past the cap (4 x mean)`);
    }
  });

  it('keys a second arrival of one request id apart from the first (a replay is its own decision)', async () => {
    const { access_token } = await login(first.url);
    await callApi(first.url, access_token, 'replayed');
    await callApi(first.url, access_token, 'replayed');
    assert.deepEqual(
      first.api.faults!.decisionsFor('replayed').map((d) => d.key),
      ['replayed#1', 'replayed#2'],
    );
  });
});

describe('fault mode: each fault does what it says', () => {
  const tooMany = useServer({ faults: { seed: 1, tooManyRate: 1, retryAfterSeconds: 3 } });
  const refreshFaults = useServer({ faults: { seed: 2, refreshErrorRate: 0.5, refreshDropRate: 0.5 } });
  const slow = useServer({ faults: { seed: 3, slowRefreshRate: 1, slowRefreshMs: 300 } });
  const revoking = useServer({ faults: { seed: 4, revokeRate: 1 } });
  const rotating = useServer({ faults: { seed: 5, keyRotationRate: 1 } });
  const clock = new FakeClock();
  const jumping = useServer({ now: clock.now, faults: { seed: 6, clockJumpRate: 1, clockJumpMs: 1000 } });

  it('answers 429 with Retry-After, before the route runs', async () => {
    const { access_token } = await login(tooMany.url);
    const res = await fetch(`${tooMany.url}/api/restricted`, { headers: bearer(access_token, 'a') });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '3');
    assert.equal((await errorBody(res)).error, 'too_many_requests');
    assert.equal(tooMany.api.stats.restricted, 0);
  });

  it('fails refreshes with 5xx or a dropped connection without rotating the refresh token', async () => {
    const { refresh_token } = await login(refreshFaults.url);
    const outcomes = new Set<string>();
    for (let i = 0; i < 12; i++) {
      try {
        const res = await postJson(`${refreshFaults.url}/refresh`, { refresh_token }, { 'X-Request-Id': `r${i}` });
        await res.text();
        outcomes.add(String(res.status));
      } catch {
        outcomes.add('dropped');
      }
    }
    assert.ok(outcomes.has('dropped') && [...outcomes].some((o) => o.startsWith('5')), [...outcomes].join());
    // Nothing was committed: the same refresh token is still unused (no reuse detection).
    refreshFaults.api.faults!.update({ refreshErrorRate: 0, refreshDropRate: 0 });
    const res = await postJson(`${refreshFaults.url}/refresh`, { refresh_token });
    assert.equal(res.status, 200);
    assert.equal(refreshFaults.api.stats.reuseDetected, 0);
  });

  it('holds a slow refresh, and does not run it when the client gave up meanwhile', async () => {
    const { refresh_token } = await login(slow.url);
    const abandoned = postJson(`${slow.url}/refresh`, { refresh_token }, { 'X-Request-Id': 'gave-up' }).catch(
      () => 'aborted',
    );
    // Abort from the client side well before the 300 ms hold ends.
    const controller = new AbortController();
    const aborted = fetch(`${slow.url}/refresh`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'aborted' },
      body: JSON.stringify({ refresh_token }),
      signal: controller.signal,
    }).catch(() => 'aborted');
    setTimeout(() => controller.abort(), 50);
    assert.equal(await aborted, 'aborted');
    const waited = (await abandoned) as Response;
    assert.equal(waited.status, 200, 'the client that waited gets its answer');
    const gone = slow.api.faults!.decisionsFor('aborted')[0]!;
    assert.equal(gone.kind, 'slow-refresh');
    assert.equal(gone.outcome, 'client-gone');
    assert.equal(slow.api.stats.refresh, 1, 'only the refresh whose client waited ran');
  });

  it('revokes the access token a call used, after answering it', async () => {
    const { access_token } = await login(revoking.url);
    assert.equal(await callApi(revoking.url, access_token, 'one'), 200);
    const res = await fetch(`${revoking.url}/api/restricted`, { headers: bearer(access_token, 'two') });
    assert.equal(res.status, 401);
    assert.match((await errorBody(res)).error_description, /revoked/);
  });

  it('rotates the signing key after answering: older tokens fail their signature, new ones pass', async () => {
    const before = await login(rotating.url);
    assert.equal(await callApi(rotating.url, before.access_token, 'k1'), 200);
    const res = await fetch(`${rotating.url}/api/restricted`, { headers: bearer(before.access_token, 'k2') });
    assert.equal(res.status, 401);
    assert.match((await errorBody(res)).error_description, /signature/);
    assert.equal(rotating.api.faults!.decisionsFor('k2')[0]!.token!.keyRotatedSinceIssue, true);
    const after = await login(rotating.url);
    assert.equal(await callApi(rotating.url, after.access_token, 'k3'), 200);
  });

  it('jumps the server clock after answering, within twice the largest jump, and says which tokens it aged', async () => {
    const { access_token } = await login(jumping.url);
    for (let i = 0; i < 10; i++) await callApi(jumping.url, access_token, `j${i}`);
    const log = jumping.api.faults!.log;
    const total = log.reduce((sum, d) => sum + d.clockJumpMs, 0);
    assert.equal(jumping.api.faults!.now() - clock.now(), total);
    assert.ok(log.every((d) => Math.abs(d.clockJumpMs) <= 1000 && d.clockJumpMs !== 0));
    assert.ok(Math.abs(total) <= 2000);
    assert.equal(log[0]!.token!.clockJumpedSinceIssue, false);
    assert.equal(log[1]!.token!.clockJumpedSinceIssue, true);
    assert.equal(log[2]!.token!.clockJumpSinceIssueMs, log[0]!.clockJumpMs + log[1]!.clockJumpMs);
    // The server judges expiry on its own (jumped) clock, and logs it at arrival.
    clock.advance(31);
    await callApi(jumping.url, access_token, 'late');
    assert.equal(jumping.api.faults!.decisionsFor('late')[0]!.token!.expiredOnArrival, true);
  });
});

describe('fault mode: switched off and checked', () => {
  it('has no /__faults and no fault log when off', async () => {
    assert.equal(off.api.faults, null);
    const res = await fetch(`${off.url}/__faults`);
    assert.equal(res.status, 404);
    await res.body?.cancel();
  });

  it('serves the plan and the log at /__faults when on', async () => {
    const res = await fetch(`${first.url}/__faults`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { plan: FaultPlan; log: FaultDecision[] };
    assert.equal(body.plan.seed, 1234);
    assert.equal(body.log.length, first.api.faults!.log.length);
  });

  it('refuses a plan it cannot follow, naming the field', async () => {
    const { createFaults } = await import('../src/faults.ts');
    assert.throws(() => createFaults({ seed: 1.5 }, Date.now), /faults\.seed/);
    assert.throws(() => createFaults({ seed: 1, apiErrorRate: 2 }, Date.now), /faults\.apiErrorRate/);
    assert.throws(
      () => createFaults({ seed: 1, refreshErrorRate: 0.6, refreshDropRate: 0.6 }, Date.now),
      /add up to at most 1/,
    );
    assert.throws(() => createFaults({ seed: 1, slowRefreshMs: -1 }, Date.now), /faults\.slowRefreshMs/);
  });
});
