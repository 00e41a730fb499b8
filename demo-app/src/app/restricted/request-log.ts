import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, inject } from '@angular/core';

import { Activity, type LogSection, type RequestItem, wasHeld } from '../activity';
import { shortUrl } from '../demo-config';

const ROLE_WORDS: Readonly<Record<RequestItem['role'], string>> = {
  api: '',
  login: 'sign in',
  refresh: 'refresh',
  logout: 'sign out',
  expire: 'expire the token',
  foreign: 'third party',
};

/** Where a request stands: the log row's `data-state`. */
export function stateOf(request: RequestItem): 'ok' | 'failed' | 'in-flight' | 'held' | 'pending' {
  if (request.outcome) return request.outcome;
  const last = request.attempts.at(-1);
  if (last && last.status === null) return 'in-flight';
  if (request.heldBeforeSend || last?.status === 401) return 'held';
  return 'pending';
}

/** A request's story in plain words: `401 → held → replayed → 200`, `network error`, ... */
export function journeyOf(request: RequestItem): string {
  const steps: string[] = request.heldBeforeSend ? ['held'] : [];
  request.attempts.forEach((attempt, index) => {
    if (index > 0) {
      if (steps.at(-1) !== 'held') steps.push('held');
      steps.push('replayed');
    }
    steps.push(attempt.status === null ? 'in flight' : attempt.status === 0 ? 'network error' : String(attempt.status));
  });
  const state = stateOf(request);
  if (state === 'held' && steps.at(-1) !== 'held') steps.push('held');
  // Held after a 401, and then given up: the refresh brought no new token.
  if (request.outcome === 'failed' && request.attempts.at(-1)?.status === 401 && request.role === 'api') {
    steps.push('held', 'failed: no new token');
  }
  if (request.outcome === 'failed' && request.attempts.length === 0) steps.push(request.detail || 'failed');
  return steps.join(' → ');
}

/** A group's heading: a burst with its result, or the activity between bursts. */
export function headingOf(section: LogSection): string {
  if (!section.burst) return 'Activity';
  const requests = section.items.filter((item): item is RequestItem => item.type === 'request' && item.role === 'api');
  if (!section.burst.settled) return `Burst of ${section.burst.size}: running…`;
  return `Burst of ${section.burst.size}: ${burstSummary(requests, section)}`;
}

/** `N ok, M failed · H held, R refresh(es)`: the burst's result line. */
export function burstSummary(requests: readonly RequestItem[], section: LogSection): string {
  const ok = requests.filter((request) => request.outcome === 'ok').length;
  const held = requests.filter(wasHeld).length;
  const refreshes = section.items.filter(
    (item) => item.type === 'request' && item.role === 'refresh' && item.attempts.length > 0,
  ).length;
  const adopted = section.items.some((item) => item.type === 'event' && item.text.startsWith('took the new token'));
  const refreshWords =
    refreshes === 0
      ? adopted
        ? 'the refresh came from another tab'
        : 'no refresh'
      : `${refreshes} refresh${refreshes === 1 ? '' : 'es'}`;
  return `${ok} ok, ${requests.length - ok} failed · ${held} held, ${refreshWords}`;
}

@Component({
  selector: 'app-request-log',
  imports: [DatePipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="card log-card">
      <div class="card-head">
        <h2>Request log</h2>
        <button type="button" class="btn btn-ghost btn-small" (click)="activity.clear()">Clear</button>
      </div>
      <p class="muted small">
        Newest group first; oldest first inside a group. <strong>held</strong>: waited for a refresh.
        <strong>replayed</strong>: sent again with the new token.
      </p>
      <div class="log" data-testid="request-log">
        @for (section of activity.sections(); track section.id) {
          <section class="log-group" data-testid="log-group">
            <h3 class="log-group-head">
              <span>{{ heading(section) }}</span>
              <span class="log-time">{{ section.startedAt | date: 'HH:mm:ss' }}</span>
            </h3>
            @for (item of section.items; track item.id) {
              @if (item.type === 'event') {
                <div class="log-row kind-event" [class]="'log-row kind-event tone-' + item.tone">
                  <span class="log-time">+{{ item.at - section.startedAt }} ms</span>
                  <span class="log-event">{{ item.text }}</span>
                </div>
              } @else {
                <div class="log-row" [class]="'log-row state-' + state(item)" [attr.data-state]="state(item)">
                  <span class="log-time">+{{ item.askedAt - section.startedAt }} ms</span>
                  <span class="log-label" [title]="item.method + ' ' + item.url">
                    @if (role(item); as r) {
                      <span class="log-role">{{ r }}</span>
                    }
                    {{ item.method }} {{ short(item.url) }}
                  </span>
                  <span class="log-detail">
                    <span class="journey">{{ journey(item) }}</span>
                    @if (item.role === 'foreign' && item.attempts.length > 0) {
                      <span class="muted">{{ item.attempts[0].withToken ? 'token sent!' : 'no token sent' }}</span>
                    }
                  </span>
                </div>
              }
            }
          </section>
        } @empty {
          <p class="muted small">No requests yet.</p>
        }
      </div>
    </section>
  `,
})
export class RequestLog {
  protected readonly activity = inject(Activity);
  protected readonly short = shortUrl;
  protected readonly state = stateOf;
  protected readonly journey = journeyOf;
  protected readonly heading = headingOf;

  protected role(item: RequestItem): string {
    return ROLE_WORDS[item.role];
  }
}
