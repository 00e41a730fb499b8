/**
 * Reference JWT API for the ngx-jot demo and browser tests.
 *
 * Plain `node:http` + `jose` (HS256). Everything is in memory: refresh-token
 * families live as long as the process. Listens on 127.0.0.1 only.
 *
 * Routes (see README.md for the full contract):
 *   POST /authenticate      {username, password}  -> token pair
 *   POST /refresh           {refresh_token}       -> rotated token pair (reuse detection)
 *   POST /logout            {refresh_token}       -> 204, revokes the family
 *   GET  /api/restricted    Bearer JWT            -> {name: "foo", email}
 *   POST /api/expire-token  Bearer JWT            -> 204, that access token is refused from now on
 *   GET  /api/echo          (CORS *)              -> {authorization: boolean}
 *   GET  /config.json       demoConfig (when given)
 *   GET  /__stats, POST /__stats/reset, POST /__revoke-all   (testHooks only)
 *   anything else: static files from staticDir with SPA fallback, or 404.
 *
 * The units, each in its own file with its state documented there:
 *   users.ts          the demo users and the credential check
 *   access-tokens.ts  issues and verifies access tokens; revoked ones; the signing key
 *   refresh-tokens.ts refresh-token families: rotation, reuse detection, sweeping
 *   routes.ts         one handler per route, and the route table
 *   cors.ts           CORS headers
 *   static-files.ts   static files with SPA fallback, confined to their root
 *   stats.ts          request counters
 *   http-json.ts      HttpError, JSON answers, JSON request bodies
 *   faults.ts         the test-only fault mode
 * This file wires them together: options, the dispatcher, and the server's lifecycle.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { createAccessTokens } from './access-tokens.ts';
import { createDpopVerifier } from './dpop.ts';
import { applyCors } from './cors.ts';
import { createFaults, type FaultPlan, type Faults } from './faults.ts';
import { HttpError, sendEmpty, sendError, sendJson } from './http-json.ts';
import { createRefreshTokenStore } from './refresh-tokens.ts';
import { ROUTES, isReservedPath, type RouteContext } from './routes.ts';
import { openStaticRoot, serveStatic } from './static-files.ts';
import { StatsCounter, type DemoApiStats } from './stats.ts';

export { REALM } from './access-tokens.ts';
export { MAX_BODY_BYTES } from './http-json.ts';
export type { DemoApiStats } from './stats.ts';
export { DEMO_USERS, type DemoUser } from './users.ts';

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

/** JSON handed to the demo app at `GET /config.json`. */
export type DemoConfig = Readonly<Record<string, unknown>>;

export interface DemoApiOptions {
  /** Lifetime of access tokens (JWT `exp - iat`), whole seconds >= 1. */
  readonly accessTtlSeconds: number;
  /** Lifetime of each refresh token from its issuance, whole seconds >= 1. */
  readonly refreshTtlSeconds: number;
  /** HS256 secret, at least 32 bytes. Default: 32 random bytes per instance. */
  readonly secret?: string | Uint8Array;
  /** Origins that get credentialed CORS on every route except /api/echo (which is `*`). */
  readonly corsOrigins: readonly string[];
  /** Directory served as static files with SPA fallback; ignored when it does not exist. */
  readonly staticDir?: string;
  /** Served at `GET /config.json`. A function receives the bound port (0 before `listen`). */
  readonly demoConfig?: DemoConfig | ((info: { readonly port: number }) => DemoConfig);
  /** Enables `/__stats`, `/__stats/reset` and `/__revoke-all` (404 otherwise). */
  readonly testHooks?: boolean;
  /** Clock in epoch milliseconds; for tests. Default `Date.now`. */
  readonly now?: () => number;
  /** Receives one line per request (method, path without query, status, duration). Never tokens. */
  readonly logger?: (line: string) => void;
  /**
   * Fault mode, for tests only (the chaos soak): seeded latency, 5xx, dropped connections, 429,
   * slow refreshes, token revocation, key rotation and clock jumps (see faults.ts). Also enables
   * `GET /__faults` (the decision log). Off when absent.
   */
  readonly faults?: FaultPlan;
  /**
   * DPoP (RFC 9449): login and refresh must carry a proof, and API calls a DPoP-bound token with
   * a proof. Without it, a proof still binds the tokens it comes with, and Bearer tokens work.
   */
  readonly requireDpop?: boolean;
  /** Every DPoP proof must carry the server's `DPoP-Nonce` (answered `use_dpop_nonce` otherwise). */
  readonly dpopNonce?: boolean;
}

export interface DemoApi {
  readonly server: http.Server;
  /** Listens on 127.0.0.1:`port` (0 = ephemeral). */
  listen(port?: number): Promise<{ port: number; url: string }>;
  /** Stops listening and drops keep-alive connections. Idempotent. */
  close(): Promise<void>;
  /** Snapshot of the counters. */
  readonly stats: Readonly<DemoApiStats>;
  resetStats(): void;
  /** Revokes every refresh-token family. */
  revokeAll(): void;
  /** The fault mode, when `faults` was given. */
  readonly faults: Faults | null;
}

export const HOST = '127.0.0.1';

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`${name} must be an integer >= 1, got ${String(value)}`);
  }
  return value;
}

/** The HS256 key: the given secret as bytes (at least 32), or 32 random bytes. */
function signingKey(secret: DemoApiOptions['secret']): Uint8Array {
  const key =
    secret === undefined
      ? new Uint8Array(randomBytes(32))
      : typeof secret === 'string'
        ? new TextEncoder().encode(secret)
        : secret;
  if (key.length < 32) throw new TypeError('secret must be at least 32 bytes for HS256');
  return key;
}

// ---------------------------------------------------------------------------
// Dispatcher
// ---------------------------------------------------------------------------

/** What the dispatcher needs beyond the routes' own units. Fixed once the server is made. */
interface DispatchSettings {
  readonly context: RouteContext;
  readonly corsOrigins: ReadonlySet<string>;
  readonly testHooks: boolean;
  readonly demoConfig: DemoApiOptions['demoConfig'];
  readonly staticRoot: string | null;
  /** The bound port, 0 before `listen`. */
  readonly port: () => number;
}

/** GET|HEAD /config.json: the demo config, computed for the bound port when it is a function. */
function serveDemoConfig(settings: DispatchSettings, method: string, res: http.ServerResponse): void {
  if (method !== 'GET' && method !== 'HEAD') {
    throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on /config.json`, {
      Allow: 'GET, HEAD',
    });
  }
  const { demoConfig } = settings;
  const config = typeof demoConfig === 'function' ? demoConfig({ port: settings.port() }) : demoConfig;
  sendJson(res, 200, config, {}, method === 'HEAD');
}

/** Answers one request: CORS, then a route, the demo config, a static file, or 404. Throws `HttpError`s. */
async function dispatch(
  settings: DispatchSettings,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const method = req.method ?? 'GET';
  const rawUrl = req.url ?? '/';
  if (!rawUrl.startsWith('/')) throw new HttpError(400, 'invalid_request', 'Request target must be a path');
  const queryStart = rawUrl.search(/[?#]/);
  const pathname = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
  const preflight = method === 'OPTIONS';

  applyCors(settings.corsOrigins, req, res, pathname, preflight);

  const route = ROUTES[pathname];
  const faultsOn = settings.context.faults !== null;
  const enabled = route?.hook !== true || settings.testHooks || (pathname === '/__faults' && faultsOn);
  if (route && enabled) {
    if (preflight) {
      sendEmpty(res, 204);
      return;
    }
    const handler = route.handlers[method];
    if (!handler) {
      const allow = [...Object.keys(route.handlers), 'OPTIONS'].join(', ');
      throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${pathname}`, { Allow: allow });
    }
    await handler(settings.context, req, res);
    return;
  }

  if (pathname === '/config.json' && settings.demoConfig !== undefined) {
    serveDemoConfig(settings, method, res);
    return;
  }

  if (settings.staticRoot !== null && !isReservedPath(pathname)) {
    await serveStatic(settings.staticRoot, req, res, pathname);
    return;
  }

  throw new HttpError(404, 'not_found', `No route for ${method} ${pathname.slice(0, 200)}`);
}

/** The server's request listener: logs one line per request, runs `dispatch` (through the fault mode when on), answers errors. */
function requestListener(
  settings: DispatchSettings,
  log: DemoApiOptions['logger'],
): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    const started = performance.now();
    if (log) {
      res.on('finish', () => {
        const pathname = (req.url ?? '').split(/[?#]/)[0]?.slice(0, 200) ?? '';
        log(`${req.method ?? '?'} ${pathname} ${res.statusCode} ${Math.round(performance.now() - started)}ms`);
      });
    }
    const route = (): void => {
      dispatch(settings, req, res).catch((err: unknown) => {
        const httpError =
          err instanceof HttpError ? err : new HttpError(500, 'server_error', 'Unexpected server error');
        if (!(err instanceof HttpError) && log)
          log(`internal error: ${err instanceof Error ? err.message : 'unknown'}`);
        if (res.headersSent) {
          res.destroy();
          return;
        }
        sendError(res, httpError);
      });
    };
    const { faults } = settings.context;
    if (faults) faults.handle(req, res, (req.url ?? '/').split(/[?#]/)[0] ?? '/', route);
    else route();
  };
}

// ---------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------

/** `listen` and `close` of `server`. State: the pending close, so a second `close` waits for the same one. */
function createLifecycle(server: http.Server): Pick<DemoApi, 'listen' | 'close'> {
  let closing: Promise<void> | null = null;
  return {
    listen(port = 0) {
      return new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once('error', onError);
        server.listen(port, HOST, () => {
          server.off('error', onError);
          const bound = (server.address() as AddressInfo).port;
          resolve({ port: bound, url: `http://${HOST}:${bound}` });
        });
      });
    },
    close() {
      if (!server.listening) return closing ?? Promise.resolve();
      closing = new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

// ---------------------------------------------------------------------------
// Factory
// ---------------------------------------------------------------------------

/** A demo API on its own state (users, tokens, counters); it listens once `listen` is called. */
export function createDemoApi(options: DemoApiOptions): DemoApi {
  const accessTtlSeconds = positiveInt('accessTtlSeconds', options.accessTtlSeconds);
  const refreshTtlMs = positiveInt('refreshTtlSeconds', options.refreshTtlSeconds) * 1000;
  const secret = signingKey(options.secret);
  const faults = options.faults === undefined ? null : createFaults(options.faults, options.now ?? Date.now);
  // In fault mode the server's clock is the fault mode's: the base clock plus its jumps.
  const now = faults?.now ?? options.now ?? Date.now;
  const accessTokens = createAccessTokens(secret, accessTtlSeconds, now);
  faults?.bind({ revokeAccessToken: accessTokens.revoke, rotateSigningKey: accessTokens.rotateKey });
  const context: RouteContext = {
    accessTokens,
    refreshTokens: createRefreshTokenStore(refreshTtlMs, now),
    stats: new StatsCounter(),
    faults,
    accessTtlSeconds,
    dpop: createDpopVerifier(now, options.dpopNonce === true),
    requireDpop: options.requireDpop === true,
    dpopFamilies: new WeakMap(),
  };

  const settings: DispatchSettings = {
    context,
    corsOrigins: new Set(options.corsOrigins),
    testHooks: options.testHooks === true,
    demoConfig: options.demoConfig,
    staticRoot: openStaticRoot(options.staticDir),
    port: () => {
      const address = server.address();
      return typeof address === 'object' && address !== null ? address.port : 0;
    },
  };
  const server = http.createServer(requestListener(settings, options.logger));
  // Nothing legitimate is slow here; make sure stalled bodies cannot hold a request open for minutes.
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;

  return {
    server,
    ...createLifecycle(server),
    get stats(): Readonly<DemoApiStats> {
      return Object.freeze(context.stats.snapshot());
    },
    resetStats: () => context.stats.reset(),
    revokeAll: () => context.refreshTokens.revokeAll(),
    faults,
  };
}

/**
 * The demo app's config.json when this server serves it: same origin; the echo API under "localhost"
 * plays a foreign origin. `idleSeconds` turns on the demo's idle logout (`npm start -- --idle 20`);
 * `dpop` turns withDpop() on, for an API that requires DPoP-bound tokens (`npm start -- --dpop`).
 */
export function demoConfigFor(port: number, options: { idleSeconds?: number | null; dpop?: boolean } = {}): DemoConfig {
  return {
    apiBaseUrl: '',
    loginUrl: '/authenticate',
    refreshUrl: '/refresh',
    logoutUrl: '/logout',
    restrictedUrl: '/api/restricted',
    expireUrl: '/api/expire-token',
    foreignUrl: `http://localhost:${port}/api/echo`,
    usernameField: 'username',
    storage: 'session',
    crossTabSync: true,
    idleSeconds: options.idleSeconds ?? null,
    // The demo turns withDpop() on when the API requires DPoP-bound tokens.
    ...(options.dpop ? { dpop: true } : {}),
  };
}
