// The WIT `storage` import, in JavaScript: an ordered byte-key map with the
// exact semantics of `wit/host.wit` (and of `apply_commit` in
// guest/store/src/storage.rs, the reference the Rust backends share).
//
// Keys are held as "binary strings": one UTF-16 code unit per byte, 0..=255.
// JavaScript compares strings by code unit, so their order is the keys'
// bytewise order, and a `Map` gives O(1) point lookups. A sorted array of the
// same strings, searched by bisection, gives O(log n) range starts; inserting
// a new key moves the array's tail (one memmove, fast at the sizes a tab
// holds). No npm ordered map fits better: the maintained B-trees
// (sorted-btree) ship CommonJS only, which a page cannot import without a
// bundler.

/** A failed storage call, shaped as jco expects for `result<_, storage-error>`. */
export class StorageError extends Error {
  constructor(tag, reason) {
    super(reason === undefined ? tag : `${tag}: ${reason}`);
    this.name = 'StorageError';
    this.payload = reason === undefined ? { tag } : { tag, val: reason };
  }
}

/** Bytes to the string form used as a map key. */
export function toKey(bytes) {
  // One call for the usual short key; `apply` takes at most so many arguments.
  if (bytes.length <= 8192) return String.fromCharCode.apply(null, bytes);
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
  }
  return out;
}

/** The string form back to bytes. */
export function fromKey(key) {
  const bytes = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) bytes[i] = key.charCodeAt(i);
  return bytes;
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

function decodeCounter(bytes) {
  if (bytes === undefined) return 0n;
  if (bytes.length !== 8) {
    throw new StorageError('other', `counter of ${bytes.length} bytes, not 8`);
  }
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigInt64(0, true);
}

function encodeCounter(value) {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigInt64(0, value, true);
  return bytes;
}

function checkedAdd(current, delta) {
  const next = current + BigInt(delta);
  if (next < I64_MIN || next > I64_MAX) throw new StorageError('other', 'counter overflow');
  return next;
}

/**
 * The ordered map and the four storage calls. `onCommit(changes)` (if given)
 * sees every applied commit as `{ put: [key, value] } | { delete: key } |
 * { deleteRange: [start, end] }` records, keys as bytes, in commit order:
 * the persistence layer writes them through.
 */
export class OrderedStorage {
  #values = new Map();
  #sorted = [];
  #beforeCommit;
  #onCommit;
  #onNotify;

  /**
   * `beforeCommit()` may throw a `StorageError` to refuse every commit (the
   * persistence layer does once a write-through failed). `onNotify(ns)` is
   * called for each `notify` write of an applied commit (wait.js).
   */
  constructor({ beforeCommit, onCommit, onNotify } = {}) {
    this.#beforeCommit = beforeCommit;
    this.#onCommit = onCommit;
    this.#onNotify = onNotify;
  }

  /** Loads entries (`[keyBytes, valueBytes]`, any order) before first use. */
  load(entries) {
    for (const [key, value] of entries) this.#values.set(toKey(key), value);
    this.#sorted = [...this.#values.keys()].sort();
  }

  get size() {
    return this.#sorted.length;
  }

  /** Every entry, ascending (for tests and exports). */
  *entries() {
    for (const key of this.#sorted) yield [fromKey(key), this.#values.get(key)];
  }

  // --- the WIT interface (names as jco binds them) ---

  get(key) {
    return this.#values.get(toKey(key));
  }

  getMany(keys) {
    return keys.map((key) => this.#values.get(toKey(key)));
  }

  scan(start, end, limit) {
    const out = [];
    const stop = toKey(end);
    for (let i = this.#lowerBound(toKey(start)); i < this.#sorted.length && out.length < limit; i++) {
      const key = this.#sorted[i];
      if (key >= stop) break;
      out.push({ key: fromKey(key), value: this.#values.get(key) });
    }
    return out;
  }

  commit(checks, writes) {
    this.#beforeCommit?.();
    // Every check and every counter addition is verified before anything is
    // written, so a refused commit changes nothing.
    for (const { key, expected } of checks) {
      const current = this.#values.get(toKey(key));
      const holds = expected === undefined ? current === undefined
        : current !== undefined && sameBytes(current, expected);
      if (!holds) throw new StorageError('conflict');
    }
    this.#validateAdds(writes);
    const changes = [];
    const notified = [];
    for (const write of writes) {
      switch (write.tag) {
        case 'put':
          this.#put(toKey(write.val.key), write.val.value);
          changes.push({ put: [write.val.key, write.val.value] });
          break;
        case 'delete':
          this.#delete(toKey(write.val));
          changes.push({ delete: write.val });
          break;
        case 'delete-range':
          this.#deleteRange(toKey(write.val[0]), toKey(write.val[1]));
          changes.push({ deleteRange: write.val });
          break;
        case 'add': {
          const key = toKey(write.val[0]);
          const value = encodeCounter(checkedAdd(decodeCounter(this.#values.get(key)), write.val[1]));
          this.#put(key, value);
          changes.push({ put: [write.val[0], value] });
          break;
        }
        case 'notify':
          notified.push(write.val);
          break;
        default:
          throw new StorageError('other', `unknown write ${write.tag}`);
      }
    }
    if (changes.length > 0) this.#onCommit?.(changes);
    for (const namespace of notified) this.#onNotify?.(namespace);
  }

  /**
   * Every counter addition fits, seeing the writes before it in the same
   * commit as the writing pass will (as `validate_commit` in Rust), so that
   * nothing can fail halfway through writing.
   */
  #validateAdds(writes) {
    if (!writes.some((w) => w.tag === 'add')) return;
    const staged = new Map(); // key -> bytes | bigint | null (absent)
    const ranges = [];
    for (const write of writes) {
      switch (write.tag) {
        case 'put':
          staged.set(toKey(write.val.key), write.val.value);
          break;
        case 'delete':
          staged.set(toKey(write.val), null);
          break;
        case 'delete-range': {
          const [start, end] = [toKey(write.val[0]), toKey(write.val[1])];
          if (start < end) {
            for (const key of staged.keys()) if (start <= key && key < end) staged.set(key, null);
            ranges.push([start, end]);
          }
          break;
        }
        case 'add': {
          const key = toKey(write.val[0]);
          let current;
          if (staged.has(key)) {
            const value = staged.get(key);
            current = value === null ? 0n : typeof value === 'bigint' ? value : decodeCounter(value);
          } else if (ranges.some(([start, end]) => start <= key && key < end)) current = 0n;
          else current = decodeCounter(this.#values.get(key));
          staged.set(key, checkedAdd(current, write.val[1]));
          break;
        }
        default:
          break;
      }
    }
  }

  // --- the ordered map ---

  #lowerBound(key) {
    let lo = 0;
    let hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#sorted[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #put(key, value) {
    if (!this.#values.has(key)) this.#sorted.splice(this.#lowerBound(key), 0, key);
    this.#values.set(key, value);
  }

  #delete(key) {
    if (this.#values.delete(key)) this.#sorted.splice(this.#lowerBound(key), 1);
  }

  #deleteRange(start, end) {
    if (!(start < end)) return;
    const from = this.#lowerBound(start);
    const to = this.#lowerBound(end);
    for (const key of this.#sorted.slice(from, to)) this.#values.delete(key);
    this.#sorted.splice(from, to - from);
  }
}
