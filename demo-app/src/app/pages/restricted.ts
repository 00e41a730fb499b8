import { DatePipe, JsonPipe } from '@angular/common';
import { HttpClient, HttpErrorResponse } from '@angular/common/http';
import { ChangeDetectionStrategy, Component, DestroyRef, inject, signal } from '@angular/core';
import { JotError } from 'ngx-jot';
import { type Subscription, catchError, forkJoin, map, of } from 'rxjs';

import { Activity, type LogEntry } from '../activity';
import { DEMO_CONFIG, shortUrl } from '../demo-config';
import { SessionView } from '../session';

const MAX_BURST = 200;

@Component({
  selector: 'app-restricted',
  imports: [JsonPipe, DatePipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div class="page-head">
      <h1>Restricted</h1>
      <p class="muted">Everything here needs a valid access token.</p>
    </div>

    <div class="grid grid-2">
      <section class="card">
        <h2>Session</h2>
        <div class="stats">
          <div class="stat">
            <span class="stat-value" data-testid="expires-in">{{ session.expiresIn() ?? '—' }}</span>
            <span class="stat-label">seconds left on the access token</span>
          </div>
          <div class="stat">
            <span class="stat-value" data-testid="refresh-count">{{ activity.refreshCount() }}</span>
            <span class="stat-label">refreshes started by this tab</span>
          </div>
        </div>
        <h3>Claims</h3>
        <pre class="code" data-testid="claims">{{ session.claims() | json }}</pre>
      </section>

      <section class="card">
        <h2>API data</h2>
        <p class="muted small">
          GET <code>{{ short(config.restrictedUrl) }}</code>
        </p>
        @if (dataError()) {
          <p class="error">{{ dataError() }}</p>
        }
        <pre class="code" data-testid="restricted-data">{{ data() === undefined ? 'Loading…' : (data() | json) }}</pre>
        <button type="button" class="btn" (click)="load()">Reload</button>
      </section>

      <section class="card">
        <h2>Burst</h2>
        <p class="muted small">
          Fires parallel GETs. After the token expired, they all wait for one refresh, then go out again.
        </p>
        <div class="row">
          <input
            class="num"
            type="number"
            min="1"
            [attr.max]="maxBurst"
            aria-label="Number of requests"
            data-testid="burst-count"
            [value]="burstCount()"
            (input)="setBurstCount($event)"
          />
          <button type="button" class="btn btn-primary" data-testid="burst" (click)="burst()">Fire burst</button>
        </div>
        <p class="result" data-testid="burst-result" aria-live="polite">{{ burstResult() }}</p>
      </section>

      <section class="card">
        <h2>Third-party call</h2>
        <p class="muted small">
          GET <code>{{ config.foreignUrl ? short(config.foreignUrl) : 'not configured' }}</code>, an origin that must
          never see the token.
        </p>
        <button
          type="button"
          class="btn"
          data-testid="foreign-call"
          (click)="callForeign()"
          [disabled]="!config.foreignUrl"
        >
          Call it
        </button>
        <p class="result" data-testid="foreign-result" aria-live="polite">{{ foreignResult() }}</p>
      </section>
    </div>

    <section class="card log-card">
      <div class="log-head">
        <h2>Request log</h2>
        <span class="legend">
          <span class="tag tag-held">held</span> waited for a refresh ·
          <span class="tag tag-replayed">replayed</span> sent again with the new token
        </span>
        <button type="button" class="btn btn-ghost btn-small" (click)="activity.clear()">Clear</button>
      </div>
      <div class="log" data-testid="request-log">
        @for (entry of activity.entries(); track entry.id) {
          <div class="log-row" [class]="'kind-' + entry.kind + ' state-' + entry.state" [attr.data-state]="entry.state">
            <span class="log-time">{{ entry.at | date: 'HH:mm:ss.SSS' }}</span>
            @if (entry.kind === 'event') {
              <span class="log-label"
                ><span class="tag tag-event">{{ entry.label }}</span></span
              >
              <span class="log-detail">{{ entry.detail }}</span>
            } @else {
              <span class="log-label">{{ entry.label }}</span>
              <span class="log-detail">
                <span class="tag" [class]="'tag-' + entry.state">{{ stateLabel(entry) }}</span>
                @if (entry.held && entry.state !== 'held') {
                  <span class="tag tag-held">held</span>
                }
                @if (entry.replayed && entry.state !== 'replayed') {
                  <span class="tag tag-replayed">replayed</span>
                }
                @if (entry.tries.length > 1) {
                  <span class="tries">{{ entry.tries.join(' → ') }}</span>
                }
                @if (entry.token !== null && entry.kind === 'request') {
                  <span class="muted">{{ entry.token ? 'token' : 'no token' }}</span>
                }
                @if (entry.detail) {
                  <span class="muted">{{ entry.detail }}</span>
                }
              </span>
            }
          </div>
        } @empty {
          <p class="muted small">No requests yet.</p>
        }
      </div>
    </section>
  `,
})
export class Restricted {
  protected readonly session = inject(SessionView);
  protected readonly activity = inject(Activity);
  protected readonly config = inject(DEMO_CONFIG);
  protected readonly short = shortUrl;
  protected readonly maxBurst = MAX_BURST;
  private readonly http = inject(HttpClient);

  protected readonly data = signal<unknown>(undefined);
  protected readonly dataError = signal('');
  protected readonly burstCount = signal(10);
  protected readonly burstResult = signal('');
  protected readonly foreignResult = signal('');
  private burstRun: Subscription | null = null;
  private loading: Subscription | null = null;

  constructor() {
    this.load();
    inject(DestroyRef).onDestroy(() => {
      this.burstRun?.unsubscribe();
      this.loading?.unsubscribe();
    });
  }

  protected load(): void {
    this.loading?.unsubscribe();
    this.dataError.set('');
    this.loading = this.http.get<unknown>(this.config.restrictedUrl).subscribe({
      next: (body) => this.data.set(body),
      error: (e: unknown) => {
        this.data.set(null);
        this.dataError.set(describe(e));
      },
    });
  }

  protected setBurstCount(event: Event): void {
    const raw = (event.target as HTMLInputElement).value.trim();
    const n = Math.floor(Number(raw));
    // Half-typed input (empty) keeps the last count rather than rewriting the field under the cursor.
    if (raw !== '' && Number.isFinite(n)) this.burstCount.set(Math.min(Math.max(n, 1), MAX_BURST));
  }

  protected burst(): void {
    this.burstRun?.unsubscribe();
    this.burstResult.set('');
    const requests = Array.from({ length: this.burstCount() }, () =>
      this.http.get<unknown>(this.config.restrictedUrl).pipe(
        map(() => true),
        catchError(() => of(false)),
      ),
    );
    // forkJoin waits for every request to settle, whatever its outcome.
    this.burstRun = forkJoin(requests).subscribe((results) => {
      const ok = results.filter(Boolean).length;
      this.burstResult.set(`${ok} ok, ${results.length - ok} failed`);
    });
  }

  protected callForeign(): void {
    const url = this.config.foreignUrl;
    if (!url) return;
    this.foreignResult.set('');
    this.http.get<{ authorization?: unknown }>(url).subscribe({
      next: (body) =>
        this.foreignResult.set(
          body?.authorization === false
            ? 'authorization: false (no token was sent)'
            : body?.authorization === true
              ? 'authorization: true (the token leaked!)'
              : `unexpected answer: ${JSON.stringify(body)}`,
        ),
      error: (e: unknown) => this.foreignResult.set(`failed: ${describe(e)}`),
    });
  }

  protected stateLabel(entry: LogEntry): string {
    switch (entry.state) {
      case 'ok':
      case 'failed':
        return entry.tries.length > 0 ? String(entry.tries[entry.tries.length - 1]) : entry.state;
      case 'in-flight':
        return 'in flight';
      default:
        return entry.state;
    }
  }
}

function describe(e: unknown): string {
  if (e instanceof JotError) return `${e.code}: ${e.message.replace(/^ngx-jot: /, '')}`;
  if (e instanceof HttpErrorResponse) return e.status === 0 ? 'network error' : `${e.status} ${e.statusText}`.trim();
  return String(e);
}
