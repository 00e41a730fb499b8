import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { JotAuth } from 'ngx-jot';

import { ApiStatus } from './api-status';
import { DEMO_CONFIG } from './demo-config';
import { SessionView } from './session';

@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink, RouterLinkActive],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <header class="topbar">
      <div class="topbar-inner">
        <a class="brand" routerLink="/">
          <span class="brand-mark" aria-hidden="true">j</span>
          <span>ngx-jot <span class="muted brand-suffix">demo</span></span>
        </a>
        <nav class="nav" aria-label="Main">
          <a routerLink="/" routerLinkActive="active" [routerLinkActiveOptions]="{ exact: true }">Home</a>
          <a routerLink="/restricted" routerLinkActive="active">Restricted</a>
          <a routerLink="/admin" routerLinkActive="active">Admin</a>
        </nav>
        <div class="session" data-testid="session-state">
          @if (session.signedIn()) {
            <span class="dot dot-on" aria-hidden="true"></span>
            <span class="session-who">{{ session.who() }}</span>
            @if (session.expiresIn(); as left) {
              <span class="chip" title="Access token lifetime left">{{ left }}s</span>
            } @else if (session.expiresIn() === 0) {
              <span class="chip chip-warn" title="Access token expired; the next request refreshes it">expired</span>
            }
            <button type="button" class="btn btn-ghost" data-testid="logout" (click)="logout()">Sign out</button>
          } @else {
            <span class="dot" aria-hidden="true"></span>
            <span class="muted">Signed out</span>
            <a class="btn btn-ghost" routerLink="/login">Sign in</a>
          }
        </div>
      </div>
      @if (session.warning(); as warning) {
        <div class="session-warning" role="alert" data-testid="session-warning">
          @if (warning.reason === 'idle') {
            <strong>Still there?</strong>
            <span
              >You will be signed out for inactivity in
              <span class="session-warning-left" data-testid="session-warning-left">{{ session.warningLeft() }}</span>
              s.</span
            >
            <button type="button" class="btn btn-ghost" data-testid="stay-signed-in" (click)="staySignedIn()">
              Stay signed in
            </button>
          } @else {
            <strong>Your session ends</strong>
            <span
              >in
              <span class="session-warning-left" data-testid="session-warning-left">{{ session.warningLeft() }}</span> s
              (its refresh token expires); sign in again to go on.</span
            >
          }
        </div>
      }
      @if (apiStatus.state() === 'down') {
        <div class="api-banner" role="status" data-testid="api-status">
          <strong>API unreachable — retrying</strong>
          <span class="api-banner-url">{{ apiStatus.probeUrl }}</span>
        </div>
      }
    </header>
    <main class="page">
      <router-outlet />
    </main>
    <footer class="footer muted">
      API: <code>{{ config.apiBaseUrl || 'same origin' }}</code> · storage <code>{{ config.storage }}</code> · cross-tab
      sync {{ config.crossTabSync ? 'on' : 'off' }} · refresh {{ config.refreshUrl ? 'on' : 'off' }} · idle logout
      {{ config.idleSeconds ? 'after ' + config.idleSeconds + ' s' : 'off' }}
    </footer>
  `,
})
export class App {
  protected readonly session = inject(SessionView);
  protected readonly config = inject(DEMO_CONFIG);
  protected readonly apiStatus = inject(ApiStatus);
  private readonly auth = inject(JotAuth);

  protected logout(): void {
    this.auth.logout({ redirect: true });
  }

  /** The click is input already; keepAlive() says so for pages whose activity ngx-jot cannot see. */
  protected staySignedIn(): void {
    this.auth.keepAlive();
  }
}
