import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createRefreshTokenStore } from '../src/refresh-tokens.ts';
import { FakeClock } from './helpers.ts';

const TTL_MS = 60_000;

describe('refresh-token store (unit)', () => {
  it('spends each token once; the family continues with the next token', () => {
    const store = createRefreshTokenStore(TTL_MS, new FakeClock().now);
    const family = store.startFamily('john.doe');
    const first = store.issue(family);
    const spent = store.spend(first);
    assert.equal(spent.outcome, 'spent');
    assert.equal(spent.outcome === 'spent' && spent.family, family);
    assert.equal(store.spend(store.issue(family)).outcome, 'spent');
  });

  it('a second spend of one token is a reuse: the whole family is revoked, its newer token too', () => {
    const store = createRefreshTokenStore(TTL_MS, new FakeClock().now);
    const family = store.startFamily('john.doe');
    const first = store.issue(family);
    store.spend(first);
    const second = store.issue(family);
    assert.equal(store.spend(first).outcome, 'reused');
    assert.equal(family.revoked, true);
    assert.equal(store.spend(second).outcome, 'unknown');
  });

  it('refuses an expired token, and one it never issued', () => {
    const clock = new FakeClock();
    const store = createRefreshTokenStore(TTL_MS, clock.now);
    const token = store.issue(store.startFamily('john.doe'));
    clock.advance(TTL_MS / 1000);
    assert.equal(store.spend(token).outcome, 'expired');
    assert.equal(store.spend(token).outcome, 'unknown');
    assert.equal(store.spend('never-issued').outcome, 'unknown');
  });

  it('logout revokes only the family of the token given; revokeAll revokes every family', () => {
    const store = createRefreshTokenStore(TTL_MS, new FakeClock().now);
    const mine = store.issue(store.startFamily('john.doe'));
    const other = store.issue(store.startFamily('admin'));
    const third = store.issue(store.startFamily('admin'));
    store.revokeFamilyOf(mine);
    store.revokeFamilyOf('never-issued');
    assert.equal(store.spend(mine).outcome, 'unknown');
    assert.equal(store.spend(other).outcome, 'spent');
    store.revokeAll();
    assert.equal(store.spend(third).outcome, 'unknown');
  });

  it('sweeps expired entries out of their family on a later issue', () => {
    const clock = new FakeClock();
    const store = createRefreshTokenStore(TTL_MS, clock.now);
    const family = store.startFamily('john.doe');
    store.issue(family);
    clock.advance(TTL_MS / 1000);
    store.issue(family);
    assert.equal(family.tokenHashes.size, 1);
  });
});
