import type { CrossTabLock } from './cross-tab-lock';
import { type SharedEntry, readSharedEntry } from './shared-record-store';
import type { SharedSessionView } from './shared-session-view';
import type { TabChannel, TabMessage } from './tab-channel';

/** What the messages need of the tab's shared session (cross-tab.ts). */
export interface MessagedSession {
  /** The app was torn down: messages are ignored. */
  readonly destroyed: boolean;
  readonly view: SharedSessionView;
  /** Takes a newer state of another tab. */
  apply(entry: SharedEntry): void;
}

/**
 * The messages between this tab and the others: the states it announces, the states it receives
 * (applied only when newer than the one it holds), and `hello`, a new tab asking what the session is.
 */
export class CrossTabMessages {
  readonly #session: MessagedSession;
  readonly #lock: CrossTabLock;
  readonly #channel: TabChannel;

  /** `open` opens the channel with the function that receives its messages. */
  constructor(session: MessagedSession, lock: CrossTabLock, open: (receive: (data: unknown) => void) => TabChannel) {
    this.#session = session;
    this.#lock = lock;
    this.#channel = open((data) => this.#receive(data));
  }

  /** Tells the other tabs the state this tab holds now. */
  announce(entry: SharedEntry): void {
    this.#post({ type: 'state', ...entry });
  }

  /** Asks the live tabs what the session is (a new tab takes one only from them, not from disk). */
  hello(): void {
    this.#post({ type: 'hello', by: this.#session.view.id });
  }

  close(): void {
    this.#channel.close();
  }

  #receive(data: unknown): void {
    const session = this.#session;
    if (session.destroyed) return;
    const view = session.view;
    const { type, by } = Object(data) as { type?: unknown; by?: unknown };
    if (type === 'hello') {
      // A new tab asks what the session is: the state this tab holds, if it knows its place.
      if (typeof by === 'string' && view.known.version > 0 && view.holds(view.known)) this.announce(view.known);
      return;
    }
    const message = type === 'state' ? readSharedEntry(data) : null;
    if (!message) return;
    view.learn(message);
    // Stale, or a state this tab already holds.
    if (!view.isNewer(message)) return;
    // A refresh here is waiting for the lock: what another tab stored is read under it, where
    // the refresher decides; adopting now would make it refresh the adopted pair once more.
    if (message.record && this.#lock.busy) this.#lock.defer(message);
    else session.apply(message);
  }

  #post(message: TabMessage): void {
    try {
      this.#channel.send(message);
    } catch {
      // Closed while the app is torn down, or no storage: no messages.
    }
  }
}
