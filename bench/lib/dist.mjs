// Where the built library is, and building it when it is missing or older than its sources.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const FESM_PATH = join(ROOT, 'dist/ngx-jot/fesm2022/ngx-jot.mjs');
export const FESM = pathToFileURL(FESM_PATH).href;
const SOURCES = join(ROOT, 'projects/ngx-jot/src');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts'))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Runs `npm run build` when dist/ngx-jot is missing (a fresh CI checkout) or older than a
 * library source file (measuring a stale build would report stale numbers).
 * Returns why it built, or null.
 */
export function ensureDist({ log = console.error } = {}) {
  let why = null;
  if (!existsSync(FESM_PATH)) why = 'dist/ngx-jot is missing';
  else if (process.env.BENCH_NO_REBUILD !== '1' && newestSource(SOURCES) > statSync(FESM_PATH).mtimeMs) {
    why = 'dist/ngx-jot is older than projects/ngx-jot/src';
  }
  if (why) {
    log(`bench: ${why}; running npm run build ...`);
    execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  return why;
}
