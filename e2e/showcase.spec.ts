import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { Page } from '@playwright/test';

import { expect, sameOriginConfig, signIn, test } from './fixtures';

const root = path.resolve(__dirname, '..');

// Long-lived tokens: no proactive refresh happens by itself, so every refresh here is one the
// test caused with the expire-token button, and the counters can be asserted exactly.
test.use({ accessTtl: 600 });

async function signedInOnRestricted(page: Page, user = 'john.doe', password = 'foobar'): Promise<void> {
  await page.goto('/login?returnUrl=%2Frestricted');
  await signIn(page, user, password);
  await expect(page.getByTestId('restricted-data')).toContainText('"name": "foo"');
}

/** Presses expire-token and waits until the demo says the API refuses the token. */
async function expireToken(page: Page): Promise<void> {
  await page.getByTestId('expire-token').click();
  await expect(page.getByTestId('expire-result')).toContainText('the API now refuses this token');
}

test.describe('expire the token on demand, and see the queue on the timeline', () => {
  test('reference API: expire-token, then a burst meets 401s, ONE refresh, and every request is replayed', async ({
    page,
    api,
  }) => {
    await signedInOnRestricted(page);
    await expect(page.getByTestId('timeline')).toContainText('No burst yet');
    await expireToken(page);
    expect((await api.stats()).expireToken).toBe(1);

    await api.resetStats();
    await page.getByTestId('burst').click();
    await expect(page.getByTestId('burst-result')).toHaveText('10 ok, 0 failed · 10 held, 1 refresh');
    expect(await api.stats()).toMatchObject({ refresh: 1, restricted: 20, restrictedUnauthorized: 10 });

    // Counters: the one refresh POST this tab sent.
    await expect(page.getByTestId('refresh-count')).toHaveText('1');
    await expect(page.getByTestId('adopted-count')).toHaveText('0');

    // The timeline: one bar per request, each through every phase in order, and the refresh bar.
    const timeline = page.getByTestId('timeline');
    await expect(timeline.getByTestId('timeline-request')).toHaveCount(10);
    await expect(timeline.getByTestId('timeline-refresh')).toHaveCount(1);
    for (const bar of await timeline.getByTestId('timeline-request').all()) {
      await expect(bar).toHaveAttribute('data-phases', 'sent 401 held replayed answered');
    }
    await expect(timeline.getByTestId('timeline-refresh')).toHaveAttribute('data-phases', 'refresh answered');
    await expect(timeline.getByTestId('timeline-story')).toHaveText(
      '10 of 10 requests met a token the API refuses: they were held while ONE refresh call fetched a new token, then replayed with it.',
    );
    // Each phase is drawn in its own colour.
    const colours = await timeline
      .getByTestId('timeline-request')
      .first()
      .evaluate((bar) =>
        Array.from(bar.querySelectorAll('.tl-phase, .tl-mark')).map((part) => getComputedStyle(part).backgroundColor),
      );
    expect(new Set(colours).size).toBe(5);
    // The README's picture is this very screenshot: `UPDATE_SCREENSHOTS=1 npm run test:e2e` refreshes
    // docs/timeline.png; a plain run leaves the tracked file alone and writes to test-results/.
    const shotDir = path.join(root, process.env['UPDATE_SCREENSHOTS'] ? 'docs' : 'test-results');
    mkdirSync(shotDir, { recursive: true });
    await timeline.screenshot({ path: path.join(shotDir, 'timeline.png') });

    // The log: the burst as one group, oldest first, in plain words.
    const burstGroup = page.getByTestId('log-group').first();
    await expect(burstGroup.locator('h3')).toContainText('Burst of 10: 10 ok, 0 failed · 10 held, 1 refresh');
    const rows = burstGroup.locator('.log-row[data-state="ok"]');
    await expect(rows.filter({ hasText: 'GET /api/restricted' })).toHaveCount(10);
    await expect(rows.filter({ hasText: '401 → held → replayed → 200' })).toHaveCount(10);
    const offsets = await burstGroup
      .locator('.log-row .log-time')
      .evaluateAll((cells) => cells.map((cell) => Number(/\+(\d+)/.exec(cell.textContent ?? '')?.[1])));
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    const log = page.getByTestId('request-log');
    await expect(log).toContainText('signed in');
    await expect(log).toContainText('expire the token POST /api/expire-token');
    await expect(log).not.toContainText('login (user)');
    await expect(page.getByTestId('log-group')).toHaveCount(2);
  });

  test('any JWT API (no expireUrl): the demo sends a copy with a broken signature, with the same result', async ({
    page,
    api,
  }) => {
    const { expireUrl: _none, ...withoutExpireUrl } = sameOriginConfig(api.port);
    await page.route('**/config.json', (route) => route.fulfill({ json: withoutExpireUrl }));
    await signedInOnRestricted(page);
    await expect(page.getByTestId('burst').locator('xpath=ancestor::section')).toContainText('broken signature');
    await expireToken(page);

    await api.resetStats();
    await page.getByTestId('burst').click();
    await expect(page.getByTestId('burst-result')).toHaveText('10 ok, 0 failed · 10 held, 1 refresh');
    expect(await api.stats()).toMatchObject({ refresh: 1, restrictedUnauthorized: 10, expireToken: 0 });
    await expect(page.getByTestId('timeline-request')).toHaveCount(10);
    await expect(page.getByTestId('timeline-request').first()).toHaveAttribute(
      'data-phases',
      'sent 401 held replayed answered',
    );

    // The refreshed token is sent as it is: the next burst needs no refresh. A big burst draws 40 bars.
    await page.getByTestId('burst-count').fill('45');
    await page.getByTestId('burst').click();
    await expect(page.getByTestId('burst-result')).toHaveText('45 ok, 0 failed · 0 held, no refresh');
    await expect(page.getByTestId('timeline-request')).toHaveCount(40);
    await expect(page.getByTestId('timeline')).toContainText('and 5 more requests, not drawn');
    await expect(page.getByTestId('refresh-count')).toHaveText('1');
  });

  test('two tabs: one refreshes for both, and the other counts the token it adopted', async ({ context, api }) => {
    const a = await context.newPage();
    const b = await context.newPage();
    await signedInOnRestricted(a);
    await b.goto('/restricted');
    await expect(b.getByTestId('restricted-data')).toContainText('"name": "foo"');

    await expireToken(a);
    await api.resetStats();
    await a.getByTestId('burst').click();
    await expect(a.getByTestId('burst-result')).toHaveText('10 ok, 0 failed · 10 held, 1 refresh');
    await expect(a.getByTestId('refresh-count')).toHaveText('1');
    await expect(b.getByTestId('adopted-count')).toHaveText('1');
    await expect(b.getByTestId('refresh-count')).toHaveText('0');
    await expect(b.getByTestId('request-log')).toContainText('took the new token another tab refreshed');

    // Tab B's token was the expired one too: it now holds the new one and needs no refresh.
    await b.getByTestId('burst').click();
    await expect(b.getByTestId('burst-result')).toHaveText('10 ok, 0 failed · 0 held, no refresh');
    expect(await api.stats()).toMatchObject({ refresh: 1, reuseDetected: 0 });
  });
});

test.describe('failure states', () => {
  test('API unreachable before sign-in: the home page names the URL, the header says it retries', async ({
    page,
    api,
  }) => {
    await page.route('**/api/restricted', (route) => route.abort('connectionrefused'));
    await page.goto('/');
    await expect(page.getByTestId('api-unreachable')).toContainText(`${api.url}/api/restricted`);
    await expect(page.getByTestId('api-status')).toContainText('API unreachable — retrying');
    await page.unroute('**/api/restricted');
    // The retry finds the API again.
    await expect(page.getByTestId('api-status')).toHaveCount(0);
    await expect(page.getByTestId('api-unreachable')).toHaveCount(0);
  });

  test('the API stops mid-session: the header says so, the data box explains, and both recover', async ({
    page,
    api,
  }) => {
    await signedInOnRestricted(page);
    await api.api.close();
    await page.getByTestId('reload').click();
    await expect(page.getByTestId('restricted-error')).toContainText(
      `Could not reach ${api.url}/api/restricted: the API is down or unreachable`,
    );
    await expect(page.getByTestId('restricted-data')).toHaveCount(0);
    await expect(page.getByTestId('api-status')).toContainText('API unreachable — retrying');
    await expect(page.getByTestId('session-state')).toContainText('John Doe');
    await expect(page.getByTestId('request-log')).toContainText('network error');
    await expect(page.getByTestId('request-log')).not.toContainText(/→ 0\b|^0$/);

    await api.api.listen(api.port);
    await expect(page.getByTestId('api-status')).toHaveCount(0);
    await page.getByTestId('reload').click();
    await expect(page.getByTestId('restricted-data')).toContainText('"name": "foo"');
  });

  test('a refresh that fails on the network keeps the session and says why', async ({ page }) => {
    await signedInOnRestricted(page);
    await expireToken(page);
    await page.route('**/refresh', (route) => route.abort('connectionrefused'));
    await page.getByTestId('burst').click();
    await expect(page.getByTestId('burst-result')).toHaveText(/^0 ok, 10 failed/);
    await expect(page.getByTestId('refresh-failure')).toContainText(
      'The last refresh failed: the API did not answer the refresh call (network error). The session is kept',
    );
    await expect(page.getByTestId('timeline-story')).toContainText('the refresh call ran, and it failed');
    await expect(page.getByTestId('request-log')).toContainText('401 → held → failed: no new token');
    await expect(page.getByTestId('session-state')).toContainText('John Doe');
    await expect(page).toHaveURL(/\/restricted$/);
  });

  test('a refresh the API rejects ends the session on the login page, which says why', async ({ page, api }) => {
    await signedInOnRestricted(page);
    await expireToken(page);
    await api.revokeAll();
    await page.getByTestId('burst').click();
    await expect(page).toHaveURL(/\/login\?returnUrl=%2Frestricted$/);
    await expect(page.getByTestId('session-ended')).toContainText('rejected the token refresh');
  });
});

test.describe('390 px wide', () => {
  test.use({ viewport: { width: 390, height: 844 } });

  /** No horizontal scroll, and the header's items sit on at most two rows. */
  async function expectFits(page: Page, what: string): Promise<void> {
    const layout = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      // A new row starts where an item's top is below the bottom of the row before.
      headerRows: Array.from(document.querySelectorAll('.topbar-inner > *'))
        .map((el) => el.getBoundingClientRect())
        .sort((x, y) => x.top - y.top)
        .reduce(
          (rows: number[], box) => (rows.length && box.top < rows[rows.length - 1]! ? rows : [...rows, box.bottom]),
          [],
        ).length,
      overflowing: Array.from(document.querySelectorAll('body *'))
        .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
        .map(
          (el) =>
            el.tagName.toLowerCase() + (el.getAttribute('data-testid') ? `[${el.getAttribute('data-testid')}]` : ''),
        ),
    }));
    expect(layout.scrollWidth, `${what}: page width`).toBeLessThanOrEqual(390);
    expect(layout.overflowing, `${what}: elements past the right edge`).toEqual([]);
    if (what !== 'startup error') expect(layout.headerRows, `${what}: header rows`).toBeLessThanOrEqual(2);
  }

  test('every page fits without horizontal scrolling', async ({ page }) => {
    await page.goto('/');
    await expect(page.getByTestId('session-state')).toContainText('Signed out');
    await expectFits(page, 'home');
    await page.goto('/login');
    await expectFits(page, 'login');
    await signIn(page, 'admin', 'admin');
    await expect(page).toHaveURL(/\/$/);
    await page.goto('/restricted');
    await expect(page.getByTestId('restricted-data')).toContainText('"name": "foo"');
    await expireToken(page);
    await page.getByTestId('burst').click();
    await expect(page.getByTestId('burst-result')).toHaveText(/^10 ok/);
    await page.getByTestId('foreign-call').click();
    await expect(page.getByTestId('foreign-result')).toHaveText(/no token was sent/);
    await expectFits(page, 'restricted');
    await page.goto('/admin');
    await expect(page.getByTestId('admin')).toBeVisible();
    await expectFits(page, 'admin');
    await page.goto('/forbidden');
    await expect(page.getByTestId('forbidden')).toBeVisible();
    await expectFits(page, 'forbidden');

    await page.route('**/config.json', (route) => route.fulfill({ json: { loginURL: '/authenticate' } }));
    await page.reload();
    await expect(page.getByTestId('startup-error')).toBeVisible();
    await expectFits(page, 'startup error');
  });
});

test.describe('config mistakes', () => {
  /** Runs `npm run demo -- --config FILE` (scripts/demo.mjs) on a file holding `text`. */
  function runDemo(text: string) {
    const dir = mkdtempSync(path.join(tmpdir(), 'ngx-jot-config-'));
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, text);
    try {
      const run = spawnSync(
        process.execPath,
        [path.join(root, 'scripts', 'demo.mjs'), '--config', file, '--port', '0'],
        {
          cwd: root,
          encoding: 'utf8',
          timeout: 30_000,
        },
      );
      return { status: run.status, stderr: run.stderr, file };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test('npm run demo with malformed JSON names the file, line and column, and exits 2', () => {
    const run = runDemo('{\n  "loginUrl": "/authenticate",\n  "restrictedUrl": "/api/restricted",\n}\n');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`${run.file}:4:1: not valid JSON`);
  });

  test('npm run demo with an unknown key names the closest known one, and exits 2', () => {
    const run = runDemo(JSON.stringify({ loginURL: '/authenticate', restrictedUrl: '/api/restricted' }));
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('unknown key "loginURL": did you mean "loginUrl"?');
  });

  test('the error page says the same when config.json goes wrong while the demo runs', async ({ page }) => {
    await page.route('**/config.json', (route) =>
      route.fulfill({ contentType: 'application/json', body: '{\n  "loginUrl": "/authenticate"\n  "x": 1\n}' }),
    );
    await page.goto('/');
    await expect(page.getByTestId('startup-error')).toContainText('/config.json:3:3: not valid JSON');

    await page.unroute('**/config.json');
    await page.route('**/config.json', (route) => route.fulfill({ json: { loginURL: '/authenticate' } }));
    await page.reload();
    const error = page.getByTestId('startup-error');
    await expect(error).toContainText('unknown key "loginURL": did you mean "loginUrl"?');
    await expect(error).toContainText(
      '"restrictedUrl" is required (a URL relative to apiBaseUrl, e.g. "/api/restricted")',
    );
  });
});
