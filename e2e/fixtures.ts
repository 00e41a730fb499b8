import path from 'node:path';

import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';

import { createDemoApi, demoConfigFor, type DemoApi, type DemoApiStats } from '../demo-api/src/server.ts';

export { expect };

export const STATIC_DIR = path.resolve(__dirname, '..', 'dist', 'demo-app', 'browser');
/** Short enough to wait for, long enough for a page to load and log in well inside it. */
export const ACCESS_TTL = 4;

/** A running reference API (in this process) with test hooks on. */
export interface RunningApi {
  readonly api: DemoApi;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** GET /__stats */
  stats(): Promise<DemoApiStats>;
  /** POST /__stats/reset */
  resetStats(): Promise<void>;
  /** POST /__revoke-all */
  revokeAll(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the reference API on an ephemeral port of 127.0.0.1. */
export async function startApi(
  options: {
    staticDir?: string;
    corsOrigins?: string[];
    accessTtlSeconds?: number;
    /** config.json as served; defaults to the same-origin config with a foreign (localhost) echo URL. */
    demoConfig?: (port: number) => Record<string, unknown>;
    /** The API requires DPoP-bound tokens, and the default config.json turns withDpop() on (`npm start -- --dpop`). */
    dpop?: boolean;
  } = {},
): Promise<RunningApi> {
  const api = createDemoApi({
    accessTtlSeconds: options.accessTtlSeconds ?? ACCESS_TTL,
    refreshTtlSeconds: 3600,
    corsOrigins: options.corsOrigins ?? [],
    testHooks: true,
    ...(options.staticDir ? { staticDir: options.staticDir } : {}),
    demoConfig: ({ port }) => (options.demoConfig ?? ((at) => sameOriginConfig(at, { dpop: !!options.dpop })))(port),
    requireDpop: !!options.dpop,
  });
  const { url, port } = await api.listen(0);
  const call = async (method: string, hook: string) => {
    const res = await fetch(url + hook, { method });
    if (!res.ok) throw new Error(`${method} ${hook} answered ${res.status}`);
    return res;
  };
  return {
    api,
    url,
    port,
    stats: async () => (await (await call('GET', '/__stats')).json()) as DemoApiStats,
    resetStats: async () => void (await call('POST', '/__stats/reset')),
    revokeAll: async () => void (await call('POST', '/__revoke-all')),
    close: () => api.close(),
  };
}

/** The reference API's own config.json: same origin; the echo API under "localhost" is another origin. */
export const sameOriginConfig = demoConfigFor;

/** Console noise that is not an app error: Chromium logs every non-2xx response (the 401s are the point). */
const EXPECTED_CONSOLE = /Failed to load resource/;

/**
 * Each test gets its own API (fresh counters and sessions) serving the built demo app, and fails
 * on any uncaught error or console error in its pages.
 */
export const test = base.extend<{
  api: RunningApi;
  pageErrors: string[];
  accessTtl: number;
  idleSeconds: number | null;
  dpop: boolean;
}>({
  /** Access-token lifetime of the test's API, seconds (`test.use({ accessTtl: 600 })` to keep refreshes on demand). */
  accessTtl: [ACCESS_TTL, { option: true }],
  /** The demo's `idleSeconds` (`test.use({ idleSeconds: 6 })`); off by default. */
  idleSeconds: [null, { option: true }],
  /** The API requires DPoP and the demo uses withDpop() (`test.use({ dpop: true })`). */
  dpop: [false, { option: true }],
  api: async ({ accessTtl, idleSeconds, dpop }, use) => {
    const api = await startApi({
      staticDir: STATIC_DIR,
      accessTtlSeconds: accessTtl,
      dpop,
      demoConfig: (port) => demoConfigFor(port, { idleSeconds, dpop }),
    });
    await use(api);
    await api.close();
  },
  baseURL: async ({ api }, use) => use(api.url),
  pageErrors: async ({}, use) => use([]),
  context: async ({ context, pageErrors }, use) => {
    context.on('weberror', (e) => pageErrors.push(`uncaught: ${e.error().message}`));
    context.on('console', (msg) => {
      if (msg.type() === 'error' && !EXPECTED_CONSOLE.test(msg.text())) pageErrors.push(`console.error: ${msg.text()}`);
    });
    await use(context);
    expect(pageErrors, 'errors in the pages').toEqual([]);
  },
});

/** Signs in on the login page shown. */
export async function signIn(page: Page, username = 'john.doe', password = 'foobar', remember = false): Promise<void> {
  await page.getByTestId('username').fill(username);
  await page.getByTestId('password').fill(password);
  if (remember) await page.getByTestId('remember').check();
  await page.getByTestId('login-submit').click();
}

/** Two tabs (pages of one context) on the login page; the first signs in, the second follows. */
export async function twoSignedInTabs(context: BrowserContext): Promise<[Page, Page]> {
  const a = await context.newPage();
  const b = await context.newPage();
  await a.goto('/login?returnUrl=%2Frestricted');
  await b.goto('/restricted');
  await expect(b).toHaveURL(/\/login\?returnUrl=%2Frestricted$/);
  await signIn(a);
  for (const page of [a, b]) {
    await expect(page).toHaveURL(/\/restricted$/);
    await expect(page.getByTestId('restricted-data')).toContainText('"name": "foo"');
  }
  return [a, b];
}

/** Polls the API's counters until `until` holds. */
export async function waitForStats(
  api: RunningApi,
  until: (s: DemoApiStats) => boolean,
  timeout = 10_000,
): Promise<DemoApiStats> {
  let last: DemoApiStats | undefined;
  await expect.poll(async () => until((last = await api.stats())), { timeout, message: 'API counters' }).toBe(true);
  return last!;
}

/**
 * Stops the page's clock (as a sleeping laptop would: no timer runs, so no proactive refresh) and
 * waits, in real time, until the API considers the access token expired. The page still believes
 * its token fresh, so what follows meets real 401s.
 */
export async function pauseUntilExpired(page: Page): Promise<void> {
  await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 500);
  await sleep((ACCESS_TTL + 1) * 1000);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
