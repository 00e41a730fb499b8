import type { JotLogoutReason } from './config';

/** Where a refresh's token came from: this tab's own refresh call, or another tab's (shared under the lock or by message). */
export type JotRefreshSource = 'this-tab' | 'other-tab';

/** Why and when the session will end; `JotAuth.sessionWarning` holds it from `warnSeconds` before. */
export interface JotSessionWarning {
  /** `'idle'`: no user activity in any tab; `'expired'`: the session's absolute end (its refresh token's). */
  readonly reason: 'idle' | 'expired';
  /** When the session will end, on this device's clock. */
  readonly endsAt: Date;
}

/** What `JotAuth.events` emits. */
export type JotEvent =
  | {
      /** A session began. */
      readonly type: 'login';
      /** Who began it: `login()`, `setTokens()`, another tab, or a refresh (an HttpOnly refresh cookie, no token held). */
      readonly source: 'user' | 'set-tokens' | 'other-tab' | 'refresh';
    }
  | {
      /** The session ended. */
      readonly type: 'logout';
      /** Why it ended. */
      readonly reason: JotLogoutReason;
    }
  | {
      /** A session warning began (see `JotAuth.sessionWarning`): the session will end at `endsAt`. */
      readonly type: 'session-warning';
      /** `'idle'` (no user activity) or `'expired'` (the session's absolute end). */
      readonly reason: JotSessionWarning['reason'];
      /** When the session will end. */
      readonly endsAt: Date;
    }
  | {
      /** A refresh started: this tab waits for the refresh lock (with cross-tab sync) or sends the call. */
      readonly type: 'refresh-start';
    }
  | {
      /** A refresh brought a new token. */
      readonly type: 'refresh-success';
      /**
       * `'this-tab'`: this tab's refresh call answered; `'other-tab'`: no call was sent, this tab
       * took the token another tab had just refreshed (cross-tab sync).
       */
      readonly source: JotRefreshSource;
    }
  | {
      /** A refresh failed. */
      readonly type: 'refresh-failure';
      /**
       * What it failed with: a `JotError` whose code tells why (`'refresh-unavailable'`,
       * `'refresh-rejected'`, `'refresh-invalid'`, `'subject-changed'`).
       */
      readonly error: unknown;
    };
