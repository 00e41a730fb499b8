import { InjectionToken } from '@angular/core';

import { type DemoConfig, DemoConfigError, parseConfigText, parseDemoConfig } from './config-check';

export {
  CONFIG_EXAMPLE,
  type DemoConfig,
  DemoConfigError,
  type DemoStorage,
  idleWarnSeconds,
  join,
  parseDemoConfig,
} from './config-check';

/** The checked `config.json` of this run. */
export const DEMO_CONFIG = new InjectionToken<DemoConfig>('DEMO_CONFIG');

/** Fetches and checks config.json; rejects with a `DemoConfigError` that says what is wrong. */
export async function loadDemoConfig(url: string, page: Location = location): Promise<DemoConfig> {
  let response: Response;
  try {
    response = await fetch(url, { cache: 'no-store', headers: { Accept: 'application/json' } });
  } catch (e) {
    throw new DemoConfigError(`Could not fetch ${url} (${e instanceof Error ? e.message : String(e)}).`);
  }
  if (!response.ok) {
    throw new DemoConfigError(`${url} answered ${response.status} ${response.statusText}`.trim() + '.');
  }
  return parseDemoConfig(parseConfigText(await response.text(), url), page);
}

/** A short label for a URL: its path when it is the page's own origin. */
export function shortUrl(url: string): string {
  try {
    const u = new URL(url, location.href);
    return u.origin === location.origin ? u.pathname + u.search : u.href;
  } catch {
    return url;
  }
}
