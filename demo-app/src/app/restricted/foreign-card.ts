import { HttpClient } from '@angular/common/http';
import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';

import { DEMO_CONFIG, shortUrl } from '../demo-config';
import { failureWords } from '../log-interceptors';

/** A call to another origin, which must never see the token. */
@Component({
  selector: 'app-foreign-card',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="card">
      <h2>Third-party call</h2>
      <p class="muted small">
        GET <code>{{ config.foreignUrl ? short(config.foreignUrl) : 'not configured' }}</code>, an origin that must
        never see the token.
      </p>
      <button type="button" class="btn" data-testid="foreign-call" (click)="call()" [disabled]="!config.foreignUrl">
        Call it
      </button>
      <p class="result" data-testid="foreign-result" aria-live="polite">{{ result() }}</p>
    </section>
  `,
})
export class ForeignCard {
  protected readonly config = inject(DEMO_CONFIG);
  protected readonly short = shortUrl;
  private readonly http = inject(HttpClient);
  protected readonly result = signal('');

  protected call(): void {
    const url = this.config.foreignUrl;
    if (!url) return;
    this.result.set('');
    this.http.get<{ authorization?: unknown }>(url).subscribe({
      next: (body) =>
        this.result.set(
          body?.authorization === false
            ? 'authorization: false (no token was sent)'
            : body?.authorization === true
              ? 'authorization: true (the token leaked!)'
              : `unexpected answer: ${JSON.stringify(body)}`,
        ),
      error: (e: unknown) => this.result.set(`failed: ${failureWords(e)}`),
    });
  }
}
