import { JsonPipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, inject } from '@angular/core';

import { SessionView } from '../session';

@Component({
  selector: 'app-admin',
  imports: [JsonPipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div class="page-head"><h1>Admin</h1></div>
    <section class="card" data-testid="admin">
      <h2>Welcome, {{ session.who() }}</h2>
      <p>
        This route is guarded by <code>jotClaimsGuard(c =&gt; c.roles.includes('admin'))</code>: the token's claims
        decide, before anything here renders.
      </p>
      <pre class="code">{{ session.claims() | json }}</pre>
    </section>
  `,
})
export class Admin {
  protected readonly session = inject(SessionView);
}
