/** The request counters behind `GET /__stats` and `DemoApi.stats`. State: the current counts. */

/** Request counters exposed by `GET /__stats` and `DemoApi.stats`. OPTIONS preflights are not counted. */
export interface DemoApiStats {
  /** Every POST /authenticate. */
  authenticate: number;
  /** Every POST /refresh. */
  refresh: number;
  /** Every POST /logout. */
  logout: number;
  /** Every GET /api/restricted (authorized or not). */
  restricted: number;
  /** GET /api/restricted answered 401. */
  restrictedUnauthorized: number;
  /** Every GET /api/echo. */
  echo: number;
  /** Every POST /api/expire-token (authorized or not). */
  expireToken: number;
  /** Refresh attempts with an already-rotated token (the family was revoked). */
  reuseDetected: number;
}

function zeroStats(): DemoApiStats {
  return {
    authenticate: 0,
    refresh: 0,
    logout: 0,
    restricted: 0,
    restrictedUnauthorized: 0,
    echo: 0,
    expireToken: 0,
    reuseDetected: 0,
  };
}

/** Counts requests; hands out copies, so a snapshot never changes under its reader. */
export class StatsCounter {
  #counts = zeroStats();

  count(counter: keyof DemoApiStats): void {
    this.#counts[counter]++;
  }

  snapshot(): DemoApiStats {
    return { ...this.#counts };
  }

  reset(): void {
    this.#counts = zeroStats();
  }
}
