import { HttpClient } from '@angular/common/http';
import { ChangeDetectionStrategy, Component, DestroyRef, inject, signal } from '@angular/core';
import { type Subscription, catchError, forkJoin, map, of } from 'rxjs';

import { Activity, type RequestItem } from '../activity';
import { DEMO_CONFIG } from '../demo-config';
import { failureWords } from '../log-interceptors';
import { TokenExpiry } from '../token-expiry';
import { burstSummary } from './request-log';

const MAX_BURST = 200;

/** Expire the token on demand, then fire a burst of parallel requests at the API. */
@Component({
  selector: 'app-burst-card',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="card">
      <h2>Burst</h2>
      <ol class="steps small">
        <li>
          <button type="button" class="btn" data-testid="expire-token" (click)="expire()" [disabled]="expiring()">
            Expire the token now
          </button>
          <span class="muted block">{{ expiry.how }}</span>
          @if (expireResult(); as result) {
            <span class="result-line" data-testid="expire-result" [class.bad]="result.startsWith('failed')">{{
              result
            }}</span>
          }
        </li>
        <li>
          <span class="row">
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
          </span>
          <span class="muted block">parallel GETs; the timeline below shows what happened to each.</span>
        </li>
      </ol>
      <p class="result" data-testid="burst-result" aria-live="polite">{{ burstResult() }}</p>
    </section>
  `,
})
export class BurstCard {
  protected readonly expiry = inject(TokenExpiry);
  protected readonly maxBurst = MAX_BURST;
  private readonly http = inject(HttpClient);
  private readonly activity = inject(Activity);
  private readonly config = inject(DEMO_CONFIG);

  protected readonly burstCount = signal(10);
  protected readonly burstResult = signal('');
  protected readonly expireResult = signal('');
  protected readonly expiring = signal(false);
  private burstRun: Subscription | null = null;

  constructor() {
    inject(DestroyRef).onDestroy(() => this.burstRun?.unsubscribe());
  }

  protected expire(): void {
    this.expiring.set(true);
    this.expireResult.set('');
    this.expiry.expireNow().subscribe({
      next: () => {
        this.expiring.set(false);
        this.expireResult.set('Done: the API now refuses this token. Fire a burst.');
      },
      error: (e: unknown) => {
        this.expiring.set(false);
        this.expireResult.set(`failed: ${failureWords(e)}`);
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
    this.expireResult.set('');
    this.activity.beginBurst(this.burstCount());
    const requests = Array.from({ length: this.burstCount() }, () =>
      this.http.get<unknown>(this.config.restrictedUrl).pipe(
        map(() => true),
        catchError(() => of(false)),
      ),
    );
    // forkJoin waits for every request to settle, whatever its outcome.
    this.burstRun = forkJoin(requests).subscribe(() => {
      this.activity.endBurst();
      const section = this.activity.lastBurst();
      const items = (section?.items ?? []).filter(
        (item): item is RequestItem => item.type === 'request' && item.role === 'api',
      );
      this.burstResult.set(section ? burstSummary(items, section) : '');
    });
  }
}
