/*
 * One app per fake tab, without TestBed: a root-scoped environment injector with the tab's
 * document, zoneless change detection, a router, HttpClient over the shared fake server, and provideJot().
 * Not shipped.
 */
import { DOCUMENT } from '@angular/common';
import { HttpBackend, HttpClient, provideHttpClient, withInterceptors } from '@angular/common/http';
import { provideLocationMocks } from '@angular/common/testing';
import {
  type EnvironmentInjector,
  Injector,
  PLATFORM_ID,
  createEnvironmentInjector,
  getPlatform,
  provideZoneChangeDetection,
  provideZonelessChangeDetection,
  ɵINJECTOR_SCOPE as INJECTOR_SCOPE,
  ɵprovideZonelessChangeDetectionInternal as provideSchedulerInternal,
} from '@angular/core';
import { provideRouter } from '@angular/router';

import type { JotConfig } from '../src/lib/config';
import { withCrossTabSync } from '../src/lib/cross-tab';
import { JotAuth } from '../src/lib/jot-auth';
import { type JotEvent } from '../src/lib/events';
import { jotInterceptor } from '../src/lib/jot-interceptor';
import { type JotFeature } from '../src/lib/feature';
import { provideJot } from '../src/lib/provide-jot';
import { withRefresh } from '../src/lib/refresher';
import type { FakeTab } from './fake-browser';
import type { FakeJotServer } from './fake-jot-server';

export interface TabApp {
  readonly tab: FakeTab;
  readonly injector: EnvironmentInjector;
  readonly auth: JotAuth<{ sub?: string; name?: string }>;
  readonly http: HttpClient;
  /** Everything `auth.events` emitted. */
  readonly events: JotEvent[];
  /** Closes the tab: the app is destroyed, then the tab leaves the origin. */
  close(): void;
}

/**
 * Starts an app in `tab`; features default to `withRefresh({ url: '/refresh' }), withCrossTabSync()`.
 * `zone: true` gives it zone.js change detection (in a zone.js Jest project).
 */
export function openApp(
  tab: FakeTab,
  server: Pick<FakeJotServer, 'backend'>,
  options: {
    config?: Partial<JotConfig>;
    features?: JotFeature[];
    platform?: 'browser' | 'server';
    zone?: boolean;
    router?: boolean;
  } = {},
): TabApp {
  const features = options.features ?? [withRefresh({ url: '/refresh' }), withCrossTabSync()];
  const injector = createEnvironmentInjector(
    [
      { provide: INJECTOR_SCOPE, useValue: 'root' },
      { provide: PLATFORM_ID, useValue: options.platform ?? 'browser' },
      { provide: DOCUMENT, useValue: tab.document },
      // As bootstrapApplication() does: the scheduler always, then zone.js on top where asked.
      options.zone ? [provideSchedulerInternal(), provideZoneChangeDetection()] : provideZonelessChangeDetection(),
      options.router === false ? [] : provideRouter([]),
      provideLocationMocks(),
      provideHttpClient(withInterceptors([jotInterceptor])),
      { provide: HttpBackend, useValue: server.backend(tab.name) },
      provideJot({ loginUrl: '/login', ...options.config }, ...features),
    ],
    // Like every app of a page, a child of the platform (its Console, sanitizer, ...).
    (getPlatform()?.injector ?? Injector.NULL) as EnvironmentInjector,
    tab.name,
  );
  const auth = injector.get(JotAuth) as TabApp['auth'];
  const events: JotEvent[] = [];
  let closed = false;
  auth.events.subscribe((e) => events.push(e));
  return {
    tab,
    injector,
    auth,
    http: injector.get(HttpClient),
    events,
    close() {
      if (closed) return;
      closed = true;
      injector.destroy();
      tab.close();
    },
  };
}
