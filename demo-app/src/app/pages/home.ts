import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink } from '@angular/router';

import { ApiStatus } from '../api-status';
import { DEMO_CONFIG, shortUrl } from '../demo-config';
import { SessionView } from '../session';

@Component({
  selector: 'app-home',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="hero">
      <h1>JWT sessions that keep up</h1>
      <p class="lead">
        This app talks to a JWT API through <strong>ngx-jot</strong>: the token goes only to the API, expired tokens are
        refreshed once while requests wait in a queue, and tabs share one session.
      </p>
      <div class="actions">
        @if (session.signedIn()) {
          <a class="btn btn-primary" routerLink="/restricted">Open the restricted page</a>
        } @else {
          <a class="btn btn-primary" routerLink="/login">Sign in</a>
          <a class="btn" routerLink="/restricted">Try the restricted page</a>
        }
      </div>
    </section>

    @if (apiStatus.state() === 'down') {
      <p class="error" role="alert" data-testid="api-unreachable">
        The API does not answer at <code>{{ apiStatus.probeUrl }}</code>. Start it (<code>npm start</code> runs the
        reference API), or fix <code>apiBaseUrl</code> in config.json; if it runs on another origin, it must allow CORS
        from <code>{{ location.origin }}</code>. Retrying every 2 seconds.
      </p>
    }

    <div class="grid">
      <section class="card">
        <h2>What to try</h2>
        <ol class="steps">
          <li>
            Open <a routerLink="/restricted">Restricted</a> signed out: the guard sends you to sign in, and back
            afterwards.
          </li>
          <li>
            On Restricted, press <strong>Expire the token now</strong>, then <strong>Fire burst</strong>: every request
            meets a 401, waits for ONE refresh and is replayed. The timeline shows each request as a bar.
          </li>
          <li>
            Open a second tab: a refresh in one serves both (its counter says so), and signing out in one signs out the
            other.
          </li>
          <li>Call the third-party API: it never sees the token.</li>
        </ol>
      </section>
      <section class="card">
        <h2>This run</h2>
        <dl class="facts">
          <dt>API</dt>
          <dd>
            <code>{{ config.apiBaseUrl || location.origin }}</code>
          </dd>
          <dt>Login</dt>
          <dd>
            <code>{{ short(config.loginUrl) }}</code>
          </dd>
          <dt>Refresh</dt>
          <dd>
            <code>{{ config.refreshUrl ? short(config.refreshUrl) : 'off' }}</code>
          </dd>
          <dt>Storage</dt>
          <dd>
            <code>{{ config.storage }}</code>, cross-tab sync {{ config.crossTabSync ? 'on' : 'off' }}
          </dd>
        </dl>
        <p class="muted small">
          Reference API users: <code>john.doe</code> / <code>foobar</code>, <code>admin</code> / <code>admin</code>.
        </p>
      </section>
    </div>
  `,
})
export class Home {
  protected readonly session = inject(SessionView);
  protected readonly apiStatus = inject(ApiStatus);
  protected readonly config = inject(DEMO_CONFIG);
  protected readonly location = location;
  protected readonly short = shortUrl;

  constructor() {
    // Before sign-in nothing else calls the API: ask once whether it answers at all.
    this.apiStatus.check();
  }
}
