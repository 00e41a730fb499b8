/** Options of `ng add ngx-jot`; mirrors `schema.json`. */
export interface Schema {
  /** The application to set up; defaults to the workspace's default (or only) application. */
  project?: string;
  /** Where `JotAuth.login()` POSTs the credentials. */
  loginUrl?: string;
  /** Refresh endpoint; adds `withRefresh({ url })` when given. */
  refreshUrl?: string;
  /** Token storage; adds `withStorage(...)` when given (library default: `'session'`). */
  storage?: 'session' | 'local' | 'memory';
}
