import { SharedStoreAccess, localStorageStore, readSharedEntry, type SharedEntry } from './shared-record-store';

const entry = (version: number, by: string, accessToken: string | null): SharedEntry => ({
  version,
  by,
  record: accessToken ? { accessToken, refreshToken: `${accessToken}-r` } : null,
});

describe('the shared record store over localStorage', () => {
  beforeEach(() => localStorage.clear());
  const access = () => new SharedStoreAccess(localStorageStore(window), (fn) => fn());

  it('keeps a newer entry: an older write does not replace it', async () => {
    const store = access();
    await store.write(entry(20, 'b', 'new'));
    await store.write(entry(10, 'a', 'old'));
    expect(await store.read()).toEqual(entry(20, 'b', 'new'));
  });

  it('with `since`, stores nothing over another tab’s later state, and answers with it', async () => {
    const store = access();
    const since = entry(10, 'a', 'before');
    await store.write(entry(15, 'b', 'login-elsewhere'));
    expect(await store.write(entry(16, 'a', 'refreshed'), since)).toEqual(entry(15, 'b', 'login-elsewhere'));
    expect(await store.read()).toEqual(entry(15, 'b', 'login-elsewhere'));
  });

  it('reads an unreadable or badly typed entry as none', async () => {
    localStorage.setItem('ngx-jot-shared', '{not json');
    expect(await access().read()).toBeNull();
    localStorage.setItem(
      'ngx-jot-shared',
      JSON.stringify({ version: 1, by: 'x', record: { accessToken: 'a', skew: 'abc' } }),
    );
    expect(await access().read()).toBeNull();
  });
});

describe('readSharedEntry', () => {
  it.each([
    ['a version that is not a safe integer', { version: 2 ** 53, by: 'x', record: null }],
    ['no writer id', { version: 1, record: null }],
    ['a record without an access token', { version: 1, by: 'x', record: { refreshToken: 'r' } }],
  ])('refuses %s', (_what, value) => {
    expect(readSharedEntry(value)).toBeNull();
  });

  it('keeps only the fields that travel', () => {
    const read = readSharedEntry({ version: 1, by: 'x', record: { accessToken: 'a', refreshToken: 'r', extra: 1 } });
    expect(read).toEqual({ version: 1, by: 'x', record: { accessToken: 'a', refreshToken: 'r' } });
  });
});
