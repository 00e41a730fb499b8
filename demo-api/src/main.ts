/**
 * CLI for the ngx-jot demo API:  npx tsx demo-api/src/main.ts
 *
 * Environment:
 *   PORT            port on 127.0.0.1 (default 4200; 0 = ephemeral). HOST is always 127.0.0.1.
 *   ACCESS_TTL      access-token lifetime in seconds (default 30)
 *   REFRESH_TTL     refresh-token lifetime in seconds (default 3600)
 *   CORS_ORIGINS    comma-separated origins allowed credentialed CORS (default none)
 *   STATIC_DIR      directory to serve with SPA fallback (default <repo>/dist/demo-app/browser when it exists;
 *                   a relative value is resolved against the current directory; empty string disables)
 *   JOT_TEST_HOOKS  "1" enables /__stats, /__stats/reset and /__revoke-all
 *   DEMO_IDLE_SECONDS  idle logout of the demo app after that many seconds without activity (default off;
 *                   `npm start -- --idle 20` sets it)
 *   REQUIRE_DPOP    "1": only DPoP-bound tokens (RFC 9449); config.json tells the demo to use withDpop()
 *   DPOP_NONCE      "1": DPoP proofs must carry the server's nonce
 *
 * The HS256 secret is random per process: tokens do not survive a restart, which is intended.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDemoApi, DEMO_USERS, HOST, demoConfigFor } from './server.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
    process.exit(2);
  }
  return value;
}

function staticDirFromEnv(): string | undefined {
  const raw = process.env['STATIC_DIR'];
  if (raw === undefined) {
    const fallback = path.join(repoRoot, 'dist', 'demo-app', 'browser');
    return existsSync(fallback) ? fallback : undefined;
  }
  if (raw.trim() === '') return undefined;
  const dir = path.resolve(raw);
  if (!existsSync(dir)) {
    console.warn(`STATIC_DIR ${dir} does not exist; static serving disabled`);
    return undefined;
  }
  return dir;
}

const port = intEnv('PORT', 4200, 0, 65535);
const accessTtlSeconds = intEnv('ACCESS_TTL', 30, 1, 365 * 24 * 3600);
const refreshTtlSeconds = intEnv('REFRESH_TTL', 3600, 1, 365 * 24 * 3600);
const corsOrigins = (process.env['CORS_ORIGINS'] ?? '')
  .split(',')
  .map((origin) => origin.trim())
  .filter((origin) => origin !== '');
const staticDir = staticDirFromEnv();
const testHooks = process.env['JOT_TEST_HOOKS'] === '1';
const idleSeconds = intEnv('DEMO_IDLE_SECONDS', 0, 0, 365 * 24 * 3600) || null;
const requireDpop = process.env['REQUIRE_DPOP'] === '1';
const dpopNonce = process.env['DPOP_NONCE'] === '1';

const api = createDemoApi({
  accessTtlSeconds,
  refreshTtlSeconds,
  corsOrigins,
  ...(staticDir !== undefined ? { staticDir } : {}),
  demoConfig: (info) => demoConfigFor(info.port, { idleSeconds, dpop: requireDpop }),
  testHooks,
  requireDpop,
  dpopNonce,
  logger: (line) => console.log(`[demo-api] ${line}`),
});

try {
  const { url } = await api.listen(port);
  console.log(`ngx-jot demo API listening on ${url}`);
  console.log(`  host ${HOST} only; access TTL ${accessTtlSeconds}s, refresh TTL ${refreshTtlSeconds}s`);
  console.log(`  static: ${staticDir ?? '(none)'}`);
  console.log(`  CORS origins: ${corsOrigins.length > 0 ? corsOrigins.join(', ') : '(none)'}`);
  console.log(`  test hooks: ${testHooks ? 'on' : 'off'}; HS256 secret: random per process`);
  console.log(`  demo idle logout: ${idleSeconds ? `after ${idleSeconds}s without activity` : 'off'}`);
  console.log(`  DPoP: ${requireDpop ? 'required' : 'optional'}${dpopNonce ? ', with server nonces' : ''}`);
  console.log('  demo credentials:');
  for (const user of DEMO_USERS) {
    console.log(`    ${user.username} / ${user.password}  (${user.roles.join(', ')})`);
  }
} catch (err) {
  console.error(`could not listen on ${HOST}:${port}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}

let stopping = false;
function shutdown(signal: NodeJS.Signals): void {
  if (stopping) {
    process.exit(1);
  }
  stopping = true;
  console.log(`${signal} received, closing`);
  const force = setTimeout(() => process.exit(1), 5000);
  force.unref();
  void api.close().then(() => process.exit(0));
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
