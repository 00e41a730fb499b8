import type { JotRecord } from './storage';
import { type SharedEntry, newer, pairOf } from './shared-record-store';

/**
 * The tab's view of the origin's shared session: which state of the origin this tab holds, and
 * the clock that orders the states it makes after every state it has seen.
 */
export class SharedSessionView {
  /** This tab's random id: ties between equal versions are broken by it. */
  readonly id: string;
  /** The record this tab holds now (the session's). */
  readonly #held: () => JotRecord | null;
  /** Highest version seen: the next state this tab makes is ordered after it. */
  #clock = 0;
  /**
   * The state this tab holds, with its place in the origin's order; version 0 = unknown (a
   * restored pair, before it is confirmed).
   */
  known: SharedEntry = { version: 0, by: '', record: null };

  constructor(id: string, held: () => JotRecord | null) {
    this.id = id;
    this.#held = held;
  }

  /** The record this tab holds now. */
  held(): JotRecord | null {
    return this.#held();
  }

  /** A state this tab makes, ordered after every state seen. */
  own(record: JotRecord | null): SharedEntry {
    this.#clock = Math.max(this.#clock + 1, Date.now());
    return { version: this.#clock, by: this.id, record: record && pairOf(record) };
  }

  /** A state seen (received or read): the next one this tab makes comes after it. */
  learn(entry: SharedEntry): void {
    this.#clock = Math.max(this.#clock, entry.version);
  }

  /** `entry` is newer than the state this tab holds. */
  isNewer(entry: SharedEntry): boolean {
    return newer(entry, this.known);
  }

  /** This tab holds the pair of `entry` (or, for a logged-out entry, none). */
  holds(entry: SharedEntry): boolean {
    const mine = this.#held();
    const pair = entry.record;
    // The refresh token counts: consecutive access tokens can be byte-identical.
    return mine && pair
      ? mine.accessToken === pair.accessToken && (mine.refreshToken ?? null) === pair.refreshToken
      : !mine && !pair;
  }
}
