import path from 'node:path';

import type { Page } from '@playwright/test';

import { ACCESS_TTL, expect, pauseUntilExpired, signIn, sleep, test, waitForStats } from './fixtures';

const ARTIFACTS = path.join(__dirname, 'artifacts');

/** Both web storages of the page, as key lists. */
const storedKeys = (page: Page) =>
  page.evaluate(() => ({ session: Object.keys(sessionStorage), local: Object.keys(localStorage) }));

test.describe('demo app against the same-origin reference API', () => {
  test('a logged-out visit to /restricted lands on /login?returnUrl=... and calls no API', async ({ page, api }) => {
    await page.goto('/restricted');
    await expect(page).toHaveURL(/\/login\?returnUrl=%2Frestricted$/);
    await expect(page.getByTestId('login-submit')).toBeVisible();
    const stats = await api.stats();
    expect(stats.restricted).toBe(0);
    expect(stats.refresh).toBe(0);
  });

  test('a wrong password shows login-error, keeps the username and stores nothing', async ({ page, api }) => {
    await page.goto('/login');
    await signIn(page, 'john.doe', 'wrong-password', true);
    await expect(page.getByTestId('login-error')).toHaveText('Wrong username or password.');
    await expect(page.getByTestId('username')).toHaveValue('john.doe');
    await expect(page).toHaveURL(/\/login$/);
    expect(await storedKeys(page)).toEqual({ session: [], local: [] });
    expect((await api.stats()).authenticate).toBe(1);
  });

  test('login lands on returnUrl; the restricted page shows data, claims, countdown, bursts and the log', async ({
    page,
    api,
  }) => {
    await page.goto('/restricted');
    await expect(page).toHaveURL(/\/login\?returnUrl=%2Frestricted$/);
    await signIn(page);
    await expect(page).toHaveURL(/\/restricted$/);
    await expect(page.getByTestId('restricted-data')).toContainText('"name": "foo"');
    await expect(page.getByTestId('restricted-data')).toContainText('john.doe@example.com');
    await expect(page.getByTestId('claims')).toContainText('"sub": "john.doe"');
    await expect(page.getByTestId('expires-in')).toHaveText(/^[0-4]$/);
    await expect(page.getByTestId('session-state')).toContainText('John Doe');
    expect((await storedKeys(page)).session).toEqual(['ngx-jot']);

    await expect(page.getByTestId('burst-count')).toHaveValue('10');
    await page.getByTestId('burst').click();
    await expect(page.getByTestId('burst-result')).toHaveText(/^10 ok, 0 failed · /);
    await expect(page.getByTestId('request-log')).toContainText('GET /api/restricted');
    await expect(page.getByTestId('request-log')).toContainText('POST /authenticate');
    expect((await api.stats()).restrictedUnauthorized).toBe(0);

    await page.screenshot({ path: path.join(ARTIFACTS, 'restricted.png'), fullPage: true });

    await page.getByTestId('logout').click();
    await expect(page).toHaveURL(/\/login(\?returnUrl=%2Frestricted)?$/);
    await expect(page.getByTestId('session-state')).toContainText('Signed out');
    expect(await storedKeys(page)).toEqual({ session: [], local: [] });
    await expect.poll(async () => (await api.stats()).logout).toBe(1);
  });

  test('remember me keeps the session in local storage across a reload', async ({ page }) => {
    await page.goto('/login?returnUrl=%2Frestricted');
    await signIn(page, 'john.doe', 'foobar', true);
    await expect(page.getByTestId('restricted-data')).toContainText('"name": "foo"');
    expect(await storedKeys(page)).toEqual({ session: [], local: ['ngx-jot'] });
    await page.reload();
    await expect(page.getByTestId('restricted-data')).toContainText('"name": "foo"');
  });

  test('the admin page checks the roles claim', async ({ page }) => {
    await page.goto('/login');
    await signIn(page);
    await expect(page).toHaveURL(/\/$/);
    await page.getByRole('link', { name: 'Admin' }).click();
    await expect(page).toHaveURL(/\/forbidden$/);
    await page.getByTestId('logout').click();
    await expect(page.getByTestId('session-state')).toContainText('Signed out');

    await page.goto('/admin');
    await expect(page).toHaveURL(/\/login\?returnUrl=%2Fadmin$/);
    await signIn(page, 'admin', 'admin');
    await expect(page).toHaveURL(/\/admin$/);
    await expect(page.getByTestId('admin')).toContainText('"admin"');
  });

  test('after the access token expired, a burst of 20 waits for ONE refresh and all succeed', async ({ page, api }) => {
    await page.clock.install();
    await page.goto('/login?returnUrl=%2Frestricted');
    await signIn(page);
    await expect(page.getByTestId('restricted-data')).toContainText('"name": "foo"');
    await page.getByTestId('burst-count').fill('20');

    await pauseUntilExpired(page);
    await api.resetStats();
    await page.getByTestId('burst').click();
    // Every request got its 401, one refresh ran, and every request was replayed once.
    const settled = await waitForStats(api, (s) => s.restricted - s.restrictedUnauthorized >= 20);
    expect(settled).toMatchObject({ refresh: 1, reuseDetected: 0, restrictedUnauthorized: 20, restricted: 40 });

    await page.clock.resume();
    await expect(page.getByTestId('burst-result')).toHaveText('20 ok, 0 failed · 20 held, 1 refresh');
    await expect(
      page.getByTestId('request-log').locator('[data-state="ok"]').filter({ hasText: 'replayed' }),
    ).toHaveCount(20);
    await expect(page.getByTestId('request-log')).toContainText('new access token');
    expect((await api.stats()).refresh).toBe(1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'burst-after-expiry.png'), fullPage: true });
  });

  test('a revoked refresh family ends the session on /login?returnUrl=..., with no refresh loop', async ({
    page,
    api,
  }) => {
    await page.goto('/login?returnUrl=%2Frestricted');
    await signIn(page);
    await expect(page.getByTestId('restricted-data')).toContainText('"name": "foo"');

    await api.revokeAll();
    await api.resetStats();
    // The next refresh (the proactive one, at about half the token's lifetime) is rejected.
    await expect(page).toHaveURL(/\/login\?returnUrl=%2Frestricted$/, { timeout: (ACCESS_TTL + 4) * 1000 });
    await expect(page.getByTestId('session-ended')).toContainText('rejected the token refresh');
    await expect(page.getByTestId('session-state')).toContainText('Signed out');
    const ended = await api.stats();
    expect(ended.refresh).toBe(1);

    await sleep(3000);
    const later = await api.stats();
    expect(later.refresh).toBe(ended.refresh);
    expect(later.restricted).toBe(ended.restricted);
    expect(await storedKeys(page)).toEqual({ session: [], local: [] });
    await expect(page).toHaveURL(/\/login\?returnUrl=%2Frestricted$/);
  });

  test('the third-party call carries no token', async ({ page, api }) => {
    await page.goto('/login?returnUrl=%2Frestricted');
    await signIn(page);
    await expect(page.getByTestId('restricted-data')).toContainText('"name": "foo"');
    await page.getByTestId('foreign-call').click();
    await expect(page.getByTestId('foreign-result')).toHaveText('authorization: false (no token was sent)');
    expect((await api.stats()).echo).toBe(1);
  });

  test('a bad or missing config.json shows an error page, not a blank one', async ({ page }) => {
    await page.route('**/config.json', (route) =>
      route.fulfill({ status: 200, contentType: 'application/json', body: '{"loginUrl": 5, "storage": "cookies"}' }),
    );
    await page.goto('/');
    const error = page.getByTestId('startup-error');
    await expect(error).toContainText('config.json has problems');
    await expect(error).toContainText('"loginUrl" must be a string');
    await expect(error).toContainText('"restrictedUrl" is required');
    await expect(error).toContainText('"storage" must be "session", "local" or "memory"');

    await page.unroute('**/config.json');
    await page.route('**/config.json', (route) => route.fulfill({ status: 404, body: 'nope' }));
    await page.reload();
    await expect(page.getByTestId('startup-error')).toContainText('answered 404');
  });
});
