#!/usr/bin/env node
/**
 * Makes sure the browser tests have a Chromium: CHROME_PATH, /usr/bin/chromium, or Playwright's
 * own download. With none, on Debian as root, installs Debian's `chromium` with apt-get;
 * otherwise fails and says how to get one. Never lets the tests skip.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const SYSTEM_CHROMIUM = '/usr/bin/chromium';

const executable = (file) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

function playwrightsOwn() {
  try {
    const { chromium } = createRequire(import.meta.url)('playwright-core');
    const file = chromium.executablePath();
    return file && existsSync(file) ? file : null;
  } catch {
    return null;
  }
}

function found() {
  const fromEnv = process.env.CHROME_PATH;
  if (fromEnv) {
    if (executable(fromEnv)) return `CHROME_PATH=${fromEnv}`;
    console.error(`ensure-chromium: CHROME_PATH=${fromEnv} is not an executable file.`);
    process.exit(1);
  }
  if (executable(SYSTEM_CHROMIUM)) return SYSTEM_CHROMIUM;
  const own = playwrightsOwn();
  return own ? `Playwright's ${own}` : null;
}

let browser = found();
if (!browser) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = executable('/usr/bin/apt-get');
  if (isRoot && hasApt) {
    console.log(
      "ensure-chromium: no Chromium found; installing Debian's chromium (apt-get update && apt-get install -y chromium)…",
    );
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [['update'], ['install', '-y', 'chromium']]) {
      const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
      if (result.status !== 0) {
        console.error(`ensure-chromium: apt-get ${args.join(' ')} failed (exit ${result.status}).`);
        process.exit(1);
      }
    }
    browser = found();
  }
}
if (!browser) {
  console.error(
    [
      'ensure-chromium: the browser tests need Chromium, and none was found.',
      'Get one of:',
      '  - Debian/Ubuntu: sudo apt-get install chromium   (gives /usr/bin/chromium)',
      "  - Playwright's build: npx playwright install chromium",
      '  - any Chrome/Chromium: CHROME_PATH=/path/to/chrome npm run test:e2e',
    ].join('\n'),
  );
  process.exit(1);
}
console.log(`ensure-chromium: using ${browser}`);
