/*
 * Test fakes of what the tabs of one origin share — localStorage (with `storage` events),
 * Web Locks, IndexedDB, BroadcastChannel — and of what each tab has alone (window, document,
 * sessionStorage), so several tabs live in one Jest process. Everything is delivered later
 * (`setTimeout(0)`), as a browser does, so tests drive it with Jest's fake timers. Not shipped.
 */

type Listener = (event: unknown) => void;

/** What happened to the origin's shared locks and IndexedDB, in order (for "committed before released"). */
export type TimelineEntry =
  { what: 'grant' | 'release'; lock: string } | { what: 'commit'; key: string; value: unknown };

/** Runs `fn` as a later task (a message, an IndexedDB event, a granted lock). */
const later = (fn: () => void) => void setTimeout(fn, 0);
const clone = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T));

/** A Web Storage area; `onChange` tells the origin to fire `storage` events in the other tabs. */
export class FakeStorage {
  private readonly items = new Map<string, string>();

  constructor(
    private readonly onChange?: (
      key: string | null,
      oldValue: string | null,
      newValue: string | null,
      from: FakeTab | null,
    ) => void,
  ) {}

  get length(): number {
    return this.items.size;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string, from: FakeTab | null = null): void {
    const old = this.getItem(key);
    this.items.set(key, String(value));
    if (old !== String(value)) this.onChange?.(key, old, String(value), from);
  }
  removeItem(key: string, from: FakeTab | null = null): void {
    const old = this.getItem(key);
    this.items.delete(key);
    if (old !== null) this.onChange?.(key, old, null, from);
  }
  clear(): void {
    this.items.clear();
  }
  /** The contents, to copy into a duplicated tab. */
  snapshot(): Record<string, string> {
    return Object.fromEntries(this.items);
  }
}

/** `navigator.locks`, shared by the origin's tabs: exclusive locks granted in request order. */
export class FakeLockManager {
  private readonly queues = new Map<string, Array<() => void>>();
  private readonly held = new Set<string>();
  /** How often each lock was granted. */
  readonly grants = new Map<string, number>();

  constructor(private readonly timeline: TimelineEntry[] = []) {}

  request<T>(name: string, optionsOrCallback: unknown, maybeCallback?: (lock: unknown) => T): Promise<unknown> {
    const callback = (typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback) as (
      lock: unknown,
    ) => T;
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(name) ?? [];
      this.queues.set(name, queue);
      queue.push(() => {
        this.grants.set(name, (this.grants.get(name) ?? 0) + 1);
        this.timeline.push({ what: 'grant', lock: name });
        Promise.resolve()
          .then(() => callback({ name, mode: 'exclusive' }))
          .then(resolve, reject)
          .finally(() => {
            this.timeline.push({ what: 'release', lock: name });
            this.held.delete(name);
            this.pump(name);
          });
      });
      this.pump(name);
    });
  }

  isHeld(name: string): boolean {
    return this.held.has(name);
  }

  private pump(name: string): void {
    const queue = this.queues.get(name);
    if (this.held.has(name) || !queue?.length) return;
    const next = queue.shift()!;
    this.held.add(name);
    later(next);
  }
}

/** The BroadcastChannels of an origin; `log` records who posted what. */
export class FakeChannelHub {
  readonly log: Array<{ from: string; data: unknown }> = [];
  private readonly open = new Set<{ name: string; tab: FakeTab; deliver(data: unknown): void }>();

  /** A `BroadcastChannel` constructor for one tab. */
  classFor(tab: FakeTab): typeof BroadcastChannel {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the class below has its own `this`; `hub` is the fake browser.
    const hub = this;
    class FakeBroadcastChannel {
      onmessage: ((event: { data: unknown }) => void) | null = null;
      private readonly listeners = new Set<Listener>();
      private readonly member: { name: string; tab: FakeTab; deliver(data: unknown): void };
      private closed = false;

      constructor(readonly name: string) {
        this.member = { name, tab, deliver: (data: unknown) => this.deliver(data) };
        hub.open.add(this.member);
      }
      postMessage(data: unknown): void {
        if (this.closed) throw new Error('InvalidStateError: channel closed');
        hub.log.push({ from: tab.name, data: clone(data) });
        for (const other of hub.open) {
          if (other !== this.member && other.name === this.name && !other.tab.deaf) {
            const copy = clone(data);
            later(() => hub.open.has(other) && other.deliver(copy));
          }
        }
      }
      addEventListener(type: string, listener: Listener): void {
        if (type === 'message') this.listeners.add(listener);
      }
      removeEventListener(type: string, listener: Listener): void {
        this.listeners.delete(listener);
      }
      close(): void {
        this.closed = true;
        hub.open.delete(this.member);
      }
      private deliver(data: unknown): void {
        const event = { data };
        this.onmessage?.(event);
        for (const l of this.listeners) l(event);
      }
    }
    return FakeBroadcastChannel as unknown as typeof BroadcastChannel;
  }

  /** Messages posted by `tab` (by name) since `since` (an index into `log`). */
  postsBy(tab: string, since = 0): unknown[] {
    return this.log
      .slice(since)
      .filter((m) => m.from === tab)
      .map((m) => m.data);
  }
}

// ---- IndexedDB: the surface ngx-jot uses (open, one object store, get/put in transactions) ----

type Handler = ((event: unknown) => void) | null;

class FakeRequest<T = unknown> {
  result!: T;
  error: unknown = null;
  onsuccess: Handler = null;
  onerror: Handler = null;
  onupgradeneeded: Handler = null;
  onblocked: Handler = null;
}

interface StoredDb {
  version: number;
  stores: Map<string, Map<string, unknown>>;
  /** Transactions run one at a time, in creation order (what IndexedDB guarantees for overlapping scopes). */
  queue: Promise<void>;
}

/** `window.indexedDB`, shared by the origin's tabs. A write is visible to others once its transaction completed. */
export class FakeIDBFactory {
  readonly databases = new Map<string, StoredDb>();
  /** Makes the next `open()` fail (a browser that refuses storage). */
  failOpen = false;
  /** How long a transaction takes (the disk), in ms. */
  latencyMs = 3;
  /** Transactions never finish (a database blocked by another connection). */
  hang = false;

  constructor(readonly timeline: TimelineEntry[] = []) {}

  open(name: string, version = 1): FakeRequest<FakeIDBDatabase> {
    const request = new FakeRequest<FakeIDBDatabase>();
    later(() => {
      if (this.failOpen) {
        request.error = new Error('UnknownError: open refused');
        request.onerror?.({});
        return;
      }
      let db = this.databases.get(name);
      const upgrade = !db || version > db.version;
      if (!db) {
        db = { version, stores: new Map(), queue: Promise.resolve() };
        this.databases.set(name, db);
      }
      request.result = new FakeIDBDatabase(this, db);
      if (upgrade) {
        db.version = version;
        request.onupgradeneeded?.({});
      }
      request.onsuccess?.({});
    });
    return request;
  }

  /** The committed value under `key`, for assertions. */
  peek(dbName: string, store: string, key: string): unknown {
    return clone(this.databases.get(dbName)?.stores.get(store)?.get(key));
  }
}

class FakeIDBDatabase {
  onversionchange: Handler = null;
  private closed = false;

  constructor(
    private readonly factory: FakeIDBFactory,
    private readonly db: StoredDb,
  ) {}

  get objectStoreNames() {
    return { contains: (name: string) => this.db.stores.has(name) };
  }
  createObjectStore(name: string): void {
    this.db.stores.set(name, new Map());
  }
  transaction(store: string, mode: 'readonly' | 'readwrite' = 'readonly'): FakeIDBTransaction {
    if (this.closed) throw new Error('InvalidStateError: connection closed');
    const data = this.db.stores.get(store);
    if (!data) throw new Error(`NotFoundError: no object store ${store}`);
    const tx = new FakeIDBTransaction(store, mode, data, this.factory.latencyMs, (key, value) =>
      this.factory.timeline.push({ what: 'commit', key, value: clone(value) }),
    );
    if (!this.factory.hang) this.db.queue = this.db.queue.then(() => tx.run());
    return tx;
  }
  close(): void {
    this.closed = true;
  }
}

class FakeIDBTransaction {
  oncomplete: Handler = null;
  onerror: Handler = null;
  onabort: Handler = null;
  error: unknown = null;
  private readonly ops: Array<() => void> = [];
  private finished = false;
  private staged: Map<string, unknown> | null = null;

  constructor(
    private readonly storeName: string,
    private readonly mode: 'readonly' | 'readwrite',
    private readonly data: Map<string, unknown>,
    private readonly latencyMs: number,
    private readonly onCommit: (key: string, value: unknown) => void,
  ) {}

  objectStore(name: string) {
    if (name !== this.storeName) throw new Error(`NotFoundError: ${name} is not in this transaction`);
    return {
      get: (key: string) => this.queue((req) => (req.result = clone(this.view().get(key)))),
      put: (value: unknown, key: string) => {
        if (this.mode !== 'readwrite') throw new Error('ReadOnlyError');
        return this.queue((req) => {
          this.staging().set(key, clone(value));
          req.result = key;
        });
      },
    };
  }

  /** Runs the requests in order (callbacks may add more), then commits and completes. */
  run(): Promise<void> {
    return new Promise((resolve) => {
      later(() => {
        while (this.ops.length) this.ops.shift()!();
        this.finished = true;
        // Committed (visible to other transactions) only after the disk took its time.
        setTimeout(() => {
          for (const [k, v] of this.staged ?? []) {
            this.data.set(k, v);
            this.onCommit(k, v);
          }
          this.oncomplete?.({});
          resolve();
        }, this.latencyMs);
      });
    });
  }

  private queue(apply: (req: FakeRequest) => void): FakeRequest {
    if (this.finished) throw new Error('TransactionInactiveError');
    const req = new FakeRequest();
    this.ops.push(() => {
      apply(req);
      req.onsuccess?.({});
    });
    return req;
  }

  private view(): Map<string, unknown> {
    return this.staged ? new Map([...this.data, ...this.staged]) : this.data;
  }

  private staging(): Map<string, unknown> {
    return (this.staged ??= new Map());
  }
}

// ---- origin and tabs ----

export interface FakeTabOptions {
  /** Leave out `BroadcastChannel` (storage events carry messages then). */
  broadcastChannel?: boolean;
  /** Leave out `navigator.locks` (the localStorage lease then). */
  locks?: boolean;
  /** Leave out `indexedDB` (localStorage holds the shared record then). */
  indexedDB?: boolean;
  /** The tab's sessionStorage to start with (a duplicated tab copies its twin's). */
  sessionStorage?: Record<string, string>;
}

/** An origin of a browser: what its tabs share. */
export class FakeOrigin {
  readonly url = 'http://localhost/';
  readonly tabs = new Set<FakeTab>();
  readonly timeline: TimelineEntry[] = [];
  readonly localStorage = new FakeStorage((key, oldValue, newValue, from) =>
    this.storageEvent(key, oldValue, newValue, from),
  );
  readonly locks = new FakeLockManager(this.timeline);
  readonly indexedDB = new FakeIDBFactory(this.timeline);
  readonly channels = new FakeChannelHub();
  private count = 0;

  openTab(options: FakeTabOptions = {}): FakeTab {
    const tab = new FakeTab(this, `tab${++this.count}`, options);
    this.tabs.add(tab);
    return tab;
  }

  /** "Duplicate tab": a new tab with a copy of `tab`'s sessionStorage. */
  duplicate(tab: FakeTab, options: FakeTabOptions = {}): FakeTab {
    return this.openTab({ ...tab.options, ...options, sessionStorage: tab.sessionStorage.snapshot() });
  }

  private storageEvent(
    key: string | null,
    oldValue: string | null,
    newValue: string | null,
    from: FakeTab | null,
  ): void {
    for (const tab of this.tabs) {
      if (tab !== from && !tab.deaf) {
        later(
          () =>
            this.tabs.has(tab) &&
            tab.window.dispatch('storage', { key, oldValue, newValue, storageArea: this.localStorage }),
        );
      }
    }
  }
}

/** One tab: its window (with the origin's shared APIs) and document. */
export class FakeTab {
  readonly sessionStorage: FakeStorage;
  readonly window: FakeWindow;
  readonly document: Document;
  /** Drops every message and storage event meant for this tab (a busy or throttled tab). */
  deaf = false;

  constructor(
    readonly origin: FakeOrigin,
    readonly name: string,
    readonly options: FakeTabOptions,
  ) {
    this.sessionStorage = new FakeStorage();
    for (const [k, v] of Object.entries(options.sessionStorage ?? {})) this.sessionStorage.setItem(k, v);
    this.window = new FakeWindow(this);
    const listeners = new Listeners();
    this.document = {
      defaultView: this.window,
      baseURI: origin.url,
      location: { href: origin.url, origin: origin.url.replace(/\/$/, '') },
      cookie: '',
      visibilityState: 'visible',
      addEventListener: (type: string, l: Listener) => listeners.add(type, l),
      removeEventListener: (type: string, l: Listener) => listeners.remove(type, l),
      dispatchEvent: (event: { type: string }) => (listeners.dispatch(event.type, event), true),
    } as unknown as Document;
  }

  close(): void {
    this.origin.tabs.delete(this);
  }
}

class Listeners {
  private readonly map = new Map<string, Set<Listener>>();
  add(type: string, l: Listener): void {
    const set = this.map.get(type) ?? new Set();
    set.add(l);
    this.map.set(type, set);
  }
  remove(type: string, l: Listener): void {
    this.map.get(type)?.delete(l);
  }
  dispatch(type: string, event: unknown): void {
    for (const l of this.map.get(type) ?? []) l(event);
  }
}

/** A tab's `window`: the shared APIs, with the tab's own sessionStorage and listeners. */
export class FakeWindow {
  readonly BroadcastChannel?: typeof BroadcastChannel;
  readonly navigator: { locks?: FakeLockManager; userAgent: string };
  readonly indexedDB?: FakeIDBFactory;
  readonly localStorage: Storage;
  readonly sessionStorage: Storage;
  readonly location: { href: string };
  private readonly listeners = new Listeners();

  constructor(tab: FakeTab) {
    const { origin, options } = tab;
    if (options.broadcastChannel !== false) this.BroadcastChannel = origin.channels.classFor(tab);
    this.navigator = { userAgent: 'fake', ...(options.locks !== false ? { locks: origin.locks } : {}) };
    if (options.indexedDB !== false) this.indexedDB = origin.indexedDB;
    // Writes through this tab's localStorage fire `storage` events in the other tabs only.
    const shared = origin.localStorage;
    this.localStorage = {
      get length() {
        return shared.length;
      },
      key: (i: number) => shared.key(i),
      getItem: (k: string) => shared.getItem(k),
      setItem: (k: string, v: string) => shared.setItem(k, v, tab),
      removeItem: (k: string) => shared.removeItem(k, tab),
      clear: () => shared.clear(),
    } as Storage;
    this.sessionStorage = tab.sessionStorage as unknown as Storage;
    this.location = { href: origin.url };
  }

  addEventListener(type: string, listener: Listener): void {
    this.listeners.add(type, listener);
  }
  removeEventListener(type: string, listener: Listener): void {
    this.listeners.remove(type, listener);
  }
  dispatch(type: string, event: unknown): void {
    this.listeners.dispatch(type, event);
  }
}
