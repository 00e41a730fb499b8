import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { type RunningApi, test as base, expect, pauseUntilExpired, signIn, startApi, waitForStats } from './fixtures';

const root = path.resolve(__dirname, '..');

/** `npm run demo -- --config FILE --port 0`, as a child process; resolves with its origin. */
function serveDemo(configFile: string): Promise<{ child: ChildProcess; origin: string }> {
  const child = spawn(
    process.execPath,
    [path.join(root, 'scripts', 'demo.mjs'), '--config', configFile, '--port', '0'],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`scripts/demo.mjs did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /demo app on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, origin: match[1] });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`scripts/demo.mjs exited with ${code}:\n${output}`));
    });
  });
}

/** The app served by scripts/demo.mjs on one port; the API, with CORS for it, on another. */
const test = base.extend<{ crossOrigin: { api: RunningApi; app: string } }>({
  crossOrigin: async ({}, use) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ngx-jot-e2e-'));
    const configFile = path.join(dir, 'config.json');
    // demo.mjs checks the file at start and reads it on every request: a placeholder now, the
    // API's address once it runs.
    writeFileSync(configFile, JSON.stringify({ loginUrl: '/authenticate', restrictedUrl: '/api/restricted' }));
    const { child, origin } = await serveDemo(configFile);
    const api = await startApi({ corsOrigins: [origin] });
    writeFileSync(
      configFile,
      JSON.stringify({
        apiBaseUrl: api.url,
        loginUrl: '/authenticate',
        refreshUrl: '/refresh',
        logoutUrl: '/logout',
        restrictedUrl: '/api/restricted',
        // Another origin again ("localhost", not "127.0.0.1"): never allowed to see the token.
        foreignUrl: `http://localhost:${api.port}/api/echo`,
        storage: 'local',
      }),
    );
    try {
      await use({ api, app: origin });
    } finally {
      child.kill('SIGTERM');
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
});

test('the app works against an API on another origin (CORS), served by npm run demo', async ({ page, crossOrigin }) => {
  const { api, app } = crossOrigin;
  await page.clock.install();
  await page.goto(`${app}/restricted`);
  await expect(page).toHaveURL(`${app}/login?returnUrl=%2Frestricted`);
  expect((await api.stats()).restricted).toBe(0);

  await signIn(page);
  await expect(page).toHaveURL(`${app}/restricted`);
  await expect(page.getByTestId('restricted-data')).toContainText('"name": "foo"');
  await expect(page.getByTestId('request-log')).toContainText(`POST ${api.url}/authenticate`);
  expect(await page.evaluate(() => Object.keys(localStorage))).toEqual(['ngx-jot']);

  await page.getByTestId('foreign-call').click();
  await expect(page.getByTestId('foreign-result')).toHaveText('authorization: false (no token was sent)');

  await pauseUntilExpired(page);
  await api.resetStats();
  await page.getByTestId('burst').click();
  const settled = await waitForStats(api, (s) => s.restricted - s.restrictedUnauthorized >= 10);
  expect(settled).toMatchObject({ refresh: 1, reuseDetected: 0, restrictedUnauthorized: 10 });
  await page.clock.resume();
  await expect(page.getByTestId('burst-result')).toHaveText(/^10 ok, 0 failed · /);

  await page.getByTestId('logout').click();
  await expect(page.getByTestId('session-state')).toContainText('Signed out');
  await expect.poll(async () => (await api.stats()).logout).toBe(1);
  expect(await page.evaluate(() => localStorage.length)).toBe(0);
});
