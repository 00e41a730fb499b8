/*
 * What each way a refresh can end does: the session taken (this tab's answer, or another tab's
 * newer pair), a failure that keeps or ends the session, a change of user. The refresher
 * (refresher.ts) owns the flight; this unit settles it.
 */
import { JotError } from './errors';
import type { JotRefreshSource } from './events';
import type { JotHost, JotRefreshSettler } from './feature-contracts';
import { isOtherSubject, type JotSession } from './jwt-session';
import { type RefreshCaller, failureMessage, refreshFailureCode } from './refresh-call';
import type { Flight, Outcome } from './refresh-flight';

/** What the outcomes need of the refresher that owns the flights. */
export interface FlightOwner {
  /** The refresh endpoint, for messages. */
  readonly url: string;
  /** `flight` is still the refresh of this session: no cancel() since it began. */
  isCurrent(flight: Flight): boolean;
  /** Forgets `flight` as the one in flight (before it settles). */
  detach(flight: Flight): void;
}

/** Settles the refresher's flights. */
export class RefreshOutcomes implements JotRefreshSettler {
  readonly #host: JotHost;
  readonly #owner: FlightOwner;
  readonly #caller: RefreshCaller;

  constructor(host: JotHost, owner: FlightOwner, caller: RefreshCaller) {
    this.#host = host;
    this.#owner = owner;
    this.#caller = caller;
  }

  /** What the refresh call's answer does to `flight`. */
  answers(flight: Flight) {
    return {
      next: (response: unknown) => this.succeed(flight, response),
      error: (error: unknown) => this.fail(flight, error),
    };
  }

  /** The call answered: adopt its pair, or fail with why it is unusable. */
  succeed(flight: Flight, response: unknown): void {
    if (!this.#owner.isCurrent(flight)) return;
    const host = this.#host;
    const before = host.session();
    const tokens = host.config.readTokens(response);
    const adopted = tokens
      ? host.adopt(tokens, { fresh: true, from: 'refresh' })
      : ngDevMode
        ? 'it holds no token; map its shape with readTokens'
        : '';
    if (typeof adopted === 'string') {
      const why = ngDevMode
        ? `the refresh from ${this.#owner.url} is unusable (${adopted}); the session has ended.`
        : '';
      this.fail(flight, new JotError('refresh-invalid', why));
      return;
    }
    // Of another user, that user's session began (the session emitted logout, then login).
    this.settleWith(flight, before, adopted, 'this-tab');
  }

  /**
   * The call (or the lock) failed. With cross-tab sync, a failure that ends the session first looks
   * under the lock for a newer pair another tab stored (`recheck()`), which gives up only without one.
   */
  fail(flight: Flight, error: unknown): void {
    if (!this.#owner.isCurrent(flight)) return;
    this.#caller.noteFailure(error);
    if (refreshFailureCode(error) === 'refresh-unavailable' || !this.#host.crossTab?.recheck(this, flight, error))
      this.giveUp(flight, error);
  }

  /** Ends `flight` with its failure; one that is not transient ends the session first. */
  giveUp(flight: Flight, error: unknown): void {
    if (!this.#owner.isCurrent(flight)) return;
    const code = refreshFailureCode(error);
    const jotError = new JotError(code, ngDevMode ? failureMessage(code, error, this.#owner.url) : '', error);
    this.#host.emit({ type: 'refresh-failure', error: jotError });
    // Detach first, so ending the session does not cancel this flight with a vaguer error.
    this.#owner.detach(flight);
    // End the session before the waiters hear of it, so what they see next is consistent.
    if (code !== 'refresh-unavailable') this.#host.end('refresh-failed');
    flight.settle({ error: jotError });
  }

  /** `flight` is still the refresh of this session (see JotRefreshSettler). */
  isCurrent(flight: Flight): boolean {
    return this.#owner.isCurrent(flight);
  }

  /** Ends `flight` with the session now held; the waiters of another user's session never get it. */
  settleWith(flight: Flight, before: JotSession | null, adopted: JotSession, source: JotRefreshSource): void {
    let outcome: Outcome = { session: adopted };
    if (before && isOtherSubject(before, adopted)) {
      // What waits belongs to the user before, and is never sent as the new one.
      const why = ngDevMode
        ? `the session changed to another user ("sub") during the refresh; requests of the user before are not replayed.`
        : '';
      outcome = { error: new JotError('subject-changed', why) };
      this.#host.emit({ type: 'refresh-failure', error: outcome.error });
    } else {
      this.#host.emit({ type: 'refresh-success', source });
    }
    this.#owner.detach(flight);
    flight.settle(outcome);
  }
}
