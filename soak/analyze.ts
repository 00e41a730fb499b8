/**
 * The soak's judge: joins what the tabs reported with the reference API's fault log (by request id)
 * and the foreign origin's log, counts, and lists every failure with its evidence. Pure: no I/O.
 */
import type { FaultDecision } from '../demo-api/src/faults.ts';
import type { SoakEvent, SoakRequestKind } from './protocol.ts';

/** A request the foreign origin (another port) received. */
export interface ForeignHit {
  readonly id: string | null;
  readonly authorization: boolean;
  readonly at: number;
}

/** Everything one tab went through. A tab is one page: a reload keeps the tab, a close ends it. */
export interface TabRecord {
  readonly name: string;
  readonly events: readonly SoakEvent[];
  /**
   * When a reload or close of the page had finished: requests the page made before and that never
   * settled were cut, not lost. (A request the new document makes before the driver starts it would
   * count as cut too: the soak app makes one at most, on a protected route.)
   */
  readonly cuts: readonly { readonly at: number; readonly reason: 'reload' | 'close' }[];
  /** JS heap used (bytes, after a GC) when the tab started and when the soak ended (null if closed before). */
  readonly heapStart: number | null;
  readonly heapEnd: number | null;
  /** Delays (ms) of the timers still pending a while after the final logout (null if not measured). */
  readonly timersAfterLogout: readonly number[] | null;
}

export interface SoakInput {
  readonly seed: number;
  readonly tabs: readonly TabRecord[];
  readonly faultLog: readonly FaultDecision[];
  readonly foreign: readonly ForeignHit[];
  readonly reuseDetected: number;
  /** Logouts the soak asked for, as the user would. */
  readonly userLogouts: readonly { readonly tab: string; readonly at: number }[];
}

export interface SoakFailure {
  readonly what: string;
  readonly at: number;
  readonly tab: string | null;
  readonly requestId: string | null;
}

/** One app request, as put together from the events of its tab. */
interface RequestTrail {
  readonly id: string;
  readonly tab: string;
  readonly kind: SoakRequestKind;
  readonly sentAt: number;
  readonly attempts: Extract<SoakEvent, { type: 'attempt' }>[];
  readonly outcomes: Extract<SoakEvent, { type: 'answered' | 'errored' }>[];
}

export interface SoakReport {
  readonly made: number;
  readonly answered: number;
  readonly errored: number;
  /** Errors by cause: "injected server-error to it", "refresh fault", "user logout". */
  readonly errorCauses: Readonly<Record<string, number>>;
  readonly cutByReloadOrClose: number;
  readonly lost: number;
  readonly answeredTwice: number;
  readonly sentExpired: number;
  /** Tokens valid when the page sent them and expired when they arrived (time in the browser's queue). */
  readonly expiredInTransit: number;
  /** Tokens a jump of the server's clock had expired when they were sent (valid without the jumps since their issue). */
  readonly agedByClockJump: number;
  readonly apiCallsAtServer: number;
  readonly refreshCalls: number;
  readonly refreshAnswered: number;
  readonly reuseDetected: number;
  readonly faultsInjected: Readonly<Record<string, number>>;
  /** Share of API and refresh calls the fault mode refused (5xx, drop, 429, slow). */
  readonly failingShare: number;
  readonly logouts: Readonly<Record<string, number>>;
  readonly foreignCalls: number;
  readonly tokensToForeignOrigin: number;
  readonly failures: readonly SoakFailure[];
}

/** How long a tab may take to hear of another tab's logout (it may be frozen up to 8 s meanwhile). */
const OTHER_TAB_WINDOW_MS = 15_000;
/** A held request or a logout may follow the fault that caused it by up to the client's refresh bound. */
const REFRESH_BOUND_MS = 35_000;

function trailsOf(tabs: readonly TabRecord[]): Map<string, RequestTrail> {
  const trails = new Map<string, RequestTrail>();
  for (const tab of tabs) {
    for (const event of tab.events) {
      if (event.type === 'request') {
        trails.set(event.id, {
          id: event.id,
          tab: tab.name,
          kind: event.kind,
          sentAt: event.at,
          attempts: [],
          outcomes: [],
        });
      } else if (event.type === 'attempt') {
        trails.get(event.id)?.attempts.push(event);
      } else if (event.type === 'answered' || event.type === 'errored') {
        trails.get(event.id)?.outcomes.push(event);
      }
    }
  }
  return trails;
}

/** Id prefix of a tab's requests: `<tab>-l<load>-...`. */
const tabOf = (requestId: string | null): string | null => requestId?.split('-')[0] ?? null;

export function analyze(input: SoakInput): SoakReport {
  const trails = trailsOf(input.tabs);
  const decisionsById = new Map<string, FaultDecision[]>();
  for (const decision of input.faultLog) {
    if (decision.requestId === null) continue;
    const list = decisionsById.get(decision.requestId) ?? [];
    list.push(decision);
    decisionsById.set(decision.requestId, list);
  }
  const refreshFaults = input.faultLog.filter(
    (d) => d.target === 'refresh' && (d.kind !== 'none' || d.outcome === 'client-gone' || d.outcome === 'dropped'),
  );
  const failures: SoakFailure[] = [];
  const errorCauses: Record<string, number> = {};
  const count = (record: Record<string, number>, key: string): void => {
    record[key] = (record[key] ?? 0) + 1;
  };
  let made = 0;
  let answered = 0;
  let errored = 0;
  let cut = 0;
  let lost = 0;
  let twice = 0;

  /** The tab a request id belongs to (ids made before the driver named the tab are found through the tab's events). */
  const tabOfId = (id: string | null): string | null => (id === null ? null : (trails.get(id)?.tab ?? tabOf(id)));
  const revokedJtis = new Set(
    input.faultLog.filter((d) => d.aftermath.includes('revoke-token')).map((d) => d.token?.jti ?? ''),
  );
  /** The API refused this request's token because of a fault: revoked, signed with a rotated key, or aged by a clock jump. */
  const refusedByFault = (d: FaultDecision): boolean =>
    d.outcome === 401 &&
    d.token !== null &&
    ((/revoked/.test(d.refusedBecause ?? '') && revokedJtis.has(d.token.jti ?? '')) ||
      (/signature/.test(d.refusedBecause ?? '') && d.token.keyRotatedSinceIssue) ||
      (/expired/.test(d.refusedBecause ?? '') &&
        // Checked after the injected latency: without the jumps since its issue it would still be valid.
        d.token.exp !== null &&
        d.token.exp * 1000 > d.serverClockAt + d.latencyMs - d.token.clockJumpSinceIssueMs));

  // Logouts: each must have a cause: the user (here or in another tab), or the server refusing a
  // refresh or a fresh token (a fault), in this tab, shortly before.
  const logouts: Record<string, number> = {};
  const logoutEvents = input.tabs.flatMap((tab) =>
    tab.events.flatMap((event) =>
      event.type === 'auth' && event.event === 'logout'
        ? [{ tab: tab.name, reason: event.detail ?? 'unknown', at: event.at }]
        : [],
    ),
  );
  const serverEnded = (tab: string, at: number): boolean =>
    input.faultLog.some(
      (d) =>
        tabOfId(d.requestId) === tab &&
        d.arrivedAt <= at &&
        ((d.target === 'refresh' && d.outcome === 401 && d.arrivedAt >= at - REFRESH_BOUND_MS) ||
          (refusedByFault(d) && d.arrivedAt >= at - 5000)),
    );
  const explainedLogouts = logoutEvents.filter((logout) => {
    count(logouts, logout.reason);
    let explained: boolean;
    if (logout.reason === 'user') {
      explained = input.userLogouts.some((l) => l.tab === logout.tab && Math.abs(l.at - logout.at) < 1000);
    } else if (logout.reason === 'other-tab') {
      const recent = (at: number): boolean => at <= logout.at + 500 && at >= logout.at - OTHER_TAB_WINDOW_MS;
      explained =
        input.userLogouts.some((l) => recent(l.at)) ||
        logoutEvents.some((l) => l.tab !== logout.tab && l.reason !== 'other-tab' && recent(l.at));
    } else {
      explained =
        (logout.reason === 'refresh-failed' || logout.reason === 'expired') && serverEnded(logout.tab, logout.at);
    }
    if (!explained) {
      failures.push({
        what: `logout (${logout.reason}) without a cause at the server or from the user`,
        at: logout.at,
        tab: logout.tab,
        requestId: null,
      });
    }
    return explained;
  });

  /** Why an errored app request failed, when the fault mode or the user caused it; null when nothing did. */
  function causeOf(trail: RequestTrail, error: Extract<SoakEvent, { type: 'errored' }>): string | null {
    const own = decisionsById.get(trail.id) ?? [];
    const injected = own.find(
      (d) => (d.kind === 'drop' && error.status === 0) || (d.faultStatus !== null && d.faultStatus === error.status),
    );
    if (injected) return `injected ${injected.kind} to it`;
    if (error.status === 401 && own.some(refusedByFault)) return 'its token revoked, rotated away or aged (fault)';
    // A refresh fault can have caused it if that refresh was still under way (or had just failed) when the request was made.
    const inWindow = (d: FaultDecision): boolean =>
      d.arrivedAt <= error.at && (d.settledAt ?? Infinity) >= trail.sentAt - 1000;
    if (error.code === 'refresh-unavailable' || error.status === 401) {
      // The latest refresh fault before the error: a chain of them (429, then 502 on the retry) ends with it.
      const fault =
        refreshFaults.findLast((d) => tabOfId(d.requestId) === trail.tab && inWindow(d)) ??
        refreshFaults.findLast(inWindow);
      if (fault) return `refresh fault (${fault.kind === 'none' ? fault.outcome : fault.kind})`;
    }
    const during = (at: number): boolean => at >= trail.sentAt - 500 && at <= error.at + 500;
    if (input.userLogouts.some((l) => during(l.at))) return 'user logout while it waited';
    if (explainedLogouts.some((l) => l.tab === trail.tab && during(l.at))) return 'session ended by a fault';
    return null;
  }

  for (const trail of trails.values()) {
    if (trail.kind !== 'api' && trail.kind !== 'foreign') continue;
    made++;
    if (trail.outcomes.length === 0) {
      const tab = input.tabs.find((t) => t.name === trail.tab);
      if (tab?.cuts.some((c) => c.at >= trail.sentAt)) cut++;
      else {
        lost++;
        failures.push({
          what: 'lost: neither answered nor errored',
          at: trail.sentAt,
          tab: trail.tab,
          requestId: trail.id,
        });
      }
      continue;
    }
    if (trail.outcomes.length > 1) {
      twice++;
      failures.push({
        what: `settled ${trail.outcomes.length} times (${trail.outcomes.map((o) => o.type).join(', ')})`,
        at: trail.outcomes[1]!.at,
        tab: trail.tab,
        requestId: trail.id,
      });
    }
    const outcome = trail.outcomes[0]!;
    if (outcome.type === 'answered') {
      answered++;
      continue;
    }
    errored++;
    const cause = causeOf(trail, outcome);
    if (cause === null) {
      count(errorCauses, 'unexplained');
      failures.push({
        what: `errored (status ${outcome.status}, code ${outcome.code}) with no fault of the API to it`,
        at: outcome.at,
        tab: trail.tab,
        requestId: trail.id,
      });
    } else count(errorCauses, cause);
  }

  // Tokens sent already expired: judged at the moment the page sent them, on the server's clock.
  let sentExpired = 0;
  let inTransit = 0;
  let agedByJump = 0;
  for (const decision of input.faultLog) {
    const token = decision.token;
    if (decision.target !== 'api' || token?.exp == null || decision.requestId === null) continue;
    const trail = trails.get(decision.requestId);
    // The page's last attempt with this token before it arrived (the browser may resend an attempt
    // whose connection broke, so arrivals and attempts are not one to one).
    const attempt = trail?.attempts.findLast((a) => a.jti === token.jti && a.at <= decision.arrivedAt);
    const serverClockOffset = decision.serverClockAt - decision.arrivedAt;
    const sentAtServerClock = (attempt?.at ?? decision.arrivedAt) + serverClockOffset;
    const expiredAtSend = token.exp * 1000 <= sentAtServerClock;
    const expiredWithoutJumps = token.exp * 1000 <= sentAtServerClock - token.clockJumpSinceIssueMs;
    if (expiredAtSend && !expiredWithoutJumps) agedByJump++;
    else if (expiredAtSend) {
      sentExpired++;
      failures.push({
        what: `sent with a token that had expired ${sentAtServerClock - token.exp * 1000} ms before (server clock)`,
        at: attempt?.at ?? decision.arrivedAt,
        tab: trail?.tab ?? tabOf(decision.requestId),
        requestId: decision.requestId,
      });
    } else if (token.expiredOnArrival) inTransit++;
  }

  for (const hit of input.foreign) {
    if (hit.authorization) {
      failures.push({ what: 'a token reached the foreign origin', at: hit.at, tab: tabOf(hit.id), requestId: hit.id });
    }
  }
  if (input.reuseDetected > 0) {
    failures.push({
      what: `the API detected refresh-token reuse ${input.reuseDetected} time(s)`,
      at: input.faultLog.find((d) => d.target === 'refresh' && d.outcome === 401)?.arrivedAt ?? 0,
      tab: null,
      requestId: null,
    });
  }

  const faultable = input.faultLog;
  const faultsInjected: Record<string, number> = {};
  for (const d of faultable) {
    if (d.kind !== 'none') count(faultsInjected, `${d.target} ${d.kind}`);
    for (const change of d.aftermath) count(faultsInjected, change);
  }
  const refused = faultable.filter((d) => d.kind !== 'none').length;
  const refreshDecisions = faultable.filter((d) => d.target === 'refresh');
  failures.sort((a, b) => a.at - b.at);
  return {
    made,
    answered,
    errored,
    errorCauses,
    cutByReloadOrClose: cut,
    lost,
    answeredTwice: twice,
    sentExpired,
    expiredInTransit: inTransit,
    agedByClockJump: agedByJump,
    apiCallsAtServer: faultable.filter((d) => d.target === 'api').length,
    refreshCalls: refreshDecisions.length,
    refreshAnswered: refreshDecisions.filter((d) => d.outcome === 200).length,
    reuseDetected: input.reuseDetected,
    faultsInjected,
    failingShare: faultable.length === 0 ? 0 : refused / faultable.length,
    logouts,
    foreignCalls: input.foreign.length,
    tokensToForeignOrigin: input.foreign.filter((h) => h.authorization).length,
    failures,
  };
}

/** The evidence for one failure: the fault log around it and the tab's log around it, as lines. */
export function evidence(input: SoakInput, failure: SoakFailure, aroundMs = 4000): string[] {
  const lines: string[] = [];
  const time = (at: number): string => new Date(at).toISOString().slice(11, 23);
  lines.push(`seed ${input.seed}; first failure at ${time(failure.at)}: ${failure.what}`);
  if (failure.requestId) lines.push(`request ${failure.requestId} (tab ${failure.tab})`);
  lines.push('', `fault log within ${aroundMs} ms (server decisions by request id):`);
  const near = input.faultLog.filter(
    (d) => Math.abs(d.arrivedAt - failure.at) <= aroundMs || d.requestId === failure.requestId,
  );
  for (const d of near.slice(0, 80)) {
    const token = d.token
      ? ` token jti=${d.token.jti?.slice(0, 8)} exp=${d.token.exp}${d.token.expiredOnArrival ? ' EXPIRED-ON-ARRIVAL' : ''}`
      : '';
    lines.push(
      `  ${time(d.arrivedAt)} #${d.seq} ${d.key} ${d.method} ${d.path} ${d.kind}${d.faultStatus ? ` ${d.faultStatus}` : ''}` +
        ` +${d.latencyMs}ms -> ${d.outcome}${d.aftermath.length ? ` then ${d.aftermath.join('+')}` : ''}${token}`,
    );
  }
  const tab = input.tabs.find((t) => t.name === failure.tab);
  if (tab) {
    lines.push('', `tab ${tab.name} request log within ${aroundMs} ms:`);
    const events = tab.events.filter(
      (e) => Math.abs(e.at - failure.at) <= aroundMs || ('id' in e && e.id === failure.requestId),
    );
    for (const e of events.slice(0, 120)) lines.push(`  ${time(e.at)} ${JSON.stringify({ ...e, at: undefined })}`);
    for (const c of tab.cuts) lines.push(`  ${time(c.at)} (soak) ${c.reason}`);
  }
  const logouts = input.userLogouts.filter((l) => Math.abs(l.at - failure.at) <= OTHER_TAB_WINDOW_MS);
  for (const l of logouts) lines.push(`  ${time(l.at)} (soak) user logout in ${l.tab}`);
  return lines;
}
