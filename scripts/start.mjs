#!/usr/bin/env node
/**
 * `npm start`: the demo app and the reference API, served by ONE process on http://127.0.0.1:4200.
 *
 * Builds the demo first when no build exists (`ng build demo-app`; `--build` forces a rebuild),
 * then runs demo-api/src/main.ts in this very process (through tsx) with STATIC_DIR pointing at
 * the build, so stopping this process stops everything. Environment: PORT (default 4200),
 * ACCESS_TTL, REFRESH_TTL, CORS_ORIGINS, JOT_TEST_HOOKS, as documented in demo-api/README.md.
 * `--idle N` turns on the demo's idle logout after N seconds without activity (DEMO_IDLE_SECONDS);
 * it is off by default.
 * `--dpop`: the API requires DPoP-bound tokens (REQUIRE_DPOP=1) and the demo turns withDpop() on.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { browserDir, ensureBuild, root } from './lib/demo-build.mjs';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(
    'Usage: npm start [-- --build] [--idle SECONDS] [--dpop]\n  Serves the demo app with the reference API on http://127.0.0.1:${PORT:-4200}.\n' +
      '  --idle SECONDS  sign out after that long without activity in any tab (a warning comes first)\n' +
      '  --dpop          the API requires DPoP-bound tokens (RFC 9449) and the demo uses withDpop().',
  );
  process.exit(0);
}
const idleAt = args.findIndex((arg) => arg === '--idle' || arg.startsWith('--idle='));
if (idleAt >= 0) {
  const raw = args[idleAt].includes('=') ? args[idleAt].slice('--idle='.length) : args[idleAt + 1];
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 2) {
    console.error(`npm start: --idle takes a whole number of seconds >= 2, e.g. --idle 20; got "${raw ?? ''}".`);
    process.exit(2);
  }
  process.env.DEMO_IDLE_SECONDS = String(seconds);
}
ensureBuild(args.includes('--build'));

process.env.STATIC_DIR = browserDir;
if (args.includes('--dpop')) process.env.REQUIRE_DPOP = '1';
const port = process.env.PORT?.trim() || '4200';
process.env.PORT = port;
if (port !== '0') console.log(`\nngx-jot demo: open http://127.0.0.1:${port}/\n`);

// The API's CLI reads its environment, listens, prints the demo credentials, and handles SIGINT/SIGTERM.
const { tsImport } = await import('tsx/esm/api');
await tsImport(pathToFileURL(path.join(root, 'demo-api', 'src', 'main.ts')).href, import.meta.url);
