import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { drawFault } from '../src/faults.ts';

const keys = Array.from({ length: 200 }, (_, index) => `tab-1#${index + 1}`);

describe('drawFault (unit)', () => {
  it('draws the same fault for the same seed and key, and varies with the key', () => {
    const plan = { seed: 5, apiErrorRate: 0.3, apiDropRate: 0.3, meanLatencyMs: 10 };
    for (const key of keys)
      assert.deepEqual(drawFault(plan, key, 'api', true, 0), drawFault(plan, key, 'api', true, 0));
    const kinds = new Set(keys.map((key) => drawFault(plan, key, 'api', true, 0).kind));
    assert.deepEqual([...kinds].sort(), ['drop', 'none', 'server-error']);
  });

  it('a share of 1 refuses every request; 429 before any other fault', () => {
    for (const key of keys) {
      const fault = drawFault({ seed: 1, tooManyRate: 1 }, key, 'refresh', false, 0);
      assert.equal(fault.kind, 'too-many');
      assert.equal(fault.faultStatus, 429);
      assert.deepEqual(fault.aftermath, []);
    }
  });

  it('changes server state only after an API call that was not refused, and keeps the clock within ± 2 × clockJumpMs', () => {
    const changing = { seed: 3, revokeRate: 1, keyRotationRate: 1, clockJumpRate: 1, clockJumpMs: 1000 };
    assert.deepEqual(drawFault(changing, 'a#1', 'refresh', true, 0).aftermath, []);
    assert.deepEqual(drawFault({ ...changing, apiErrorRate: 1 }, 'a#1', 'api', true, 0).aftermath, []);
    assert.deepEqual(drawFault(changing, 'a#1', 'api', false, 0).aftermath.includes('revoke-token'), false);
    let offset = 0;
    for (const key of keys) {
      const fault = drawFault(changing, key, 'api', true, offset);
      assert.ok(fault.aftermath.includes('rotate-key'), key);
      offset += fault.clockJumpMs;
      assert.ok(Math.abs(offset) <= 2000, `offset ${offset} after ${key}`);
    }
  });
});
