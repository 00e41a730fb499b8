import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
const index = path.join(root, 'dist', 'demo-app', 'browser', 'index.html');
/** What the demo build is made of. */
const SOURCES = ['demo-app', 'projects/ngx-jot/src', 'angular.json', 'tsconfig.json'];

function newestMtime(target: string): number {
  const info = statSync(target, { throwIfNoEntry: false });
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(target)) {
    if (entry.endsWith('.spec.ts')) continue;
    newest = Math.max(newest, newestMtime(path.join(target, entry)));
  }
  return newest;
}

/** Builds the demo app when there is no build, or when its sources changed since (E2E_BUILD=1 forces it). */
export default function globalSetup(): void {
  const built = existsSync(index) ? statSync(index).mtimeMs : 0;
  const changed = Math.max(...SOURCES.map((s) => newestMtime(path.join(root, s))));
  if (process.env['E2E_BUILD'] !== '1' && built > 0 && built >= changed) return;
  console.log(built ? 'The demo sources changed: rebuilding the demo app…' : 'Building the demo app…');
  const ng = createRequire(__filename).resolve('@angular/cli/bin/ng.js');
  const result = spawnSync(process.execPath, [ng, 'build', 'demo-app'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NG_CLI_ANALYTICS: 'false' },
  });
  if (result.status !== 0 || !existsSync(index)) throw new Error('ng build demo-app failed; see the output above.');
}
