/**
 * The API's routes: one handler function per route, and the table that maps a path and method to
 * it. Handlers keep no state of their own; what they change lives in the `RouteContext` units.
 */
import type http from 'node:http';

import { type AccessTokens, credentialOf } from './access-tokens.ts';
import { OPEN_CORS_PATH } from './cors.ts';
import { type DpopVerifier, dpopError, requestUrl } from './dpop.ts';
import type { Faults } from './faults.ts';
import { HttpError, readJsonObject, requireString, sendEmpty, sendJson } from './http-json.ts';
import type { RefreshFamily, RefreshTokenStore } from './refresh-tokens.ts';
import type { StatsCounter } from './stats.ts';
import { checkCredentials, findUser, type DemoUser } from './users.ts';

/** The units a handler works with, one set per server. */
export interface RouteContext {
  readonly accessTokens: AccessTokens;
  readonly refreshTokens: RefreshTokenStore;
  readonly stats: StatsCounter;
  /** The fault mode, when on. */
  readonly faults: Faults | null;
  /** `expires_in` of every token pair. */
  readonly accessTtlSeconds: number;
  /** DPoP proofs (RFC 9449): checked whenever a login or refresh carries one, and on bound tokens. */
  readonly dpop: DpopVerifier;
  /** Every token must be DPoP-bound: login and refresh without a proof, and Bearer tokens, are refused. */
  readonly requireDpop: boolean;
  /** The DPoP key (thumbprint) each bound refresh family is bound to. */
  readonly dpopFamilies: WeakMap<RefreshFamily, string>;
}

export type Handler = (
  context: RouteContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
) => Promise<void> | void;

export interface Route {
  readonly handlers: Readonly<Partial<Record<string, Handler>>>;
  /** A test hook: answered only with `testHooks` (and `/__faults` in fault mode), 404 otherwise. */
  readonly hook?: boolean;
}

const invalidGrant = (description: string): HttpError => new HttpError(401, 'invalid_grant', description);

/**
 * The answer to a login or refresh: a new access token and the family's next refresh token. With
 * a DPoP key (`jkt`), the access token is bound to it (`cnf.jkt`) and so is the family.
 */
async function issuePair(
  context: RouteContext,
  user: DemoUser,
  family: RefreshFamily,
  jkt: string | null,
): Promise<Record<string, unknown>> {
  if (jkt) context.dpopFamilies.set(family, jkt);
  return {
    access_token: await context.accessTokens.issue(user, jkt),
    refresh_token: context.refreshTokens.issue(family),
    token_type: jkt ? 'DPoP' : 'Bearer',
    expires_in: context.accessTtlSeconds,
  };
}

/** The DPoP key of a login or refresh call: its proof's, checked; null without one (refused with `requireDpop`). */
async function tokenCallKey(
  context: RouteContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<string | null> {
  const nonce = context.dpop.nonce();
  if (nonce) res.setHeader('DPoP-Nonce', nonce);
  if (req.headers['dpop'] === undefined) {
    if (context.requireDpop) throw dpopError(400, 'invalid_dpop_proof', 'This server requires a DPoP proof');
    return null;
  }
  return context.dpop.verify(req, { method: req.method ?? 'POST', url: requestUrl(req) }, 400);
}

/**
 * The verified payload of an API call's access token. A token bound to a DPoP key is accepted only
 * under the `DPoP` scheme with a proof by that key for this request and this token.
 */
async function authorize(context: RouteContext, req: http.IncomingMessage, res: http.ServerResponse) {
  const payload = await context.accessTokens.verify(req);
  const nonce = context.dpop.nonce();
  if (nonce) res.setHeader('DPoP-Nonce', nonce);
  const credential = credentialOf(req)!;
  const jkt = (payload['cnf'] as { jkt?: unknown } | undefined)?.jkt;
  if (typeof jkt !== 'string') {
    if (context.requireDpop) throw dpopError(401, 'invalid_token', 'This server requires a DPoP-bound token');
    return payload;
  }
  if (credential.scheme !== 'dpop')
    throw dpopError(401, 'invalid_token', 'A DPoP-bound token must be sent with the DPoP scheme and a proof');
  const expected = { method: req.method ?? 'GET', url: requestUrl(req), accessToken: credential.token };
  if ((await context.dpop.verify(req, expected, 401)) !== jkt)
    throw dpopError(401, 'invalid_dpop_proof', 'The proof is signed by another key than the token is bound to');
  return payload;
}

/** POST /authenticate {username, password}: a token pair starting a new refresh family. */
async function authenticate(context: RouteContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  context.stats.count('authenticate');
  const jkt = await tokenCallKey(context, req, res);
  const body = await readJsonObject(req);
  const username = requireString(body, 'username');
  const password = requireString(body, 'password');
  const user = checkCredentials(username, password);
  if (!user) throw invalidGrant('Invalid username or password');
  sendJson(res, 200, await issuePair(context, user, context.refreshTokens.startFamily(user.username), jkt));
}

/** POST /refresh {refresh_token}: spends the refresh token and answers the family's next pair. */
async function refresh(context: RouteContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  context.stats.count('refresh');
  const jkt = await tokenCallKey(context, req, res);
  const body = await readJsonObject(req);
  const spent = context.refreshTokens.spend(requireString(body, 'refresh_token'));
  switch (spent.outcome) {
    case 'unknown':
      throw invalidGrant('Unknown or revoked refresh token');
    case 'expired':
      throw invalidGrant('The refresh token expired');
    case 'reused':
      context.stats.count('reuseDetected');
      throw invalidGrant('Refresh token reuse detected; the session was revoked');
    case 'spent':
      break;
  }
  const bound = context.dpopFamilies.get(spent.family);
  if (bound !== undefined && bound !== jkt) {
    // A bound refresh token used without its key: stolen. The whole family goes.
    context.refreshTokens.revokeFamily(spent.family);
    throw dpopError(400, 'invalid_dpop_proof', 'The refresh token is bound to another DPoP key');
  }
  const user = findUser(spent.family.username);
  if (!user) {
    context.refreshTokens.revokeFamily(spent.family);
    throw invalidGrant('Unknown user');
  }
  sendJson(res, 200, await issuePair(context, user, spent.family, jkt));
}

/** POST /logout {refresh_token}: revokes the token's family; 204 even for unknown tokens. */
async function logout(context: RouteContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  context.stats.count('logout');
  const body = await readJsonObject(req);
  context.refreshTokens.revokeFamilyOf(requireString(body, 'refresh_token'));
  sendEmpty(res, 204);
}

/** GET /api/restricted: the bearer token's email; a refusal also counts in `restrictedUnauthorized`. */
async function restricted(context: RouteContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  context.stats.count('restricted');
  let payload: Record<string, unknown>;
  try {
    payload = await authorize(context, req, res);
  } catch (err) {
    context.stats.count('restrictedUnauthorized');
    throw err;
  }
  sendJson(res, 200, { name: 'foo', email: payload['email'] });
}

/** The demo's "expire the token now": this access token is refused from now on; the refresh token stays good. */
async function expireToken(context: RouteContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  context.stats.count('expireToken');
  context.accessTokens.revoke(await authorize(context, req, res));
  sendEmpty(res, 204);
}

/** GET /api/echo: whether an Authorization header arrived (the "third-party API" a token must never reach). */
function echo(context: RouteContext, req: http.IncomingMessage, res: http.ServerResponse): void {
  context.stats.count('echo');
  sendJson(res, 200, { authorization: req.headers.authorization !== undefined });
}

/** GET /__stats. */
function readStats(context: RouteContext, _req: http.IncomingMessage, res: http.ServerResponse): void {
  sendJson(res, 200, context.stats.snapshot());
}

/** POST /__stats/reset: the zeroed counters. */
function resetStats(context: RouteContext, _req: http.IncomingMessage, res: http.ServerResponse): void {
  context.stats.reset();
  sendJson(res, 200, context.stats.snapshot());
}

/** GET /__faults: the fault plan and every decision so far. */
function readFaults(context: RouteContext, _req: http.IncomingMessage, res: http.ServerResponse): void {
  if (!context.faults) throw new HttpError(404, 'not_found', 'Fault mode is off');
  sendJson(res, 200, { plan: context.faults.plan, log: context.faults.log });
}

/** POST /__revoke-all: every refresh family revoked. */
function revokeAll(context: RouteContext, _req: http.IncomingMessage, res: http.ServerResponse): void {
  context.refreshTokens.revokeAll();
  sendEmpty(res, 204);
}

/** Every route by its exact path (no query). */
export const ROUTES: Readonly<Record<string, Route>> = {
  '/authenticate': { handlers: { POST: authenticate } },
  '/refresh': { handlers: { POST: refresh } },
  '/logout': { handlers: { POST: logout } },
  '/api/restricted': { handlers: { GET: restricted } },
  [OPEN_CORS_PATH]: { handlers: { GET: echo } },
  '/api/expire-token': { handlers: { POST: expireToken } },
  '/__stats': { hook: true, handlers: { GET: readStats } },
  '/__stats/reset': { hook: true, handlers: { POST: resetStats } },
  '/__faults': { hook: true, handlers: { GET: readFaults } },
  '/__revoke-all': { hook: true, handlers: { POST: revokeAll } },
};

/** Paths the API owns (routes, disabled hooks, anything under them): never answered from static files. */
export function isReservedPath(pathname: string): boolean {
  return (
    pathname in ROUTES ||
    pathname === '/api' ||
    pathname.startsWith('/api/') ||
    pathname.startsWith('/__') ||
    pathname.startsWith('/authenticate/') ||
    pathname.startsWith('/refresh/') ||
    pathname.startsWith('/logout/')
  );
}
