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
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createReadStream, realpathSync, statSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';

import { createFaults, type FaultPlan, type Faults } from './faults.ts';

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
}

/** Request counters exposed by `GET /__stats` and `DemoApi.stats`. OPTIONS preflights are not counted. */
export interface DemoApiStats {
  /** Every POST /authenticate. */
  authenticate: number;
  /** Every POST /refresh. */
  refresh: number;
  /** Every POST /logout. */
  logout: number;
  /** Every GET /api/restricted (authorized or not). */
  restricted: number;
  /** GET /api/restricted answered 401. */
  restrictedUnauthorized: number;
  /** Every GET /api/echo. */
  echo: number;
  /** Every POST /api/expire-token (authorized or not). */
  expireToken: number;
  /** Refresh attempts with an already-rotated token (the family was revoked). */
  reuseDetected: number;
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

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

export const HOST = '127.0.0.1';
export const REALM = 'ngx-jot-demo';
export const MAX_BODY_BYTES = 16 * 1024;
/** Past this many bytes an oversized body is no longer drained but the socket destroyed. */
const MAX_DRAIN_BYTES = 1024 * 1024;
const SWEEP_INTERVAL_MS = 30_000;

export interface DemoUser {
  readonly username: string;
  readonly password: string;
  readonly name: string;
  readonly email: string;
  readonly roles: readonly string[];
}

export const DEMO_USERS: readonly DemoUser[] = Object.freeze([
  { username: 'john.doe', password: 'foobar', name: 'John Doe', email: 'john.doe@example.com', roles: ['user'] },
  { username: 'admin', password: 'admin', name: 'Ada Admin', email: 'admin@example.com', roles: ['user', 'admin'] },
]);

const CORS_ALLOW_METHODS = 'GET, POST, OPTIONS';
const CORS_ALLOW_HEADERS = 'Authorization, Content-Type, X-XSRF-TOKEN';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
};

// ---------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(description);
  }
}

interface RefreshFamily {
  readonly username: string;
  revoked: boolean;
  readonly tokenHashes: Set<string>;
}

interface RefreshEntry {
  readonly family: RefreshFamily;
  readonly expiresAt: number;
  used: boolean;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> | void;

interface Route {
  readonly handlers: Readonly<Partial<Record<string, Handler>>>;
  readonly hook?: boolean;
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();
const tokenKey = (token: string): string => sha256(token).toString('base64url');

function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`${name} must be an integer >= 1, got ${String(value)}`);
  }
  return value;
}

function newZeroStats(): DemoApiStats {
  return {
    authenticate: 0,
    refresh: 0,
    logout: 0,
    restricted: 0,
    restrictedUnauthorized: 0,
    echo: 0,
    expireToken: 0,
    reuseDetected: 0,
  };
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
  headOnly = false,
): void {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(payload.length),
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
  });
  res.end(headOnly ? undefined : payload);
}

function sendEmpty(res: http.ServerResponse, status: number, headers: Readonly<Record<string, string>> = {}): void {
  res.writeHead(status, { 'Cache-Control': 'no-store', ...headers });
  res.end();
}

function sendError(res: http.ServerResponse, err: HttpError): void {
  sendJson(res, err.status, { error: err.error, error_description: err.description }, err.headers);
}

/** Reads a JSON object body, enforcing content type and size. Never hangs longer than the server's requestTimeout. */
function readJsonObject(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (mediaType !== 'application/json') {
      reject(new HttpError(415, 'invalid_request', 'Content-Type must be application/json'));
      req.resume();
      return;
    }
    const tooLarge = new HttpError(413, 'invalid_request', `Request body exceeds ${MAX_BODY_BYTES} bytes`);
    let settled = false;
    let size = 0;
    const chunks: Buffer[] = [];
    const fail = (err: HttpError): void => {
      if (settled) return;
      settled = true;
      chunks.length = 0;
      reject(err);
    };
    // Keep draining after a 413 so the client can read the answer, but not forever.
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_DRAIN_BYTES) {
        fail(tooLarge);
        req.destroy();
        return;
      }
      if (settled) return;
      if (size > MAX_BODY_BYTES) {
        fail(tooLarge);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => fail(new HttpError(400, 'invalid_request', 'Request body could not be read')));
    req.on('end', () => {
      if (settled) return;
      settled = true;
      const text = Buffer.concat(chunks).toString('utf8');
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        reject(new HttpError(400, 'invalid_request', 'Request body is not valid JSON'));
        return;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        reject(new HttpError(400, 'invalid_request', 'Request body must be a JSON object'));
        return;
      }
      resolve(value as Record<string, unknown>);
    });
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) fail(tooLarge);
  });
}

function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new HttpError(400, 'invalid_request', `Field "${field}" must be a non-empty string`);
  }
  return value;
}

function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'The access token expired';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'The access token signature is invalid';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'The access token algorithm is not accepted';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return 'The access token claims are invalid';
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid)
    return 'The access token is malformed';
  return 'The access token is invalid';
}

/** Resolves a URL path (still percent-encoded) to a file path strictly inside `root`, or null. */
function resolveInside(root: string, encodedPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(encodedPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const resolved = path.resolve(root, '.' + path.posix.normalize('/' + decoded));
  // The normalize above already clamps `..` at '/', this is the belt to those braces.
  const relative = path.relative(root, resolved);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return null;
  // Refuse literal traversal attempts outright instead of clamping them into the root.
  if (decoded.split('/').includes('..')) return null;
  return resolved;
}

function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

// ---------------------------------------------------------------------------
// Access tokens
// ---------------------------------------------------------------------------

/** Issues and checks the HS256 access tokens, and remembers the ones revoked before their `exp`. */
interface AccessTokens {
  issue(user: DemoUser): Promise<string>;
  /** The verified payload of the request's bearer token; throws a 401 `HttpError` otherwise. */
  verify(req: http.IncomingMessage): Promise<Record<string, unknown>>;
  /** Refuses this token (by its `jti`) from now until it would have expired anyway. */
  revoke(payload: Record<string, unknown>): void;
  /** Signs with a new key from now on; tokens signed with the old one are refused (fault mode). */
  rotateKey(next: Uint8Array): void;
}

function createAccessTokens(initialSecret: Uint8Array, ttlSeconds: number, now: () => number): AccessTokens {
  let secret = initialSecret;
  /** jti -> exp (epoch seconds), so the list forgets tokens that expired by themselves. */
  const revoked = new Map<string, number>();

  const invalidToken = (description: string): HttpError =>
    new HttpError(401, 'invalid_token', description, {
      'WWW-Authenticate': `Bearer error="invalid_token", error_description="${description}"`,
    });

  function forgetExpired(): void {
    const nowSeconds = now() / 1000;
    for (const [jti, exp] of revoked) if (exp <= nowSeconds) revoked.delete(jti);
  }

  return {
    issue(user) {
      const iat = Math.floor(now() / 1000);
      return new SignJWT({ email: user.email, name: user.name, roles: [...user.roles] })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(user.username)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlSeconds)
        .setJti(randomUUID())
        .sign(secret);
    },
    async verify(req) {
      const match = /^Bearer[ ]+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      if (!match?.[1]) {
        throw new HttpError(401, 'unauthorized', 'No bearer token was sent', {
          'WWW-Authenticate': `Bearer realm="${REALM}"`,
        });
      }
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(match[1], secret, {
          algorithms: ['HS256'],
          requiredClaims: ['sub', 'iat', 'exp', 'jti'],
          currentDate: new Date(now()),
        }));
        if (typeof payload['email'] !== 'string') throw new joseErrors.JWTClaimValidationFailed('email', payload);
      } catch (err) {
        throw invalidToken(describeJoseError(err));
      }
      forgetExpired();
      if (revoked.has(payload['jti'] as string)) throw invalidToken('The access token was revoked');
      return payload;
    },
    revoke(payload) {
      revoked.set(payload['jti'] as string, payload['exp'] as number);
    },
    rotateKey(next) {
      secret = next;
    },
  };
}

// ---------------------------------------------------------------------------
// Factory
// ---------------------------------------------------------------------------

export function createDemoApi(options: DemoApiOptions): DemoApi {
  const accessTtl = positiveInt('accessTtlSeconds', options.accessTtlSeconds);
  const refreshTtlMs = positiveInt('refreshTtlSeconds', options.refreshTtlSeconds) * 1000;
  const secret =
    options.secret === undefined
      ? new Uint8Array(randomBytes(32))
      : typeof options.secret === 'string'
        ? new TextEncoder().encode(options.secret)
        : options.secret;
  if (secret.length < 32) throw new TypeError('secret must be at least 32 bytes for HS256');
  const faults = options.faults === undefined ? null : createFaults(options.faults, options.now ?? Date.now);
  // In fault mode the server's clock is the fault mode's: the base clock plus its jumps.
  const now = faults?.now ?? options.now ?? Date.now;
  const accessTokens = createAccessTokens(secret, accessTtl, now);
  faults?.bind({ revokeAccessToken: accessTokens.revoke, rotateSigningKey: accessTokens.rotateKey });
  const corsOrigins = new Set(options.corsOrigins);
  const testHooks = options.testHooks === true;
  const log = options.logger;

  let staticRoot: string | null = null;
  if (options.staticDir !== undefined) {
    try {
      const real = realpathSync(options.staticDir);
      if (statSync(real).isDirectory()) staticRoot = real;
    } catch {
      staticRoot = null;
    }
  }

  let stats = newZeroStats();
  const refreshTokens = new Map<string, RefreshEntry>();
  let lastSweep = now();

  // --- refresh-token families ------------------------------------------------

  function sweep(): void {
    const t = now();
    if (t - lastSweep < SWEEP_INTERVAL_MS) return;
    lastSweep = t;
    for (const [key, entry] of refreshTokens) {
      if (entry.expiresAt <= t || entry.family.revoked) {
        refreshTokens.delete(key);
        entry.family.tokenHashes.delete(key);
      }
    }
  }

  function revokeFamily(family: RefreshFamily): void {
    family.revoked = true;
    for (const key of family.tokenHashes) refreshTokens.delete(key);
    family.tokenHashes.clear();
  }

  function issueRefreshToken(family: RefreshFamily): string {
    sweep();
    const token = randomBytes(32).toString('base64url');
    const key = tokenKey(token);
    refreshTokens.set(key, { family, expiresAt: now() + refreshTtlMs, used: false });
    family.tokenHashes.add(key);
    return token;
  }

  async function issuePair(user: DemoUser, family: RefreshFamily): Promise<Record<string, unknown>> {
    return {
      access_token: await accessTokens.issue(user),
      refresh_token: issueRefreshToken(family),
      token_type: 'Bearer',
      expires_in: accessTtl,
    };
  }

  // --- route handlers --------------------------------------------------------

  const invalidGrant = (description: string): HttpError => new HttpError(401, 'invalid_grant', description);

  async function authenticate(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    stats.authenticate++;
    const body = await readJsonObject(req);
    const username = requireString(body, 'username');
    const password = requireString(body, 'password');
    // Compare against every user so timing does not reveal which usernames exist.
    let match: DemoUser | undefined;
    for (const user of DEMO_USERS) {
      const nameOk = safeEqual(user.username, username);
      const passOk = safeEqual(user.password, password);
      if (nameOk && passOk) match = user;
    }
    if (!match) throw invalidGrant('Invalid username or password');
    const family: RefreshFamily = { username: match.username, revoked: false, tokenHashes: new Set() };
    sendJson(res, 200, await issuePair(match, family));
  }

  async function refresh(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    stats.refresh++;
    const body = await readJsonObject(req);
    const token = requireString(body, 'refresh_token');
    const key = tokenKey(token);
    const entry = refreshTokens.get(key);
    if (!entry || entry.family.revoked) throw invalidGrant('Unknown or revoked refresh token');
    if (entry.expiresAt <= now()) {
      refreshTokens.delete(key);
      entry.family.tokenHashes.delete(key);
      throw invalidGrant('The refresh token expired');
    }
    if (entry.used) {
      stats.reuseDetected++;
      revokeFamily(entry.family);
      throw invalidGrant('Refresh token reuse detected; the session was revoked');
    }
    const user = DEMO_USERS.find((u) => u.username === entry.family.username);
    if (!user) {
      revokeFamily(entry.family);
      throw invalidGrant('Unknown user');
    }
    entry.used = true;
    sendJson(res, 200, await issuePair(user, entry.family));
  }

  async function logout(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    stats.logout++;
    const body = await readJsonObject(req);
    const token = requireString(body, 'refresh_token');
    const entry = refreshTokens.get(tokenKey(token));
    if (entry) revokeFamily(entry.family);
    sendEmpty(res, 204);
  }

  /** The request's verified token payload; counts a refusal in `restrictedUnauthorized`. */
  async function requireToken(req: http.IncomingMessage): Promise<Record<string, unknown>> {
    try {
      return await accessTokens.verify(req);
    } catch (err) {
      stats.restrictedUnauthorized++;
      throw err;
    }
  }

  async function restricted(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    stats.restricted++;
    const payload = await requireToken(req);
    sendJson(res, 200, { name: 'foo', email: payload['email'] });
  }

  /** The demo's "expire the token now": this access token is refused from now on; the refresh token stays good. */
  async function expireToken(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    stats.expireToken++;
    accessTokens.revoke(await accessTokens.verify(req));
    sendEmpty(res, 204);
  }

  function echo(req: http.IncomingMessage, res: http.ServerResponse): void {
    stats.echo++;
    sendJson(res, 200, { authorization: req.headers.authorization !== undefined });
  }

  const routes: Readonly<Record<string, Route>> = {
    '/authenticate': { handlers: { POST: authenticate } },
    '/refresh': { handlers: { POST: refresh } },
    '/logout': { handlers: { POST: logout } },
    '/api/restricted': { handlers: { GET: restricted } },
    '/api/echo': { handlers: { GET: echo } },
    '/api/expire-token': { handlers: { POST: expireToken } },
    '/__stats': { hook: true, handlers: { GET: (_req, res) => sendJson(res, 200, { ...stats }) } },
    '/__stats/reset': {
      hook: true,
      handlers: {
        POST: (_req, res) => {
          stats = newZeroStats();
          sendJson(res, 200, { ...stats });
        },
      },
    },
    '/__faults': {
      hook: true,
      handlers: {
        GET: (_req, res) => {
          if (!faults) throw new HttpError(404, 'not_found', 'Fault mode is off');
          sendJson(res, 200, { plan: faults.plan, log: faults.log });
        },
      },
    },
    '/__revoke-all': {
      hook: true,
      handlers: {
        POST: (_req, res) => {
          revokeAll();
          sendEmpty(res, 204);
        },
      },
    },
  };

  function revokeAll(): void {
    const families = new Set<RefreshFamily>();
    for (const entry of refreshTokens.values()) families.add(entry.family);
    for (const family of families) revokeFamily(family);
  }

  // --- CORS -------------------------------------------------------------------

  function applyCors(req: http.IncomingMessage, res: http.ServerResponse, pathname: string, preflight: boolean): void {
    if (pathname === '/api/echo') {
      // The "third-party API": open to everyone, and it would happily accept a leaked token.
      res.setHeader('Access-Control-Allow-Origin', '*');
      if (preflight) {
        res.setHeader('Access-Control-Allow-Methods', 'GET, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', CORS_ALLOW_HEADERS);
        res.setHeader('Access-Control-Max-Age', '600');
      }
      return;
    }
    res.setHeader('Vary', 'Origin');
    const origin = req.headers.origin;
    if (origin === undefined || !corsOrigins.has(origin)) return;
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Access-Control-Expose-Headers', 'WWW-Authenticate');
    if (preflight) {
      res.setHeader('Access-Control-Allow-Methods', CORS_ALLOW_METHODS);
      res.setHeader('Access-Control-Allow-Headers', CORS_ALLOW_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
    }
  }

  // --- static files -----------------------------------------------------------

  const isReservedPath = (pathname: string): boolean =>
    pathname in routes ||
    pathname === '/api' ||
    pathname.startsWith('/api/') ||
    pathname.startsWith('/__') ||
    pathname.startsWith('/authenticate/') ||
    pathname.startsWith('/refresh/') ||
    pathname.startsWith('/logout/');

  async function fileAt(file: string): Promise<Stats | null> {
    try {
      const info = await stat(file);
      return info.isFile() ? info : null;
    } catch {
      return null;
    }
  }

  async function serveStatic(
    root: string,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    pathname: string,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      throw new HttpError(405, 'method_not_allowed', `${method} is not allowed here`, { Allow: 'GET, HEAD' });
    }
    const notFound = new HttpError(404, 'not_found', 'No such resource');
    const resolved = resolveInside(root, pathname);
    if (resolved === null) throw notFound;

    let file = resolved;
    let info = await fileAt(file);
    if (!info) {
      const index = path.join(resolved, 'index.html');
      info = await fileAt(index);
      if (info) file = index;
    }
    if (!info) {
      const lastSegment = pathname.slice(pathname.lastIndexOf('/') + 1);
      if (lastSegment.includes('.')) throw notFound;
      // SPA fallback: client-side routes get the app shell.
      file = path.join(root, 'index.html');
      info = await fileAt(file);
      if (!info) throw notFound;
    }
    // Symlinks must not lead out of the root either.
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      throw notFound;
    }
    const rel = path.relative(root, real);
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw notFound;

    const isHtml = path.extname(real).toLowerCase() === '.html';
    res.writeHead(200, {
      'Content-Type': contentTypeFor(real),
      'Content-Length': String(info.size),
      'Cache-Control': isHtml ? 'no-cache' : 'public, max-age=0',
      'X-Content-Type-Options': 'nosniff',
    });
    if (method === 'HEAD') {
      res.end();
      return;
    }
    await new Promise<void>((resolve) => {
      const stream = createReadStream(real);
      stream.on('error', () => {
        res.destroy();
        resolve();
      });
      res.on('close', () => {
        stream.destroy();
        resolve();
      });
      stream.pipe(res);
    });
  }

  // --- dispatcher -------------------------------------------------------------

  async function dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    if (!rawUrl.startsWith('/')) throw new HttpError(400, 'invalid_request', 'Request target must be a path');
    const queryStart = rawUrl.search(/[?#]/);
    const pathname = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
    const preflight = method === 'OPTIONS';

    applyCors(req, res, pathname, preflight);

    const route = routes[pathname];
    const enabled = route?.hook !== true || testHooks || (pathname === '/__faults' && faults !== null);
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
      await handler(req, res);
      return;
    }

    if (pathname === '/config.json' && options.demoConfig !== undefined) {
      if (method !== 'GET' && method !== 'HEAD') {
        throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${pathname}`, {
          Allow: 'GET, HEAD',
        });
      }
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const config = typeof options.demoConfig === 'function' ? options.demoConfig({ port }) : options.demoConfig;
      sendJson(res, 200, config, {}, method === 'HEAD');
      return;
    }

    if (staticRoot !== null && !isReservedPath(pathname)) {
      await serveStatic(staticRoot, req, res, pathname);
      return;
    }

    throw new HttpError(404, 'not_found', `No route for ${method} ${pathname.slice(0, 200)}`);
  }

  const server = http.createServer((req, res) => {
    const started = performance.now();
    if (log) {
      res.on('finish', () => {
        const pathname = (req.url ?? '').split(/[?#]/)[0]?.slice(0, 200) ?? '';
        log(`${req.method ?? '?'} ${pathname} ${res.statusCode} ${Math.round(performance.now() - started)}ms`);
      });
    }
    const route = (): void => {
      dispatch(req, res).catch((err: unknown) => {
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
    if (faults) faults.handle(req, res, (req.url ?? '/').split(/[?#]/)[0] ?? '/', route);
    else route();
  });
  // Nothing legitimate is slow here; make sure stalled bodies cannot hold a request open for minutes.
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;

  let closing: Promise<void> | null = null;

  return {
    server,
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
    get stats() {
      return Object.freeze({ ...stats });
    },
    resetStats() {
      stats = newZeroStats();
    },
    revokeAll,
    faults,
  };
}

/**
 * The demo app's config.json when this server serves it: same origin; the echo API under "localhost"
 * plays a foreign origin. `idleSeconds` turns on the demo's idle logout (`npm start -- --idle 20`).
 */
export function demoConfigFor(port: number, options: { idleSeconds?: number | null } = {}): DemoConfig {
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
  };
}
