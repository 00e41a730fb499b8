import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink } from '@angular/router';

import { SessionView } from '../session';

@Component({
  selector: 'app-forbidden',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="card narrow" data-testid="forbidden">
      <h1>Not for this account</h1>
      <p>
        @if (session.signedIn()) {
          You are signed in as <strong>{{ session.who() }}</strong>, but the admin page needs the
          <code>admin</code> role in the token's <code>roles</code> claim.
        } @else {
          The admin page needs a signed-in user with the <code>admin</code> role.
        }
      </p>
      <p class="muted small">Sign in as <code>admin</code> / <code>admin</code> on the reference API to see it.</p>
      <a class="btn" routerLink="/">Back home</a>
    </section>
  `,
})
export class Forbidden {
  protected readonly session = inject(SessionView);
}
