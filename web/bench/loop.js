// The benchmark loop, the same module in Node and in the page: GET and SET
// through the component over the JavaScript storage, with the workload of
// host/benches/kv.rs (10 000 keys of 11 bytes, 32-byte values, one
// namespace) so the figures sit next to the wasmtime host's.
//
// "raw" calls the jco exports directly (the component's cost: glue +
// guest + storage): a `kv.namespace-handle`'s methods, as the JavaScript
// API calls them, and for comparison `kv.get` with the namespace's name on
// each call; "api" goes through the async JavaScript API (`ns.get`,
// `ns.set`, `ns.getMany`), what an embedding page calls.
// "GET floor" is the floor component (floor.js): one export calling one
// storage import over an OrderedStorage holding the same keys and values,
// through the same jco glue. It and nexus's raw GET run in alternating
// rounds, so that the ratio between them compares the same moments.

import { OrderedStorage } from '../src/storage.js';
import { startFloor } from './floor.js';

const KEYS = 10_000;
/** Keys per `getMany`: the batch size. */
const MANY = 100;
const encoder = new TextEncoder();

// The machine is a shared VM: one long run is at the mercy of its
// neighbours, so each figure is the median of five rounds (the best is
// printed beside it).
const ROUNDS = 5;

function summary(name, rates) {
  const sorted = [...rates].sort((a, b) => a - b);
  return { name, opsPerSec: Math.round(sorted[ROUNDS >> 1]), best: Math.round(sorted[ROUNDS - 1]) };
}

/**
 * One round of `batch(first)` (each runs `perBatch` operations from index
 * `first`, each worth `units`) for its share of `seconds`; the rate in units/s.
 */
async function round(seconds, batch, { perBatch = 1000, units = 1 } = {}) {
  let ops = 0;
  const started = performance.now();
  const end = started + (seconds * 1000) / ROUNDS;
  while (performance.now() < end) {
    await batch(ops);
    ops += perBatch;
  }
  return (ops * units) / ((performance.now() - started) / 1000);
}

/** A synchronous operation: awaited once per 1 000 calls, not per call. */
const syncBatch = (op) => (first) => {
  for (let j = 0; j < 1000; j++) op(first + j);
};

function warm(op) {
  for (let i = 0, end = performance.now() + 200; performance.now() < end; i++) op(i);
}

/** Synchronous operations, their rounds alternating (A, B, A, B, …): one summary each. */
async function measureSide(seconds, ops) {
  for (const [, op] of ops) warm(op);
  const rates = ops.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, [, op]] of ops.entries()) rates[k].push(await round(seconds, syncBatch(op)));
  }
  return ops.map(([name], k) => summary(name, rates[k]));
}

async function measure(name, seconds, op) {
  const [result] = await measureSide(seconds, [[name, op]]);
  return result;
}

/** An async operation, awaited one at a time; `units` per operation (keys for a getMany). */
async function measureAsync(name, seconds, op, { units = 1 } = {}) {
  for (let i = 0; i < 2000 / units; i++) await op(i);
  const perBatch = Math.max(1, Math.round(1000 / units));
  const rates = [];
  for (let r = 0; r < ROUNDS; r++) {
    rates.push(await round(seconds, async (first) => {
      for (let j = 0; j < perBatch; j++) await op(first + j);
    }, { perBatch, units }));
  }
  return summary(name, rates);
}

/** `floor`: false to leave the floor component out (not built: scripts/bench-jco.sh's copies). */
export async function run(Nexus, { seconds = 2, indexedDB, floor: withFloor = true } = {}) {
  const keys = Array.from({ length: KEYS }, (_, i) => encoder.encode(`user:${String(i).padStart(6, '0')}`));
  const value = new Uint8Array(32).fill(120);
  const options = { ttlMs: undefined, onlyIfAbsent: false, onlyIfVersion: undefined };
  const nexus = await Nexus.open({ persist: 'memory', tickEveryMs: 0 });
  const { kv } = nexus.component.exports;
  for (const key of keys) kv.set('bench', key, value, options);
  let floor = null;
  if (withFloor) {
    const floorStorage = new OrderedStorage();
    floorStorage.load(keys.map((key) => [key, value]));
    floor = await startFloor(floorStorage);
  }
  const ns = nexus.namespace('bench');
  // What the JavaScript API calls for a namespace's point reads and writes.
  const handle = kv.NamespaceHandle.open('bench');
  // Disjoint runs of MANY consecutive keys, as a page reading a list would ask.
  const batches = Array.from({ length: KEYS / MANY }, (_, b) => keys.slice(b * MANY, (b + 1) * MANY));
  const results = [
    ...await measureSide(seconds, [
      ['GET raw', (i) => handle.get(keys[i % KEYS])],
      ['GET raw, name per call', (i) => kv.get('bench', keys[i % KEYS])],
      ...(floor ? [['GET floor', (i) => floor.get(keys[i % KEYS])]] : []),
    ]),
    await measure('SET raw', seconds, (i) => handle.set(keys[i % KEYS], value, options)),
    await measureAsync('GET api', seconds, (i) => ns.get(keys[i % KEYS])),
    await measureAsync('SET api', seconds, (i) => ns.set(keys[i % KEYS], value)),
    await measureAsync(`getMany raw, ${MANY} keys (keys/s)`, seconds, async (i) => handle.getMany(batches[i % batches.length]), { units: MANY }),
    await measureAsync(`getMany api, ${MANY} keys (keys/s)`, seconds, (i) => ns.getMany(batches[i % batches.length]), { units: MANY }),
  ];
  await nexus.close();
  if (indexedDB) {
    // Durable: each batch of 1 000 concurrent sets resolves once IndexedDB has them.
    const durable = await Nexus.open({ persist: 'indexeddb', name: `bench-${Date.now()}`, tickEveryMs: 0, indexedDB });
    const dns = durable.namespace('bench');
    let ops = 0;
    const started = performance.now();
    while (performance.now() < started + seconds * 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, j) => dns.set(keys[(ops + j) % KEYS], value)));
      ops += 1000;
    }
    const rate = Math.round(ops / ((performance.now() - started) / 1000));
    results.push({ name: 'SET api, IndexedDB, 1000 in flight', opsPerSec: rate, best: rate });
    await durable.close();
  }
  return results;
}
