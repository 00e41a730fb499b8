import { HttpClient } from '@angular/common/http';
import { Component, inject, signal } from '@angular/core';
import { JotAuth } from 'ngx-jot';

/** The protected page: its marker text must never be in a server-rendered page. */
@Component({
  selector: 'app-account',
  template: `<h1 id="account">PROTECTED-ACCOUNT of {{ auth.claims()?.sub }}</h1>
    <button id="load" type="button" (click)="load()">Load</button>
    <p id="restricted">{{ restricted() }}</p>`,
})
export class Account {
  protected readonly auth = inject(JotAuth);
  private readonly http = inject(HttpClient);
  protected readonly restricted = signal('');

  protected load(): void {
    this.restricted.set('loading');
    this.http.get<{ name: string }>('/api/restricted').subscribe({
      next: (body) => this.restricted.set(`name=${body.name}`),
      error: (error: { status?: number }) => this.restricted.set(`error=${error.status}`),
    });
  }
}
