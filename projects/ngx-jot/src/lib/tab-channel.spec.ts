import { storageEventChannel } from './tab-channel';

describe('storageEventChannel (no BroadcastChannel)', () => {
  beforeEach(() => localStorage.clear());

  it('receives what another tab wrote to its key, and nothing else', () => {
    const received: unknown[] = [];
    const channel = storageEventChannel(window, (data) => received.push(data));
    const fire = (key: string, newValue: string | null) =>
      window.dispatchEvent(new StorageEvent('storage', { key, newValue }));
    fire('ngx-jot-sync', JSON.stringify({ type: 'hello', by: 'b' }));
    fire('other-key', JSON.stringify({ type: 'hello', by: 'c' }));
    fire('ngx-jot-sync', '{not json');
    fire('ngx-jot-sync', null);
    channel.close();
    fire('ngx-jot-sync', JSON.stringify({ type: 'hello', by: 'd' }));
    expect(received).toEqual([{ type: 'hello', by: 'b' }]);
  });

  it('makes every message a change, so a repeated message still fires in the other tabs', () => {
    const channel = storageEventChannel(window, () => undefined);
    channel.send({ type: 'hello', by: 'a' });
    const first = localStorage.getItem('ngx-jot-sync');
    channel.send({ type: 'hello', by: 'a' });
    expect(localStorage.getItem('ngx-jot-sync')).not.toBe(first);
    channel.close();
  });
});
