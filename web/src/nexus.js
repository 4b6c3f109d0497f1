// The JavaScript API: nexus in a page (or in Node), over the same guest
// component every other host runs.
//
//   const nexus = await Nexus.open({ persist: 'indexeddb' });
//   const app = nexus.namespace('app1');
//   await app.set('user:1', 'alice', { ttlMs: 60_000 });
//   (await app.get('user:1')).text;               // 'alice'
//   await app.setMany({ a: '1', b: '2' });        // many keys, one call into the store
//   (await app.getMany(['a', 'b', 'c'])).map((e) => e?.text);   // ['1', '2', undefined]
//
// Every method is async and answers after the write is durable (IndexedDB
// has it); every refusal is a `NexusError` with the store's error code.

import { systemClock } from './clock.js';
import { Component, nexusError } from './component.js';
import { NexusError } from './errors.js';
import { holdStoreLock } from './lock.js';
import { IndexedDbPersistence, LoadError } from './persist.js';
import { OrderedStorage } from './storage.js';
import { Performance, isError } from './performance.js';
import { HOST_HEADERS, WAIT_HEADER, Waiters, hold, parseWaitHint } from './wait.js';

export { NexusError } from './errors.js';
export { ManualClock, systemClock } from './clock.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Keys and values are bytes; strings are UTF-8. */
function bytes(value) {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return encoder.encode(value);
  throw new NexusError('invalid-argument', 'keys and values are strings or Uint8Arrays');
}

/** u64 milliseconds or counts to the BigInt jco wants (undefined stays undefined). */
function u64(value, what) {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'bigint') return value;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new NexusError('invalid-argument', `${what} must be a non-negative integer`);
  }
  return BigInt(value);
}

/** The reason of an error answer (`{"detail": …}`), or its text. */
function detailOf(text) {
  try {
    const { detail } = JSON.parse(text);
    return typeof detail === 'string' ? detail : JSON.stringify(detail);
  } catch {
    return text;
  }
}

/** A boolean setting, refused as a typed error when it is anything else. */
function flag(value, what) {
  if (typeof value !== 'boolean') throw new NexusError('invalid-argument', `${what} must be true or false`);
  return value;
}

/**
 * Results as plain JavaScript: times and counts become numbers (they fit);
 * versions stay BigInts, because they use all 64 bits.
 */
function plain(value) {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Uint8Array || value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) out[k] = k === 'version' ? v : plain(v);
  return out;
}

/**
 * A live value, with its bytes decoded on demand. A class, not an object
 * literal with a getter: V8 builds such a literal with a fresh closure and
 * accessor pair each time (~500 ns in Node 20, against ~20 ns for an
 * instance), a third of what the JS API added to a `getMany` of 100 keys.
 */
class LiveEntry {
  constructor(key, entry) {
    this.key = key;
    this.value = entry.value;
    this.version = entry.version;
    this.expiresAt = entry.expiresAt === undefined ? null : Number(entry.expiresAt);
  }

  /** The value decoded as UTF-8. */
  get text() {
    return decoder.decode(this.value);
  }
}

function liveEntry(key, entry) {
  return entry ? new LiveEntry(key, entry) : null;
}

/** Where a watch is: each entry's version, `-` for none (nexus_store::Watched::position). */
function position(entries) {
  return entries.map((e) => (e ? e.version.toString(16) : '-')).join('.');
}

/**
 * The component's `kv.namespace-handle`s, per instance (its exports object:
 * a trap replaces both) and per name. A handle passes the name into the
 * component once, where a `kv` function takes it on every call, which
 * through jco's glue is a sizeable part of a point read's cost
 * (docs/benchmarks.md). A namespace object is cheap and often made per
 * request (`nexus.namespace(name).get(key)`), so handles live here rather
 * than on it; past MAX_HANDLES names the map starts again, and the
 * dropped handles are released when collected.
 */
const handles = new WeakMap();
const MAX_HANDLES = 1024;

/** `exports`' handle of namespace `name`, opened on first use (a bad name throws the typed error). */
function namespaceHandle(exports, name) {
  let byName = handles.get(exports);
  if (byName === undefined || byName.size >= MAX_HANDLES) {
    byName = new Map();
    handles.set(exports, byName);
  }
  let handle = byName.get(name);
  if (handle === undefined) {
    handle = exports.kv.NamespaceHandle.open(name);
    byName.set(name, handle);
  }
  return handle;
}

/** A list of keys as bytes: anything else is refused before the store is called. */
function keyList(keys) {
  if (!Array.isArray(keys)) throw new NexusError('invalid-argument', 'keys must be an array');
  return keys.map(bytes);
}

/** `setMany`'s items (`[key, value]` pairs, a plain object or a Map) as pairs of bytes. */
function itemList(items) {
  let pairs;
  if (Array.isArray(items)) pairs = items;
  else if (items instanceof Map) pairs = [...items];
  else if (items !== null && typeof items === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(items))) {
    pairs = Object.entries(items);
  } else {
    throw new NexusError('invalid-argument', 'items must be an array of [key, value] pairs, an object or a Map');
  }
  return pairs.map((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2) throw new NexusError('invalid-argument', 'each item is a [key, value] pair');
    return [bytes(pair[0]), bytes(pair[1])];
  });
}

function stringList(values, what) {
  if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) {
    throw new NexusError('invalid-argument', `${what} must be an array of strings`);
  }
  return values;
}

/** An optional string argument (a consumer group, a node id): undefined for none. */
function optionalString(value, what) {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new NexusError('invalid-argument', `${what} must be a string`);
  return value;
}

/** The WIT `event-draft`; a payload that is not a string is sent as JSON. */
function draft(eventType, payload, { delayMs = 0, producerNodeId, broadcast = false } = {}) {
  if (typeof eventType !== 'string') throw new NexusError('invalid-argument', 'eventType must be a string');
  let text = payload;
  if (typeof payload !== 'string') {
    try {
      text = JSON.stringify(payload ?? {});
    } catch (e) {
      throw new NexusError('invalid-argument', `the payload cannot be JSON: ${e.message}`, { cause: e });
    }
    if (text === undefined) throw new NexusError('invalid-argument', 'the payload cannot be JSON');
  }
  return {
    eventType,
    payload: text,
    options: {
      delayMs: u64(delayMs ?? 0, 'delayMs'),
      producerNodeId: optionalString(producerNodeId, 'producerNodeId'),
      broadcast: Boolean(broadcast),
    },
  };
}

function draftList(events) {
  if (!Array.isArray(events)) throw new NexusError('invalid-argument', 'events must be an array');
  return events.map((event) => {
    if (event === null || typeof event !== 'object') {
      throw new NexusError('invalid-argument', 'each event is an object: { eventType, payload, delayMs?, producerNodeId?, broadcast? }');
    }
    const { eventType, payload, ...options } = event;
    return draft(eventType, payload, options);
  });
}

export class Nexus {
  #storage;
  #component;
  #persistence;
  #releaseLock;
  #ticker;
  #listeners = new Set();
  #waiters = new Waiters();
  #clock;
  /** When this store opened, on its own clock: `/stats` reports `uptime_seconds` from it. */
  #startedAt;
  /** The window `GET /performance` answers from (performance.js). */
  #performance = new Performance();

  /**
   * Opens the store. `persist`: 'indexeddb' (default; survives reloads) or
   * 'memory'. `name` picks the IndexedDB database. `clock` defaults to
   * `Date.now()`; pass a `ManualClock` in tests. `tickEveryMs` (default
   * 1000, 0 = never) runs the store's tick: TTL sweeps, cron tasks, log
   * retention. `onWaiting()` is called when another tab holds this store
   * and this one waits for it (see lock.js).
   */
  static async open({
    persist = 'indexeddb',
    name = 'nexus',
    clock = systemClock,
    tickEveryMs = 1000,
    onWaiting,
    indexedDB = globalThis.indexedDB,
  } = {}) {
    if (persist !== 'indexeddb' && persist !== 'memory') {
      throw new NexusError('invalid-argument', `persist must be 'indexeddb' or 'memory', not ${JSON.stringify(persist)}`);
    }
    const nexus = new Nexus();
    nexus.#startedAt = clock.nowMs();
    nexus.#clock = clock;
    clock.onMove?.(() => nexus.#waiters.wakeAll());
    let entries = [];
    if (persist === 'indexeddb') {
      nexus.#releaseLock = await holdStoreLock(name, onWaiting);
      try {
        ({ persistence: nexus.#persistence, entries } = await IndexedDbPersistence.open(name, indexedDB));
      } catch (e) {
        nexus.#releaseLock();
        throw e instanceof LoadError ? new NexusError('storage', e.message, { cause: e }) : e;
      }
    }
    const persistence = nexus.#persistence;
    nexus.#storage = new OrderedStorage({
      beforeCommit: persistence && (() => persistence.beforeCommit()),
      onCommit: persistence && ((changes) => persistence.record(changes)),
      onNotify: (namespace) => nexus.#waiters.wake(namespace),
    });
    nexus.#storage.load(entries);
    try {
      nexus.#component = await Component.start({
        storage: nexus.#storage,
        clock,
        onTrap: (error) => nexus.#emit(error),
      });
    } catch (e) {
      persistence?.close();
      nexus.#releaseLock?.();
      throw e;
    }
    if (tickEveryMs > 0) {
      nexus.#ticker = setInterval(() => {
        nexus.tick().catch((error) => nexus.#emit(error));
      }, tickEveryMs);
      // In Node, the ticker alone does not keep a process alive.
      nexus.#ticker.unref?.();
    }
    return nexus;
  }

  /** `fn(error)` hears of traps and failed background ticks; returns an unsubscribe function. */
  onError(fn) {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #emit(error) {
    for (const fn of this.#listeners) fn(error);
  }

  /** The in-memory ordered map (the `storage` the component imports). */
  get storage() {
    return this.#storage;
  }

  /** The component (its raw jco exports are `component.exports`). */
  get component() {
    return this.#component;
  }

  /** Runs a call on the component, then waits until what it wrote (if anything) is durable. */
  async call(fn) {
    await this.#component.ready();
    const recorded = this.#persistence?.recorded;
    const result = this.#component.callNow(fn);
    if (this.#persistence && this.#persistence.recorded !== recorded) await this.durable();
    return result;
  }

  /** Resolves when every answered write is in IndexedDB (at once with 'memory'). */
  async durable() {
    if (!this.#persistence) return;
    try {
      await this.#persistence.durable();
    } catch (e) {
      throw new NexusError('storage', `IndexedDB write failed: ${e.message}`, { cause: e });
    }
  }

  namespace(name) {
    return new Namespace(this, name);
  }

  /** Every namespace that holds something, with its info. */
  async namespaces() {
    return plain(await this.call((x) => x.namespaces.list()));
  }

  /** Totals over every namespace. */
  async stats() {
    return plain(await this.call((x) => x.namespaces.globalStats()));
  }

  async tick(budget = 256) {
    return plain(await this.call((x) => x.maintenance.tick(budget)));
  }

  /** Writes the statistics this instance has tallied (do it before the page goes away). */
  async flush() {
    await this.call((x) => x.maintenance.flush());
  }

  /**
   * The REST API, answered by the component's `http-api`: the same routes
   * and bytes as `nexus serve`. `headers` are `[name, value]` pairs (default:
   * a JSON content type when there is a body). Returns `{ status, headers,
   * body }` (body as text); a refusal is a 4xx, as on a server, not a throw.
   */
  async request(method, pathAndQuery, body = '', headers = undefined) {
    const started = globalThis.performance.now();
    const [path, query = ''] = pathAndQuery.split(/\?(.*)/s);
    const payload = bytes(body);
    const ask = () => this.call((x) => x.httpApi.handle({
      method: method.toUpperCase(),
      path,
      query,
      headers: headers ?? (payload.length ? [['content-type', 'application/json']] : []),
      body: payload,
      startedAtMs: this.#startedAt,
      // A tab's store is its own: no token is needed until one is made
      // (`POST /tokens`), as on a server on a loopback address.
      access: { openWithoutTokens: true, publicStats: false },
    }));
    const hintOf = (response) => {
      const header = response.headers.find(([name]) => name.toLowerCase() === WAIT_HEADER);
      return header ? parseWaitHint(header[1]) : null;
    };
    let response = await ask();
    const first = hintOf(response);
    if (first) {
      // An empty receive with `wait_ms`: held until a message may be there.
      response = await hold(this.#waiters, this.#clock, first.namespace, first.deadlineMs, async () => {
        const r = await ask();
        const hint = hintOf(r);
        return { value: r, recheckAtMs: hint && (hint.nextVisibleMs ?? hint.deadlineMs) };
      });
    }
    let { status } = response;
    let text = decoder.decode(response.body);
    const route = response.headers.find(([name]) => name.toLowerCase() === 'x-nexus-route')?.[1] ?? 'unmatched';
    if (status === 501 && route.startsWith('/performance')) {
      // Admitted by the guest, which keeps no window: this host answers.
      const figures = route === '/performance'
        ? this.#performance.summary(this.nowMs(), Number(this.#startedAt))
        : this.#performance.recentErrors();
      status = 200;
      text = JSON.stringify(figures);
    } else {
      const reason = isError(status) ? detailOf(text) : null;
      this.#performance.record(method.toUpperCase(), route, status, reason, globalThis.performance.now() - started, this.nowMs());
    }
    return {
      status,
      headers: response.headers.filter(([name]) => !HOST_HEADERS.includes(name.toLowerCase())),
      body: text,
    };
  }

  /** Holds an empty receive of `namespace` open: see wait.js. */
  waitFor(namespace, deadlineMs, ask) {
    return hold(this.#waiters, this.#clock, namespace, deadlineMs, ask);
  }

  /** Whether `close()` was called: held receives and watches end. */
  get closing() {
    return this.#waiters.closed;
  }

  /** How many receives with `waitMs` are held open now. */
  get waitingReceives() {
    return this.#waiters.total;
  }

  /** The time on this store's clock, in ms. */
  nowMs() {
    return Number(this.#clock.nowMs());
  }

  /** Stops the ticker, writes pending statistics, releases the store for other tabs. */
  async close() {
    clearInterval(this.#ticker);
    this.#waiters.close();
    try {
      await this.flush();
    } finally {
      this.#persistence?.close();
      this.#releaseLock?.();
    }
  }
}

/** One namespace's keys and events. Names are checked by the store on first use. */
export class Namespace {
  #nexus;

  constructor(nexus, name) {
    this.#nexus = nexus;
    this.name = name;
  }

  #call(fn) {
    return this.#nexus.call(fn);
  }

  /**
   * The write `tag` with arguments `args`, applied at most once per
   * `idempotencyKey` in this namespace (the REST `Idempotency-Key`):
   * resolves to its outcome's value, the first one again for a retry.
   */
  async #once(idempotencyKey, tag, args) {
    const key = optionalString(idempotencyKey, 'idempotencyKey');
    const operation = { tag, val: { ns: this.name, ...args } };
    return (await this.#call((x) => x.batch.applyOnce(key, operation))).val;
  }

  // --- key-value ---

  /**
   * Stores a value; resolves to its new version (a BigInt). Options: ttlMs,
   * onlyIfAbsent, onlyIfVersion (a version from `set` or `get`), and
   * idempotencyKey: applied at most once per key in this namespace, so a
   * retry after an unknown outcome (or from another tab or host) resolves
   * to the first answer and writes nothing (also on `delete`,
   * `increment`, `emit` and `ack`).
   */
  async set(key, value, { ttlMs, onlyIfAbsent = false, onlyIfVersion, idempotencyKey } = {}) {
    const options = { ttlMs: u64(ttlMs, 'ttlMs'), onlyIfAbsent, onlyIfVersion: u64(onlyIfVersion, 'onlyIfVersion') };
    if (idempotencyKey != null) {
      return this.#once(idempotencyKey, 'set', { key: bytes(key), value: bytes(value), options });
    }
    return this.#call((x) => namespaceHandle(x, this.name).set(bytes(key), bytes(value), options));
  }

  /** The live entry (`{ value, text, version, expiresAt }`), or null. */
  async get(key) {
    return liveEntry(key, await this.#call((x) => namespaceHandle(x, this.name).get(bytes(key))));
  }

  /**
   * The live entries of several keys, in order (null where there is none),
   * each as `get` answers it: one call into the store. Counts a hit or a
   * miss per key, as `get` does.
   */
  async getMany(keys) {
    const list = keyList(keys);
    const found = await this.#call((x) => namespaceHandle(x, this.name).getMany(list));
    return found.map((entry, i) => liveEntry(keys[i], entry));
  }

  /**
   * Watches 1-64 keys (as Deno KV's `watch`): an async iterator whose
   * items are the keys' live entries, as `getMany` gives them, the first at
   * once, then again each time one of them changes — a write in this store,
   * a TTL ending. Intermediate values may be skipped, the latest never is.
   * Waiting holds no instance and never polls; `break` (or `return()`)
   * ends it. Reads are not counted as hits or misses.
   */
  watch(keys) {
    const list = keyList(keys);
    const nexus = this.#nexus;
    const channel = `${this.name}:keys`;
    const read = () => this.#call((x) => x.kv.watch(this.name, list));
    let last = null;
    let done = false;
    const next = async () => {
      while (!done && !nexus.closing) {
        // Held for up to 20 s of the store's clock at a time (the longest
        // a timer may be set for safely is far longer; this keeps it short).
        const entries = await nexus.waitFor(channel, nexus.nowMs() + 20_000, async () => {
          const watched = await read();
          const at = position(watched.entries);
          if (at !== last) {
            last = at;
            return { value: watched.entries, recheckAtMs: null };
          }
          const expiry = watched.nextExpiry;
          return { value: null, recheckAtMs: expiry === undefined ? Infinity : Number(expiry) };
        });
        if (entries) return { value: entries.map((entry, i) => liveEntry(keys[i], entry)), done: false };
      }
      return { value: undefined, done: true };
    };
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      next,
      async return() {
        done = true;
        return { value: undefined, done: true };
      },
    };
  }

  /**
   * Stores several values at once, all or none: `items` is an array of
   * `[key, value]` pairs, an object or a Map. Resolves to their new
   * versions (BigInts) in order. A key named twice keeps its last value.
   */
  async setMany(items, { ttlMs } = {}) {
    const pairs = itemList(items);
    const ttl = u64(ttlMs, 'ttlMs');
    return Array.from(await this.#call((x) => x.kv.setMany(this.name, pairs, ttl)));
  }

  /** Deletes several keys at once, all or none; resolves to how many live values were deleted. */
  async deleteMany(keys) {
    const list = keyList(keys);
    return this.#call((x) => x.kv.deleteMany(this.name, list));
  }

  /** True if a live value was deleted. Options: idempotencyKey (see `set`). */
  async delete(key, { idempotencyKey } = {}) {
    if (idempotencyKey != null) return this.#once(idempotencyKey, 'delete', { key: bytes(key) });
    return this.#call((x) => namespaceHandle(x, this.name).delete(bytes(key)));
  }

  async exists(key) {
    return this.#call((x) => x.kv.exists(this.name, bytes(key)));
  }

  /**
   * Adds `by` (default 1) to a decimal integer value; resolves to the new
   * value. Options: idempotencyKey (see `set`): exactly-once counting.
   */
  async increment(key, by = 1, { idempotencyKey } = {}) {
    if (idempotencyKey != null) {
      return Number(await this.#once(idempotencyKey, 'increment', { key: bytes(key), delta: BigInt(by) }));
    }
    return Number(await this.#call((x) => x.kv.increment(this.name, bytes(key), BigInt(by))));
  }

  /**
   * One page of keys, ascending: `{ keys: [{ key, version, expiresAt, valueLen }], nextCursor }`.
   * Keys are decoded as UTF-8 text; pass `nextCursor` back as `cursor` for the next page.
   */
  async list({ prefix = '', cursor, limit = 100 } = {}) {
    const page = await this.#call((x) => x.kv.list(this.name, {
      prefix: bytes(prefix),
      cursor: cursor === undefined || cursor === null ? undefined : bytes(cursor),
      limit,
    }));
    return {
      keys: page.keys.map((k) => ({ ...plain({ ...k, key: undefined }), key: decoder.decode(k.key) })),
      nextCursor: page.nextCursor === undefined ? null : decoder.decode(page.nextCursor),
    };
  }

  // --- the namespace ---

  async info() {
    return plain(await this.#call((x) => x.namespaces.info(this.name))) ?? null;
  }

  async size() {
    return Number(await this.#call((x) => x.namespaces.size(this.name)));
  }

  async stats() {
    return plain(await this.#call((x) => x.namespaces.stats(this.name)));
  }

  /** Deletes every key; resolves to how many there were. */
  async clear() {
    return Number(await this.#call((x) => x.namespaces.clear(this.name)));
  }

  async metadata() {
    return JSON.parse(await this.#call((x) => x.namespaces.getMetadata(this.name)));
  }

  async setMetadata(object) {
    await this.#call((x) => x.namespaces.setMetadata(this.name, JSON.stringify(object)));
  }

  /** Whether changes to this namespace's keys are events: `{ enabled, includeValues }`. */
  async keyEvents() {
    return plain(await this.#call((x) => x.namespaces.getKeyEvents(this.name)));
  }

  /**
   * Turns key-change events on or off (fields left out keep their value):
   * with them on, every change to a key is an event (`kv.set`,
   * `kv.deleted`, `kv.expired`, `kv.evicted`, `kv.cleared`) in this
   * namespace's queues, written in the commit of the change.
   */
  async setKeyEvents({ enabled, includeValues } = {}) {
    const current = await this.keyEvents();
    const setting = {
      enabled: flag(enabled ?? current.enabled, 'enabled'),
      includeValues: flag(includeValues ?? current.includeValues, 'includeValues'),
    };
    await this.#call((x) => x.namespaces.setKeyEvents(this.name, setting));
    return setting;
  }

  // --- events ---

  /**
   * Emits an event; resolves to its message id. Payload: a string or
   * anything JSON. Options: delayMs, producerNodeId, broadcast, and
   * idempotencyKey (see `set`): one event however often it is sent.
   */
  async emit(eventType, payload, { idempotencyKey, ...options } = {}) {
    const event = draft(eventType, payload, options);
    if (idempotencyKey != null) return this.#once(idempotencyKey, 'emit', { draft: event });
    return this.#call((x) => x.events.emit(this.name, event));
  }

  /**
   * Emits 1-100 events in one commit, all or none: each `{ eventType,
   * payload, delayMs?, producerNodeId?, broadcast? }`. Resolves to their
   * message ids in order.
   */
  async emitBatch(events) {
    const drafts = draftList(events);
    return this.#call((x) => x.events.emitBatch(this.name, drafts));
  }

  /**
   * Up to `max` deliveries for `consumer`, leased for `visibilityTimeoutMs`.
   * With `waitMs` (at most 20000), an empty queue resolves only when a
   * message may be there (an emit or nack in this namespace, a delayed
   * message or lease coming due) or the time is up: long polling.
   */
  async receive({ consumer = 'web', group, max = 10, visibilityTimeoutMs = 30_000, waitMs = 0 } = {}) {
    const request = {
      group,
      consumer,
      max,
      visibilityTimeoutMs: u64(visibilityTimeoutMs, 'visibilityTimeoutMs'),
      waitMs: u64(waitMs, 'waitMs'),
    };
    const once = async () => plain(await this.#call((x) => x.events.receive(this.name, request)));
    if (!request.waitMs) return once();
    const nexus = this.#nexus;
    return nexus.waitFor(this.name, nexus.nowMs() + Number(request.waitMs), async () => {
      const deliveries = await once();
      if (deliveries.length > 0) return { value: deliveries, recheckAtMs: null };
      const next = await this.#call((x) => x.events.nextVisibleAt(this.name, group));
      return { value: deliveries, recheckAtMs: next === undefined ? Infinity : Number(next) };
    });
  }

  /** Acks a delivery. Options: consumer, group, idempotencyKey (see `set`). */
  async ack(messageId, { consumer = 'web', group, idempotencyKey } = {}) {
    if (idempotencyKey != null) {
      await this.#once(idempotencyKey, 'ack', { group, consumer, messageId });
      return;
    }
    await this.#call((x) => x.events.ack(this.name, group, consumer, messageId));
  }

  /**
   * Acks 1-100 messages `consumer` holds, in one commit. Resolves to one
   * outcome per id, in order: null (acked) or the `NexusError` `ack` would
   * have thrown for it (`not-found`, `condition-failed`); a refused id
   * changes nothing. Throws only for the whole call (a bad namespace, an
   * empty or oversized batch).
   */
  async ackBatch(messageIds, { consumer = 'web', group } = {}) {
    const ids = stringList(messageIds, 'messageIds');
    const who = optionalString(consumer, 'consumer') ?? 'web';
    const subscription = optionalString(group, 'group');
    const outcomes = await this.#call((x) => x.events.ackBatch(this.name, subscription, who, ids));
    return outcomes.map((error) => (error === undefined ? null : nexusError(error)));
  }

  /** Fails a delivery: `{ tag: 'retry', val: at }` or `{ tag: 'dead-lettered' }`. */
  async nack(messageId, { consumer = 'web', group, reason = 'nacked', error } = {}) {
    return plain(await this.#call((x) => x.events.nack(this.name, group, consumer, messageId, reason, error)));
  }

  /** The event log, oldest first: `{ events, next }`. */
  async log({ eventType, since, until, afterId, limit = 100 } = {}) {
    return plain(await this.#call((x) => x.events.queryLog(this.name, {
      eventType, since: u64(since, 'since'), until: u64(until, 'until'), afterId, limit,
    })));
  }

  async deadLetters({ after, limit = 100 } = {}) {
    return plain(await this.#call((x) => x.events.dlqList(this.name, after, limit)));
  }

  /** Puts a dead letter back on the queue; resolves to the new message id. */
  async replay(letterId) {
    return this.#call((x) => x.events.dlqReplay(this.name, letterId));
  }

  async metrics() {
    return plain(await this.#call((x) => x.events.getMetrics(this.name)));
  }

  // --- scheduled tasks ---

  /** A cron task that emits `eventType` with `payload` at each occurrence (5-field cron, IANA time zone). */
  async createTask({ name, cron, timezone, eventType, payload = '{}' }) {
    const spec = { name, cron, timezone, eventType, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) };
    return plain(await this.#call((x) => x.events.createTask(this.name, spec)));
  }

  async tasks() {
    return plain(await this.#call((x) => x.events.listTasks(this.name)));
  }

  async deleteTask(name) {
    await this.#call((x) => x.events.deleteTask(this.name, name));
  }
}
