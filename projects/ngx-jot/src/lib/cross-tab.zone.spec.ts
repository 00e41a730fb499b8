import { NgZone } from '@angular/core';

import { SessionState } from './session-state';
import { FakeOrigin, type FakeTabOptions } from '../../testing-private/fake-browser';
import { FakeJotServer } from '../../testing-private/fake-jot-server';
import { type TabApp, openApp } from '../../testing-private/fake-tab-app';

// Cross-tab sync in zone.js apps (real timers): messages, locks, the lease and IndexedDB work
// outside Angular's zone, so they never hold an app unstable, and what they change still lands.
describe('withCrossTabSync under zone.js', () => {
  let apps: TabApp[] = [];
  afterEach(() => {
    for (const app of apps) app.close();
    apps = [];
  });
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it.each<[string, FakeTabOptions]>([
    ['Web Locks + IndexedDB', {}],
    ['localStorage lease and storage events', { locks: false, broadcastChannel: false, indexedDB: false }],
  ])('shares a login and one refresh between two zone.js apps (%s)', async (_name, options) => {
    const origin = new FakeOrigin();
    const server = new FakeJotServer();
    server.latencyMs = 5;
    const [a, b] = [0, 1].map(() => openApp(origin.openTab(options), server, { zone: true }));
    apps.push(a, b);
    const zoneA = a.injector.get(NgZone);
    const zoneB = b.injector.get(NgZone);
    expect(zoneA).toBeInstanceOf(NgZone);
    await wait(30);

    zoneA.run(() => a.auth.login({ username: 'ada' }).subscribe());
    await wait(100);
    expect(b.auth.claims()?.name).toBe('Ada');

    server.latency.set('/refresh', 150);
    zoneA.run(() => a.auth.refresh().subscribe());
    await wait(20);
    zoneB.run(() => b.auth.refresh().subscribe());
    await wait(60);
    // b waits for a's lock (polling the lease, where there are no Web Locks) without keeping
    // its zone busy: waiting for another tab is not work of this app.
    expect(zoneB.hasPendingMacrotasks).toBe(false);
    await wait(500);
    expect(server.callsTo('/refresh')).toHaveLength(1);
    expect(server.reuse).toBe(0);
    expect(b.injector.get(SessionState).record()?.refreshToken).toBe(server.liveRefreshToken());
    expect(a.injector.get(SessionState).record()?.refreshToken).toBe(server.liveRefreshToken());
    for (const zone of [zoneA, zoneB]) {
      expect(zone.hasPendingMacrotasks).toBe(false);
      expect(zone.isStable).toBe(true);
    }
  });
});
