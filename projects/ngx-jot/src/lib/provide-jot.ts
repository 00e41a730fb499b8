import { DOCUMENT, isPlatformBrowser } from '@angular/common';
import {
  type EnvironmentProviders,
  InjectionToken,
  PLATFORM_ID,
  type Provider,
  inject,
  makeEnvironmentProviders,
  provideAppInitializer,
  provideEnvironmentInitializer,
} from '@angular/core';

import { type JotConfig, resolveConfig } from './config';
import { configError } from './errors';
import { checkLoginRoute } from './guards';
import { JotAuth } from './jot-auth';
import { createRefresher, type JotRefreshOptions } from './refresh-queue';
import { JotStorage, type JotStorageKind, type JotTokenStore, memoryStore, webStore } from './storage';
import { JOT_CONFIG, JOT_REFRESHER, JOT_STORAGE } from './tokens';

/** The kinds of `provideJot()` features. */
export enum JotFeatureKind {
  /** `withRefresh()`. */
  Refresh,
  /** `withStorage()`. */
  Storage,
  /** `withCrossTabSync()`. */
  CrossTabSync,
  /** `withJotDebug()`. */
  Debug,
  /** `withIdleLogout()`. */
  IdleLogout,
}

/** A feature of `provideJot()`, made by a `withX()` function. */
export interface JotFeature<K extends JotFeatureKind = JotFeatureKind> {
  ɵkind: K;
  ɵproviders: Provider[];
  /** Storage features only: the built-in kind chosen, or 'custom'. */
  ɵstorage?: JotStorageKind | 'custom';
}

function makeJotFeature<K extends JotFeatureKind>(
  kind: K,
  providers: Provider[],
  storage?: JotStorageKind | 'custom',
): JotFeature<K> {
  return { ɵkind: kind, ɵproviders: providers, ɵstorage: storage };
}

/** Which store `provideJot()` uses; set by `withStorage()`. */
const JOT_STORE_CHOICE = new InjectionToken<JotStorageKind | JotTokenStore>(ngDevMode ? 'JOT_STORE_CHOICE' : '');
/** Present once per injector that ran `provideJot()`, to catch a second call in the same tree. */
const JOT_PROVIDED = new InjectionToken<true>(ngDevMode ? 'JOT_PROVIDED' : '');

/**
 * Sets up ngx-jot: configuration, token storage and the session service.
 *
 * @usageNotes
 * ```ts
 * providers: [
 *   provideHttpClient(withInterceptors([jotInterceptor])),
 *   provideJot({ loginUrl: '/authenticate', allowedOrigins: ['https://api.example.com'] },
 *     withRefresh({ url: '/refresh' }), withStorage('local')),
 * ]
 * ```
 */
export function provideJot(config: JotConfig, ...features: JotFeature[]): EnvironmentProviders {
  const resolved = resolveConfig(config);
  // A feature not called (`withRefresh` for `withRefresh()`) or a conditional `undefined`: runtime check for JavaScript callers and `any`; the type cannot promise it.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- see above.
  const kinds = features.map((f) => f?.ɵkind);
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- see above.
  if (kinds.some((k) => k === undefined)) {
    throw configError(
      ngDevMode
        ? `provideJot() features must be made by withRefresh(), withStorage(), withCrossTabSync(), withIdleLogout() or withJotDebug().`
        : '',
    );
  }
  for (const kind of [
    JotFeatureKind.Refresh,
    JotFeatureKind.Storage,
    JotFeatureKind.CrossTabSync,
    JotFeatureKind.IdleLogout,
  ]) {
    if (kinds.filter((k) => k === kind).length > 1) {
      throw configError(
        ngDevMode ? `provideJot() got the same feature twice (${JotFeatureKind[kind]}); pass each withX() once.` : '',
      );
    }
  }
  const storage = features.find((f) => f.ɵkind === JotFeatureKind.Storage)?.ɵstorage ?? 'session';
  if (storage === 'memory' && kinds.includes(JotFeatureKind.CrossTabSync)) {
    throw configError(
      ngDevMode
        ? `withStorage('memory') cannot be combined with withCrossTabSync(): memory is private to one tab. ` +
            `Use withStorage('session') or withStorage('local'), or drop withCrossTabSync().`
        : '',
    );
  }
  return makeEnvironmentProviders([
    { provide: JOT_CONFIG, useValue: resolved },
    { provide: JOT_PROVIDED, useValue: true },
    { provide: JOT_STORE_CHOICE, useValue: 'session' },
    { provide: JOT_STORAGE, useFactory: createStorage },
    // Here, not only in root: each injector that calls provideJot() has its own session.
    JotAuth,
    features.map((f) => f.ɵproviders),
    provideEnvironmentInitializer(() => {
      if (inject(JOT_PROVIDED, { skipSelf: true, optional: true })) {
        throw configError(
          ngDevMode
            ? `provideJot() was called twice in one injector tree; call it once, in the application providers.`
            : '',
        );
      }
    }),
    // Restores the session (awaiting an async store) before the first navigation.
    provideAppInitializer(() => inject(JotAuth).ɵ.restoring ?? undefined),
    // Dev only (dropped from production builds): a loginRoute behind jotGuard would loop.
    typeof ngDevMode === 'undefined' || ngDevMode ? provideAppInitializer(checkLoginRoute) : [],
  ]);
}

function createStorage(): JotStorage {
  const choice = inject(JOT_STORE_CHOICE);
  const win = isPlatformBrowser(inject(PLATFORM_ID)) ? inject(DOCUMENT).defaultView : null;
  const warned = new Set<string>();
  // On the server there is no web storage: memory, silently (one store per request's injector).
  const primary =
    typeof choice === 'object' ? choice : win && choice !== 'memory' ? webStore(win, choice) : memoryStore();
  return new JotStorage(primary, win ? () => webStore(win, 'local') : null, warned);
}

/**
 * Where tokens live: `'session'` (default), `'local'`, `'memory'`, or a custom `JotTokenStore`.
 * A store that throws degrades to memory and never crashes the app.
 *
 * @usageNotes
 * ```ts
 * provideJot({ loginUrl: '/authenticate' }, withStorage('local'))
 * ```
 */
export function withStorage(store: JotStorageKind | JotTokenStore): JotFeature<JotFeatureKind.Storage> {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- runtime check for JavaScript callers and `any`; the type cannot promise it.
  const custom = typeof store === 'object' && store !== null;
  if (
    custom
      ? typeof store.get !== 'function' || typeof store.set !== 'function'
      : !['session', 'local', 'memory'].includes(store)
  ) {
    throw configError(
      ngDevMode
        ? // eslint-disable-next-line @typescript-eslint/no-base-to-string -- whatever a JavaScript caller passed; String() never throws on it.
          `withStorage() takes 'session', 'local', 'memory' or an object with get() and set(tokens); got ${String(store)}.`
        : '',
    );
  }
  return makeJotFeature(
    JotFeatureKind.Storage,
    [{ provide: JOT_STORE_CHOICE, useValue: store }],
    custom ? 'custom' : store,
  );
}

/**
 * Turns on refresh: on a 401 one refresh runs while requests queue, then each is replayed once;
 * a proactive refresh runs before `exp`.
 *
 * @usageNotes
 * ```ts
 * provideJot({ loginUrl: '/authenticate' }, withRefresh({ url: '/refresh' }))
 * ```
 */
export function withRefresh(options: JotRefreshOptions): JotFeature<JotFeatureKind.Refresh> {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- runtime check for JavaScript callers and `any`; the type cannot promise it.
  if (!options || typeof options.url !== 'string' || options.url.trim() === '') {
    throw configError(
      ngDevMode ? `withRefresh() needs the refresh endpoint, e.g. withRefresh({ url: '/refresh' }).` : '',
    );
  }
  const before = options.refreshBeforeExpirySeconds;
  if (before !== undefined && (typeof before !== 'number' || !(before >= 0) || !Number.isFinite(before))) {
    throw configError(
      ngDevMode ? `refreshBeforeExpirySeconds must be a finite number >= 0; got ${String(before)}.` : '',
    );
  }
  return makeJotFeature(JotFeatureKind.Refresh, [
    {
      provide: JOT_REFRESHER,
      useValue: (host: Parameters<typeof createRefresher>[0]) => createRefresher(host, options),
    },
  ]);
}
