import { HttpClient, HttpContext, HttpContextToken, HttpErrorResponse } from '@angular/common/http';
import { DestroyRef, Injectable, inject, signal } from '@angular/core';
import { JOT_SKIP } from 'ngx-jot';

import { DEMO_CONFIG } from './demo-config';

/** Marks the reachability probe, which the request log leaves out. */
export const PROBE = new HttpContextToken<boolean>(() => false);

const RETRY_MS = 2_000;

/**
 * Is the API reachable? Every answer from it (any status) says yes; a network error says no,
 * and then a probe (GET restrictedUrl without a token: any HTTP answer will do) retries until the
 * API answers again.
 */
@Injectable({ providedIn: 'root' })
export class ApiStatus {
  private readonly http = inject(HttpClient);
  private readonly config = inject(DEMO_CONFIG);
  private readonly stateSignal = signal<'unknown' | 'up' | 'down'>('unknown');
  private retry: ReturnType<typeof setTimeout> | undefined;

  /** 'down' after a network error, until the API answers again. */
  readonly state = this.stateSignal.asReadonly();
  /** The URL the probe asks, named in the messages. */
  readonly probeUrl = new URL(this.config.restrictedUrl, document.baseURI).href;

  constructor() {
    inject(DestroyRef).onDestroy(() => clearTimeout(this.retry));
  }

  /** Probes once unless the state is known. */
  check(): void {
    if (this.stateSignal() === 'unknown') this.probe();
  }

  /** An answer (status > 0) or a network error (status 0) from the API. */
  report(status: number): void {
    if (status > 0) {
      clearTimeout(this.retry);
      this.retry = undefined;
      this.stateSignal.set('up');
      return;
    }
    this.stateSignal.set('down');
    this.retry ??= setTimeout(() => {
      this.retry = undefined;
      this.probe();
    }, RETRY_MS);
  }

  private probe(): void {
    const context = new HttpContext().set(JOT_SKIP, true).set(PROBE, true);
    this.http.get(this.config.restrictedUrl, { context }).subscribe({
      next: () => this.report(200),
      error: (e: unknown) => this.report(e instanceof HttpErrorResponse ? e.status : 0),
    });
  }
}
