import { DestroyRef, Injectable, computed, effect, inject, signal, untracked } from '@angular/core';
import { JotAuth, JotError, type JotEvent, defaultReadTokens } from 'ngx-jot';

import { DEMO_CONFIG } from './demo-config';

/** One time a request really went out, and what came back (status 0: network error). */
export interface Attempt {
  readonly sentAt: number;
  readonly endedAt: number | null;
  readonly status: number | null;
  readonly withToken: boolean;
}

/** What a request is for: the app's own API calls, or one of the session's calls. */
export type RequestRole = 'api' | 'login' | 'refresh' | 'logout' | 'expire' | 'foreign';

/** An HTTP call the app asked for, with every attempt that went out for it. */
export interface RequestItem {
  readonly type: 'request';
  readonly id: number;
  readonly group: number;
  readonly role: RequestRole;
  readonly method: string;
  readonly url: string;
  readonly askedAt: number;
  /** jotInterceptor held it back before its first attempt (the token was known to be stale). */
  readonly heldBeforeSend: boolean;
  readonly attempts: readonly Attempt[];
  readonly settledAt: number | null;
  readonly outcome: 'ok' | 'failed' | null;
  /** Why it failed, in plain words. */
  readonly detail: string;
}

/** A session event, in plain words. */
export interface EventItem {
  readonly type: 'event';
  readonly id: number;
  readonly group: number;
  readonly at: number;
  readonly text: string;
  readonly tone: 'info' | 'good' | 'bad';
}

export type LogItem = RequestItem | EventItem;

/** The request waited for a refresh: held before it was sent, or after a 401. */
export const wasHeld = (request: RequestItem): boolean =>
  request.heldBeforeSend || request.attempts.some((attempt) => attempt.status === 401 && attempt.withToken);

/** A burst, or the activity between two bursts. */
export interface LogGroup {
  readonly id: number;
  readonly startedAt: number;
  /** Set for a burst: how many requests it fired, and whether all of them have settled. */
  readonly burst: { readonly size: number; readonly settled: boolean } | null;
}

/** A group with its items, oldest first. */
export interface LogSection extends LogGroup {
  readonly items: readonly LogItem[];
}

const MAX_ITEMS = 400;
/** Tokens this tab got itself (login, refresh); any other new token came from another tab. */
const OWN_TOKENS_KEPT = 8;

/**
 * The activity of this tab: every HTTP call with its attempts, the session's events, the bursts,
 * and the honest counters (refresh POSTs this tab sent, tokens it adopted from another tab).
 * Fed by the two logging interceptors in `log-interceptors.ts` and by `JotAuth.events`.
 */
@Injectable({ providedIn: 'root' })
export class Activity {
  private readonly auth = inject(JotAuth);
  private readonly config = inject(DEMO_CONFIG);
  private nextId = 1;
  private readonly itemList = signal<readonly LogItem[]>([]);
  private readonly groupList = signal<readonly LogGroup[]>([]);
  private readonly refreshPosts = signal(0);
  private readonly adoptions = signal(0);
  private readonly lastLogout = signal<(JotEvent & { type: 'logout' }) | null>(null);
  private readonly lastRefreshFailure = signal<string | null>(null);
  private readonly ownTokens: string[] = [];

  /** Refresh POSTs this tab sent. */
  readonly refreshCount = this.refreshPosts.asReadonly();
  /** Tokens this tab took over from another tab's refresh, without a refresh call of its own. */
  readonly adoptedCount = this.adoptions.asReadonly();
  /** The last `logout` event, to explain on the login page why the session ended. */
  readonly endedSession = this.lastLogout.asReadonly();
  /** Why the last refresh failed, until the next one succeeds. */
  readonly refreshFailure = this.lastRefreshFailure.asReadonly();

  /** The log: groups newest first, each group's items oldest first. */
  readonly sections = computed<readonly LogSection[]>(() => {
    const byGroup = new Map<number, LogItem[]>();
    for (const item of this.itemList()) {
      const list = byGroup.get(item.group);
      if (list) list.push(item);
      else byGroup.set(item.group, [item]);
    }
    return this.groupList()
      .filter((group) => byGroup.has(group.id))
      .map((group) => ({ ...group, items: byGroup.get(group.id)! }))
      .reverse();
  });

  /** The newest burst, with its items. */
  readonly lastBurst = computed(() => this.sections().find((section) => section.burst !== null) ?? null);

  constructor() {
    const subscription = this.auth.events.subscribe((event) => this.onEvent(event));
    inject(DestroyRef).onDestroy(() => subscription.unsubscribe());
    this.watchForAdoptedTokens();
  }

  /** Drops everything that has settled. */
  clear(): void {
    this.itemList.update((list) => list.filter((item) => item.type === 'request' && item.outcome === null));
  }

  /** Forget why the last session ended (a new login). */
  acknowledgeLogout(): void {
    this.lastLogout.set(null);
  }

  /** Starts a burst group: every request and event until `endBurst()` belongs to it. */
  beginBurst(size: number): void {
    this.groupList.update((groups) => [
      ...groups.slice(-50),
      { id: this.nextId++, startedAt: Date.now(), burst: { size, settled: false } },
    ]);
  }

  endBurst(): void {
    this.groupList.update((groups) =>
      groups.map((group) =>
        group.burst && !group.burst.settled ? { ...group, burst: { ...group.burst, settled: true } } : group,
      ),
    );
  }

  /** Logs a request the app asked for; returns its id. */
  startRequest(method: string, url: string): number {
    const id = this.nextId++;
    this.push({
      type: 'request',
      id,
      group: this.currentGroup(),
      role: this.roleOf(method, url),
      method,
      url,
      askedAt: Date.now(),
      heldBeforeSend: false,
      attempts: [],
      settledAt: null,
      outcome: null,
      detail: '',
    });
    return id;
  }

  /** The request was not sent at once: jotInterceptor holds it for a refresh. */
  markHeld(id: number): void {
    this.updateRequest(id, (item) =>
      item.attempts.length === 0 && item.outcome === null ? { heldBeforeSend: true } : {},
    );
  }

  attemptStarted(id: number, withToken: boolean): void {
    const item = this.updateRequest(id, (request) => ({
      attempts: [...request.attempts, { sentAt: Date.now(), endedAt: null, status: null, withToken }],
    }));
    if (item?.role === 'refresh') this.refreshPosts.update((count) => count + 1);
  }

  /** An attempt came back; a login or refresh answer tells which token this tab got itself. */
  attemptEnded(id: number, status: number, body?: unknown): void {
    const item = this.updateRequest(id, (request) => ({
      attempts: request.attempts.map((attempt, index) =>
        index === request.attempts.length - 1 ? { ...attempt, endedAt: Date.now(), status } : attempt,
      ),
    }));
    // The demo maps token responses with ngx-jot's default, so it reads them the same way.
    const token = item?.role === 'login' || item?.role === 'refresh' ? defaultReadTokens(body)?.accessToken : null;
    if (token) {
      this.ownTokens.push(token);
      if (this.ownTokens.length > OWN_TOKENS_KEPT) this.ownTokens.shift();
    }
  }

  settle(id: number, outcome: 'ok' | 'failed', detail = ''): void {
    this.updateRequest(id, (item) => (item.outcome ? {} : { outcome, detail, settledAt: Date.now() }));
  }

  /** Logs something in plain words. */
  note(text: string, tone: EventItem['tone'] = 'info'): void {
    this.push({ type: 'event', id: this.nextId++, group: this.currentGroup(), at: Date.now(), text, tone });
  }

  /** A request to the third-party URL (not the API). */
  isForeign(url: string): boolean {
    return url === this.config.foreignUrl;
  }

  private roleOf(method: string, url: string): RequestRole {
    const { loginUrl, refreshUrl, logoutUrl, expireUrl, foreignUrl } = this.config;
    if (method === 'POST' && url === loginUrl) return 'login';
    if (method === 'POST' && url === refreshUrl) return 'refresh';
    if (method === 'POST' && url === logoutUrl) return 'logout';
    if (method === 'POST' && url === expireUrl) return 'expire';
    return url === foreignUrl ? 'foreign' : 'api';
  }

  /** The open burst's group, else the group after the last burst (a new one when there is none). */
  private currentGroup(): number {
    const last = this.groupList().at(-1);
    if (last && (!last.burst || !last.burst.settled)) return last.id;
    const id = this.nextId++;
    this.groupList.update((groups) => [...groups.slice(-50), { id, startedAt: Date.now(), burst: null }]);
    return id;
  }

  private push(item: LogItem): void {
    this.itemList.update((list) => [...list, item].slice(-MAX_ITEMS));
  }

  private updateRequest(id: number, change: (item: RequestItem) => Partial<RequestItem>): RequestItem | null {
    let updated: RequestItem | null = null;
    this.itemList.update((list) =>
      list.map((item) => (item.type === 'request' && item.id === id ? (updated = { ...item, ...change(item) }) : item)),
    );
    return updated;
  }

  private onEvent(event: JotEvent): void {
    switch (event.type) {
      case 'login':
        this.lastLogout.set(null);
        this.note(
          event.source === 'other-tab'
            ? 'signed in (in another tab)'
            : event.source === 'set-tokens'
              ? 'tokens set by the app'
              : 'signed in',
          'good',
        );
        break;
      case 'logout':
        this.lastLogout.set(event);
        this.note(
          LOGOUT_WORDS[event.reason] ?? `session ended (${event.reason})`,
          event.reason === 'user' ? 'info' : 'bad',
        );
        break;
      case 'session-warning':
        this.note(
          event.reason === 'idle'
            ? 'no activity in any tab: the session ends soon'
            : 'the session ends soon: its refresh token expires',
          'bad',
        );
        break;
      case 'refresh-start':
        this.note('the token needs a refresh');
        break;
      case 'refresh-success':
        this.lastRefreshFailure.set(null);
        // A token another tab refreshed is logged as adopted (watchForAdoptedTokens), as are the
        // tokens other tabs send by message, which end no refresh here.
        if (event.source === 'this-tab') this.note('new access token', 'good');
        break;
      case 'refresh-failure': {
        const why = this.refreshFailureWords(event.error);
        this.lastRefreshFailure.set(why);
        this.note(`refresh failed: ${why}`, 'bad');
        break;
      }
    }
  }

  /** Why a refresh failed, from what its call got back (a production build's JotError has no message). */
  private refreshFailureWords(error: unknown): string {
    const call = [...this.itemList()].reverse().find((item) => item.type === 'request' && item.role === 'refresh');
    const status = call?.type === 'request' ? call.attempts.at(-1)?.status : undefined;
    if (status === 0) return 'the API did not answer the refresh call (network error)';
    if (typeof status === 'number' && status >= 500) return `the API failed the refresh call (${status})`;
    if (typeof status === 'number' && status >= 400) return `the API refused the refresh call (${status})`;
    const code = error instanceof JotError ? error.code : 'unknown error';
    return `${code}${error instanceof Error && error.message ? `: ${error.message.replace(/^ngx-jot: /, '')}` : ''}`;
  }

  /**
   * ngx-jot has no event for "another tab refreshed and this tab took its token": a new token
   * that this tab neither fetched (login, refresh) nor set is one.
   */
  private watchForAdoptedTokens(): void {
    let seen = untracked(this.auth.token);
    effect(() => {
      const token = this.auth.token();
      const before = seen;
      seen = token;
      if (token === null || before === null || token === before || this.ownTokens.includes(token)) return;
      untracked(() => {
        this.adoptions.update((count) => count + 1);
        this.note('took the new token another tab refreshed (no refresh call from this tab)', 'good');
      });
    });
  }
}

const LOGOUT_WORDS: Readonly<Record<string, string>> = {
  user: 'signed out',
  'other-tab': 'signed out in another tab',
  expired: 'session expired',
  'refresh-failed': 'session ended: the API rejected the refresh',
  idle: 'signed out after inactivity',
};
