/*
 * The message channel between the tabs of an origin: a BroadcastChannel where present, `storage`
 * events of one localStorage key otherwise. Messages are not reliable around the refresh lock;
 * the shared record store is what a tab trusts under it.
 */
import { SHARED_NAME, type SharedEntry, save } from './shared-record-store';

/** localStorage key of the messages without BroadcastChannel. */
const MESSAGE_KEY = 'ngx-jot-sync';

/** A state another tab holds now, or a new tab asking what the session is. */
export type TabMessage = ({ type: 'state' } & SharedEntry) | { type: 'hello'; by: string };

/** Sends a message (may throw: closed, no storage), and stops listening. */
export interface TabChannel {
  send(message: TabMessage): void;
  close(): void;
}

export function broadcastChannel(Channel: typeof BroadcastChannel, receive: (data: unknown) => void): TabChannel {
  const channel = new Channel(SHARED_NAME);
  channel.onmessage = (event: MessageEvent) => receive(event.data);
  return { send: (message) => channel.postMessage(message), close: () => channel.close() };
}

/** Without BroadcastChannel: `storage` events of one key, which fire in the other tabs only. */
export function storageEventChannel(win: Window, receive: (data: unknown) => void): TabChannel {
  const listener = (event: StorageEvent) => {
    if (event.key !== MESSAGE_KEY || !event.newValue) return;
    try {
      receive(JSON.parse(event.newValue));
    } catch {
      // Not ours.
    }
  };
  win.addEventListener('storage', listener);
  let sent = 0;
  return {
    // The counter makes each message a change, so the event fires even for a repeat.
    send: (message) => save(win, MESSAGE_KEY, { ...message, n: `${Date.now()}-${sent++}` }),
    close: () => win.removeEventListener('storage', listener),
  };
}
