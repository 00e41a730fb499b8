import { JsonPipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, inject } from '@angular/core';

import { Activity } from '../activity';
import { DEMO_CONFIG } from '../demo-config';
import { SessionView } from '../session';

/** The token's lifetime, this tab's honest counters, and the claims. */
@Component({
  selector: 'app-session-card',
  imports: [JsonPipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="card">
      <h2>Session</h2>
      <div class="stats">
        <div class="stat">
          <span class="stat-value" data-testid="expires-in">{{ session.expiresIn() ?? '—' }}</span>
          <span class="stat-label">seconds left on the access token</span>
        </div>
        <div class="stat">
          <span class="stat-value" data-testid="refresh-count">{{ activity.refreshCount() }}</span>
          <span class="stat-label">refresh calls this tab sent</span>
        </div>
        @if (config.crossTabSync) {
          <div class="stat">
            <span class="stat-value" data-testid="adopted-count">{{ activity.adoptedCount() }}</span>
            <span class="stat-label">new tokens taken from another tab's refresh</span>
          </div>
        }
      </div>
      @if (activity.refreshFailure(); as why) {
        <p class="notice" data-testid="refresh-failure">
          The last refresh failed: {{ why }}.
          @if (session.signedIn()) {
            The session is kept: the next request tries again.
          }
        </p>
      }
      <h3>Claims</h3>
      <pre class="code" data-testid="claims">{{ session.claims() | json }}</pre>
    </section>
  `,
})
export class SessionCard {
  protected readonly session = inject(SessionView);
  protected readonly activity = inject(Activity);
  protected readonly config = inject(DEMO_CONFIG);
}
