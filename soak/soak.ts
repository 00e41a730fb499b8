/**
 * `npm run soak [-- --tabs N --minutes M | --seconds S] [--seed X] [--skip-build] [--no-background]`:
 * the chaos soak.
 *
 * N tabs of the soak app (ngx-jot with withRefresh + withCrossTabSync + local storage, 6 s access
 * tokens) in one Chromium profile make requests in bursts and at random against the reference API
 * in fault mode, while the soak sends tabs to the background (hidden, timers throttled) or freezes
 * one for a moment, reloads one, closes one and opens another, and logs the user out and in again
 * (and in again after the server ended the session). A second listener on another
 * port plays a foreign origin the app also calls. Then it drains, judges (soak/analyze.ts) and
 * prints the figures; on a failure it prints the seed, the fault log around the first failure and
 * the tab's request log, and exits 1. It stops by itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';

import { seededRandom, type FaultPlan } from '../demo-api/src/faults.ts';
import { createDemoApi } from '../demo-api/src/server.ts';
import { analyze, evidence, type ForeignHit, type SoakInput, type TabRecord } from './analyze.ts';
import { SOAK_REPORT, type SoakEvent } from './protocol.ts';

const root = path.resolve(import.meta.dirname, '..');
const browserDir = path.join(root, 'dist', 'soak-app', 'browser');
const ACCESS_TTL_SECONDS = 6;
/** Longer than ngx-jot's refresh bound (30 s): the refresh is abandoned by the client. */
const SLOW_REFRESH_MS = 31_000;
/** Slow refreshes stop this long before the traffic does, so the drain is short. */
const CALM_BEFORE_END_MS = SLOW_REFRESH_MS + 4000;
const DRAIN_TIMEOUT_MS = 40_000;
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

const { values: args } = parseArgs({
  options: {
    tabs: { type: 'string', default: '3' },
    minutes: { type: 'string' },
    seconds: { type: 'string' },
    seed: { type: 'string' },
    'skip-build': { type: 'boolean', default: false },
    /** No background tabs (for telling their effect apart when a run goes wrong). */
    'no-background': { type: 'boolean', default: false },
  },
});

function positive(name: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`soak: --${name} must be a positive number, got "${raw}"`);
    process.exit(2);
  }
  return value;
}

const tabCount = Math.round(positive('tabs', args.tabs));
const durationMs =
  args.minutes !== undefined
    ? positive('minutes', args.minutes) * 60_000
    : positive('seconds', args.seconds ?? '50') * 1000;
/**
 * How much each tab's pauses are stretched: the traffic of all tabs together stays near that of 3
 * tabs (about 10 requests a second). More saturated this 2-core machine's browser: requests then
 * waited seconds in Chromium's queue and their tokens expired there, which tests the machine.
 */
const PACE = Math.max(1, tabCount / 3);
const seed = args.seed !== undefined ? Math.trunc(positive('seed', args.seed)) : Math.floor(Math.random() * 2 ** 31);

/** The faults of the run: about one API or refresh call in eight refused, plus state changes at random. */
const plan: FaultPlan = {
  seed,
  meanLatencyMs: 40,
  maxLatencyMs: 300,
  apiErrorRate: 0.05,
  apiDropRate: 0.02,
  refreshErrorRate: 0.1,
  refreshDropRate: 0.05,
  slowRefreshRate: 0.03,
  slowRefreshMs: SLOW_REFRESH_MS,
  tooManyRate: 0.03,
  retryAfterSeconds: 1,
  revokeRate: 0.01,
  keyRotationRate: 0.003,
  clockJumpRate: 0.005,
  clockJumpMs: 1500,
};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** The soak's own choices (which tab, when) follow from the seed too. */
const random = seededRandom(seed ^ 0x5eed);
const between = (min: number, max: number): number => min + random() * (max - min);
const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(random() * items.length)];
const elapsed = (since: number): string => `${((Date.now() - since) / 1000).toFixed(0)} s`;

function buildApp(): void {
  const ng = path.join(root, 'node_modules', '@angular', 'cli', 'bin', 'ng.js');
  const result = spawnSync(process.execPath, [ng, 'build', 'soak-app'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NG_CLI_ANALYTICS: 'false' },
  });
  if (result.status !== 0) {
    console.error('soak: the soak app did not build (ng build soak-app); see above.');
    process.exit(1);
  }
}

/** The foreign origin: answers anyone (CORS *), and remembers whether a token came along. */
async function startForeignOrigin(): Promise<{ server: http.Server; url: string; hits: ForeignHit[] }> {
  const hits: ForeignHit[] = [];
  const server = http.createServer((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Headers': 'Authorization, X-Request-Id',
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return;
    }
    const id = req.headers['x-request-id'];
    hits.push({
      id: typeof id === 'string' ? id : null,
      authorization: req.headers.authorization !== undefined,
      at: Date.now(),
    });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/echo`, hits };
}

/**
 * Installed before the app loads: counts the page's pending timers, and plays a background tab on
 * `window.__soakBackground(true)`: `document.visibilityState` is 'hidden' (with its event) and every
 * timer fires on a whole second at the earliest, as Chromium throttles the timers of hidden tabs.
 */
const PAGE_SCRIPT = `(() => {
  const live = new Map();
  let background = false;
  const { setTimeout: st, setInterval: si, clearTimeout: ct, clearInterval: ci } = window;
  window.__soakUntrackedSetInterval = si.bind(window);
  const throttled = (delay) => {
    const wanted = Math.max(Number(delay) || 0, 0);
    if (!background) return wanted;
    const due = Date.now() + wanted;
    return Math.ceil(due / 1000) * 1000 - Date.now();
  };
  window.setTimeout = function (handler, delay, ...rest) {
    const id = st.call(window, (...a) => { live.delete(id); return typeof handler === 'function' ? handler(...a) : undefined; }, throttled(delay), ...rest);
    live.set(id, Number(delay) || 0);
    return id;
  };
  window.setInterval = function (handler, delay, ...rest) {
    const id = si.call(window, handler, background ? Math.max(Number(delay) || 0, 1000) : delay, ...rest);
    live.set(id, Number(delay) || 0);
    return id;
  };
  window.clearTimeout = (id) => { live.delete(id); ct.call(window, id); };
  window.clearInterval = (id) => { live.delete(id); ci.call(window, id); };
  window.__liveTimers = () => [...live.values()];
  Object.defineProperty(document, 'visibilityState', { get: () => (background ? 'hidden' : 'visible'), configurable: true });
  Object.defineProperty(document, 'hidden', { get: () => background, configurable: true });
  window.__soakBackground = (on) => {
    background = on;
    document.dispatchEvent(new Event('visibilitychange'));
  };
})();`;

// ---------------------------------------------------------------------------
// Tabs
// ---------------------------------------------------------------------------

interface Tab {
  readonly name: string;
  page: Page;
  cdp: CDPSession;
  load: number;
  frozen: boolean;
  hidden: boolean;
  closed: boolean;
  readonly events: SoakEvent[];
  readonly cuts: { at: number; reason: 'reload' | 'close' }[];
  heapStart: number | null;
  heapEnd: number | null;
  timersAfterLogout: number[] | null;
  timersBeforeLogout: number[] | null;
}

const tabs: Tab[] = [];
const tabByPage = new Map<Page, Tab>();
const userLogouts: { tab: string; at: number }[] = [];
let tabSerial = 0;
let freezes = 0;
let hides = 0;
let apiUrl = '';
let foreignUrl = '';

async function heapUsed(tab: Tab): Promise<number> {
  await tab.cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await tab.cdp.send('Performance.getMetrics');
  return metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0;
}

/** Loads the app in the tab's page and starts its traffic. */
async function startTab(tab: Tab): Promise<void> {
  await tab.page.waitForFunction(() => window.soak !== undefined, undefined, { timeout: 15_000 });
  await tab.page.evaluate((options) => window.soak!.start(options), {
    idPrefix: `${tab.name}-l${tab.load}`,
    seed: (seed + tabSerial * 7919 + tab.load) >>> 0,
    foreignUrl,
    pace: PACE,
  });
}

async function openTab(context: BrowserContext): Promise<Tab> {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const tab: Tab = {
    name: `t${++tabSerial}`,
    page,
    cdp,
    load: 1,
    frozen: false,
    hidden: false,
    closed: false,
    events: [],
    cuts: [],
    heapStart: null,
    heapEnd: null,
    timersAfterLogout: null,
    timersBeforeLogout: null,
  };
  tabs.push(tab);
  tabByPage.set(page, tab);
  await page.goto(`${apiUrl}/`);
  return tab;
}

const activeTabs = (): Tab[] => tabs.filter((t) => !t.closed && !t.frozen);

/** Takes the tab's events not sent yet (before a reload or close, and at the end). */
async function flush(tab: Tab): Promise<void> {
  if (!tab.closed) await tab.page.evaluate(() => window.soak?.flush());
}

async function setHidden(tab: Tab, hidden: boolean): Promise<void> {
  if (tab.closed || tab.hidden === hidden) return;
  tab.hidden = hidden;
  await tab.page.evaluate((on) => window.__soakBackground?.(on), hidden);
}

async function setFrozen(tab: Tab, frozen: boolean): Promise<void> {
  if (tab.closed || tab.frozen === frozen) return;
  tab.frozen = frozen;
  await tab.cdp.send('Page.setWebLifecycleState', { state: frozen ? 'frozen' : 'active' });
}

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------

/** Signs in from some tab when the app is signed out; says whether it did. */
async function signInIfSignedOut(): Promise<boolean> {
  const tab = pick(activeTabs().filter((t) => !t.hidden)) ?? pick(activeTabs());
  if (!tab || (await tab.page.evaluate(() => window.soak!.isAuthenticated()))) return false;
  return tab.page.evaluate(() => window.soak!.login());
}

async function chaos(context: BrowserContext, endAt: number, startedAt: number): Promise<void> {
  let nextReload = Date.now() + between(8_000, 20_000);
  let nextReopen = Date.now() + between(12_000, 25_000);
  let nextLogout = Date.now() + between(10_000, 25_000);
  while (Date.now() < endAt - 2000) {
    await sleep(between(1000, 3000));
    // A session the server ended (a refused refresh) is started again, as the user would.
    if (await signInIfSignedOut())
      console.log(`  ${elapsed(startedAt)}: signed in again after the server ended the session`);
    const now = Date.now();
    if (now >= nextReload) {
      nextReload = now + between(15_000, 30_000);
      const tab = pick(activeTabs());
      if (tab) {
        await flush(tab);
        tab.load++;
        tab.hidden = false;
        await tab.page.reload();
        // Stamped once the old document is gone: it may still send requests until then.
        tab.cuts.push({ at: Date.now(), reason: 'reload' });
        await startTab(tab);
        console.log(`  ${elapsed(startedAt)}: reloaded ${tab.name}`);
      }
    } else if (now >= nextReopen) {
      nextReopen = now + between(20_000, 40_000);
      const tab = pick(activeTabs());
      if (tab && activeTabs().length > 1) {
        tab.heapEnd = await heapUsed(tab);
        await flush(tab);
        tab.closed = true;
        await tab.page.close();
        tab.cuts.push({ at: Date.now(), reason: 'close' });
        const fresh = await openTab(context);
        await startTab(fresh);
        fresh.heapStart = await heapUsed(fresh);
        console.log(`  ${elapsed(startedAt)}: closed ${tab.name}, opened ${fresh.name}`);
      }
    } else if (now >= nextLogout) {
      nextLogout = now + between(20_000, 40_000);
      const tab = pick(activeTabs());
      if (tab) {
        userLogouts.push({ tab: tab.name, at: Date.now() });
        await tab.page.evaluate(() => window.soak!.logout());
        await sleep(between(500, 2500));
        const signer = pick(activeTabs());
        const ok = signer ? await signer.page.evaluate(() => window.soak!.login()) : false;
        console.log(`  ${elapsed(startedAt)}: user logout in ${tab.name}, login again in ${signer?.name}: ${ok}`);
      }
    } else {
      // A background tab: hidden with throttled timers for a while (most often), or frozen for a
      // moment as Chromium freezes background tabs (no timers, no tasks; its connections wait too).
      const candidates = activeTabs().filter((t) => !t.hidden);
      const tab = candidates.length > 1 && !args['no-background'] ? pick(candidates) : undefined;
      if (tab && random() < 0.8) {
        hides++;
        await setHidden(tab, true);
        setTimeout(() => void setHidden(tab, false).catch(() => undefined), between(3000, 15_000));
      } else if (tab) {
        freezes++;
        await setFrozen(tab, true);
        setTimeout(() => void setFrozen(tab, false).catch(() => undefined), between(1000, 3000));
      }
    }
  }
}

async function main(): Promise<number> {
  if (!args['skip-build']) buildApp();
  const foreign = await startForeignOrigin();
  foreignUrl = foreign.url;
  const api = createDemoApi({
    accessTtlSeconds: ACCESS_TTL_SECONDS,
    refreshTtlSeconds: 3600,
    corsOrigins: [],
    staticDir: browserDir,
    faults: plan,
  });
  apiUrl = (await api.listen(0)).url;
  const faults = api.faults!;
  console.log(
    `soak: ${tabCount} tabs x ${(durationMs / 1000).toFixed(0)} s, seed ${seed}, access tokens ${ACCESS_TTL_SECONDS} s, ` +
      `API ${apiUrl}, foreign origin ${foreign.url}`,
  );

  let browser: Browser | null = null;
  try {
    browser = await chromium.launch({
      executablePath: process.env['CHROME_PATH'] || '/usr/bin/chromium',
      args: CHROMIUM_FLAGS,
    });
    const context = await browser.newContext();
    await context.addInitScript(PAGE_SCRIPT);
    await context.exposeBinding(SOAK_REPORT, ({ page }, events: SoakEvent[]) => {
      tabByPage.get(page)?.events.push(...events);
    });

    const first = await openTab(context);
    await first.page.waitForFunction(() => window.soak !== undefined);
    if (!(await first.page.evaluate(() => window.soak!.login()))) throw new Error('soak: the first login failed');
    for (let i = 1; i < tabCount; i++) await openTab(context);
    const startedAt = Date.now();
    const endAt = startedAt + durationMs;
    for (const tab of tabs) await startTab(tab);
    for (const tab of tabs) tab.heapStart = await heapUsed(tab);

    // Slow refreshes stop in time for the drain to be short; the other faults go on to the end.
    const calmAt = Math.max(startedAt + durationMs / 2, endAt - CALM_BEFORE_END_MS);
    const calm = setTimeout(() => faults.update({ slowRefreshRate: 0 }), calmAt - Date.now());
    await chaos(context, endAt, startedAt);
    await sleep(Math.max(0, endAt - Date.now()));
    clearTimeout(calm);

    // Drain: unfreeze, stop the traffic, and wait for every request in flight to settle.
    for (const tab of tabs) await setFrozen(tab, false);
    for (const tab of tabs) await setHidden(tab, false);
    for (const tab of tabs) if (!tab.closed) await tab.page.evaluate(() => window.soak!.stop());
    const drainUntil = Date.now() + DRAIN_TIMEOUT_MS;
    const pendingOf = async (): Promise<number> => {
      let sum = 0;
      for (const tab of tabs) if (!tab.closed) sum += await tab.page.evaluate(() => window.soak!.pending());
      return sum;
    };
    while (Date.now() < drainUntil && (await pendingOf()) > 0) await sleep(250);
    for (const tab of tabs) if (!tab.closed) tab.heapEnd = await heapUsed(tab);

    // The user's final logout, then what is still scheduled in each tab (and, to show the count
    // sees ngx-jot's timers at all, what was scheduled just before it).
    await signInIfSignedOut();
    await sleep(500);
    const liveTimers = (tab: Tab): Promise<number[]> => tab.page.evaluate(() => window.__liveTimers?.() ?? []);
    for (const tab of tabs) if (!tab.closed) tab.timersBeforeLogout = await liveTimers(tab);
    const last = tabs.find((t) => !t.closed)!;
    userLogouts.push({ tab: last.name, at: Date.now() });
    await last.page.evaluate(() => window.soak!.logout());
    await sleep(2000);
    for (const tab of tabs) {
      if (!tab.closed) tab.timersAfterLogout = await liveTimers(tab);
    }
    for (const tab of tabs) await flush(tab);
  } finally {
    await browser?.close();
    await api.close();
    await new Promise((resolve) => foreign.server.close(resolve));
  }

  const input: SoakInput = {
    seed,
    tabs: tabs.map((t): TabRecord => ({
      name: t.name,
      events: t.events,
      cuts: t.cuts,
      heapStart: t.heapStart,
      heapEnd: t.heapEnd,
      timersAfterLogout: t.timersAfterLogout,
    })),
    faultLog: faults.log,
    foreign: foreign.hits,
    reuseDetected: api.stats.reuseDetected,
    userLogouts,
  };
  const report = analyze(input);
  const artifacts = path.join(root, 'e2e', 'artifacts', 'soak');
  mkdirSync(artifacts, { recursive: true });
  const file = path.join(artifacts, `soak-${seed}.json`);
  writeFileSync(file, JSON.stringify({ plan, input, report }, null, 1));

  const percent = (share: number): string => `${(share * 100).toFixed(1)} %`;
  const kb = (bytes: number | null): string => (bytes === null ? '-' : `${(bytes / 1024 / 1024).toFixed(1)} MB`);
  console.log(`
soak figures (seed ${seed}, ${tabs.length} tabs over the run, ${(durationMs / 60_000).toFixed(1)} min):
  requests made ${report.made}: answered ${report.answered}, errored ${report.errored}, cut by reload/close ${report.cutByReloadOrClose}
  errors by cause: ${JSON.stringify(report.errorCauses)}
  lost ${report.lost}, answered twice ${report.answeredTwice}, sent expired ${report.sentExpired} (expired in transit ${report.expiredInTransit}, aged by a clock jump ${report.agedByClockJump})
  API calls at the server ${report.apiCallsAtServer}, refresh calls ${report.refreshCalls} (answered 200: ${report.refreshAnswered}), reuse detections ${report.reuseDetected}
  faults: ${percent(report.failingShare)} of API and refresh calls refused; ${JSON.stringify(report.faultsInjected)}
  logouts by reason: ${JSON.stringify(report.logouts)} (user logouts asked: ${userLogouts.length})
  tabs in the background ${hides} times (hidden, timers throttled), frozen ${freezes} times; reloads ${tabs.reduce((n, t) => n + t.cuts.filter((c) => c.reason === 'reload').length, 0)}; tabs closed and replaced ${tabs.filter((t) => t.closed).length}
  foreign-origin calls ${report.foreignCalls}, tokens seen there ${report.tokensToForeignOrigin}
  heap per tab (start -> end): ${tabs.map((t) => `${t.name} ${kb(t.heapStart)} -> ${kb(t.heapEnd)}`).join(', ')}
  timers pending before the final logout (delays, ms): ${tabs
    .filter((t) => t.timersBeforeLogout !== null)
    .map((t) => `${t.name} [${t.timersBeforeLogout!.join(', ')}]`)
    .join(', ')}
  timers pending 2 s after the final logout: ${tabs
    .filter((t) => t.timersAfterLogout !== null)
    .map((t) => `${t.name} [${t.timersAfterLogout!.join(', ')}]`)
    .join(', ')}
  full log: ${path.relative(root, file)}`);

  if (report.failures.length > 0) {
    console.error(`\nsoak FAILED: ${report.failures.length} failure(s). Replay with: npm run soak -- --seed ${seed}`);
    for (const failure of report.failures.slice(0, 10))
      console.error(`  - ${failure.what} [${failure.tab} ${failure.requestId}]`);
    console.error('');
    for (const line of evidence(input, report.failures[0]!)) console.error(line);
    return 1;
  }
  console.log(
    `\nsoak passed: 0 lost, 0 answered twice, 0 sent expired, 0 token reuse, 0 tokens to the foreign origin, 0 logouts without a cause.`,
  );
  return 0;
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(error);
  return 1;
});
