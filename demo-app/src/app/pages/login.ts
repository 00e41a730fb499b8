import { HttpErrorResponse } from '@angular/common/http';
import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  computed,
  effect,
  inject,
  input,
  signal,
  untracked,
} from '@angular/core';
import { Router } from '@angular/router';
import { JotAuth, JotError, safeReturnUrl } from 'ngx-jot';
import type { Subscription } from 'rxjs';

import { Activity } from '../activity';
import { DEMO_CONFIG } from '../demo-config';

const ENDED: Readonly<Record<string, string>> = {
  'refresh-failed': 'Your session ended: the API rejected the token refresh. Please sign in again.',
  'other-tab': 'You signed out in another tab.',
  expired: 'Your session expired. Please sign in again.',
  idle: 'You were signed out after a while without activity (in any tab). Please sign in again.',
};

@Component({
  selector: 'app-login',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="card narrow login">
      <h1>Sign in</h1>
      @if (target() !== '/') {
        <p class="muted">
          to continue to <code>{{ target() }}</code>
        </p>
      }
      @if (ended(); as message) {
        <p class="notice" data-testid="session-ended">{{ message }}</p>
      }
      <form (submit)="submit($event)" novalidate>
        <label class="field">
          <span>Username</span>
          <input
            data-testid="username"
            name="username"
            autocomplete="username"
            required
            [value]="username()"
            (input)="username.set(value($event))"
          />
        </label>
        <label class="field">
          <span>Password</span>
          <input
            data-testid="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            [value]="password()"
            (input)="password.set(value($event))"
          />
        </label>
        <label class="check">
          <input
            data-testid="remember"
            type="checkbox"
            [checked]="remember()"
            (change)="remember.set(checked($event))"
          />
          <span>Remember me <span class="muted">(local storage, survives closing the browser)</span></span>
        </label>
        @if (error()) {
          <p class="error" role="alert" data-testid="login-error">{{ error() }}</p>
        }
        <button class="btn btn-primary btn-block" type="submit" data-testid="login-submit" [disabled]="busy()">
          {{ busy() ? 'Signing in…' : 'Sign in' }}
        </button>
      </form>
      <p class="muted small hint">
        Reference API: <code>john.doe</code> / <code>foobar</code> or <code>admin</code> / <code>admin</code>.
      </p>
    </section>
  `,
})
export class Login {
  /** From the query string (`withComponentInputBinding`). */
  readonly returnUrl = input<string | undefined>();

  private readonly auth = inject(JotAuth);
  private readonly router = inject(Router);
  private readonly config = inject(DEMO_CONFIG);
  private readonly activity = inject(Activity);

  protected readonly username = signal('');
  protected readonly password = signal('');
  protected readonly remember = signal(false);
  protected readonly error = signal('');
  protected readonly busy = signal(false);
  protected readonly target = computed(() => safeReturnUrl(this.returnUrl() ?? null));
  protected readonly ended = computed(() => {
    const event = this.activity.endedSession();
    return event ? (ENDED[event.reason] ?? null) : null;
  });
  private pending: Subscription | null = null;

  constructor() {
    // Signed in from another tab while this page shows: go on as if signed in here.
    effect(() => {
      if (this.auth.isAuthenticated() && !untracked(this.busy)) untracked(() => this.proceed());
    });
    inject(DestroyRef).onDestroy(() => this.pending?.unsubscribe());
  }

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected checked(event: Event): boolean {
    return (event.target as HTMLInputElement).checked;
  }

  protected submit(event: Event): void {
    event.preventDefault();
    if (this.busy()) return;
    this.error.set('');
    this.busy.set(true);
    const credentials = { [this.config.usernameField]: this.username().trim(), password: this.password() };
    const loginUrl = new URL(this.config.loginUrl, document.baseURI).href;
    this.pending = this.auth.login(credentials, { remember: this.remember() }).subscribe({
      next: () => {
        this.activity.acknowledgeLogout();
        this.proceed();
      },
      error: (e: unknown) => {
        this.busy.set(false);
        this.password.set('');
        this.error.set(describe(e, loginUrl));
      },
    });
  }

  private proceed(): void {
    this.busy.set(true);
    void this.router.navigateByUrl(this.target(), { replaceUrl: true });
  }
}

function describe(e: unknown, loginUrl: string): string {
  if (e instanceof HttpErrorResponse) {
    if (e.status === 401 || e.status === 403) return 'Wrong username or password.';
    if (e.status === 400) return 'Enter a username and a password.';
    if (e.status === 0)
      return `Could not reach the API at ${loginUrl} (it is down, or does not allow CORS from this page).`;
    return `The API answered ${e.status}${e.statusText ? ` ${e.statusText}` : ''}.`;
  }
  if (e instanceof JotError) return e.message;
  return 'Sign-in failed.';
}
