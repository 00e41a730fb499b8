import { Observable, type Subscriber } from 'rxjs';

import type { JotError } from './errors';
import type { JotSession } from './jwt-session';

/** How a refresh ended: a session, an error, or neither (the app was torn down). */
export interface Outcome {
  session?: JotSession;
  error?: JotError;
}

/**
 * One refresh's result, shared by every waiter. Waiters live in a Set, so joining, leaving and
 * settling cost O(1) each: an rxjs Subject removes observers by array search, which made settling
 * 10,000 waiters quadratic (bench/RESULTS.md).
 */
export class Flight {
  /** The session epoch it belongs to: a cancel() since (logout, login, setTokens) makes it void. */
  readonly epoch: number;
  readonly #waiters = new Set<Subscriber<JotSession>>();
  #outcome: Outcome | null = null;
  readonly result = new Observable<JotSession>((waiter) => {
    if (this.#outcome) {
      deliver(waiter, this.#outcome);
      return;
    }
    this.#waiters.add(waiter);
    return () => this.#waiters.delete(waiter);
  });

  constructor(epoch: number) {
    this.epoch = epoch;
  }

  settle(outcome: Outcome): void {
    if (this.#outcome) return;
    this.#outcome = outcome;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) deliver(waiter, outcome);
  }
}

function deliver(waiter: Subscriber<JotSession>, { session, error }: Outcome): void {
  if (error) {
    waiter.error(error);
    return;
  }
  if (session) waiter.next(session);
  waiter.complete();
}

/** Made by `withRefresh()` for the session, in its injection context. */
