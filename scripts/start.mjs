#!/usr/bin/env node
/**
 * `npm start`: the demo app and the reference API, served by ONE process on http://127.0.0.1:4200.
 *
 * Builds the demo first when no build exists (`ng build demo-app`; `--build` forces a rebuild),
 * then runs demo-api/src/main.ts in this very process (through tsx) with STATIC_DIR pointing at
 * the build, so stopping this process stops everything. Environment: PORT (default 4200),
 * ACCESS_TTL, REFRESH_TTL, CORS_ORIGINS, JOT_TEST_HOOKS, as documented in demo-api/README.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const browserDir = path.join(root, 'dist', 'demo-app', 'browser');

function ensureBuild(force) {
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

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(
    'Usage: npm start [-- --build]\n  Serves the demo app with the reference API on http://127.0.0.1:${PORT:-4200}.',
  );
  process.exit(0);
}
ensureBuild(args.includes('--build'));

process.env.STATIC_DIR = browserDir;
const port = process.env.PORT?.trim() || '4200';
process.env.PORT = port;
if (port !== '0') console.log(`\nngx-jot demo: open http://127.0.0.1:${port}/\n`);

// The API's CLI reads its environment, listens, prints the demo credentials, and handles SIGINT/SIGTERM.
const { tsImport } = await import('tsx/esm/api');
await tsImport(pathToFileURL(path.join(root, 'demo-api', 'src', 'main.ts')).href, import.meta.url);
