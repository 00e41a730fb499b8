import type { JotRecord } from './storage';
import { SharedSessionView } from './shared-session-view';

describe('SharedSessionView', () => {
  const pair: JotRecord = { accessToken: 'a1', refreshToken: 'r1' };

  it('orders the states it makes after every state it has seen, and after each other', () => {
    const view = new SharedSessionView('tab-a', () => null);
    const later = Date.now() + 1e6;
    view.learn({ version: later, by: 'tab-b', record: null });
    const first = view.own(pair);
    const second = view.own(null);
    expect(first.version).toBe(later + 1);
    expect(second.version).toBe(later + 2);
    expect(first.by).toBe('tab-a');
  });

  it('is newer than its known state only for a later version, ties broken by the tab id', () => {
    const view = new SharedSessionView('tab-a', () => null);
    view.known = { version: 10, by: 'm', record: null };
    expect(view.isNewer({ version: 11, by: 'a', record: null })).toBe(true);
    expect(view.isNewer({ version: 10, by: 'z', record: null })).toBe(true);
    expect(view.isNewer({ version: 10, by: 'a', record: null })).toBe(false);
    expect(view.isNewer({ version: 9, by: 'z', record: null })).toBe(false);
  });

  it('holds a pair only when the refresh token matches too (access tokens can be byte-identical)', () => {
    let held: JotRecord | null = pair;
    const view = new SharedSessionView('tab-a', () => held);
    expect(view.holds({ version: 1, by: 'x', record: { accessToken: 'a1', refreshToken: 'r1' } })).toBe(true);
    expect(view.holds({ version: 1, by: 'x', record: { accessToken: 'a1', refreshToken: 'r2' } })).toBe(false);
    expect(view.holds({ version: 1, by: 'x', record: null })).toBe(false);
    held = null;
    expect(view.holds({ version: 1, by: 'x', record: null })).toBe(true);
  });
});
