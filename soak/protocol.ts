/** What the soak app tells the soak driver (soak/soak.ts), and what the driver asks of it. Types only. */

/** Which kind of call a request is. `api` and `foreign` calls are the app's; the rest are ngx-jot's. */
export type SoakRequestKind = 'api' | 'foreign' | 'refresh' | 'login' | 'logout';

/** One thing that happened in a tab. `at` is `Date.now()` in the page (the same clock as the driver's). */
export type SoakEvent =
  /** The app made a request (once per request, before ngx-jot sees it). */
  | { readonly type: 'request'; readonly id: string; readonly kind: SoakRequestKind; readonly at: number }
  /** A request (or a replay of it) left for the network, with the token it carried. */
  | {
      readonly type: 'attempt';
      readonly id: string;
      readonly kind: SoakRequestKind;
      readonly at: number;
      /** `jti` and `exp` of the bearer token sent, or null when none was sent. */
      readonly jti: string | null;
      readonly exp: number | null;
    }
  /** The app's subscriber got an answer. */
  | { readonly type: 'answered'; readonly id: string; readonly status: number; readonly at: number }
  /** The app's subscriber got an error: an HTTP status (0 = network) or a JotError code. */
  | {
      readonly type: 'errored';
      readonly id: string;
      readonly status: number | null;
      readonly code: string | null;
      readonly at: number;
    }
  /** A JotAuth event (`login` with its source, `logout` with its reason, refresh start/success/failure). */
  | { readonly type: 'auth'; readonly event: string; readonly detail: string | null; readonly at: number }
  /** The router finished a navigation. */
  | { readonly type: 'navigated'; readonly url: string; readonly at: number };

/** The soak app's handle on `window.soak`, driven by the soak through `page.evaluate`. */
export interface SoakControl {
  /**
   * Starts the random traffic of this tab; request ids start with `idPrefix`; `pace` stretches the
   * pauses between requests (1 = about 3 requests a second).
   */
  start(options: {
    readonly idPrefix: string;
    readonly seed: number;
    readonly foreignUrl: string;
    readonly pace: number;
  }): void;
  /** Stops making new requests (those in flight go on). */
  stop(): void;
  /** Requests made and not yet answered or errored. */
  pending(): number;
  /** Signs in as the demo user; resolves to whether it worked. */
  login(): Promise<boolean>;
  /** Signs out (the user's logout). */
  logout(): void;
  isAuthenticated(): boolean;
  /** Sends the events not sent yet (they go in batches, a few times a second). */
  flush(): void;
}

/** Name of the page function the driver exposes to receive `SoakEvent`s. */
export const SOAK_REPORT = 'soakReport';

declare global {
  interface Window {
    /** The soak app's control, set when the app started. */
    soak?: SoakControl;
    /** The driver's receiver of events (exposed by Playwright). */
    soakReport?: (events: SoakEvent[]) => void;
    /** Delays of the page's pending timers (the driver's init script). */
    __liveTimers?: () => number[];
    /** Plays a background tab (hidden, throttled timers) or brings it back (the driver's init script). */
    __soakBackground?: (on: boolean) => void;
    /** The browser's own setInterval, not counted by the driver's timer tracker. */
    __soakUntrackedSetInterval?: typeof setInterval;
  }
}
