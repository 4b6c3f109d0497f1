// The benchmark loop, the same module in Node and in the page: GET and SET
// through the component over the JavaScript storage, with the workload of
// host/benches/kv.rs (10 000 keys of 11 bytes, 32-byte values, one
// namespace) so the figures sit next to the wasmtime host's.
//
// "raw" calls the jco exports directly (the component's cost: glue +
// guest + storage); "api" goes through the async JavaScript API
// (`ns.get`, `ns.set`), what an embedding page calls.

const KEYS = 10_000;
const encoder = new TextEncoder();

// The machine is a shared VM: one long run is at the mercy of its
// neighbours, so each figure is the median of five rounds (the best is
// printed beside it).
const ROUNDS = 5;

function summary(name, rates) {
  const sorted = [...rates].sort((a, b) => a - b);
  return { name, opsPerSec: Math.round(sorted[ROUNDS >> 1]), best: Math.round(sorted[ROUNDS - 1]) };
}

/** Runs `batch(first)` (1 000 operations from index `first`) in rounds; the summary of their rates. */
async function rounds(name, seconds, batch) {
  const rates = [];
  for (let round = 0; round < ROUNDS; round++) {
    let ops = 0;
    const started = performance.now();
    const end = started + (seconds * 1000) / ROUNDS;
    while (performance.now() < end) {
      await batch(ops);
      ops += 1000;
    }
    rates.push(ops / ((performance.now() - started) / 1000));
  }
  return summary(name, rates);
}

/** A synchronous operation: awaited once per 1 000 calls, not per call. */
function measure(name, seconds, op) {
  for (let i = 0, end = performance.now() + 200; performance.now() < end; i++) op(i);
  return rounds(name, seconds, (first) => {
    for (let j = 0; j < 1000; j++) op(first + j);
  });
}

async function measureAsync(name, seconds, op) {
  for (let i = 0; i < 2000; i++) await op(i);
  return rounds(name, seconds, async (first) => {
    for (let j = 0; j < 1000; j++) await op(first + j);
  });
}

export async function run(Nexus, { seconds = 2, indexedDB } = {}) {
  const keys = Array.from({ length: KEYS }, (_, i) => encoder.encode(`user:${String(i).padStart(6, '0')}`));
  const value = new Uint8Array(32).fill(120);
  const options = { ttlMs: undefined, onlyIfAbsent: false, onlyIfVersion: undefined };
  const nexus = await Nexus.open({ persist: 'memory', tickEveryMs: 0 });
  const { kv } = nexus.component.exports;
  for (const key of keys) kv.set('bench', key, value, options);
  const ns = nexus.namespace('bench');
  const results = [
    await measure('GET raw', seconds, (i) => kv.get('bench', keys[i % KEYS])),
    await measure('SET raw', seconds, (i) => kv.set('bench', keys[i % KEYS], value, options)),
    await measureAsync('GET api', seconds, (i) => ns.get(keys[i % KEYS])),
    await measureAsync('SET api', seconds, (i) => ns.set(keys[i % KEYS], value)),
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
