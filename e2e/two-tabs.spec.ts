import { ACCESS_TTL, expect, pauseUntilExpired, sleep, test, twoSignedInTabs, waitForStats } from './fixtures';

test.describe('two tabs', () => {
  test('share the login and its refreshes, and a logout in one logs the other out', async ({ context, api }) => {
    const [a, b] = await twoSignedInTabs(context);
    expect((await api.stats()).authenticate).toBe(1);

    // Both tabs hold the same short-lived token and both schedule its proactive refresh: they
    // take turns (one refresh per token), and the rotation never trips reuse detection.
    await api.resetStats();
    await sleep(ACCESS_TTL * 1000);
    await b.getByTestId('burst').click();
    await expect(b.getByTestId('burst-result')).toHaveText(/^10 ok, 0 failed · /);
    const quiet = await api.stats();
    expect(quiet.reuseDetected).toBe(0);
    expect(quiet.refresh).toBeGreaterThanOrEqual(1);
    expect(quiet.refresh).toBeLessThanOrEqual(4);
    await expect(a.getByTestId('session-state')).toContainText('John Doe');

    await a.getByTestId('logout').click();
    await expect(a).toHaveURL(/\/login(\?returnUrl=%2Frestricted)?$/);
    // The other tab's session ends by itself on a guarded page: it lands on the login page.
    await expect(b).toHaveURL(/\/login\?returnUrl=%2Frestricted$/);
    await expect(b.getByTestId('session-state')).toContainText('Signed out');
    await expect(b.getByTestId('session-ended')).toContainText('signed out in another tab');
    expect(await b.evaluate(() => sessionStorage.length + localStorage.length)).toBe(0);
  });

  test('after expiry, bursts in both tabs make ONE refresh in all, without tripping reuse detection', async ({
    context,
    api,
  }) => {
    await context.clock.install();
    const [a, b] = await twoSignedInTabs(context);

    await pauseUntilExpired(a);
    await api.resetStats();
    await a.getByTestId('burst').click();
    await b.getByTestId('burst').click();
    const settled = await waitForStats(api, (s) => s.restricted - s.restrictedUnauthorized >= 20);
    expect(settled.refresh).toBe(1);
    expect(settled.reuseDetected).toBe(0);

    await context.clock.resume();
    await expect(a.getByTestId('burst-result')).toHaveText(/^10 ok, 0 failed · /);
    await expect(b.getByTestId('burst-result')).toHaveText(/^10 ok, 0 failed · /);
    const after = await api.stats();
    expect(after.refresh).toBe(1);
    expect(after.reuseDetected).toBe(0);
  });
});
