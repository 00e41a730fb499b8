import {
  type EnvironmentProviders,
  InjectionToken,
  inject,
  makeEnvironmentProviders,
  provideAppInitializer,
  provideEnvironmentInitializer,
} from '@angular/core';

import { JOT_CONFIG, type JotConfig, resolveConfig } from './config';
import { configError } from './errors';
import { JotFeatureKind, type JotFeature } from './feature';
import { checkLoginRoute } from './guards';
import { JotAuth } from './jot-auth';
import { JOT_ORIGIN_POLICY, createOriginPolicy } from './origin-policy';
import { SessionState } from './session-state';
import { JOT_STORAGE, JOT_STORE_CHOICE, createStorage } from './storage';

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
  // Development builds say what is wrong with the features; production builds drop the checks.
  if (ngDevMode) checkFeatures(features);
  return makeEnvironmentProviders([
    { provide: JOT_CONFIG, useValue: resolved },
    { provide: JOT_STORE_CHOICE, useValue: 'session' },
    { provide: JOT_STORAGE, useFactory: createStorage },
    // Here, not only in root: each injector that calls provideJot() has its own session.
    { provide: JOT_ORIGIN_POLICY, useFactory: createOriginPolicy },
    SessionState,
    JotAuth,
    features.map((feature) => feature.ɵproviders),
    // Restores the session (awaiting an async store) before the first navigation.
    provideAppInitializer(() => inject(SessionState).restore.ready),
    ngDevMode ? devChecks() : [],
  ]);
}

/**
 * Development only: the features are made by `withX()`, each given once, and none contradicts
 * another (memory storage is private to one tab, so it cannot be shared with the others).
 */
function checkFeatures(features: JotFeature[]): void {
  // A feature not called (`withRefresh` for `withRefresh()`) or a conditional `undefined`: runtime check for JavaScript callers and `any`; the type cannot promise it.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- see above.
  const kinds = features.map((feature) => feature?.ɵkind);
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- see above.
  if (kinds.some((kind) => kind === undefined)) {
    throw configError(
      `provideJot() features must be made by withRefresh(), withStorage(), withCrossTabSync(), withIdleLogout(), withJotDebug() or withDpop().`,
    );
  }
  for (const kind of [
    JotFeatureKind.Refresh,
    JotFeatureKind.Storage,
    JotFeatureKind.CrossTabSync,
    JotFeatureKind.IdleLogout,
    JotFeatureKind.Dpop,
  ]) {
    if (kinds.filter((other) => other === kind).length > 1) {
      throw configError(`provideJot() got the same feature twice (${JotFeatureKind[kind]}); pass each withX() once.`);
    }
  }
  const storage = features.find((feature) => feature.ɵkind === JotFeatureKind.Storage)?.ɵstorage ?? 'session';
  if (storage === 'memory' && kinds.includes(JotFeatureKind.CrossTabSync)) {
    throw configError(
      `withStorage('memory') cannot be combined with withCrossTabSync(): memory is private to one tab. ` +
        `Use withStorage('session') or withStorage('local'), or drop withCrossTabSync().`,
    );
  }
}

/** Development only: provideJot() once per injector tree, and a loginRoute that jotGuard does not guard (it would loop). */
function devChecks(): EnvironmentProviders[] {
  return [
    makeEnvironmentProviders([{ provide: JOT_PROVIDED, useValue: true }]),
    provideEnvironmentInitializer(() => {
      if (inject(JOT_PROVIDED, { skipSelf: true, optional: true })) {
        throw configError(
          `provideJot() was called twice in one injector tree; call it once, in the application providers.`,
        );
      }
    }),
    provideAppInitializer(checkLoginRoute),
  ];
}
