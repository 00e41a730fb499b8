import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';

import { Activity, type LogSection, type RequestItem, wasHeld } from '../activity';

/** Request bars drawn at most: a burst of 200 would otherwise be a page of its own. */
const MAX_REQUEST_BARS = 40;

/** A stretch of a bar: what the request was doing from `from` to `to` (ms since the burst began). */
export interface TimelinePhase {
  readonly phase: 'sent' | 'held' | 'replayed' | 'refresh';
  readonly from: number;
  readonly to: number;
}

/** A point on a bar: a 401, or the final answer. */
export interface TimelineMark {
  readonly mark: '401' | 'ok' | 'failed';
  readonly at: number;
}

export interface TimelineRow {
  readonly id: number;
  readonly kind: 'request' | 'refresh';
  readonly label: string;
  readonly phases: readonly TimelinePhase[];
  readonly marks: readonly TimelineMark[];
  /** What happened to it, in order: e.g. `sent 401 held replayed answered`. */
  readonly sequence: readonly string[];
  /** The same for the tooltip. */
  readonly summary: string;
}

export interface TimelineModel {
  readonly rows: readonly TimelineRow[];
  /** Length of the drawn time span, ms. */
  readonly span: number;
  /** When the (first) refresh answered, ms since the burst began: the "new token" line. */
  readonly newTokenAt: number | null;
  readonly held: number;
  readonly refreshes: number;
  /** Requests answered 2xx in the end. */
  readonly ok: number;
}

/** The burst's requests and this tab's refresh calls as bars over time. */
export function timelineOf(section: LogSection, now: number): TimelineModel {
  const requests = section.items.filter((item): item is RequestItem => item.type === 'request');
  const start = Math.min(section.startedAt, ...requests.map((request) => request.askedAt));
  const at = (time: number | null) => (time ?? now) - start;
  const burstRows = requests
    .filter((request) => request.role === 'api')
    .map((request, index) => requestRow(request, index, at));
  const refreshRows = requests
    .filter((request) => request.role === 'refresh' && request.attempts.length > 0)
    .map((request, index) => refreshRow(request, index, at));
  const ends = [...burstRows, ...refreshRows].flatMap((row) => [
    ...row.phases.map((phase) => phase.to),
    ...row.marks.map((mark) => mark.at),
  ]);
  const firstNewToken = refreshRows.flatMap((row) => row.marks).find((mark) => mark.mark === 'ok');
  return {
    rows: [...refreshRows, ...burstRows],
    span: Math.max(1, ...ends),
    newTokenAt: firstNewToken?.at ?? null,
    held: requests.filter((request) => request.role === 'api' && wasHeld(request)).length,
    refreshes: refreshRows.length,
    ok: requests.filter((request) => request.role === 'api' && request.outcome === 'ok').length,
  };
}

/** A refresh POST this tab sent: one phase, and a mark when it was answered. */
function refreshRow(request: RequestItem, index: number, at: (time: number | null) => number): TimelineRow {
  const attempt = request.attempts[0]!;
  const answered = attempt.endedAt !== null && attempt.status !== null;
  const ok = answered && attempt.status! >= 200 && attempt.status! < 300;
  const words = !answered ? 'waiting' : attempt.status === 0 ? 'network error' : String(attempt.status);
  return {
    id: request.id,
    kind: 'refresh',
    label: index === 0 ? 'refresh' : `refresh ${index + 1}`,
    phases: [{ phase: 'refresh', from: at(attempt.sentAt), to: at(attempt.endedAt) }],
    marks: answered ? [{ mark: ok ? 'ok' : 'failed', at: at(attempt.endedAt) }] : [],
    sequence: answered ? ['refresh', 'answered'] : ['refresh'],
    summary: `refresh call (POST): ${words}`,
  };
}

function requestRow(request: RequestItem, index: number, at: (time: number | null) => number): TimelineRow {
  const phases: TimelinePhase[] = [];
  const marks: TimelineMark[] = [];
  const sequence: string[] = [];
  const words: string[] = [];
  const first = request.attempts[0];
  if (request.heldBeforeSend) {
    phases.push({ phase: 'held', from: at(request.askedAt), to: at(first?.sentAt ?? request.settledAt) });
    sequence.push('held');
    words.push('held');
  }
  request.attempts.forEach((attempt, i) => {
    phases.push({ phase: i === 0 ? 'sent' : 'replayed', from: at(attempt.sentAt), to: at(attempt.endedAt) });
    sequence.push(i === 0 ? 'sent' : 'replayed');
    if (i > 0) words.push('replayed');
    if (attempt.status === 401) {
      marks.push({ mark: '401', at: at(attempt.endedAt) });
      sequence.push('401');
      words.push('401');
      // Waiting for the refresh: until the replay went out, or the request gave up.
      const next = request.attempts[i + 1];
      if (next || request.outcome === null || request.settledAt !== attempt.endedAt) {
        phases.push({ phase: 'held', from: at(attempt.endedAt), to: at(next?.sentAt ?? request.settledAt) });
        sequence.push('held');
        words.push('held');
      }
    } else if (attempt.status !== null) {
      words.push(attempt.status === 0 ? 'network error' : String(attempt.status));
    }
  });
  if (request.outcome) {
    marks.push({ mark: request.outcome, at: at(request.settledAt) });
    sequence.push('answered');
  }
  return {
    id: request.id,
    kind: 'request',
    label: `#${index + 1}`,
    phases,
    marks,
    sequence,
    summary: `request ${index + 1}: ${words.join(' → ') || 'waiting'}`,
  };
}

@Component({
  selector: 'app-timeline',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="card timeline-card" data-testid="timeline">
      <div class="card-head">
        <h2>Timeline of the last burst</h2>
        @if (model(); as m) {
          <span class="muted small">{{ m.rows.length - m.refreshes }} requests · {{ m.span }} ms</span>
        }
      </div>
      <ul class="tl-legend" aria-label="Legend">
        <li><span class="tl-swatch phase-sent"></span>sent with the token</li>
        <li><span class="tl-swatch mark-401"></span>answered 401</li>
        <li><span class="tl-swatch phase-held"></span>held, waiting for the refresh</li>
        <li><span class="tl-swatch phase-refresh"></span>refresh call</li>
        <li><span class="tl-swatch phase-replayed"></span>replayed with the new token</li>
        <li><span class="tl-swatch mark-ok"></span>answered 200</li>
        <li><span class="tl-swatch mark-failed"></span>failed</li>
      </ul>
      @if (model(); as m) {
        <p class="tl-story" data-testid="timeline-story">{{ story() }}</p>
        <div class="tl-chart" role="img" [attr.aria-label]="story()">
          @for (row of drawn(); track row.id) {
            <div
              class="tl-row"
              [class.tl-row-refresh]="row.kind === 'refresh'"
              [attr.data-testid]="row.kind === 'refresh' ? 'timeline-refresh' : 'timeline-request'"
              [attr.data-phases]="row.sequence.join(' ')"
              [title]="row.summary"
            >
              <span class="tl-label">{{ row.label }}</span>
              <span class="tl-track">
                @if (m.newTokenAt !== null) {
                  <span class="tl-newtoken" [style.left.%]="percent(m.newTokenAt)"></span>
                }
                @for (phase of row.phases; track $index) {
                  <span
                    class="tl-phase"
                    [class]="'tl-phase phase-' + phase.phase"
                    [style.left.%]="percent(phase.from)"
                    [style.width.%]="percent(phase.to - phase.from)"
                  ></span>
                }
                @for (mark of row.marks; track $index) {
                  <span [class]="'tl-mark mark-' + mark.mark" [style.left.%]="percent(mark.at)"></span>
                }
              </span>
            </div>
          }
          @if (m.rows.length > drawn().length) {
            <p class="muted small tl-more">and {{ m.rows.length - drawn().length }} more requests, not drawn</p>
          }
          <div class="tl-row tl-axis" aria-hidden="true">
            <span class="tl-label"></span>
            <span class="tl-track">
              <span class="tl-tick" style="left: 0">0 ms</span>
              @if (m.newTokenAt !== null) {
                <span class="tl-tick tl-tick-token" [style.left.%]="percent(m.newTokenAt)">new token</span>
              }
              <span class="tl-tick tl-tick-end">{{ m.span }} ms</span>
            </span>
          </div>
        </div>
      } @else {
        <p class="muted">
          No burst yet. Press <strong>Expire the token now</strong>, then <strong>Fire burst</strong>: every request
          meets a 401, waits for one refresh, and goes out again.
        </p>
      }
    </section>
  `,
})
export class Timeline {
  private readonly activity = inject(Activity);

  protected readonly model = computed(() => {
    const burst = this.activity.lastBurst();
    return burst ? timelineOf(burst, Date.now()) : null;
  });

  /** Every refresh bar, and the first requests' bars. */
  protected readonly drawn = computed(() => {
    const rows = this.model()?.rows ?? [];
    const refreshes = rows.filter((row) => row.kind === 'refresh');
    return [...refreshes, ...rows.filter((row) => row.kind === 'request').slice(0, MAX_REQUEST_BARS)];
  });

  /** The picture in one sentence. */
  protected readonly story = computed(() => {
    const m = this.model();
    if (!m) return '';
    const requests = m.rows.length - m.refreshes;
    if (m.held === 0) {
      return `${requests} requests went out and were answered (${m.ok} ok): the API took the token, so nothing was held and no refresh was needed.`;
    }
    if (m.refreshes > 0 && m.newTokenAt === null) {
      return `${m.held} of ${requests} requests met a token the API refuses: they were held while the refresh call ran, and it failed, so they failed too.`;
    }
    const refresh =
      m.refreshes === 0
        ? 'another tab refreshed the token'
        : m.refreshes === 1
          ? 'ONE refresh call fetched a new token'
          : `${m.refreshes} refresh calls fetched a new token`;
    return `${m.held} of ${requests} requests met a token the API refuses: they were held while ${refresh}, then replayed with it.`;
  });

  protected percent(ms: number): number {
    const span = this.model()?.span ?? 1;
    return Math.min(100, Math.max(0, (ms / span) * 100));
  }
}
