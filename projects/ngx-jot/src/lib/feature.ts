/*
 * What a `withX()` function returns, and the one helper that makes it. This file imports nothing
 * else of the library, so every feature file can import it without pulling `provideJot()` in.
 *
 * Where each `withX()` lives: in the file of the unit it turns on (`withRefresh` in refresher.ts,
 * `withStorage` in storage.ts, `withCrossTabSync` in cross-tab.ts, `withJotDebug` in debug.ts).
 * Features provide DI tokens (feature-contracts.ts); the session injects them, never the other way.
 */
import type { EnvironmentProviders, Provider } from '@angular/core';

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
  /** `withDpop()`. */
  Dpop,
}

/** A feature of `provideJot()`, made by a `withX()` function. */
export interface JotFeature<K extends JotFeatureKind = JotFeatureKind> {
  ɵkind: K;
  ɵproviders: (Provider | EnvironmentProviders)[];
  /** Storage features only: the built-in kind chosen, or 'custom' (provideJot() refuses memory with cross-tab sync). */
  ɵstorage?: string;
}

/** Makes a feature, as `makeHttpFeature()` does for `provideHttpClient()`. */
export function makeJotFeature<K extends JotFeatureKind>(
  kind: K,
  providers: (Provider | EnvironmentProviders)[],
  storage?: string,
): JotFeature<K> {
  return { ɵkind: kind, ɵproviders: providers, ɵstorage: storage };
}
