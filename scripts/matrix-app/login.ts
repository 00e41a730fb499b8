import { Component, inject, signal } from '@angular/core';
import { ActivatedRoute, Router } from '@angular/router';
import { JotAuth, safeReturnUrl } from 'ngx-jot';

@Component({
  selector: 'app-login',
  template: `<h1 id="login">Login</h1>
    <form (submit)="submit($event, username.value, password.value)">
      <input #username id="username" name="username" autocomplete="username" />
      <input #password id="password" name="password" type="password" autocomplete="current-password" />
      <button id="sign-in" type="submit">Sign in</button>
    </form>
    <p id="login-error">{{ error() }}</p>`,
})
export class Login {
  private readonly auth = inject(JotAuth);
  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);
  protected readonly error = signal('');

  protected submit(event: Event, username: string, password: string): void {
    event.preventDefault();
    this.auth.login({ username, password }).subscribe({
      next: () => {
        const returnUrl = this.route.snapshot.queryParamMap.get('returnUrl');
        void this.router.navigateByUrl(safeReturnUrl(returnUrl));
      },
      error: () => this.error.set('Sign-in failed'),
    });
  }
}
