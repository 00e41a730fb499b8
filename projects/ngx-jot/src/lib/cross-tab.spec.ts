import { setFlagsFromString } from 'node:v8';
import { SessionState } from './session-state';
import { runInNewContext } from 'node:vm';

import { fakeJwt } from '../../testing-private/fake-jwt';

import { withCrossTabSync } from './cross-tab';
import { provideJot } from './provide-jot';
import { withRefresh } from './refresher';
import { withStorage } from './storage';
import { FakeOrigin, type FakeTabOptions } from '../../testing-private/fake-browser';
import { FakeJotServer } from '../../testing-private/fake-jot-server';
import { type TabApp, openApp } from '../../testing-private/fake-tab-app';

const LOCK = 'ngx-jot-refresh';

/** Node's `gc()`, exposed at run time (Jest cannot pass --expose-gc to one spec). */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
const noop = () => undefined;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('withCrossTabSync', () => {
  let origin: FakeOrigin;
  let server: FakeJotServer;
  let apps: TabApp[];

  /** Lets messages, IndexedDB, locks and the server's answers run (fake time). */
  const settle = (ms = 1000) => jest.advanceTimersByTimeAsync(ms);
  const open = (options?: FakeTabOptions) => {
    const app = openApp(origin.openTab(options), server);
    apps.push(app);
    return app;
  };
  const pairOf = (app: TabApp) => {
    const r = app.injector.get(SessionState).record();
    return r && { accessToken: r.accessToken, refreshToken: r.refreshToken };
  };
  const logouts = (app: TabApp) => app.events.filter((e) => e.type === 'logout');
  /** A tab logged in as ada, and its duplicate (a copy of its sessionStorage). */
  const tabAndTwin = async () => {
    const a = open();
    await settle();
    a.auth.login({ username: 'ada' }).subscribe();
    await settle();
    const twin = openApp(origin.duplicate(a.tab), server);
    apps.push(twin);
    await settle();
    return [a, twin] as const;
  };
  /** Two tabs, logged in as ada in the first, with every message delivered. */
  const twoTabsAsAda = async () => {
    const tabs = [open(), open()] as const;
    await settle();
    tabs[0].auth.login({ username: 'ada' }).subscribe();
    await settle();
    return tabs;
  };

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] });
    origin = new FakeOrigin();
    server = new FakeJotServer();
    apps = [];
  });

  afterEach(async () => {
    // Whatever a test did, no tab spent a rotated refresh token, and no lock was left held.
    expect(server.reuse).toBe(0);
    await settle();
    expect(origin.locks.isHeld(LOCK)).toBe(false);
    for (const app of apps) app.close();
    jest.useRealTimers();
  });

  it.each<[string, FakeTabOptions & { failOpen?: boolean }]>([
    ['Web Locks + IndexedDB + BroadcastChannel', {}],
    ['no IndexedDB (localStorage record)', { indexedDB: false }],
    ['IndexedDB refusing to open', { failOpen: true }],
    ['no Web Locks (localStorage lease)', { locks: false }],
    ['no BroadcastChannel (storage events)', { broadcastChannel: false }],
    ['none of them', { locks: false, indexedDB: false, broadcastChannel: false }],
  ])(
    'three tabs whose token expires together refresh once and all get the new pair (%s)',
    async (_name, { failOpen, ...options }) => {
      origin.indexedDB.failOpen = !!failOpen;
      const tabs = [open(options), open(options), open(options)];
      await settle();
      tabs[0].auth.login({ username: 'ada' }).subscribe();
      await settle();
      const login = pairOf(tabs[0]);
      expect(login?.refreshToken).toBe(server.liveRefreshToken());
      for (const t of tabs) expect(pairOf(t)).toEqual(login);

      // All three refresh timers fire in the same millisecond.
      await jest.advanceTimersByTimeAsync(30_000);
      await settle(3000);

      expect(server.callsTo('/refresh')).toHaveLength(1);
      const fresh = pairOf(tabs[0]);
      expect(fresh?.refreshToken).toBe(server.liveRefreshToken());
      expect(fresh?.refreshToken).not.toBe(login?.refreshToken);
      for (const t of tabs) {
        expect(pairOf(t)).toEqual(fresh);
        expect(t.events.filter((e) => e.type === 'refresh-start')).toHaveLength(1);
        expect(t.events.filter((e) => e.type === 'refresh-success')).toHaveLength(1);
        expect(t.auth.isAuthenticated()).toBe(true);
      }
      // One tab's call answered; the others took its pair and sent none, and say so.
      const sources = tabs.flatMap((t) => t.events.flatMap((e) => (e.type === 'refresh-success' ? [e.source] : [])));
      expect(sources.sort()).toEqual(['other-tab', 'other-tab', 'this-tab']);
      if (options.indexedDB !== false && options.locks !== false && !failOpen) {
        // The refreshing tab committed the rotated pair to IndexedDB before it let the lock go.
        const grant = origin.timeline.findIndex((e) => e.what === 'grant');
        const release = origin.timeline.findIndex((e, i) => i > grant && e.what === 'release');
        const commit = origin.timeline.findIndex(
          (e) =>
            e.what === 'commit' &&
            (e.value as { record?: { refreshToken?: string } }).record?.refreshToken === fresh?.refreshToken,
        );
        expect(grant).toBeGreaterThanOrEqual(0);
        expect(commit).toBeGreaterThan(grant);
        expect(commit).toBeLessThan(release);
      }
    },
  );

  it('keeps refreshing once per expiry over several rounds', async () => {
    const tabs = [open(), open(), open()];
    await settle();
    tabs[1].auth.login({ username: 'ada' }).subscribe();
    await settle();
    for (let round = 1; round <= 3; round++) {
      await jest.advanceTimersByTimeAsync(30_000);
      await settle(2000);
      expect(server.callsTo('/refresh')).toHaveLength(round);
      for (const t of tabs) expect(pairOf(t)?.refreshToken).toBe(server.liveRefreshToken());
    }
  });

  it('a logout in one tab ends the others with reason other-tab, and they do not broadcast it again', async () => {
    const [a, b, c] = [open(), open(), open()];
    await settle();
    a.auth.login({ username: 'ada' }).subscribe();
    await settle();
    const mark = origin.channels.log.length;

    a.auth.logout();
    await settle();

    expect(logouts(a)).toEqual([{ type: 'logout', reason: 'user' }]);
    for (const t of [b, c]) {
      expect(t.auth.token()).toBeNull();
      expect(t.auth.isAuthenticated()).toBe(false);
      expect(logouts(t)).toEqual([{ type: 'logout', reason: 'other-tab' }]);
      expect(t.tab.sessionStorage.getItem('ngx-jot')).toBeNull();
      expect(origin.channels.postsBy(t.tab.name, mark)).toEqual([]);
    }
    expect(origin.channels.postsBy(a.tab.name, mark)).toEqual([
      expect.objectContaining({ type: 'state', record: null }),
    ]);
    expect(origin.indexedDB.peek('ngx-jot', 'sync', 'record')).toMatchObject({ record: null });
  });

  it('another user logging in in one tab is a login in the others', async () => {
    // Found by the session model: the other tabs switched from ada to bob with no event at all.
    const [a, b] = await twoTabsAsAda();
    const mark = b.events.length;
    a.auth.login({ username: 'bob' }).subscribe();
    await settle();
    expect(b.auth.claims()?.sub).toBe('bob');
    expect(b.events.slice(mark)).toEqual([{ type: 'login', source: 'other-tab' }]);
  });

  it('a tab that takes a newer but expired pair under the lock keeps what it refreshes with it (no token spent twice)', async () => {
    // Found by the session model: the refreshed pair lost to the adopted one, which was refreshed again.
    const a = open();
    const b = open();
    await settle();
    a.auth.login({ username: 'ada' }).subscribe();
    await settle();
    b.close(); // b's sessionStorage keeps the first pair
    a.auth.login({ username: 'ada' }).subscribe();
    await settle();
    a.close(); // the shared store keeps the second pair
    await jest.advanceTimersByTimeAsync(120_000); // both pairs expire while no app runs

    // b's tab is restored (a reopened tab, a duplicate): it holds the first pair, the store the second.
    const c = openApp(origin.duplicate(b.tab), server);
    apps.push(c);
    await settle(3000);
    expect(server.callsTo('/refresh')).toHaveLength(1);
    expect(c.auth.isAuthenticated()).toBe(true);
    expect(pairOf(c)?.refreshToken).toBe(server.liveRefreshToken());
    // (afterEach: no refresh token was presented twice.)
  });

  it('login in one tab reaches the open tabs, and a tab opened later asks them', async () => {
    const [a, b] = await twoTabsAsAda();
    expect(b.auth.claims()?.name).toBe('Ada');
    expect(b.events).toEqual([{ type: 'login', source: 'other-tab' }]);

    const later = open();
    await settle();
    expect(pairOf(later)).toEqual(pairOf(a));
    expect(later.events).toEqual([{ type: 'login', source: 'other-tab' }]);
  });

  it.each([
    ['login()', (a: TabApp) => a.auth.login({ username: 'bob' }).subscribe()],
    [
      'setTokens()',
      (a: TabApp) => a.auth.setTokens({ accessToken: fakeJwt({ sub: 'bob', name: 'Bob' }), refreshToken: 'sso-r' }),
    ],
  ])('a %s in one tab while another refreshes the old session wins in both', async (_what, signIn) => {
    const [a, b] = await twoTabsAsAda();
    server.latency.set('/refresh', 500);
    b.auth.refresh().subscribe({ error: () => undefined });
    await jest.advanceTimersByTimeAsync(100);
    signIn(a);
    await settle(3000);
    expect(a.auth.claims()?.sub).toBe('bob');
    expect(b.auth.claims()?.sub).toBe('bob');
    expect(pairOf(b)).toEqual(pairOf(a));
  });

  it('a logout that a refreshing tab did not hear is not undone by its refresh', async () => {
    const [a, b] = await twoTabsAsAda();
    server.latency.set('/refresh', 500);
    b.auth.refresh().subscribe({ error: () => undefined });
    await jest.advanceTimersByTimeAsync(100);
    b.tab.deaf = true; // B misses A's logout message; only the shared store tells
    a.auth.logout();
    await jest.advanceTimersByTimeAsync(600);
    b.tab.deaf = false;
    await settle(3000);
    expect(a.auth.isAuthenticated()).toBe(false);
    expect(b.auth.isAuthenticated()).toBe(false);
    expect(a.events.map((e) => e.type)).toEqual(['login', 'logout']);
  });

  it('"remember me" travels with the session: whichever tab refreshes keeps it in local storage', async () => {
    const [a, b] = [open(), open()];
    await settle();
    a.auth.login({ username: 'ada' }, { remember: true }).subscribe();
    await settle();
    expect(b.injector.get(SessionState).session()?.remember).toBe(true);
    b.auth.refresh().subscribe();
    await settle();
    const stored = JSON.parse(origin.localStorage.getItem('ngx-jot') ?? 'null') as { refreshToken?: string } | null;
    expect(stored?.refreshToken).toBe(pairOf(b)?.refreshToken);
    expect(pairOf(a)).toEqual(pairOf(b));

    a.auth.login({ username: 'bob' }).subscribe(); // not remembered: no tab keeps it in local storage
    await settle();
    expect(b.injector.get(SessionState).session()?.remember).toBe(false);
    expect(origin.localStorage.getItem('ngx-jot')).toBeNull();
  });

  it('a tab opened when no tab is alive does not take the session left in IndexedDB', async () => {
    const a = open();
    await settle();
    a.auth.login({ username: 'ada' }).subscribe();
    await settle();
    a.close();
    expect(origin.indexedDB.peek('ngx-jot', 'sync', 'record')).toMatchObject({
      record: { refreshToken: server.liveRefreshToken() },
    });

    const next = open();
    await settle();
    expect(next.auth.token()).toBeNull();
  });

  it.each([
    ['the tab stays open', false],
    ['the tab is closed right after', true],
  ])('leaves no token behind after logout(), in IndexedDB either (%s)', async (_when, closeAtOnce) => {
    const a = open();
    await settle();
    a.auth.login({ username: 'ada' }, { remember: true }).subscribe();
    await settle();
    const refreshToken = server.liveRefreshToken();
    expect(origin.indexedDB.peek('ngx-jot', 'sync', 'record')).toMatchObject({ record: { refreshToken } });
    a.auth.logout();
    if (closeAtOnce) a.close();
    await settle();
    expect(origin.indexedDB.peek('ngx-jot', 'sync', 'record')).toMatchObject({ record: null });
    const everywhere = JSON.stringify([origin.localStorage.snapshot(), a.tab.sessionStorage.snapshot()]);
    expect(everywhere).not.toContain(refreshToken);
    expect(everywhere).not.toContain('eyJ');
  });

  it('ignores stale, repeated and malformed messages', async () => {
    const [a, b] = await twoTabsAsAda();
    const loginMessage = origin.channels.postsBy(a.tab.name).find((m) => (m as { record?: unknown }).record) as Record<
      string,
      unknown
    >;
    a.auth.refresh().subscribe();
    await settle();
    const current = pairOf(a);
    expect(pairOf(b)).toEqual(current);
    const eventsBefore = b.events.length;

    // Another tab's channel, replaying what was said before the refresh, and worse.
    const Channel = origin.channels.classFor(origin.openTab());
    const rogue = new Channel('ngx-jot');
    rogue.postMessage(loginMessage); // the login, again: older than the refresh
    rogue.postMessage({ ...loginMessage, record: null }); // a logout as old as that login
    rogue.postMessage({ ...loginMessage, version: Date.now() + 1e6, record: { ...current } }); // newer, but the same pair
    rogue.postMessage({ type: 'state', version: Date.now() + 2e6, by: 'x', record: { refreshToken: 'half' } }); // no access token
    rogue.postMessage({ type: 'state', version: 'soon', by: 'x', record: null });
    rogue.postMessage('hello');
    await settle();
    rogue.close();

    expect(pairOf(b)).toEqual(current);
    expect(b.events.length).toBe(eventsBefore);
    expect(b.auth.isAuthenticated()).toBe(true);
  });

  it('a newer state with an unusable token does not become the reference point: a genuine later state still arrives', async () => {
    const [a, b] = await twoTabsAsAda();
    // A does not hear the rogue state, so its next state is ordered before it.
    a.tab.deaf = true;
    const rogue = new (origin.channels.classFor(origin.openTab()))('ngx-jot');
    rogue.postMessage({
      type: 'state',
      version: Date.now() + 1e6,
      by: 'x',
      record: { accessToken: 'not-a-jwt', refreshToken: 'eve-r' },
    });
    await settle();
    rogue.close();
    a.tab.deaf = false;
    a.auth.refresh().subscribe();
    await settle();
    expect(server.callsTo('/refresh')).toHaveLength(1);
    expect(pairOf(b)).toEqual(pairOf(a));
  });

  it('passes on a refresh that returned a byte-identical access token (the refresh token tells)', async () => {
    server.sameAccessToken = true;
    const [a, b] = await twoTabsAsAda();
    const before = pairOf(b);
    a.auth.refresh().subscribe();
    await settle();
    expect(pairOf(a)?.accessToken).toBe(before?.accessToken);
    expect(pairOf(b)).toEqual(pairOf(a));
    expect(pairOf(b)?.refreshToken).not.toBe(before?.refreshToken);
    // Its own next refresh spends the token it was handed, not the old one.
    b.auth.refresh().subscribe();
    await settle();
    expect(server.callsTo('/refresh')).toHaveLength(2);
  });

  it('a duplicated tab shares one refresh with its twin', async () => {
    const [a, twin] = await tabAndTwin();
    expect(twin.events).toEqual([]); // restored from the copied sessionStorage, not adopted
    expect(pairOf(twin)).toEqual(pairOf(a));

    await jest.advanceTimersByTimeAsync(30_000);
    await settle(2000);
    expect(server.callsTo('/refresh')).toHaveLength(1);
    expect(pairOf(twin)).toEqual(pairOf(a));
    expect(pairOf(a)?.refreshToken).toBe(server.liveRefreshToken());
  });

  it("a duplicated tab that missed its twin's refresh takes the rotated pair from IndexedDB instead of spending its copy", async () => {
    const [a, twin] = await tabAndTwin();
    const copied = pairOf(twin);

    twin.tab.deaf = true; // drops every message (FINDINGS: a tab right after the lock often has not got it yet)
    a.auth.refresh().subscribe();
    await settle();
    expect(pairOf(twin)).toEqual(copied);
    expect(pairOf(a)).not.toEqual(copied);

    let token: string | undefined;
    twin.auth.refresh().subscribe((t) => (token = t));
    await settle();
    expect(server.callsTo('/refresh')).toHaveLength(1);
    expect(pairOf(twin)).toEqual(pairOf(a));
    expect(token).toBe(a.auth.token());
  });

  it('a database that never answers does not keep the lock: the refresh still happens once', async () => {
    const [a, b] = await twoTabsAsAda();
    origin.indexedDB.hang = true;
    await jest.advanceTimersByTimeAsync(30_000);
    await settle(20_000);
    expect(server.callsTo('/refresh')).toHaveLength(1);
    expect(pairOf(b)).toEqual(pairOf(a));
    expect(pairOf(a)?.refreshToken).toBe(server.liveRefreshToken());
  });

  it('a failed refresh looks at the shared store before it ends the session: a login elsewhere meanwhile survives', async () => {
    const [a, b] = await twoTabsAsAda();
    server.revokeAll(); // the old session is dead on the server
    server.latency.set('/refresh', 500);

    b.auth.refresh().subscribe({ error: noop });
    await jest.advanceTimersByTimeAsync(100); // b holds the lock; its refresh is on the wire
    a.auth.login({ username: 'bob' }).subscribe(); // a new session, stored while b waits
    await settle(2000);

    expect(server.callsTo('/refresh')).toHaveLength(1);
    for (const t of [a, b]) {
      expect(t.auth.claims()?.sub).toBe('bob');
      expect(logouts(t)).toEqual([]);
    }
    expect(pairOf(b)).toEqual(pairOf(a));
  });

  it("a refresh that ends with another tab's session of another user replays nothing of the user before", async () => {
    const [a, b] = await twoTabsAsAda();
    server.revokeAll();
    server.latency.set('/refresh', 500);
    b.auth.refresh().subscribe({ error: noop });
    await jest.advanceTimersByTimeAsync(100); // b holds the lock; its refresh is on the wire
    let held: unknown;
    b.http.get('/api/held').subscribe({ error: (e: unknown) => (held = e) });
    a.auth.login({ username: 'bob' }).subscribe(); // stored while b waits: b adopts it under the lock
    await settle(2000);

    expect(b.auth.claims()?.sub).toBe('bob');
    expect(server.callsTo('/api/held')).toHaveLength(0);
    expect(held).toMatchObject({ code: 'subject-changed' });
  });

  it("a held request is not replayed under another user's expired pair found under the lock", async () => {
    const [a, b] = await twoTabsAsAda();
    b.tab.deaf = true; // B misses the logout and bob's login; only the shared store tells
    a.auth.logout();
    await settle();
    a.auth.login({ username: 'bob' }).subscribe();
    await settle();
    a.close();
    // B wakes from sleep: its pair and bob's, which no tab refreshed, have both expired.
    jest.setSystemTime(Date.now() + 600_000);
    b.tab.deaf = false;
    let held: unknown;
    b.http.get('/api/held').subscribe({ error: (e: unknown) => (held = e) });
    await settle(2000);

    expect(b.auth.claims()?.sub).toBe('bob');
    expect(server.callsTo('/api/held')).toHaveLength(0);
    expect(held).toMatchObject({ code: 'subject-changed' });
  });

  it('a refresh rejected with no newer pair anywhere ends the session in every tab', async () => {
    const [a, b] = await twoTabsAsAda();
    server.revokeAll();
    a.auth.refresh().subscribe({ error: noop });
    await settle();
    expect(logouts(a)).toEqual([{ type: 'logout', reason: 'refresh-failed' }]);
    expect(logouts(b)).toEqual([{ type: 'logout', reason: 'other-tab' }]);
  });

  it('a logout elsewhere during a refresh ends it here and releases the lock', async () => {
    const [a, b] = await twoTabsAsAda();
    server.latency.set('/refresh', 1000);
    let failure: unknown;
    a.auth.refresh().subscribe({ error: (e) => (failure = e) });
    await jest.advanceTimersByTimeAsync(100);
    expect(origin.locks.isHeld(LOCK)).toBe(true);

    b.auth.logout();
    await settle(2000);
    expect(a.auth.token()).toBeNull();
    expect(logouts(a)).toEqual([{ type: 'logout', reason: 'other-tab' }]);
    expect(failure).toMatchObject({ code: 'refresh-cancelled' });
    expect(origin.locks.isHeld(LOCK)).toBe(false);

    // The lock is usable again.
    server.latency.delete('/refresh');
    b.auth.login({ username: 'ada' }).subscribe();
    await settle();
    a.auth.refresh().subscribe();
    await settle();
    expect(pairOf(b)).toEqual(pairOf(a));
    expect(pairOf(a)?.refreshToken).toBe(server.liveRefreshToken());
  });

  it('a lock holder that finds a logout in the shared store ends the session here but keeps the lock until its work is done', async () => {
    const [a, b] = await twoTabsAsAda();
    a.tab.deaf = true; // A misses B's logout message; only the shared store tells
    b.auth.logout();
    await settle();
    a.tab.deaf = false;
    expect(a.auth.isAuthenticated()).toBe(true);

    let shared: unknown = 'not run';
    let done = false;
    void a.injector.get(SessionState).crossTab?.exclusive(async (s) => {
      shared = s;
      await sleep(1000);
      done = true;
    });
    await jest.advanceTimersByTimeAsync(500);
    expect(shared).toBeNull();
    expect(logouts(a)).toEqual([{ type: 'logout', reason: 'other-tab' }]);
    // The holder decides itself: the session ended, yet its work still runs under the lock.
    expect(done).toBe(false);
    expect(origin.locks.isHeld(LOCK)).toBe(true);
    await settle(1000);
    expect(done).toBe(true);
    expect(origin.locks.isHeld(LOCK)).toBe(false);
  });

  it('a logout in the tab holding the lock releases it at once: the others do not wait for its dead work', async () => {
    const [a, b] = await twoTabsAsAda();
    let done = false;
    void a.injector.get(SessionState).crossTab?.exclusive(async () => {
      await sleep(5000);
      done = true;
    });
    await jest.advanceTimersByTimeAsync(100);
    expect(origin.locks.isHeld(LOCK)).toBe(true);
    let waited: boolean | undefined;
    void b.injector.get(SessionState).crossTab?.exclusive(async () => {
      waited = done;
    });

    a.auth.logout();
    await settle();
    expect(origin.locks.isHeld(LOCK)).toBe(false);
    expect(waited).toBe(false); // B ran while A's work was still going
    await settle(5000);
    expect(done).toBe(true);
  });

  it('a session restored from storage, with nothing shared yet, is placed in the shared order: a tab opened later gets it, an older state does not replace it', async () => {
    // Logged in without cross-tab sync: the session is in sessionStorage only, IndexedDB is empty.
    const plain = openApp(origin.openTab(), server, { features: [withRefresh({ url: '/refresh' })] });
    apps.push(plain);
    plain.auth.login({ username: 'ada' }).subscribe();
    await settle();
    plain.close();
    const restored = openApp(origin.duplicate(plain.tab), server);
    apps.push(restored);
    await settle();
    expect(restored.events).toEqual([]); // restored, not adopted
    expect(pairOf(restored)?.refreshToken).toBe(server.liveRefreshToken());
    expect(origin.indexedDB.peek('ngx-jot', 'sync', 'record')).toMatchObject({ record: pairOf(restored) });

    // Placed in the origin's order, it answers a new tab's hello ...
    const later = open();
    await settle();
    expect(pairOf(later)).toEqual(pairOf(restored));
    expect(later.events).toEqual([{ type: 'login', source: 'other-tab' }]);

    // ... and a state older than it, with another pair, is stale.
    const held = pairOf(restored);
    const rogue = new (origin.channels.classFor(origin.openTab()))('ngx-jot');
    rogue.postMessage({
      type: 'state',
      version: 1,
      by: 'x',
      record: { accessToken: fakeJwt({ sub: 'eve', name: 'Eve' }), refreshToken: 'eve-r' },
    });
    await settle();
    rogue.close();
    expect(pairOf(restored)).toEqual(held);
  });

  it('a tab that took the rotated pair from IndexedDB under the lock holds it as the shared state: it answers a tab opened later', async () => {
    const [a, twin] = await tabAndTwin();
    twin.tab.deaf = true;
    a.auth.refresh().subscribe();
    await settle();
    twin.auth.refresh().subscribe();
    await settle();
    twin.tab.deaf = false;
    expect(server.callsTo('/refresh')).toHaveLength(1);
    expect(pairOf(twin)).toEqual(pairOf(a));

    a.close(); // only the twin is left to answer
    const later = open();
    await settle();
    expect(pairOf(later)).toEqual(pairOf(twin));
    expect(later.events).toEqual([{ type: 'login', source: 'other-tab' }]);
  });

  it('ignores a state whose version is not a safe integer (it would freeze the order of every tab)', async () => {
    const [a, b] = await twoTabsAsAda();
    const held = pairOf(b);
    const rogue = new (origin.channels.classFor(origin.openTab()))('ngx-jot');
    rogue.postMessage({
      type: 'state',
      version: 2 ** 53,
      by: 'x',
      record: { accessToken: fakeJwt({ sub: 'eve', name: 'Eve' }), refreshToken: 'eve-r' },
    });
    await settle();
    rogue.close();
    for (const t of [a, b]) expect(pairOf(t)).toEqual(held);
    expect(b.events).toEqual([{ type: 'login', source: 'other-tab' }]);

    // The order still moves on: A's refresh reaches B.
    a.auth.refresh().subscribe();
    await settle();
    expect(pairOf(b)).toEqual(pairOf(a));
    expect(pairOf(b)).not.toEqual(held);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a skew that is text', { skew: 'abc' }],
    ['a skew far in the past', { skew: -1e13 }],
    ['a refresh token that is a number', { refreshToken: 42 }],
    ['a "remember" that is not a boolean', { remember: 1 }],
  ])('ignores a state whose record has %s (an expired token would count as valid)', async (_what, bad) => {
    const [a, b] = await twoTabsAsAda();
    const held = pairOf(b);
    const eventsBefore = b.events.length;
    const rogue = new (origin.channels.classFor(origin.openTab()))('ngx-jot');
    const expired = fakeJwt({ sub: 'eve' }, { issuedAt: new Date(Date.now() - 120_000), expiresInSeconds: 60 });
    rogue.postMessage({
      type: 'state',
      version: Date.now() + 1e6,
      by: 'x',
      record: { accessToken: expired, refreshToken: 'eve-r', ...bad },
    });
    await settle();
    rogue.close();
    for (const t of [a, b]) expect(pairOf(t)).toEqual(held);
    expect(b.events.length).toBe(eventsBefore);
  });

  it('keeps memory flat over many logins and logouts: no write keeps the earlier ones alive', async () => {
    const gc = exposeGc();
    // The shared record in localStorage: its writes settle at once, so 40,000 of them run in
    // seconds (fake IndexedDB transactions take turns). What is kept per write is the same.
    const a = open({ indexedDB: false });
    await settle();
    const token = fakeJwt({ sub: 'ada' });
    const cycles = async (count: number) => {
      for (let i = 1; i <= count; i++) {
        a.auth.setTokens({ accessToken: token, refreshToken: `r${i}` });
        a.auth.setTokens(null);
        if (i % 500 === 0) {
          await settle(10);
          // What the fakes and the test record grows too: only the library's own memory counts.
          origin.channels.log.length = 0;
          a.events.length = 0;
        }
      }
    };
    const heapUsed = async () => {
      await settle();
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    await cycles(1000); // warm-up: caches, compiled code
    const before = await heapUsed();
    await cycles(20_000);
    const growth = (await heapUsed()) - before;
    // 40,000 writes: a chain that keeps each one costs about 3 MB (74 B a write, measured);
    // flat was 0.1-0.2 MB of noise.
    expect(growth).toBeLessThan(1024 * 1024);
  });

  it('setTokens() in one tab reaches the others', async () => {
    const [a, b] = [open(), open()];
    await settle();
    a.auth.setTokens({ accessToken: fakeJwt({ sub: 'sso', name: 'Sso' }), refreshToken: 'from-sso' });
    await settle();
    expect(b.auth.claims()?.name).toBe('Sso');
    expect(pairOf(b)).toEqual(pairOf(a));
    a.auth.setTokens(null);
    await settle();
    expect(b.auth.token()).toBeNull();
  });

  it('is off on the server and cannot be combined with memory storage', () => {
    const app = openApp(origin.openTab(), server, { platform: 'server' });
    apps.push(app);
    expect(app.injector.get(SessionState).crossTab).toBeNull();
    expect(() => provideJot({ loginUrl: '/login' }, withStorage('memory'), withCrossTabSync())).toThrow(/memory/);
  });
});
