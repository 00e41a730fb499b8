import type { JotRestore } from './restore-contract';
import { badRecordField, type JotRecord, type JotStorage } from './storage';
import { toSession, type JotSession, type Timing } from './jwt-session';
import { warnOnce } from './errors';
import type { ResolvedJotConfig } from './config';

/** What restoring needs of the session. */
export interface RestoreHost {
  readonly storage: JotStorage;
  readonly config: ResolvedJotConfig;
  version: number;
  /** Applies the store's answer, at once or (a custom async store) once it comes. */
  readonly restore: JotRestore;
  timing(): Timing;
  readonly timer: { schedule(): void } | null;
  hold(session: JotSession, version: number): void;
  canRefresh(session: JotSession): boolean;
  end(reason: 'expired', options: { broadcast: boolean }): void;
}

/**
 * Start-up: holds the stored session, if any is usable. A synchronous store is read at once; an
 * async one (a custom store) is waited for by `host.restore` (JOT_RESTORE, from withStorage(), see
 * await-store.ts), and requests, guards and an app initializer wait with it. Called in the
 * session's injection context.
 */
export function restoreSession(host: RestoreHost): void {
  // (Only an async store's answer can come after a login, setTokens(), logout() or destroy: its
  // wait, await-store.ts, does not apply it then.)
  const apply = ({ record, remember }: { record: JotRecord | null; remember: boolean }) => {
    if (!record) return;
    // Every field is checked: a bad one (a `skew` of "abc") would make an expired token count as valid.
    const badField = badRecordField(record);
    const result = badField
      ? { problem: ngDevMode ? `its field "${badField}" has the wrong type or is out of range` : '' }
      : toSession(record, host.timing(), { fresh: false, skew: record.skew, remember });
    if ('problem' in result) {
      if (ngDevMode) warnOnce(host.config, `the stored token is malformed (${result.problem}); starting logged out.`);
      host.storage.write(null);
      return;
    }
    host.hold(result, record.version ?? host.version);
    // An expired token that cannot be refreshed is no session at all.
    if (Date.now() >= result.staleAt && !host.canRefresh(result)) {
      host.end('expired', { broadcast: false });
      return;
    }
    host.timer?.schedule();
  };
  let read: ReturnType<JotStorage['read']>;
  try {
    read = host.storage.read();
  } catch {
    return;
  }
  host.restore.start(read, apply, host);
}
