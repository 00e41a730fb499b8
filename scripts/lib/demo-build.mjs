// The built demo app, shared by `npm start` and `npm run demo`: built on first use.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const browserDir = path.join(root, 'dist', 'demo-app', 'browser');

/** Builds the demo app when no build exists (or always, with `force`); exits on failure. */
export function ensureBuild(force) {
  if (!force && existsSync(path.join(browserDir, 'index.html'))) return;
  console.log(force ? 'Building the demo app…' : 'No demo build found; building it (ng build demo-app)…');
  const ng = createRequire(import.meta.url).resolve('@angular/cli/bin/ng.js');
  const result = spawnSync(process.execPath, [ng, 'build', 'demo-app'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NG_CLI_ANALYTICS: 'false' },
  });
  if (result.status !== 0 || !existsSync(path.join(browserDir, 'index.html'))) {
    console.error('The demo build failed; see the output above.');
    process.exit(result.status || 1);
  }
}
