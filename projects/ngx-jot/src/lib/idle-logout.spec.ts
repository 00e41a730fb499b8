import { withCrossTabSync } from './cross-tab';
import { JotError } from './errors';
import { JOT_ACTIVITY_KEY, withIdleLogout } from './idle-logout';
import type { JotFeature } from './feature';
import { provideJot } from './provide-jot';
import { withRefresh } from './refresher';
import { withStorage, type JotTokenStore } from './storage';
import { FakeOrigin } from '../../testing-private/fake-browser';
import { FakeJotServer } from '../../testing-private/fake-jot-server';
import { type TabApp, openApp } from '../../testing-private/fake-tab-app';

const AFTER = 120;
const WARN = 30;

describe('withIdleLogout', () => {
  let origin: FakeOrigin;
  let server: FakeJotServer;
  let apps: TabApp[];

  const settle = (ms = 0) => jest.advanceTimersByTimeAsync(ms);
  const open = (options: { sync?: boolean; platform?: 'browser' | 'server'; logoutUrl?: boolean } = {}) => {
    const features: JotFeature[] = [
      withRefresh({ url: '/refresh' }),
      withIdleLogout({ afterSeconds: AFTER, warnSeconds: WARN }),
    ];
    if (options.sync) features.push(withCrossTabSync());
    const app = openApp(origin.openTab(), server, {
      features,
      platform: options.platform,
      config: options.logoutUrl ? { logoutUrl: '/logout' } : {},
    });
    apps.push(app);
    return app;
  };
  const logIn = async (app: TabApp) => {
    app.auth.login({ username: 'ada' }).subscribe();
    await settle(100);
  };
  const logouts = (app: TabApp) => app.events.filter((e) => e.type === 'logout');
  const warnings = (app: TabApp) => app.events.filter((e) => e.type === 'session-warning');
  let moves = 0;
  /** Input of `type`; a mousemove moves the pointer one pixel on. */
  const input = (app: TabApp, type = 'keydown') =>
    app.tab.window.dispatch(type, { type, screenX: ++moves, screenY: 10 });

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] });
    origin = new FakeOrigin();
    server = new FakeJotServer();
    server.ttlSeconds = 600;
    apps = [];
  });

  afterEach(() => {
    for (const app of apps) app.close();
    jest.useRealTimers();
  });

  describe('bad input', () => {
    it.each([
      ['afterSeconds 0', { afterSeconds: 0 }, /afterSeconds.*> 0.*got 0/],
      ['afterSeconds negative', { afterSeconds: -5 }, /afterSeconds.*got -5/],
      ['afterSeconds NaN', { afterSeconds: NaN }, /afterSeconds.*got NaN/],
      ['afterSeconds Infinity', { afterSeconds: Infinity }, /afterSeconds.*got Infinity/],
      ['afterSeconds a string', { afterSeconds: '600' as unknown as number }, /afterSeconds.*got 600/],
      ['no options', undefined as unknown as { afterSeconds: number }, /afterSeconds.*got undefined/],
      ['warnSeconds equal to afterSeconds', { afterSeconds: 60 }, /warnSeconds.*less than afterSeconds \(60\); got 60/],
      ['warnSeconds above afterSeconds', { afterSeconds: 30, warnSeconds: 45 }, /Lower warnSeconds/],
      ['warnSeconds negative', { afterSeconds: 300, warnSeconds: -1 }, /warnSeconds.*got -1/],
      ['warnSeconds NaN', { afterSeconds: 300, warnSeconds: NaN }, /warnSeconds.*got NaN/],
    ])('%s is a JotError("config") that says what to change', (_what, options, message) => {
      let error: unknown;
      try {
        withIdleLogout(options);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(JotError);
      expect((error as JotError).code).toBe('config');
      expect((error as JotError).message).toMatch(/^ngx-jot: withIdleLogout\(\)/);
      expect((error as JotError).message).toMatch(message);
    });

    it('is accepted once only', () => {
      expect(() =>
        provideJot(
          { loginUrl: '/login' },
          withIdleLogout({ afterSeconds: 600 }),
          withIdleLogout({ afterSeconds: 900 }),
        ),
      ).toThrow(/same feature twice \(IdleLogout\)/);
    });
  });

  it('warns warnSeconds before, then ends the session with reason idle', async () => {
    const app = open();
    await logIn(app);
    expect(app.auth.sessionWarning()).toBeNull();

    await settle((AFTER - WARN) * 1000 - 200);
    expect(app.auth.sessionWarning()).toBeNull();
    expect(warnings(app)).toEqual([]);
    await settle(300);
    const warning = app.auth.sessionWarning();
    expect(warning?.reason).toBe('idle');
    // The end is where the deadline is, not where the timer fired.
    const endsAt = warning!.endsAt.getTime();
    expect(Math.abs(endsAt - (Date.now() + WARN * 1000 - 100))).toBeLessThanOrEqual(150);
    expect(warnings(app)).toEqual([{ type: 'session-warning', reason: 'idle', endsAt: warning!.endsAt }]);

    await settle(endsAt - Date.now() - 50);
    expect(app.auth.isAuthenticated()).toBe(true);
    await settle(100);
    expect(app.auth.isAuthenticated()).toBe(false);
    expect(logouts(app)).toEqual([{ type: 'logout', reason: 'idle' }]);
    expect(app.auth.sessionWarning()).toBeNull();
    // One warning event for one warning, however many checks ran.
    expect(warnings(app)).toHaveLength(1);
  });

  it('input clears the warning and restarts the count; keepAlive() counts as input', async () => {
    const app = open();
    await logIn(app);
    await settle((AFTER - WARN + 1) * 1000);
    expect(app.auth.sessionWarning()).not.toBeNull();

    input(app, 'pointerdown');
    expect(app.auth.sessionWarning()).toBeNull();
    await settle((AFTER - 1) * 1000);
    expect(app.auth.isAuthenticated()).toBe(true);
    expect(app.auth.sessionWarning()?.reason).toBe('idle');

    app.auth.keepAlive();
    expect(app.auth.sessionWarning()).toBeNull();
    await settle((AFTER - 1) * 1000);
    expect(app.auth.isAuthenticated()).toBe(true);
    await settle(2000);
    expect(logouts(app)).toEqual([{ type: 'logout', reason: 'idle' }]);
  });

  it.each(['pointerdown', 'keydown', 'wheel', 'touchstart', 'scroll', 'mousemove'])(
    '%s counts as activity',
    async (type) => {
      const app = open();
      await logIn(app);
      await settle((AFTER - 10) * 1000);
      input(app, type);
      await settle(20_000);
      expect(app.auth.isAuthenticated()).toBe(true);
    },
  );

  it('takes mousemove at most once a second, and shares it at most once a second', async () => {
    const app = open();
    await logIn(app);
    await settle(5000);
    const setItem = jest.spyOn(origin.localStorage, 'setItem');
    for (let i = 0; i < 100; i++) {
      input(app, 'mousemove');
      await settle(25); // 100 moves in 2.5 s
    }
    const shared = setItem.mock.calls.filter(([key]) => key === JOT_ACTIVITY_KEY);
    expect(shared.length).toBeGreaterThanOrEqual(2);
    expect(shared.length).toBeLessThanOrEqual(3);
  });

  it('a mousemove without movement (the page moved under a resting pointer) is not activity', async () => {
    const app = open();
    await logIn(app);
    input(app, 'mousemove');
    for (let second = 0; second < AFTER; second += 5) {
      await settle(5000);
      app.tab.window.dispatch('mousemove', { type: 'mousemove', screenX: moves, screenY: 10 });
    }
    await settle(1000);
    expect(logouts(app)).toEqual([{ type: 'logout', reason: 'idle' }]);
  });

  it('HTTP traffic (polling) is not activity', async () => {
    const app = open();
    await logIn(app);
    const poll = setInterval(() => app.http.get('/api/data').subscribe(), 5000);
    await settle(AFTER * 1000 + 100);
    clearInterval(poll);
    expect(server.calls.filter((c) => c.url === '/api/data').length).toBeGreaterThan(20);
    expect(logouts(app)).toEqual([{ type: 'logout', reason: 'idle' }]);
  });

  it('logs out through logoutUrl, so the server ends the session too', async () => {
    const app = open({ logoutUrl: true });
    await logIn(app);
    await settle(AFTER * 1000 + 100);
    expect(server.callsTo('/logout')).toHaveLength(1);
  });

  it('a session that begins counts as activity, whatever the page saw before', async () => {
    const app = open();
    await settle(AFTER * 2000);
    await logIn(app);
    expect(app.auth.isAuthenticated()).toBe(true);
    await settle((AFTER - 1) * 1000);
    expect(app.auth.isAuthenticated()).toBe(true);
  });

  it('a restored session whose last activity (shared in storage) is older than afterSeconds ends at start', async () => {
    const first = open();
    await logIn(first);
    // The tab is closed; its session stays in storage, and so does the time of its last activity.
    const { sessionStorage } = first.tab;
    first.close();
    await settle(AFTER * 1000);
    const reopened = openApp(origin.openTab({ sessionStorage: sessionStorage.snapshot() }), server, {
      features: [withRefresh({ url: '/refresh' }), withIdleLogout({ afterSeconds: AFTER, warnSeconds: WARN })],
    });
    apps.push(reopened);
    await settle();
    expect(reopened.auth.isAuthenticated()).toBe(false);
    expect(logouts(reopened)).toEqual([{ type: 'logout', reason: 'idle' }]);
  });

  it('a session restored from an async store (after start-up, no login event) is watched: idle without input ends it', async () => {
    const first = open();
    await logIn(first);
    const tokens = { accessToken: first.auth.token()! };
    let answer!: (stored: typeof tokens) => void;
    const store: JotTokenStore = { get: () => new Promise((resolve) => (answer = resolve)), set: jest.fn() };
    const reopened = openApp(origin.openTab(), server, {
      features: [
        withRefresh({ url: '/refresh' }),
        withStorage(store),
        withIdleLogout({ afterSeconds: AFTER, warnSeconds: WARN }),
      ],
    });
    apps.push(reopened);
    await settle(10);
    answer(tokens);
    await settle(10);
    expect(reopened.auth.isAuthenticated()).toBe(true);
    await settle((AFTER - WARN) * 1000);
    expect(reopened.auth.sessionWarning()?.reason).toBe('idle');
    await settle(WARN * 1000);
    expect(reopened.auth.isAuthenticated()).toBe(false);
    expect(logouts(reopened)).toEqual([{ type: 'logout', reason: 'idle' }]);
  });

  describe('deadlines are times, not timer counts', () => {
    it('a tab that wakes after the deadline (sleep, frozen timers) ends the session at once', async () => {
      const app = open();
      await logIn(app);
      // Asleep: the wall clock moves on, no timer runs and the monotonic clock stands still.
      jest.setSystemTime(Date.now() + (AFTER + 600) * 1000);
      expect(app.auth.isAuthenticated()).toBe(true);
      app.tab.document.dispatchEvent({ type: 'visibilitychange' } as Event);
      expect(app.auth.isAuthenticated()).toBe(false);
      expect(logouts(app)).toEqual([{ type: 'logout', reason: 'idle' }]);
    });

    it('a tab that wakes before the deadline keeps the session, and ends it on time', async () => {
      const app = open();
      await logIn(app);
      // The session began (activity) when the login answered; the deadline is from then.
      const deadline = Number(origin.localStorage.getItem(JOT_ACTIVITY_KEY)) + AFTER * 1000;
      jest.setSystemTime(deadline - 3000);
      app.tab.window.dispatch('focus', { type: 'focus' });
      expect(app.auth.isAuthenticated()).toBe(true);
      // Woken inside the warning time: the warning shows at once, with the real end.
      expect(app.auth.sessionWarning()?.endsAt.getTime()).toBe(deadline);
      await settle(2000);
      expect(app.auth.isAuthenticated()).toBe(true);
      await settle(1100);
      expect(app.auth.isAuthenticated()).toBe(false);
    });

    it('a clock set forward (or a lost timer) is noticed by the coarse timer, within 15 s', async () => {
      const app = open();
      await logIn(app);
      jest.setSystemTime(Date.now() + (AFTER + 60) * 1000);
      await settle(14_000);
      expect(app.auth.isAuthenticated()).toBe(true);
      await settle(1_100);
      expect(logouts(app)).toEqual([{ type: 'logout', reason: 'idle' }]);
    });

    it('a clock set back does not extend the session', async () => {
      const app = open();
      await logIn(app);
      await settle(10_000);
      jest.setSystemTime(Date.now() - 3_600_000);
      await settle((AFTER - 10) * 1000 + 100);
      expect(logouts(app)).toEqual([{ type: 'logout', reason: 'idle' }]);
    });

    it.each([
      ['without withCrossTabSync', false],
      ['with withCrossTabSync', true],
    ])('after a clock set back, activity in one tab still keeps the other alive (%s)', async (_name, sync) => {
      const [a, b] = [open({ sync }), open({ sync })];
      await settle(100);
      await logIn(a);
      if (!sync) await logIn(b);
      await settle(5_000);
      // Each write of the shared time is now earlier than the last one written before the jump.
      jest.setSystemTime(Date.now() - 600_000);
      for (let step = 0; step < 12; step++) {
        await settle(20_000);
        input(a);
      }
      await settle(100);
      expect(logouts(a)).toEqual([]);
      expect(logouts(b)).toEqual([]);
      expect(b.auth.isAuthenticated()).toBe(true);
    });
  });

  describe.each([
    ['without withCrossTabSync', false],
    ['with withCrossTabSync', true],
  ])('two tabs (%s)', (_name, sync) => {
    const twoTabs = async () => {
      const a = open({ sync });
      const b = open({ sync });
      await settle(100);
      await logIn(a);
      if (!sync) await logIn(b);
      await settle(1000);
      expect(a.auth.isAuthenticated() && b.auth.isAuthenticated()).toBe(true);
      return [a, b] as const;
    };

    it('activity in one keeps both alive, and clears the warning in both', async () => {
      const [a, b] = await twoTabs();
      for (let minute = 0; minute < 6; minute++) {
        await settle(60_000);
        input(a, 'wheel');
      }
      await settle(100);
      expect(a.auth.isAuthenticated() && b.auth.isAuthenticated()).toBe(true);

      await settle((AFTER - WARN) * 1000);
      expect(b.auth.sessionWarning()?.reason).toBe('idle');
      input(a);
      await settle(10);
      expect(a.auth.sessionWarning()).toBeNull();
      expect(b.auth.sessionWarning()).toBeNull();
      expect(logouts(a)).toEqual([]);
      expect(logouts(b)).toEqual([]);
    });

    it('no activity in any logs both out with reason idle, warned in both', async () => {
      const [a, b] = await twoTabs();
      await settle(AFTER * 1000 + 1000);
      for (const app of [a, b]) {
        expect(app.auth.isAuthenticated()).toBe(false);
        expect(logouts(app)).toEqual([{ type: 'logout', reason: 'idle' }]);
        expect(warnings(app)).toHaveLength(1);
      }
    });
  });

  it('a tab that hears of the idle logout from another tab before its own timer fires reports it as idle', async () => {
    const [a, b] = [open({ sync: true }), open({ sync: true })];
    await settle(100);
    await logIn(a);
    await settle(1000);
    expect(b.auth.isAuthenticated()).toBe(true);
    // Both tabs slept past the deadline; only the first wakes (its timers run late, as a background tab's).
    jest.setSystemTime(Date.now() + (AFTER + 60) * 1000);
    a.tab.document.dispatchEvent({ type: 'visibilitychange' } as Event);
    await settle(10); // the cross-tab message, before any timer of b's
    expect(b.auth.isAuthenticated()).toBe(false);
    expect(logouts(b)).toEqual([{ type: 'logout', reason: 'idle' }]);
  });

  it('a logout in another tab before the idle deadline stays a logout of another tab', async () => {
    const [a, b] = [open({ sync: true }), open({ sync: true })];
    await settle(100);
    await logIn(a);
    await settle(10_000);
    a.auth.logout();
    await settle(10);
    expect(logouts(b)).toEqual([{ type: 'logout', reason: 'other-tab' }]);
  });

  it('with storage blocked, each tab counts its own activity, and nothing throws', async () => {
    const blocked = () => {
      throw new DOMException('denied', 'SecurityError');
    };
    // The session's own store warns once (in development) that it keeps the session in memory.
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    jest.spyOn(origin.localStorage, 'getItem').mockImplementation(blocked);
    jest.spyOn(origin.localStorage, 'setItem').mockImplementation(blocked);
    const app = open();
    await logIn(app);
    await settle((AFTER - 10) * 1000);
    input(app);
    await settle((AFTER - 1) * 1000);
    expect(app.auth.isAuthenticated()).toBe(true);
    await settle(2000);
    expect(logouts(app)).toEqual([{ type: 'logout', reason: 'idle' }]);
    warn.mockRestore();
  });

  it('is inert on the server', async () => {
    const app = open({ platform: 'server' });
    await logIn(app);
    app.auth.keepAlive();
    await settle(AFTER * 2000);
    expect(app.auth.isAuthenticated()).toBe(true);
    expect(app.auth.sessionWarning()).toBeNull();
    expect(origin.localStorage.getItem(JOT_ACTIVITY_KEY)).toBeNull();
  });
});
