/**
 * Fault mode of the reference API, for the chaos soak (`npm run soak`) and its tests only.
 *
 * Every decision is a pure function of the seed and the request's key (`X-Request-Id` plus how many
 * times that id arrived before), not of arrival order: the same seed decides the same for the same
 * request in every run, however the browser interleaves its tabs. Each decision is logged with the
 * request id, so a client log and this log join.
 *
 * Faults that refuse a request (5xx, dropped connection, 429, a refresh slower than the client's
 * bound) are decided BEFORE the route runs: nothing was committed, as with a load balancer or a
 * gateway failing. A refresh that still commits its rotation but loses the answer would make any
 * client spend a rotated token (the server would then see reuse); that is a server design question
 * (a reuse grace period), not a fault a client can survive, so it is not simulated.
 *
 * Faults that change the server's state (revoke the access token just used, rotate the signing
 * key, jump the clock) happen AFTER the request was answered, so the request itself is unaffected
 * and the next one meets the new state.
 */
import type http from 'node:http';

/** What the fault mode does, as shares of requests (0..1) and times in milliseconds. */
export interface FaultPlan {
  /** Seed of every decision (an integer). */
  readonly seed: number;
  /** Added latency before a faulted route answers: exponential with this mean, capped at `maxLatencyMs`. Default 0. */
  readonly meanLatencyMs?: number;
  /** Cap of the added latency. Default 4 × the mean. */
  readonly maxLatencyMs?: number;
  /** Share of API calls (`/api/*`) answered 500, 502 or 503. */
  readonly apiErrorRate?: number;
  /** Share of API calls whose connection is cut in the middle of the answer (status line sent, body not). */
  readonly apiDropRate?: number;
  /** Share of refresh calls answered 500, 502 or 503. */
  readonly refreshErrorRate?: number;
  /** Share of refresh calls whose connection is cut in the middle of the answer (nothing was committed). */
  readonly refreshDropRate?: number;
  /** Share of refresh calls held `slowRefreshMs` before they run (when the client is still there). */
  readonly slowRefreshRate?: number;
  /** How long a slow refresh is held; longer than the client's bound (ngx-jot gives up after 30 s). Default 31 000. */
  readonly slowRefreshMs?: number;
  /** Share of API and refresh calls answered 429 with `Retry-After`. */
  readonly tooManyRate?: number;
  /** The `Retry-After` of a 429, whole seconds. Default 1. */
  readonly retryAfterSeconds?: number;
  /** Share of authorized API calls after whose (2xx) answer the access token they used is revoked. */
  readonly revokeRate?: number;
  /** Share of API calls after whose (2xx) answer the signing key is rotated (every token signed before is refused). */
  readonly keyRotationRate?: number;
  /** Share of API calls after whose (2xx) answer the server's clock jumps by up to ± `clockJumpMs`. */
  readonly clockJumpRate?: number;
  /** Largest single clock jump. Default 2000. The clock's total offset stays within ± 2 × this. */
  readonly clockJumpMs?: number;
}

/** Which faultable route a request went to. */
export type FaultTarget = 'api' | 'refresh';

/** What happened to a request before its route ran. */
export type FaultKind = 'none' | 'server-error' | 'drop' | 'too-many' | 'slow-refresh';

/** What happened after a request was answered. */
export type FaultAftermath = 'revoke-token' | 'rotate-key' | 'clock-jump';

/** The claims of the bearer token a request carried, as the server read them at arrival (not verified). */
export interface FaultTokenSeen {
  readonly jti: string | null;
  readonly iat: number | null;
  readonly exp: number | null;
  /** `exp` had passed on the server's clock when the request arrived. */
  readonly expiredOnArrival: boolean;
  /** The server's clock jumped after this token was issued (its expiry moved on the server's clock). */
  readonly clockJumpedSinceIssue: boolean;
  /** The sum of those jumps, ms (positive: the token aged faster than real time). */
  readonly clockJumpSinceIssueMs: number;
  /** The key that signed it was rotated away before the request arrived (by iat, not verified). */
  readonly keyRotatedSinceIssue: boolean;
}

/** One logged decision: a request the fault mode looked at, and what it did to it. */
export interface FaultDecision {
  /** Arrival order among faultable requests, from 1. */
  readonly seq: number;
  /** The client's `X-Request-Id`, or null. */
  readonly requestId: string | null;
  /** The key the decision was drawn from: `<requestId>#<arrival>`, or `seq:<n>` without an id. */
  readonly key: string;
  readonly method: string;
  readonly path: string;
  readonly target: FaultTarget;
  /** Wall-clock arrival (epoch ms, real time) and the server's own clock then (with jumps). */
  readonly arrivedAt: number;
  readonly serverClockAt: number;
  readonly kind: FaultKind;
  /** The status answered by the fault itself (5xx, 429), when it answered. */
  readonly faultStatus: number | null;
  readonly latencyMs: number;
  readonly aftermath: readonly FaultAftermath[];
  /** The clock jump applied after the answer, ms (0 when none). */
  readonly clockJumpMs: number;
  readonly token: FaultTokenSeen | null;
  /** Final fate: the HTTP status sent, 'dropped' (the fault destroyed it) or 'client-gone' (closed first). */
  outcome: number | 'dropped' | 'client-gone' | null;
  /** Why the route refused the token (its `error_description`, e.g. "The access token was revoked"), or null. */
  refusedBecause: string | null;
  /** Real time the outcome was known, epoch ms. */
  settledAt: number | null;
}

/** What the server lends the fault mode to act on its state. */
export interface FaultServerHooks {
  /** Revoke an access token by its claims (as `POST /api/expire-token` does). */
  revokeAccessToken(claims: { jti: string; exp: number }): void;
  /** Replace the signing key; every token signed before is refused from now on. */
  rotateSigningKey(nextSecret: Uint8Array): void;
}

/** The fault mode of one server. */
export interface Faults {
  readonly plan: Readonly<FaultPlan>;
  /** The server's clock, epoch ms: the base clock plus the jumps made so far. */
  now(): number;
  /** Every decision so far, in arrival order. */
  readonly log: readonly FaultDecision[];
  /** Changes the plan from now on (the seed stays); for a soak that calms the faults before it drains. */
  update(changes: Omit<Partial<FaultPlan>, 'seed'>): void;
  /** The decisions for one request id (every arrival of it). */
  decisionsFor(requestId: string): readonly FaultDecision[];
  /**
   * Runs `route` for this request, or not, as the plan decides. Requests other than API calls
   * (`/api/*`) and refreshes (`POST /refresh`) go straight to `route`.
   */
  handle(req: http.IncomingMessage, res: http.ServerResponse, pathname: string, route: () => void): void;
  /** Binds the server's state changers; called once by the server. */
  bind(hooks: FaultServerHooks): void;
}

const RATE_KEYS = [
  'apiErrorRate',
  'apiDropRate',
  'refreshErrorRate',
  'refreshDropRate',
  'slowRefreshRate',
  'tooManyRate',
  'revokeRate',
  'keyRotationRate',
  'clockJumpRate',
] as const;

const SERVER_ERROR_STATUSES = [500, 502, 503] as const;

/** FNV-1a, 32 bits: spreads a string over a seed. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a small, good-enough PRNG; every call returns the next draw in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Checks a plan; throws a TypeError that names the field to change. */
export function checkFaultPlan(plan: FaultPlan): void {
  if (!Number.isSafeInteger(plan.seed)) throw new TypeError(`faults.seed must be a safe integer, got ${plan.seed}`);
  for (const key of RATE_KEYS) {
    const value = plan[key];
    if (value !== undefined && !(value >= 0 && value <= 1)) {
      throw new TypeError(`faults.${key} must be a share between 0 and 1, got ${String(value)}`);
    }
  }
  const refreshShare = (plan.refreshErrorRate ?? 0) + (plan.refreshDropRate ?? 0) + (plan.slowRefreshRate ?? 0);
  const apiShare = (plan.apiErrorRate ?? 0) + (plan.apiDropRate ?? 0);
  if (refreshShare + (plan.tooManyRate ?? 0) > 1 || apiShare + (plan.tooManyRate ?? 0) > 1) {
    throw new TypeError('faults: the shares of one target (with tooManyRate) must add up to at most 1');
  }
  for (const key of ['meanLatencyMs', 'maxLatencyMs', 'slowRefreshMs', 'retryAfterSeconds', 'clockJumpMs'] as const) {
    const value = plan[key];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      throw new TypeError(`faults.${key} must be a number >= 0, got ${String(value)}`);
    }
  }
}

/** Reads `jti`, `iat`, `exp` from a bearer JWT without verifying it (the route verifies). */
function bearerClaims(
  req: http.IncomingMessage,
): { jti: string | null; iat: number | null; exp: number | null } | null {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  const payloadPart = match?.[1]?.split('.')[1];
  if (payloadPart === undefined) return null;
  try {
    const claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8')) as Record<string, unknown>;
    const numberOrNull = (value: unknown): number | null => (typeof value === 'number' ? value : null);
    return {
      jti: typeof claims['jti'] === 'string' ? claims['jti'] : null,
      iat: numberOrNull(claims['iat']),
      exp: numberOrNull(claims['exp']),
    };
  } catch {
    return null;
  }
}

const targetOf = (method: string, pathname: string): FaultTarget | null =>
  pathname.startsWith('/api/') ? 'api' : pathname === '/refresh' && method === 'POST' ? 'refresh' : null;

/** The fault drawn for one request, before anything is logged or done. */
interface DrawnFault {
  readonly kind: FaultKind;
  readonly faultStatus: number | null;
  readonly latencyMs: number;
  readonly aftermath: FaultAftermath[];
  readonly clockJumpMs: number;
}

/**
 * Draws the fault for the request with `key`: a pure function of the plan, the key, the target,
 * whether the request carried a token id, and the clock's current offset (to keep it bounded).
 * The number and order of draws never depend on the outcome, so one rate never shifts another's draws.
 */
export function drawFault(
  plan: FaultPlan,
  key: string,
  target: FaultTarget,
  carriesTokenId: boolean,
  clockOffsetMs: number,
): DrawnFault {
  const draw = seededRandom(hash32(`${plan.seed}|${key}`));

  // One draw picks at most one refusing fault, so the shares are exact and never overlap.
  const refusal = draw();
  const tooMany = plan.tooManyRate ?? 0;
  const error = target === 'api' ? (plan.apiErrorRate ?? 0) : (plan.refreshErrorRate ?? 0);
  const drop = target === 'api' ? (plan.apiDropRate ?? 0) : (plan.refreshDropRate ?? 0);
  const slow = target === 'refresh' ? (plan.slowRefreshRate ?? 0) : 0;
  let kind: FaultKind = 'none';
  if (refusal < tooMany) kind = 'too-many';
  else if (refusal < tooMany + error) kind = 'server-error';
  else if (refusal < tooMany + error + drop) kind = 'drop';
  else if (refusal < tooMany + error + drop + slow) kind = 'slow-refresh';
  const statusDraw = draw();
  const faultStatus =
    kind === 'server-error'
      ? (SERVER_ERROR_STATUSES[Math.floor(statusDraw * SERVER_ERROR_STATUSES.length)] ?? 500)
      : kind === 'too-many'
        ? 429
        : null;

  const mean = plan.meanLatencyMs ?? 0;
  const cap = plan.maxLatencyMs ?? mean * 4;
  const latencyMs = mean > 0 ? Math.round(Math.min(cap, -mean * Math.log(1 - draw()))) : (draw(), 0);

  const aftermath: FaultAftermath[] = [];
  // The aftermath draws are made whatever the kind, so one rate never shifts another's draws.
  const revokeDraw = draw();
  const rotateDraw = draw();
  const jumpDraw = draw();
  const jumpSizeDraw = draw();
  let clockJumpMs = 0;
  if (kind === 'none' && target === 'api') {
    if (carriesTokenId && revokeDraw < (plan.revokeRate ?? 0)) aftermath.push('revoke-token');
    if (rotateDraw < (plan.keyRotationRate ?? 0)) aftermath.push('rotate-key');
    if (jumpDraw < (plan.clockJumpRate ?? 0)) {
      const largest = plan.clockJumpMs ?? 2000;
      // A jump that would take the total offset past ± 2 × largest goes the other way.
      const proposed = Math.round((jumpSizeDraw * 2 - 1) * largest);
      clockJumpMs = Math.abs(clockOffsetMs + proposed) > 2 * largest ? -proposed : proposed;
      if (clockJumpMs !== 0) aftermath.push('clock-jump');
    }
  }
  return { kind, faultStatus, latencyMs, aftermath, clockJumpMs };
}

/** The server state the fault mode changes after an answer, and the history of those changes. */
interface ServerChanges {
  /** The server's clock, epoch ms: the base clock plus the jumps made so far. */
  readonly now: () => number;
  readonly clockOffsetMs: () => number;
  bind(hooks: FaultServerHooks): void;
  /** Carries out a decision's aftermath on the server. */
  apply(decision: FaultDecision): void;
  /** What happened to the server since a token with these claims was issued, judged at `serverClockAt`. */
  describeToken(
    claims: { jti: string | null; iat: number | null; exp: number | null },
    serverClockAt: number,
  ): FaultTokenSeen;
}

/**
 * State: the clock's offset from `baseNow`, the server-clock times of the clock jumps and key
 * rotations (to tell later why a token was refused), how many keys were made (each next key comes
 * from `seed`), and the state changers the server lent.
 */
function createServerChanges(seed: number, baseNow: () => number): ServerChanges {
  let clockOffsetMs = 0;
  const clockJumps: { at: number; ms: number }[] = [];
  const keyRotationsAt: number[] = [];
  let rotations = 0;
  let hooks: FaultServerHooks | null = null;
  const now = (): number => baseNow() + clockOffsetMs;

  return {
    now,
    clockOffsetMs: () => clockOffsetMs,
    bind(serverHooks) {
      hooks = serverHooks;
    },
    apply(decision) {
      for (const change of decision.aftermath) {
        if (change === 'revoke-token' && decision.token?.jti && decision.token.exp !== null) {
          hooks?.revokeAccessToken({ jti: decision.token.jti, exp: decision.token.exp });
        } else if (change === 'rotate-key') {
          rotations++;
          // The next key comes from the seed too, so a replayed run signs with the same keys.
          const nextKey = seededRandom(hash32(`${seed}|key|${rotations}`));
          hooks?.rotateSigningKey(Uint8Array.from({ length: 32 }, () => Math.floor(nextKey() * 256)));
          keyRotationsAt.push(now());
        } else if (change === 'clock-jump') {
          clockOffsetMs += decision.clockJumpMs;
          clockJumps.push({ at: now(), ms: decision.clockJumpMs });
        }
      }
    },
    describeToken(claims, serverClockAt) {
      const issuedMs = claims.iat === null ? null : claims.iat * 1000;
      // iat has whole seconds: a jump or rotation in the second of issue counts as after it.
      const jumpsSinceIssue = issuedMs === null ? [] : clockJumps.filter((jump) => jump.at >= issuedMs);
      return {
        ...claims,
        expiredOnArrival: claims.exp !== null && claims.exp * 1000 <= serverClockAt,
        clockJumpedSinceIssue: jumpsSinceIssue.length > 0,
        clockJumpSinceIssueMs: jumpsSinceIssue.reduce((sum, jump) => sum + jump.ms, 0),
        keyRotatedSinceIssue: issuedMs !== null && keyRotationsAt.some((at) => at >= issuedMs),
      };
    },
  };
}

/** Records in `decision` how its request ended; after a 2xx answer, carries out its aftermath. */
function watchOutcome(
  decision: FaultDecision,
  res: http.ServerResponse,
  realNow: () => number,
  changes: ServerChanges,
): (outcome: NonNullable<FaultDecision['outcome']>) => void {
  const settle = (outcome: NonNullable<FaultDecision['outcome']>): void => {
    if (decision.outcome !== null) return;
    decision.outcome = outcome;
    decision.settledAt = realNow();
  };
  res.on('finish', () => {
    const challenge = res.getHeader('WWW-Authenticate');
    if (typeof challenge === 'string')
      decision.refusedBecause = /error_description="([^"]*)"/.exec(challenge)?.[1] ?? null;
    settle(res.statusCode);
    // Only a call the route answered changes the server's state: a storm of refused calls would
    // otherwise revoke or rotate again and again while the client is still recovering.
    if (res.statusCode >= 200 && res.statusCode < 300) changes.apply(decision);
  });
  res.on('close', () => settle('client-gone'));
  return settle;
}

/** Answers a decided 5xx or 429 in the API's error shape. */
function sendInjectedFault(res: http.ServerResponse, decision: FaultDecision, retryAfterSeconds: number): void {
  const tooMany = decision.kind === 'too-many';
  const body = JSON.stringify({
    error: tooMany ? 'too_many_requests' : 'server_error',
    error_description: `Injected fault (${decision.key})`,
  });
  res.writeHead(decision.faultStatus ?? 500, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    ...(tooMany ? { 'Retry-After': String(retryAfterSeconds) } : {}),
  });
  res.end(body);
}

/** Does what `decision` says once its wait is over: nothing (client gone), a cut, an injected answer, or the route. */
function carryOut(
  decision: FaultDecision,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  route: () => void,
  settle: (outcome: NonNullable<FaultDecision['outcome']>) => void,
  retryAfterSeconds: number,
): void {
  // A client that gave up (its timeout, a logout, a closed tab) is not answered: nothing is committed.
  if (decision.outcome !== null || req.destroyed || res.destroyed) {
    settle('client-gone');
    return;
  }
  if (decision.kind === 'drop') {
    settle('dropped');
    // Cut mid-answer: a connection closed before any byte would be retried by the browser unseen.
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': '64' });
    res.write('{"cut', () => req.socket.destroy());
    return;
  }
  if (decision.faultStatus !== null) {
    sendInjectedFault(res, decision, retryAfterSeconds);
    // The body may still be arriving; it is not needed.
    req.resume();
    return;
  }
  route();
}

/**
 * Creates the fault mode. `baseNow` is the server's clock without jumps (epoch ms).
 * `realNow` stamps the log in real time (the soak joins it with browser times).
 *
 * State: the plan (its shares may change, its seed not), the log of decisions, the same decisions
 * by request id (to number a request's arrivals), and the server changes made so far.
 */
export function createFaults(initialPlan: FaultPlan, baseNow: () => number, realNow: () => number = Date.now): Faults {
  checkFaultPlan(initialPlan);
  let plan: FaultPlan = { ...initialPlan };
  const log: FaultDecision[] = [];
  const byRequestId = new Map<string, FaultDecision[]>();
  const changes = createServerChanges(plan.seed, baseNow);

  function decide(req: http.IncomingMessage, pathname: string, target: FaultTarget): FaultDecision {
    const header = req.headers['x-request-id'];
    const requestId = typeof header === 'string' && header !== '' ? header.slice(0, 200) : null;
    const seq = log.length + 1;
    const earlier = requestId === null ? [] : (byRequestId.get(requestId) ?? []);
    const key = requestId === null ? `seq:${seq}` : `${requestId}#${earlier.length + 1}`;
    const claims = bearerClaims(req);
    const fault = drawFault(plan, key, target, Boolean(claims?.jti), changes.clockOffsetMs());
    const serverClockAt = changes.now();
    const decision: FaultDecision = {
      seq,
      requestId,
      key,
      method: req.method ?? 'GET',
      path: pathname,
      target,
      arrivedAt: realNow(),
      serverClockAt,
      ...fault,
      token: claims === null ? null : changes.describeToken(claims, serverClockAt),
      outcome: null,
      settledAt: null,
      refusedBecause: null,
    };
    log.push(decision);
    if (requestId !== null) byRequestId.set(requestId, [...earlier, decision]);
    return decision;
  }

  return {
    get plan() {
      return plan;
    },
    now: changes.now,
    log,
    update(planChanges) {
      const next = { ...plan, ...planChanges, seed: plan.seed };
      checkFaultPlan(next);
      plan = next;
    },
    decisionsFor: (requestId) => byRequestId.get(requestId) ?? [],
    bind: (hooks) => changes.bind(hooks),
    handle(req, res, pathname, route) {
      const target = targetOf(req.method ?? 'GET', pathname);
      // Preflights are the browser's, not the app's: they are never faulted.
      if (target === null || req.method === 'OPTIONS') {
        route();
        return;
      }
      const decision = decide(req, pathname, target);
      const settle = watchOutcome(decision, res, realNow, changes);
      const wait = decision.latencyMs + (decision.kind === 'slow-refresh' ? (plan.slowRefreshMs ?? 31_000) : 0);
      // The plan may change during the wait (the soak calms it before it drains): read Retry-After then.
      const act = (): void => carryOut(decision, req, res, route, settle, plan.retryAfterSeconds ?? 1);
      if (wait > 0) setTimeout(act, wait);
      else act();
    },
  };
}
