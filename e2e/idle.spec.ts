import { expect, sleep, test, twoSignedInTabs } from './fixtures';

/** Short, so the suite stays fast: the demo warns half of it (3 s) before the end. */
const IDLE_SECONDS = 6;
const WARN_SECONDS = 3;

test.use({ idleSeconds: IDLE_SECONDS });

test.describe('idle logout in two tabs', () => {
  test('activity in one tab keeps both signed in, and its banner goes away in both', async ({ context }) => {
    const [a, b] = await twoSignedInTabs(context);
    // Longer than the idle time, with input in tab a only, once a second.
    for (let second = 0; second < IDLE_SECONDS + 2; second++) {
      await sleep(1000);
      await a.mouse.move(100 + second * 7, 200);
      await a.keyboard.press('Shift');
    }
    for (const page of [a, b]) {
      await expect(page).toHaveURL(/\/restricted$/);
      await expect(page.getByTestId('session-state')).toContainText('John Doe');
      await expect(page.getByTestId('session-warning')).toBeHidden();
    }

    // Quiet until the warning shows in both; input in a ends it in both.
    await expect(b.getByTestId('session-warning')).toBeVisible({ timeout: IDLE_SECONDS * 1000 });
    await expect(a.getByTestId('session-warning')).toContainText('signed out for inactivity');
    await a.mouse.move(20, 20);
    for (const page of [a, b]) await expect(page.getByTestId('session-warning')).toBeHidden();
    await expect(b.getByTestId('session-state')).toContainText('John Doe');
  });

  test('"Stay signed in" keeps the session', async ({ context }) => {
    const [a, b] = await twoSignedInTabs(context);
    await expect(a.getByTestId('stay-signed-in')).toBeVisible({ timeout: IDLE_SECONDS * 1000 });
    await a.getByTestId('stay-signed-in').click();
    for (const page of [a, b]) await expect(page.getByTestId('session-warning')).toBeHidden();
    await sleep((IDLE_SECONDS - WARN_SECONDS - 1) * 1000);
    await expect(b.getByTestId('session-state')).toContainText('John Doe');
  });

  test('no activity logs both tabs out with reason idle, after a banner warnSeconds before', async ({ context }) => {
    const [a, b] = await twoSignedInTabs(context);
    const signedInAt = Date.now();
    await expect(a.getByTestId('session-warning')).toBeVisible({ timeout: IDLE_SECONDS * 1000 });
    const warnedAt = Date.now();
    await expect(b.getByTestId('session-warning')).toBeVisible();
    await expect(a.getByTestId('session-warning-left')).toHaveText(/^[123]$/);

    for (const page of [a, b]) {
      await expect(page).toHaveURL(/\/login\?returnUrl=%2Frestricted$/, { timeout: IDLE_SECONDS * 1000 });
      await expect(page.getByTestId('session-ended')).toContainText('without activity');
      await expect(page.getByTestId('session-state')).toContainText('Signed out');
      await expect(page.getByTestId('session-warning')).toBeHidden();
    }
    const endedAt = Date.now();
    // The banner came about warnSeconds before the end (background tabs render about once a second).
    expect(warnedAt - signedInAt).toBeGreaterThan((IDLE_SECONDS - WARN_SECONDS - 1.5) * 1000);
    expect(endedAt - warnedAt).toBeGreaterThan((WARN_SECONDS - 1.5) * 1000);
    expect(endedAt - warnedAt).toBeLessThan((WARN_SECONDS + 2.5) * 1000);
    expect(await b.evaluate(() => sessionStorage.length)).toBe(0);
  });
});
