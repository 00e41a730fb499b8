import { DestroyRef, Injectable, inject, signal } from '@angular/core';

/** The time, as a signal that ticks a few times a second (for countdowns). */
@Injectable({ providedIn: 'root' })
export class Clock {
  private readonly nowSignal = signal(Date.now());
  /** Milliseconds since the epoch, updated every 250 ms. */
  readonly now = this.nowSignal.asReadonly();

  constructor() {
    const timer = setInterval(() => this.nowSignal.set(Date.now()), 250);
    inject(DestroyRef).onDestroy(() => clearInterval(timer));
  }
}
