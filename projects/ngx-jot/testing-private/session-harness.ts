/*
 * The real side of the model-based test of the session machine (session-model.spec.ts): one fake
 * tab running the app (JotAuth, jotInterceptor, the refresher, web storage, optionally cross-tab
 * sync) over a scripted token server whose every answer is a command. It watches everything that
 * leaves the app and every request's observer, and records each broken invariant as a violation,
 * tagged with the issue 14 defect it belongs to (`#1`…`#13`, `codes` for the error-code split) or
 * `new:` for one the issue does not list. Not shipped.
 */
import {
  type HttpBackend,
  HttpErrorResponse,
  type HttpEvent,
  HttpEventType,
  HttpHeaders,
  type HttpRequest,
  HttpResponse,
} from '@angular/common/http';
import { setImmediate as realSetImmediate } from 'node:timers';
import { Observable, type Subscriber } from 'rxjs';
import { fakeJwt } from './fake-jwt';

import { withCrossTabSync } from '../src/lib/cross-tab';
import { JotError } from '../src/lib/errors';
import { type JotEvent } from '../src/lib/events';
import { withRefresh } from '../src/lib/refresher';
import { SessionState } from '../src/lib/session-state';
import { FakeOrigin, type FakeTab } from './fake-browser';
import { type TabApp, openApp } from './fake-tab-app';

export type UrlCategory = 'allowed' | 'excluded' | 'foreign';

/** Request URLs and what they must get. `excludedUrls` is `['/public/']`, the API origin `https://api.example.com`. */
export const URLS: ReadonlyArray<readonly [string, UrlCategory]> = [
  ['/api/items', 'allowed'],
  ['api/relative', 'allowed'],
  ['https://api.example.com/v1/items', 'allowed'],
  ['/public/news', 'excluded'],
  ['/./public/news', 'excluded'],
  ['/api/../public/news', 'excluded'],
  ['public/news', 'excluded'],
  ['https://evil.example.net/api', 'foreign'],
  ['//evil.example.net/api', 'foreign'],
  ['http://api.example.com/v1/items', 'foreign'],
  ['https://api.example.com.evil.net/x', 'foreign'],
];

export type ApiAnswer = 200 | 401 | 403 | 500 | 503 | 0;
export type RefreshAnswer = 'ok' | 'ok-expired' | 'other-sub' | 400 | 401 | 403 | 408 | 429 | 500 | 503 | 0;
export type SetTokensKind = 'valid' | 'expired' | 'no-refresh-token' | 'null';

/** What a step of the model is, for telling proactive (timer-driven) refreshes from reactive ones. */
type StepKind =
  | 'request'
  | 'api'
  | 'refresh'
  | 'login'
  | 'logout'
  | 'set-tokens'
  | 'advance'
  | 'clock'
  | 'visibility'
  | 'destroy'
  | 'reload'
  | 'other-tab'
  | 'refresh-call'
  | 'drain';
const TIMER_DRIVEN: ReadonlySet<StepKind> = new Set(['advance', 'clock', 'visibility']);

/** How the refresh a held request waited on ended, and the `JotError` code the issue decided for it. */
type RefreshEnd = 'ok' | 'invalid' | 'subject' | 'rejected' | 'transient' | 'cancelled' | 'destroyed';
const EXPECTED_CODE: Record<RefreshEnd, string | null> = {
  ok: null,
  invalid: 'refresh-invalid',
  subject: 'subject-changed',
  rejected: 'refresh-rejected',
  transient: 'refresh-unavailable',
  cancelled: 'refresh-cancelled',
  destroyed: null,
};

/** Past this, a request with a still-valid token held behind a proactive refresh goes out with it (issue item 1: "a short bound"). */
export const HELD_BOUND_MS = 15_000;
/** "Never more than a few per second": the least gap between two refreshes nobody asked for. */
const MIN_REFRESH_GAP_MS = 250;
/** Time every step lets messages, locks and storage run (fake time, several browser task hops). */
const SETTLE_MS = 20;
const LOCK = 'ngx-jot-refresh';
/** The `gen` of the other tab's calls. */
const OTHER_TAB = -1;

interface Issued {
  sub: string;
  iat: number;
  exp: number;
  ttl: number;
  /** Server clock minus device clock as the app could know it (0 for setTokens(): not fresh). */
  knownSkew: number;
  /** `SessionHarness.real` when it was issued. */
  issuedReal: number;
}

interface Outbound {
  gen: number;
  kind: 'api' | 'refresh' | 'login' | 'logout';
  url: string;
  token: string | null;
  reqId: number | null;
  body: unknown;
  subscriber: Subscriber<HttpEvent<unknown>>;
  state: 'pending' | 'answered' | 'cancelled';
  status?: number;
  sentReal: number;
  sentDevice: number;
  during: StepKind;
  /** The token its app held when it was sent. */
  heldAtSend: string | null;
  /** Answered after its app was destroyed. */
  lateAnswer?: boolean;
  /** Refresh only: started by a timer or listener, not by a request, a 401 or a retry. */
  proactive?: boolean;
}

interface Tracked {
  id: number;
  gen: number;
  url: string;
  category: UrlCategory;
  events: boolean;
  subAtIssue: string | null;
  /** The token held was clearly valid (before its leeway, with a second to spare) when the request was made. */
  validAtIssue: boolean;
  tokenAtIssue: string | null;
  issuedReal: number;
  heldBehindProactive: boolean;
  outbounds: Outbound[];
  terminals: number;
  sentEvents: number;
  responses: number;
  reported: Set<string>;
}

export interface HarnessOptions {
  sync: boolean;
  /** `withRefresh({ refreshBeforeExpirySeconds })`; above the 30 s leeway, tokens are refreshed well before they go stale. */
  refreshBeforeSeconds?: number;
  /** The refresh token lives in an HttpOnly cookie (`withCredentials`): token responses carry none. */
  cookie?: boolean;
  /** Server clock minus device clock at start, ms. */
  serverOffsetMs: number;
  /** Violation tags to record but not fail on (hunting for new defects past known ones). */
  tolerate?: ReadonlySet<string>;
}

/** The app ignores clock gaps under 5 s (the cause of #5), so it misjudges such tokens by up to the gap. */
const skewIgnored = (issued: Issued) => issued.knownSkew !== 0 && Math.abs(issued.knownSkew) < 5000;
const subOf = (issued: Issued | undefined) => issued?.sub ?? null;

export class SessionHarness {
  readonly origin = new FakeOrigin();
  readonly tab: FakeTab;
  app: TabApp | null = null;
  /** Another tab of the origin (sync runs only); its calls share the server. */
  other: TabApp | null = null;
  gen = 0;
  /** Monotonic time the test let pass (device clock jumps do not count). */
  real = 0;
  serverOffset: number;
  readonly violations: string[] = [];
  readonly tolerated = new Map<string, number>();
  /** The first message of each tolerated tag. */
  readonly examples = new Map<string, string>();
  readonly outbounds: Outbound[] = [];
  readonly requests: Tracked[] = [];
  readonly issued = new Map<string, Issued>();
  readonly refreshSubs = new Map<string, string>();
  #step: StepKind = 'drain';
  #serial = 0;
  #listeners = 0;
  #nextLogin: { sub: string; ttl: number; fail: boolean } = { sub: 'ada', ttl: 60, fail: false };
  #lastRefreshEnd: RefreshEnd | null = null;
  /** The last refresh answered was the other tab's: here it ended the session as a logout elsewhere. */
  #lastRefreshByOther = false;
  /** The refresh before the one now sent, in this session, for the rate bound. */
  #lastRefresh: Outbound | null = null;
  #sessionEpoch = 0;
  #lastRefreshEpoch = -1;
  #storageWhileDead: string | null | undefined;
  #otherTabActed = -1;
  /** Refresh tokens the server rotated away. */
  readonly #spent = new Set<string>();
  /** Whose session the refresh cookie holds (cookie runs). */
  #cookieSub: string | null = null;

  constructor(readonly options: HarnessOptions) {
    this.serverOffset = options.serverOffsetMs;
    this.tab = this.origin.openTab();
    this.#countListeners(this.tab.document as unknown as EventHost);
    this.#countListeners(this.tab.window as unknown as EventHost);
  }

  // ---- the app ----

  start(): void {
    this.gen++;
    this.app = this.#open(this.tab, this.gen);
    this.#storageWhileDead = undefined;
  }

  #open(tab: FakeTab, gen: number): TabApp {
    const features = [
      withRefresh({
        url: '/refresh',
        refreshBeforeExpirySeconds: this.options.refreshBeforeSeconds,
        withCredentials: this.options.cookie,
      }),
      ...(this.options.sync ? [withCrossTabSync()] : []),
    ];
    return openApp(
      tab,
      { backend: () => this.#backend(gen) },
      {
        config: {
          loginUrl: '/login',
          logoutUrl: '/logout',
          allowedOrigins: ['https://api.example.com'],
          excludedUrls: ['/public/'],
        },
        features,
        router: false,
      },
    );
  }

  get serverNow(): number {
    return Date.now() + this.serverOffset;
  }

  /** Runs one step: the action, then lets the browser's tasks run, then checks every invariant. */
  async step(kind: StepKind, action: () => void | Promise<void>): Promise<void> {
    this.#step = kind;
    const app = this.app;
    const before = app?.auth.token() ?? null;
    const eventsBefore = app ? app.events.length : 0;
    try {
      await action();
      await this.settle(SETTLE_MS);
    } catch (e) {
      // An exception out of a step is what an app would see as an uncaught error.
      const message = e instanceof Error ? e.message : String(e);
      this.#violate(
        /NG0205/.test(message) ? 'new:after-destroy' : 'new:uncaught',
        `uncaught during ${kind}: ${message.split('\n')[0]}`,
      );
    }
    if (app && app === this.app) this.#checkTransitions(kind, before, app.events.slice(eventsBefore));
    this.checkAlways();
    this.#step = 'drain';
  }

  /**
   * Lets `ms` of fake time pass, running each timer when due with every promise settled in between.
   * `jest.advanceTimersByTimeAsync()` does the same but yields to the real event loop (a real
   * setTimeout under jsdom, 1 ms or more) per call and per timer: ten times slower here.
   */
  async settle(ms: number): Promise<void> {
    this.real += ms;
    const clock = (setTimeout as unknown as { clock: FakeClock }).clock;
    const target = clock.now + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      await flushPromises();
      const due = clock.timerHeap?.peek()?.callAt ?? Infinity;
      if (due > target) break;
      // One timer at a time, promises settled after each, as a browser runs its tasks.
      clock.next();
    }
    clock.tick(target - clock.now);
    await flushPromises();
  }

  // ---- commands ----

  request(urlIndex: number, events: boolean): void {
    const app = this.app;
    if (!app) return;
    const [url, category] = URLS[urlIndex % URLS.length];
    const token = app.auth.token();
    const issued = token ? this.issued.get(token) : undefined;
    const pendingRefresh = this.outbounds.find((o) => o.kind === 'refresh' && o.state === 'pending');
    const tracked: Tracked = {
      id: ++this.#serial,
      gen: this.gen,
      url,
      category,
      events,
      subAtIssue: subOf(issued),
      tokenAtIssue: token,
      validAtIssue: !!issued && this.#clearlyValid(issued),
      issuedReal: this.real,
      heldBehindProactive: !!pendingRefresh?.proactive,
      outbounds: [],
      terminals: 0,
      sentEvents: 0,
      responses: 0,
      reported: new Set(),
    };
    this.requests.push(tracked);
    const headers = new HttpHeaders({ 'X-Model-Id': String(tracked.id) });
    const end = (outcome: 'ok' | 'complete' | 'error', error?: unknown) => this.#ended(tracked, outcome, error);
    if (events) {
      app.http.get(url, { headers, observe: 'events' }).subscribe({
        next: (event) => {
          if (event.type === HttpEventType.Sent) tracked.sentEvents++;
          if (event.type === HttpEventType.Response) tracked.responses++;
          if (tracked.sentEvents > 1)
            this.#once(tracked, '#9', `request ${tracked.id} (observe: 'events') saw Sent twice`);
        },
        complete: () => end('complete'),
        error: (e: unknown) => end('error', e),
      });
    } else {
      app.http.get(url, { headers }).subscribe({
        next: () => tracked.responses++,
        complete: () => end('complete'),
        error: (e: unknown) => end('error', e),
      });
    }
  }

  answerApi(pick: number, status: ApiAnswer): void {
    const pending = this.outbounds.filter((o) => o.kind === 'api' && o.state === 'pending');
    if (!pending.length) return;
    const out = pending[pick % pending.length];
    out.state = 'answered';
    out.lateAnswer = out.gen !== this.gen || !this.app;
    out.status = status;
    if (status === 200) {
      out.subscriber.next(new HttpResponse({ status, body: { request: out.reqId }, url: out.url }));
      out.subscriber.complete();
    } else {
      out.subscriber.error(new HttpErrorResponse({ status, error: { status }, url: out.url, statusText: 'x' }));
    }
  }

  answerRefresh(answer: RefreshAnswer, ttl: number, retryAfter: boolean): void {
    const out = this.outbounds.find((o) => o.kind === 'refresh' && o.state === 'pending');
    if (!out) return;
    const app = this.app;
    const heldBefore = app && out.gen === this.gen ? app.auth.token() : null;
    const rt = (out.body as { refresh_token?: string } | null)?.refresh_token;
    const sub = (rt ? this.refreshSubs.get(rt) : this.#cookieSub) ?? 'ada';
    out.state = 'answered';
    // The other tab's refresh, or one raced by the other tab's login: it may end here as a logout
    // elsewhere (cancelled) or as another user's session taken under the lock (subject-changed).
    this.#lastRefreshByOther = out.gen === OTHER_TAB || this.#otherTabActed >= out.sentReal;
    // Answered with a new pair: the server rotated, and this refresh token is spent.
    if (rt && (answer === 'ok' || answer === 'other-sub' || answer === 'ok-expired')) this.#spent.add(rt);
    let issuedToken: string | null = null;
    if (answer === 'ok' || answer === 'other-sub' || answer === 'ok-expired') {
      const newSub = answer === 'other-sub' ? `${sub}-other` : sub;
      // An already expired token: issued now (so no clock gap explains it), with exp before iat.
      const pair = this.#issue(newSub, { ttl: answer === 'ok-expired' ? -30 : ttl }, true);
      issuedToken = pair.access_token;
      out.status = 200;
      this.#lastRefreshEnd = answer === 'ok' ? 'ok' : answer === 'other-sub' ? 'subject' : 'invalid';
      out.subscriber.next(new HttpResponse({ status: 200, body: this.#responseBody(pair), url: out.url }));
      out.subscriber.complete();
    } else {
      out.status = answer;
      this.#lastRefreshEnd =
        answer === 0 || answer >= 500 || answer === 408 || answer === 429 ? 'transient' : 'rejected';
      const headers =
        retryAfter && (answer === 429 || answer === 503) ? new HttpHeaders({ 'Retry-After': '2' }) : undefined;
      out.subscriber.error(new HttpErrorResponse({ status: answer, error: { answer }, url: out.url, headers }));
    }
    // A session that changed meanwhile (another tab's login, maybe not delivered yet, since the pair
    // this refresh renews was issued) is newer than this refresh's result: either may be what the tabs settle on.
    const renewed = out.heldAtSend ? this.issued.get(out.heldAtSend) : undefined;
    const changed = heldBefore !== out.heldAtSend || this.#otherTabActed >= (renewed?.issuedReal ?? out.sentReal);
    // Which user's session the refresh renewed (in whichever tab sent it).
    const renewedSub = subOf(out.heldAtSend ? this.issued.get(out.heldAtSend) : undefined);
    this.#afterRefreshAnswer = { answer, heldBefore, issuedToken, gen: changed ? NaN : out.gen, renewedSub };
  }

  #afterRefreshAnswer: {
    answer: RefreshAnswer;
    heldBefore: string | null;
    issuedToken: string | null;
    gen: number;
    renewedSub: string | null;
  } | null = null;

  login(sub: string, ttl: number, fail: boolean): void {
    if (!this.app) return;
    this.#nextLogin = { sub, ttl, fail };
    this.app.auth.login({ username: sub }).subscribe({ error: () => undefined });
  }

  logout(): void {
    this.app?.auth.logout();
  }

  setTokens(kind: SetTokensKind, ttl: number): void {
    const app = this.app;
    if (!app) return;
    if (kind === 'null') {
      app.auth.setTokens(null);
      return;
    }
    const pair = this.#issue('ada', kind === 'expired' ? { ttl, agoSeconds: ttl + 60 } : { ttl }, false);
    app.auth.setTokens({
      accessToken: pair.access_token,
      // With a cookie-held refresh token, the app never sees one.
      refreshToken: kind === 'no-refresh-token' || this.options.cookie ? null : pair.refresh_token,
    });
  }

  /** How long `fraction` of the held token's lifetime is (1 s without a token). */
  lifetimeMs(fraction: number): number {
    const token = this.app?.auth.token();
    const issued = token ? this.issued.get(token) : undefined;
    return Math.max(10, Math.round((issued ? issued.ttl * 1000 : 1000) * fraction));
  }

  /** With cross-tab sync: another tab of the origin (opened on first use) logs in, out, or refreshes. */
  otherTab(action: 'login' | 'logout' | 'refresh', sub: string, ttl: number): void {
    if (!this.options.sync) return;
    this.other ??= this.#open(this.origin.openTab(), OTHER_TAB);
    this.#otherTabActed = this.real;
    const auth = this.other.auth;
    if (action === 'login') {
      this.#nextLogin = { sub, ttl, fail: false };
      auth.login({ username: sub }).subscribe({ error: () => undefined });
    } else if (action === 'logout') {
      auth.logout();
    } else {
      auth.refresh().subscribe({ error: () => undefined });
    }
  }

  /** The app calls `refresh()` itself (a session restored from the refresh cookie at start, say). */
  refreshCall(): void {
    this.app?.auth.refresh().subscribe({ error: () => undefined });
  }

  clockJump(deltaMs: number): void {
    jest.setSystemTime(Date.now() + deltaMs);
    this.serverOffset -= deltaMs;
  }

  visibility(state: 'visible' | 'hidden'): void {
    (this.tab.document as { visibilityState: string }).visibilityState = state;
    this.tab.document.dispatchEvent({ type: 'visibilitychange' } as Event);
    if (state === 'visible') this.tab.window.dispatch('online', {});
  }

  destroy(): void {
    const app = this.app;
    if (!app) return;
    // Cleared first: what the teardown itself ends (held requests complete quietly) belongs to no running app.
    this.app = null;
    app.injector.destroy();
  }

  // ---- the end of a run ----

  /** Answers everything (200, fresh tokens) while time passes, then tears the app down: every request must have ended. */
  async drain(): Promise<void> {
    const pending = (kind: Outbound['kind']) => this.outbounds.some((o) => o.kind === kind && o.state === 'pending');
    for (let round = 0; round < 12; round++) {
      await this.step('drain', () => {
        // Answering may send more (replays, held requests): answer until nothing waits.
        for (let guard = 0; guard < 1000 && (pending('api') || pending('refresh')); guard++) {
          if (pending('refresh')) this.answerRefresh('ok', 60, false);
          else this.answerApi(0, 200);
        }
      });
      if (!pending('api') && !pending('refresh') && this.requests.every((r) => r.terminals)) break;
      await this.step('drain', () => this.settle(31_000));
    }
    await this.step('destroy', () => this.destroy());
    for (const r of this.requests) {
      if (r.terminals) continue;
      const last = r.outbounds.at(-1);
      this.#violate(
        last?.lateAnswer ? 'new:after-destroy' : 'new:never-settled',
        `request ${r.id} (${r.url}) never completed nor errored` +
          (last ? ` (its last copy was sent during ${last.during}, ${last.state})` : ' (never sent)'),
      );
    }
  }

  close(): void {
    this.app?.injector.destroy();
    this.app = null;
    this.other?.close();
    this.other = null;
    this.tab.close();
  }

  // ---- invariants ----

  /** After every step. */
  checkAlways(): void {
    const inFlight = this.outbounds.filter((o) => o.kind === 'refresh' && o.state === 'pending');
    if (inFlight.length > 1) this.#violate('new:two-refreshes', `${inFlight.length} refresh calls in flight at once`);
    const now = this.real;
    for (const r of this.requests) {
      if (r.terminals || r.outbounds.length || !r.heldBehindProactive || !r.validAtIssue) continue;
      if (r.gen !== this.gen || !this.app) continue;
      const token = this.app.auth.token();
      const issued = token === r.tokenAtIssue && token ? this.issued.get(token) : undefined;
      if (issued && this.#clearlyValid(issued) && now - r.issuedReal > HELD_BOUND_MS) {
        this.#once(
          r,
          '#1',
          `request ${r.id} with a valid token is held behind a proactive refresh for ${now - r.issuedReal} ms`,
        );
      }
    }
    if (this.app) {
      const stored = this.#stored();
      const held = this.app.auth.token();
      if (stored !== held && !this.app.injector.get(SessionState).restore.ready) {
        this.#violate(
          'new:storage',
          `the store holds ${stored ? 'a token' : 'nothing'} but the app ${held ? 'holds a token' : 'holds none'} (${
            stored && held ? 'different tokens' : ''
          })`,
        );
      }
    } else {
      this.#checkDead();
    }
  }

  #checkDead(): void {
    const raw = this.tab.sessionStorage.getItem('ngx-jot');
    if (this.#storageWhileDead === undefined) {
      this.#storageWhileDead = raw;
      if (this.#listeners !== 0)
        this.#violate('new:after-destroy', `${this.#listeners} DOM listeners left after destroy`);
      const open = (this.origin.channels as unknown as { open: Set<{ tab: FakeTab }> }).open;
      const channels = [...open].filter((member) => member.tab === this.tab).length;
      if (channels !== 0) this.#violate('new:after-destroy', `${channels} BroadcastChannels left open after destroy`);
      // Timers and the lock are the origin's: only checked when no other tab has any.
      if (!this.other) {
        const timers = jest.getTimerCount();
        if (timers !== 0) this.#violate('new:after-destroy', `${timers} timers left after destroy`);
        if (this.origin.locks.isHeld(LOCK))
          this.#violate('new:after-destroy', 'the refresh lock is still held after destroy');
      }
    } else if (raw !== this.#storageWhileDead) {
      this.#violate('new:after-destroy', 'the store was written after the app was destroyed');
    }
  }

  /** Session and events across one step. */
  #checkTransitions(kind: StepKind, before: string | null, events: JotEvent[]): void {
    const app = this.app;
    if (!app) return;
    const after = app.auth.token();
    const types = events.map((e) => e.type);
    const subBefore = subOf(before ? this.issued.get(before) : undefined);
    const subAfter = subOf(after ? this.issued.get(after) : undefined);
    if (after !== before && (kind === 'login' || kind === 'set-tokens')) this.#sessionEpoch++;
    if (!after) this.#sessionEpoch++;
    const answered = this.#afterRefreshAnswer;
    if (!before && after && !types.includes('login'))
      this.#violate(
        // A refresh answered in this step began it (maybe replaced at once by another tab's pair).
        answered?.issuedToken ? '#11' : 'new:no-login-event',
        `a session began during ${kind} without a login event`,
      );
    if (before && !after && !types.includes('logout'))
      this.#violate('new:no-logout-event', `the session ended during ${kind} without a logout event`);
    if (before && after && subBefore !== subAfter) {
      this.#sessionEpoch++;
      const logout = types.indexOf('logout');
      // This tab holds what its own refresh just brought (the other tab's comes as another tab's change).
      const byRefresh = kind === 'refresh' && after === answered?.issuedToken && !this.#lastRefreshByOther;
      // Another user is a new session: a logout, then a login (issue item 10 for refreshes).
      const issuedSub = subOf(answered?.issuedToken ? this.issued.get(answered.issuedToken) : undefined);
      // The refresh answered another user than the session it renewed (the server's doing: #10).
      if (byRefresh && issuedSub !== answered.renewedSub) {
        if (logout < 0 || types.indexOf('login', logout) < 0)
          this.#violate(
            '#10',
            `the refresh changed the subject ${subBefore} -> ${subAfter} without logout + login events`,
          );
      } else if (byRefresh) {
        this.#violate(
          'new:stale-refresh',
          `a refresh of ${subAfter}'s session replaced the newer session of ${subBefore} (another tab's login)`,
        );
      } else if (!types.includes('login')) {
        this.#violate(
          'new:silent-identity-change',
          `the subject changed ${subBefore} -> ${subAfter} during ${kind} without a login event`,
        );
      }
    }
    this.#afterRefreshAnswer = null;
    if (kind === 'refresh' && answered && answered.gen === this.gen && answered.heldBefore) {
      const { answer, heldBefore, issuedToken } = answered;
      if ((answer === 408 || answer === 429) && after === null)
        this.#violate('#12', `a refresh answered ${answer} ended the session`);
      else if ((answer === 0 || answer === 500 || answer === 503) && after === null)
        this.#violate('new:transient-ended', `a refresh answered ${answer || 'network error'} ended the session`);
      if ((answer === 400 || answer === 401 || answer === 403 || answer === 'ok-expired') && after !== null)
        this.#violate(
          answer === 'ok-expired' ? 'new:expired-kept' : 'new:rejected-kept',
          `a refresh answered ${answer} left a session (${after === heldBefore ? 'the old token' : 'another token'})`,
        );
      const fresh = issuedToken ? this.issued.get(issuedToken) : undefined;
      if ((answer === 'ok' || answer === 'other-sub') && after !== issuedToken)
        this.#violate(
          fresh && skewIgnored(fresh) ? '#5' : 'new:refresh-not-applied',
          `a refresh answered ${answer} (a ${fresh?.ttl} s token, server ${this.serverOffset} ms from the device) was not applied: the app holds ${after ? 'another token' : 'none'}`,
        );
    }
  }

  #ended(r: Tracked, outcome: 'ok' | 'complete' | 'error', error?: unknown): void {
    r.terminals++;
    if (r.terminals > 1) this.#once(r, 'new:settled-twice', `request ${r.id} ended ${r.terminals} times`);
    const answered = r.outbounds.filter((o) => o.state === 'answered');
    const last = answered.at(-1);
    if (outcome === 'complete') {
      if (r.responses > 1) this.#once(r, 'new:two-responses', `request ${r.id} got ${r.responses} responses`);
      if (r.responses === 0) {
        // Only a torn-down app may end a request quietly.
        if (r.gen === this.gen && this.app)
          this.#once(r, 'new:quiet-end', `request ${r.id} completed with no response while the app runs`);
        return;
      }
      if (!last || last.status !== 200)
        this.#once(r, 'new:phantom-response', `request ${r.id} got a response the server never gave it`);
      return;
    }
    if (error instanceof HttpErrorResponse) {
      if (!last || last.status !== error.status)
        this.#once(
          r,
          'new:wrong-error',
          `request ${r.id} errored with ${error.status}, its last answer was ${last?.status ?? 'none'}`,
        );
      return;
    }
    if (error instanceof JotError) {
      if (last && last.status !== 401)
        this.#once(
          r,
          'new:wrong-error',
          `request ${r.id} got a JotError although the server answered it ${last.status}`,
        );
      if (last?.status === 401)
        this.#once(r, 'new:wrong-error', `request ${r.id} got a JotError (${error.code}) instead of its own 401`);
      // A login, logout or setTokens() here (or in another tab) ended a refresh that may have had
      // no call on the wire (waiting to retry a 408/429); otherwise the last refresh call's end decides.
      const step = this.#step;
      const end: RefreshEnd | null =
        step === 'login' || step === 'logout' || step === 'set-tokens' ? 'cancelled' : this.#lastRefreshEnd;
      const expected =
        step === 'other-tab'
          ? ['refresh-cancelled', 'subject-changed']
          : [end && EXPECTED_CODE[end], ...(this.#lastRefreshByOther ? ['refresh-cancelled', 'subject-changed'] : [])];
      // The user did change (another tab's session taken under the lock): that is the code for it.
      const token = this.app?.auth.token();
      const nowSub = subOf(token ? this.issued.get(token) : undefined);
      if (nowSub && r.subAtIssue && nowSub !== r.subAtIssue) expected.push('subject-changed');
      if (expected[0] && !expected.includes(error.code))
        this.#once(
          r,
          'codes',
          `request ${r.id} errored with code '${error.code}'; expected '${expected.join("' or '")}' (refresh ${end})`,
        );
      // (Not when the session ended meanwhile, here or in another tab: then erroring is right.)
      const kept = step !== 'other-tab' && !!this.app?.auth.token();
      if (end === 'transient' && kept && r.validAtIssue && r.heldBehindProactive && !answered.length)
        this.#once(r, '#1', `request ${r.id} with a still-valid token failed because a proactive refresh failed`);
      return;
    }
    this.#once(
      r,
      /NG0205/.test(String(error)) ? 'new:after-destroy' : 'new:odd-error',
      `request ${r.id} errored with ${String(error)}`,
    );
  }

  /** Every call that leaves an app reaches this backend. */
  #backend(gen: number): HttpBackend {
    return {
      handle: (req: HttpRequest<unknown>) =>
        new Observable<HttpEvent<unknown>>((subscriber) => {
          const out = this.#record(gen, req, subscriber);
          subscriber.next({ type: HttpEventType.Sent });
          if (out.kind === 'login') {
            out.state = 'answered';
            const { sub, ttl, fail } = this.#nextLogin;
            if (fail) {
              out.status = 401;
              subscriber.error(new HttpErrorResponse({ status: 401, url: req.url }));
            } else {
              out.status = 200;
              const body = this.#responseBody(this.#issue(sub, { ttl }, true));
              subscriber.next(new HttpResponse({ status: 200, body, url: req.url }));
              subscriber.complete();
            }
          } else if (out.kind === 'logout') {
            out.state = 'answered';
            subscriber.next(new HttpResponse({ status: 204, url: req.url }));
            subscriber.complete();
          }
          return () => {
            if (out.state !== 'pending') return;
            out.state = 'cancelled';
            if (out.kind === 'refresh') {
              this.#lastRefreshEnd =
                this.#step === 'destroy' || this.#step === 'reload'
                  ? 'destroyed'
                  : TIMER_DRIVEN.has(this.#step) || this.#step === 'drain'
                    ? 'transient'
                    : 'cancelled';
            }
          };
        }),
    };
  }

  #record(gen: number, req: HttpRequest<unknown>, subscriber: Subscriber<HttpEvent<unknown>>): Outbound {
    const auth = req.headers.get('Authorization');
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : auth;
    const id = req.headers.get('X-Model-Id');
    const kind =
      req.url === '/refresh' ? 'refresh' : req.url === '/login' ? 'login' : req.url === '/logout' ? 'logout' : 'api';
    const out: Outbound = {
      gen,
      kind,
      url: req.url,
      token,
      reqId: id === null ? null : Number(id),
      body: req.body,
      subscriber,
      state: 'pending',
      sentReal: this.real,
      sentDevice: Date.now(),
      heldAtSend: (gen === OTHER_TAB ? this.other : gen === this.gen ? this.app : null)?.auth.token() ?? null,
      during: this.#step,
    };
    this.outbounds.push(out);
    const tracked = out.reqId === null ? undefined : this.requests.find((r) => r.id === out.reqId);
    tracked?.outbounds.push(out);
    if (gen !== OTHER_TAB && (gen !== this.gen || !this.app))
      this.#violate('new:sent-after-destroy', `a ${kind} call to ${req.url} left an app that was destroyed`);
    if (kind !== 'api' && token) this.#violate('new:token-leak', `the ${kind} call carried the access token`);
    for (const t of this.issued.keys()) {
      if (req.urlWithParams.includes(t))
        this.#violate('new:token-in-url', `a token is in the URL ${req.urlWithParams}`);
    }
    if (tracked && token) this.#checkSentToken(tracked, token);
    if (kind === 'refresh' && gen !== OTHER_TAB) this.#checkRefreshRate(out);
    const presented = (req.body as { refresh_token?: unknown } | null)?.refresh_token;
    if (kind === 'refresh' && typeof presented === 'string' && this.#spent.has(presented))
      // A server that rotates refresh tokens takes this for theft and revokes the whole family.
      this.#violate('new:rt-reuse', `a refresh presented a refresh token that an earlier refresh spent`);
    return out;
  }

  #checkSentToken(r: Tracked, token: string): void {
    if (r.category !== 'allowed') {
      const known = r.category === 'excluded' && !r.url.startsWith('/public/') ? '#4' : 'new:token-leak';
      this.#once(r, known, `the token went to ${r.category} URL ${r.url}`);
    }
    const issued = this.issued.get(token);
    if (!issued) {
      this.#once(r, 'new:unknown-token', `request ${r.id} carried a token nobody issued`);
      return;
    }
    const lateBy = Date.now() + issued.knownSkew - issued.exp * 1000;
    if (lateBy >= 0) {
      // With the skew ignored below 5 s (the cause of #5) the app judges by a clock up to 5 s off.
      const tag = skewIgnored(issued) && lateBy < Math.abs(issued.knownSkew) ? '#5' : 'new:expired-sent';
      this.#once(r, tag, `request ${r.id} was sent ${lateBy} ms after its token expired (server clock as known)`);
    }
    if (r.subAtIssue && issued.sub !== r.subAtIssue)
      this.#once(
        r,
        this.#step === 'refresh' ? '#10' : 'new:identity',
        `request ${r.id}, made as ${r.subAtIssue}, was sent as ${issued.sub} (during ${this.#step})`,
      );
  }

  #checkRefreshRate(out: Outbound): void {
    const previous = this.#lastRefresh;
    const retry = previous && (previous.status === 408 || previous.status === 429);
    out.proactive = TIMER_DRIVEN.has(out.during) && !retry;
    this.#lastRefresh = out;
    const samesSession = this.#lastRefreshEpoch === this.#sessionEpoch;
    this.#lastRefreshEpoch = this.#sessionEpoch;
    if (!previous || !samesSession || !TIMER_DRIVEN.has(out.during) || previous.gen !== out.gen) return;
    const gap = Math.max(out.sentReal - previous.sentReal, out.sentDevice - previous.sentDevice);
    const token = this.app?.auth.token();
    const issued = token ? this.issued.get(token) : undefined;
    const failed = previous.status !== 200 && previous.status !== undefined;
    const bound =
      failed || previous.state === 'cancelled' || !issued
        ? MIN_REFRESH_GAP_MS
        : Math.max(MIN_REFRESH_GAP_MS, (issued.ttl * 1000) / 2 - 1000);
    if (gap < bound)
      this.#violate(
        failed || !issued ? 'new:refresh-rate' : '#5',
        `two refreshes ${gap} ms apart (bound ${bound} ms; token lifetime ${issued?.ttl ?? '?'} s, server ${
          this.serverOffset
        } ms from the device)`,
      );
  }

  #clearlyValid(issued: Issued): boolean {
    const margin = Math.min(30_000, (issued.ttl * 1000) / 4) + 1000;
    return Date.now() + issued.knownSkew < issued.exp * 1000 - margin;
  }

  #issue(sub: string, { ttl, agoSeconds = 0 }: { ttl: number; agoSeconds?: number }, fresh: boolean) {
    const issuedAt = new Date(this.serverNow - agoSeconds * 1000);
    const access = fakeJwt({ sub, jti: ++this.#serial }, { expiresInSeconds: ttl, issuedAt });
    const iat = Math.floor(issuedAt.getTime() / 1000);
    this.issued.set(access, {
      sub,
      iat,
      exp: iat + ttl,
      ttl,
      knownSkew: fresh ? this.serverOffset : 0,
      issuedReal: this.real,
    });
    const refresh = `rt-${this.#serial}`;
    this.refreshSubs.set(refresh, sub);
    return { access_token: access, refresh_token: refresh };
  }

  /** A token response; with a cookie-held refresh token, the server sets the cookie instead. */
  #responseBody(pair: { access_token: string; refresh_token: string }): unknown {
    if (!this.options.cookie) return pair;
    this.#cookieSub = this.issued.get(pair.access_token)?.sub ?? null;
    return { access_token: pair.access_token };
  }

  #stored(): string | null {
    const raw = this.tab.sessionStorage.getItem('ngx-jot');
    if (!raw) return null;
    try {
      return (JSON.parse(raw) as { accessToken?: string }).accessToken ?? null;
    } catch {
      return null;
    }
  }

  #countListeners(host: EventHost): void {
    const add = host.addEventListener.bind(host);
    const remove = host.removeEventListener.bind(host);
    const live = new Set<unknown>();
    host.addEventListener = (type, listener) => {
      if (!live.has(listener)) this.#listeners++;
      live.add(listener);
      add(type, listener);
    };
    host.removeEventListener = (type, listener) => {
      if (live.delete(listener)) this.#listeners--;
      remove(type, listener);
    };
  }

  #once(r: Tracked, tag: string, message: string): void {
    if (r.reported.has(tag)) return;
    r.reported.add(tag);
    this.#violate(tag, message);
  }

  #violate(tag: string, message: string): void {
    if (this.options.tolerate?.has(tag) || (tag.startsWith('new:') && this.options.tolerate?.has('new'))) {
      this.tolerated.set(tag, (this.tolerated.get(tag) ?? 0) + 1);
      if (!this.examples.has(tag)) this.examples.set(tag, message);
      return;
    }
    this.violations.push(`[${tag}] ${message}`);
  }
}

/** The part of @sinonjs/fake-timers' clock (behind Jest's modern fake timers) that `settle()` drives. */
interface FakeClock {
  now: number;
  /** Pending timers, earliest first (fake-timers 15). */
  timerHeap?: { peek(): { callAt: number } | undefined };
  tick(ms: number): number;
  next(): number;
}

/**
 * Lets every chain of settled promises run (the fake browser's IndexedDB and locks are long promise
 * chains): a real macrotask of Node's, which runs after all microtasks, and costs microseconds.
 */
function flushPromises(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}

interface EventHost {
  addEventListener(type: string, listener: unknown): void;
  removeEventListener(type: string, listener: unknown): void;
}
