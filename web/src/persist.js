// Write-through persistence of the ordered map to IndexedDB.
//
// The map lives in memory because the guest calls `storage` synchronously
// (jco without JSPI). Every commit's changes are queued in commit order and
// written by IndexedDB transactions, one at a time: the commits of one task
// share a transaction. `durable()` resolves when everything queued so far is
// on disk; the JavaScript API awaits it before it answers, so an answered
// write survives a reload. Keys are stored as binary IndexedDB keys, which
// IndexedDB orders bytewise, like the store. (Node has no IndexedDB; the
// tests install fake-indexeddb's globals.)

import { StorageError } from './storage.js';

const STORE = 'kv';

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function copyBuffer(bytes) {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

/** Why the stored data cannot be loaded: reported, never silently emptied. */
export class LoadError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'LoadError';
  }
}

export class IndexedDbPersistence {
  #db;
  #queue = [];
  #writing = null;
  #failure = null;
  /** How many commits have been recorded: a caller compares it to see whether a call wrote. */
  recorded = 0;

  constructor(db) {
    this.#db = db;
  }

  /**
   * Opens (or creates) the database and reads every entry.
   * Returns `{ persistence, entries }`; throws `LoadError` when the data
   * cannot be read or an entry is not what this module writes.
   */
  static async open(name, factory = globalThis.indexedDB) {
    if (!factory) throw new LoadError('IndexedDB is not available here');
    let db;
    try {
      const req = factory.open(name, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE);
      req.onblocked = () => {};
      db = await request(req);
    } catch (e) {
      throw new LoadError(`cannot open IndexedDB database "${name}": ${e?.message ?? e}`, { cause: e });
    }
    let keys;
    let values;
    try {
      const tx = db.transaction(STORE, 'readonly');
      const store = tx.objectStore(STORE);
      [keys, values] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
    } catch (e) {
      db.close();
      throw new LoadError(`cannot read IndexedDB database "${name}": ${e?.message ?? e}`, { cause: e });
    }
    const entries = [];
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const value = values[i];
      if (!(key instanceof ArrayBuffer) || !(value instanceof Uint8Array)) {
        db.close();
        throw new LoadError(
          `IndexedDB database "${name}" holds an entry nexus did not write (entry ${i + 1} of ${keys.length}); ` +
          'nothing was loaded and nothing was changed',
        );
      }
      entries.push([new Uint8Array(key), value]);
    }
    return { persistence: new IndexedDbPersistence(db), entries };
  }

  /** Refuses new commits once a write-through has failed (memory would run ahead of disk). */
  beforeCommit() {
    if (this.#failure) throw new StorageError('unavailable', `IndexedDB write failed: ${this.#failure.message}`);
  }

  /** Queues one commit's changes (see `OrderedStorage`'s `onCommit`). */
  record(changes) {
    this.recorded++;
    this.#queue.push(changes);
    if (!this.#writing) this.#writing = this.#drain();
  }

  /** Resolves when every change recorded so far is on disk; rejects if a write failed. */
  async durable() {
    while (this.#writing) await this.#writing;
    if (this.#failure) throw this.#failure;
  }

  close() {
    this.#db.close();
  }

  async #drain() {
    // Let the rest of this task's commits join the first transaction.
    await Promise.resolve();
    try {
      while (this.#queue.length > 0 && !this.#failure) {
        const batch = this.#queue;
        this.#queue = [];
        await this.#write(batch);
      }
    } catch (e) {
      this.#failure = e instanceof Error ? e : new Error(String(e));
    } finally {
      this.#writing = null;
    }
  }

  #write(batch) {
    return new Promise((resolve, reject) => {
      const tx = this.#db.transaction(STORE, 'readwrite');
      const store = tx.objectStore(STORE);
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
      tx.onerror = () => reject(tx.error ?? new Error('transaction failed'));
      for (const changes of batch) {
        for (const change of changes) {
          if (change.put) store.put(change.put[1], copyBuffer(change.put[0]));
          else if (change.delete) store.delete(copyBuffer(change.delete));
          else if (change.deleteRange) {
            const [start, end] = change.deleteRange;
            if (compareBytes(start, end) < 0) {
              store.delete(IDBKeyRange.bound(copyBuffer(start), copyBuffer(end), false, true));
            }
          }
        }
      }
    });
  }
}

function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

