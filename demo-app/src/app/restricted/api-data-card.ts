import { JsonPipe } from '@angular/common';
import { HttpClient, HttpErrorResponse } from '@angular/common/http';
import { ChangeDetectionStrategy, Component, DestroyRef, inject, signal } from '@angular/core';
import type { Subscription } from 'rxjs';

import { DEMO_CONFIG, shortUrl } from '../demo-config';
import { failureWords } from '../log-interceptors';

/** GET restrictedUrl with the token, and what came back: the data, or why there is none. */
@Component({
  selector: 'app-api-data-card',
  imports: [JsonPipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="card">
      <h2>API data</h2>
      <p class="muted small">
        GET <code>{{ short(config.restrictedUrl) }}</code>
      </p>
      @if (error(); as message) {
        <p class="error" data-testid="restricted-error">{{ message }}</p>
      } @else {
        <pre class="code" data-testid="restricted-data">{{ data() === undefined ? 'Loading…' : (data() | json) }}</pre>
      }
      <button type="button" class="btn" data-testid="reload" (click)="load()">Reload</button>
    </section>
  `,
})
export class ApiDataCard {
  protected readonly config = inject(DEMO_CONFIG);
  protected readonly short = shortUrl;
  private readonly http = inject(HttpClient);

  protected readonly data = signal<unknown>(undefined);
  protected readonly error = signal('');
  private loading: Subscription | null = null;

  constructor() {
    this.load();
    inject(DestroyRef).onDestroy(() => this.loading?.unsubscribe());
  }

  protected load(): void {
    this.loading?.unsubscribe();
    this.error.set('');
    this.data.set(undefined);
    const url = new URL(this.config.restrictedUrl, document.baseURI).href;
    this.loading = this.http.get<unknown>(this.config.restrictedUrl).subscribe({
      next: (body) => this.data.set(body),
      error: (e: unknown) =>
        this.error.set(
          e instanceof HttpErrorResponse && e.status === 0
            ? `Could not reach ${url}: the API is down or unreachable. Reload to try again.`
            : `Could not load ${url}: ${failureWords(e)}.`,
        ),
    });
  }
}
