import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { FaultDecision } from '../../demo-api/src/faults.ts';
import { analyze, evidence, type SoakInput } from '../analyze.ts';
import type { SoakEvent } from '../protocol.ts';

const T0 = Date.UTC(2030, 0, 1);
const EXP = T0 / 1000 + 6;

/** A server decision for one arrival of a request, with what a clean one holds. */
function decision(requestId: string, fields: Partial<FaultDecision> = {}): FaultDecision {
  return {
    seq: 1,
    requestId,
    key: `${requestId}#1`,
    method: 'GET',
    path: '/api/restricted',
    target: 'api',
    arrivedAt: T0 + 10,
    serverClockAt: T0 + 10,
    kind: 'none',
    faultStatus: null,
    latencyMs: 0,
    aftermath: [],
    clockJumpMs: 0,
    token: {
      jti: 'j1',
      iat: EXP - 6,
      exp: EXP,
      expiredOnArrival: false,
      clockJumpedSinceIssue: false,
      clockJumpSinceIssueMs: 0,
      keyRotatedSinceIssue: false,
    },
    outcome: 200,
    settledAt: T0 + 20,
    refusedBecause: null,
    ...fields,
  };
}

/** The events of one API request: made, sent with token j1 at `at`, then what `outcomes` say. */
function apiRequest(id: string, at: number, outcomes: SoakEvent[]): SoakEvent[] {
  return [
    { type: 'request', id, kind: 'api', at },
    { type: 'attempt', id, kind: 'api', at, jti: 'j1', exp: EXP },
    ...outcomes,
  ];
}

function input(events: SoakEvent[], faultLog: FaultDecision[], more: Partial<SoakInput> = {}): SoakInput {
  return {
    seed: 7,
    tabs: [{ name: 't1', events, cuts: [], heapStart: 1, heapEnd: 2, timersAfterLogout: [] }],
    faultLog,
    foreign: [],
    reuseDetected: 0,
    userLogouts: [],
    ...more,
  };
}

describe('the soak judge', () => {
  it('passes a clean run and an error the fault mode injected into that very request', () => {
    const report = analyze(
      input(
        [
          ...apiRequest('t1-l1-a1', T0, [{ type: 'answered', id: 't1-l1-a1', status: 200, at: T0 + 30 }]),
          ...apiRequest('t1-l1-a2', T0, [{ type: 'errored', id: 't1-l1-a2', status: 503, code: null, at: T0 + 30 }]),
        ],
        [decision('t1-l1-a1'), decision('t1-l1-a2', { kind: 'server-error', faultStatus: 503, outcome: 503 })],
      ),
    );
    assert.deepEqual(report.failures, []);
    assert.deepEqual(
      { made: report.made, answered: report.answered, errored: report.errored },
      { made: 2, answered: 1, errored: 1 },
    );
    assert.deepEqual(report.errorCauses, { 'injected server-error to it': 1 });
  });

  it('fails an error the API did not cause, a lost request and one answered twice', () => {
    const answer = (id: string): SoakEvent => ({ type: 'answered', id, status: 200, at: T0 + 30 });
    const report = analyze(
      input(
        [
          ...apiRequest('t1-l1-a1', T0, [{ type: 'errored', id: 't1-l1-a1', status: 500, code: null, at: T0 + 30 }]),
          ...apiRequest('t1-l1-a2', T0, []),
          ...apiRequest('t1-l1-a3', T0, [answer('t1-l1-a3'), answer('t1-l1-a3')]),
        ],
        [decision('t1-l1-a1', { outcome: 500 }), decision('t1-l1-a3')],
      ),
    );
    assert.deepEqual(
      report.failures.map((f) => f.requestId),
      ['t1-l1-a2', 't1-l1-a1', 't1-l1-a3'],
    );
    assert.equal(report.lost, 1);
    assert.equal(report.answeredTwice, 1);
  });

  it('counts a request in flight when its page reloaded as cut, not lost', () => {
    const report = analyze({
      ...input(apiRequest('t1-l1-a1', T0, []), []),
      tabs: [
        {
          name: 't1',
          events: apiRequest('t1-l1-a1', T0, []),
          cuts: [{ at: T0 + 5, reason: 'reload' }],
          heapStart: 1,
          heapEnd: 2,
          timersAfterLogout: [],
        },
      ],
    });
    assert.deepEqual([report.lost, report.cutByReloadOrClose, report.failures.length], [0, 1, 0]);
  });

  it('fails a token sent after its exp on the server clock, unless a clock jump aged it', () => {
    const late = T0 + 7000;
    const sentLate = apiRequest('t1-l1-a1', late, [{ type: 'answered', id: 't1-l1-a1', status: 200, at: late + 9 }]);
    const arrivedExpired = decision('t1-l1-a1', {
      arrivedAt: late + 5,
      serverClockAt: late + 5,
      token: { ...decision('x').token!, expiredOnArrival: true },
    });
    const failed = analyze(input(sentLate, [arrivedExpired]));
    assert.equal(failed.sentExpired, 1);
    assert.match(failed.failures[0]!.what, /expired 1000 ms before/);

    const jumpedBy = (ms: number) =>
      analyze(
        input(sentLate, [
          {
            ...arrivedExpired,
            token: { ...arrivedExpired.token!, clockJumpedSinceIssue: true, clockJumpSinceIssueMs: ms },
          },
        ]),
      );
    const jumped = jumpedBy(1500);
    assert.deepEqual([jumped.sentExpired, jumped.agedByClockJump, jumped.failures.length], [0, 1, 0]);
    // A jump too small to explain it (or backwards) leaves the failure standing.
    assert.equal(jumpedBy(500).sentExpired, 1);
    assert.equal(jumpedBy(-1500).sentExpired, 1);
  });

  it('fails a logout without a cause, a token at the foreign origin and any refresh-token reuse', () => {
    const report = analyze(
      input([{ type: 'auth', event: 'logout', detail: 'refresh-failed', at: T0 + 100 }], [], {
        foreign: [{ id: 't1-l1-f1', authorization: true, at: T0 + 50 }],
        reuseDetected: 1,
      }),
    );
    assert.equal(report.tokensToForeignOrigin, 1);
    assert.deepEqual(
      report.failures.map((f) => f.what.split(' ')[0]),
      ['the', 'a', 'logout'],
    );
  });

  it('allows a logout the server caused: a refresh refused in that tab just before', () => {
    const report = analyze(
      input(
        [
          { type: 'request', id: 't1-l1-j1', kind: 'refresh', at: T0 },
          { type: 'auth', event: 'logout', detail: 'refresh-failed', at: T0 + 100 },
        ],
        [decision('t1-l1-j1', { target: 'refresh', path: '/refresh', token: null, outcome: 401 })],
      ),
    );
    assert.deepEqual(report.failures, []);
    assert.deepEqual(report.logouts, { 'refresh-failed': 1 });
  });

  it('prints the seed, the fault log and the tab log around a failure', () => {
    const run = input(apiRequest('t1-l1-a2', T0, []), [decision('t1-l1-a2', { outcome: 'client-gone' })]);
    const lines = evidence(run, analyze(run).failures[0]!).join('\n');
    assert.match(lines, /^seed 7; first failure/);
    assert.match(lines, /t1-l1-a2#1 GET \/api\/restricted none \+0ms -> client-gone/);
    assert.match(lines, /"type":"attempt","id":"t1-l1-a2"/);
  });
});
