/*
 * A minimal `indexedDB` for the DPoP specs: one database, object stores of values kept by
 * reference (as structured clone keeps a CryptoKey: the same non-extractable key), requests
 * answered asynchronously, a transaction completing after its requests. Not shipped.
 */
type Handler = (() => void) | null;

class FakeRequest<T = unknown> {
  result!: T;
  error: DOMException | null = null;
  onsuccess: Handler = null;
  onerror: Handler = null;
  onupgradeneeded: Handler = null;
}

const later = (fn: () => void) => void setTimeout(fn, 0);

export class FakeKeyIDB {
  readonly stores = new Map<string, Map<string, unknown>>();
  /** How many transactions ran (reads and writes). */
  transactions = 0;

  open(): FakeRequest<object> {
    const request = new FakeRequest<object>();
    later(() => {
      request.result = this.#database();
      request.onupgradeneeded?.();
      request.onsuccess?.();
    });
    return request;
  }

  #database(): object {
    return {
      createObjectStore: (name: string) => {
        if (!this.stores.has(name)) this.stores.set(name, new Map());
      },
      transaction: (name: string) => this.#transaction(name),
      close: () => undefined,
    };
  }

  #transaction(name: string) {
    this.transactions++;
    const store = this.stores.get(name)!;
    const transaction = {
      oncomplete: null as Handler,
      onerror: null as Handler,
      onabort: null as Handler,
      error: null,
    };
    const pending: Array<() => void> = [];
    const queue = <T>(run: () => T) => {
      const request = new FakeRequest<T>();
      pending.push(() => {
        request.result = run();
        request.onsuccess?.();
      });
      return request;
    };
    later(() => {
      while (pending.length) pending.shift()!();
      transaction.oncomplete?.();
    });
    return Object.assign(transaction, {
      objectStore: () => ({
        get: (key: string) => queue(() => store.get(key)),
        getAll: () => queue(() => [...store.values()]),
        put: (value: unknown, key: string) => queue(() => void store.set(key, value)),
        delete: (key: string) => queue(() => void store.delete(key)),
      }),
    });
  }
}
