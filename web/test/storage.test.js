// The JavaScript `storage` against the WIT contract (wit/host.wit): ordering,
// ranges, checks on present and absent keys, counters, all-or-nothing
// commits. A property test compares it with a naive model.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { OrderedStorage, StorageError, fromKey, toKey } from '../src/storage.js';

const b = (...bytes) => Uint8Array.from(bytes);
const s = (text) => new TextEncoder().encode(text);
const put = (key, value) => ({ tag: 'put', val: { key, value } });
const del = (key) => ({ tag: 'delete', val: key });
const delRange = (start, end) => ({ tag: 'delete-range', val: [start, end] });
const add = (key, delta) => ({ tag: 'add', val: [key, BigInt(delta)] });
const counter = (bytes) => new DataView(bytes.buffer, bytes.byteOffset, 8).getBigInt64(0, true);
const keysOf = (entries) => entries.map((e) => [...e.key]);

function conflict(fn) {
  assert.throws(fn, (e) => e instanceof StorageError && e.payload.tag === 'conflict');
}

test('keys round-trip through their string form, in bytewise order', () => {
  const keys = [b(), b(0), b(0, 0), b(1), b(0x7f), b(0x80), b(0xff), b(0xff, 0)];
  for (const key of keys) assert.deepEqual(fromKey(toKey(key)), key);
  const sorted = keys.map(toKey).sort();
  assert.deepEqual(sorted.map(fromKey), keys);
  const long = new Uint8Array(100_000).map((_, i) => i % 256);
  assert.deepEqual(fromKey(toKey(long)), long);
});

test('get and get-many see what commit wrote; absent is undefined', () => {
  const store = new OrderedStorage();
  store.commit([], [put(s('a'), s('1')), put(s('b'), s('2'))]);
  assert.deepEqual(store.get(s('a')), s('1'));
  assert.equal(store.get(s('c')), undefined);
  assert.deepEqual(store.getMany([s('b'), s('c'), s('a')]), [s('2'), undefined, s('1')]);
});

test('scan is ascending over [start, end) and honours the limit', () => {
  const store = new OrderedStorage();
  store.commit([], [b(3), b(1), b(2, 0), b(2), b(0xff), b(4)].map((k) => put(k, b(9))));
  assert.deepEqual(keysOf(store.scan(b(1), b(3), 10)), [[1], [2], [2, 0]]);
  assert.deepEqual(keysOf(store.scan(b(1), b(3), 2)), [[1], [2]]);
  assert.deepEqual(keysOf(store.scan(b(2, 0), b(2, 0), 10)), []);
  assert.deepEqual(keysOf(store.scan(b(4), b(1), 10)), [], 'start after end is empty');
  assert.deepEqual(keysOf(store.scan(b(), b(0xff, 0xff), 100)), [[1], [2], [2, 0], [3], [4], [0xff]]);
  assert.deepEqual(keysOf(store.scan(b(0), b(1), 0)), []);
});

test('checks hold on present and absent keys, or nothing is written', () => {
  const store = new OrderedStorage();
  store.commit([{ key: s('k'), expected: undefined }], [put(s('k'), s('v1'))]);
  conflict(() => store.commit([{ key: s('k'), expected: undefined }], [put(s('k'), s('v2'))]));
  conflict(() => store.commit([{ key: s('k'), expected: s('other') }], [put(s('k'), s('v2'))]));
  conflict(() => store.commit([{ key: s('absent'), expected: s('v1') }], [put(s('k'), s('v2'))]));
  conflict(() => store.commit(
    [{ key: s('k'), expected: s('v1') }, { key: s('x'), expected: s('no') }],
    [put(s('k'), s('v2')), put(s('new'), s('n'))],
  ));
  assert.deepEqual(store.get(s('k')), s('v1'));
  assert.equal(store.get(s('new')), undefined);
  store.commit([{ key: s('k'), expected: s('v1') }], [put(s('k'), s('v2'))]);
  assert.deepEqual(store.get(s('k')), s('v2'));
});

test('delete and delete-range remove exactly their keys', () => {
  const store = new OrderedStorage();
  store.commit([], [1, 2, 3, 4, 5].map((k) => put(b(k), b(k))));
  store.commit([], [del(b(1)), del(b(9)), delRange(b(3), b(5)), delRange(b(5), b(5)), delRange(b(9), b(0))]);
  assert.deepEqual(keysOf(store.scan(b(), b(0xff), 10)), [[2], [5]]);
  assert.equal(store.size, 2);
});

test('add treats values as little-endian i64 counters, absent = 0, and refuses overflow and malformed counters', () => {
  const store = new OrderedStorage();
  store.commit([], [add(s('n'), 5), add(s('n'), -7)]);
  assert.equal(counter(store.get(s('n'))), -2n);
  store.commit([], [add(s('n'), 2)]);
  assert.equal(counter(store.get(s('n'))), 0n, 'a counter at zero is kept');
  store.commit([], [put(s('max'), (() => { const v = new Uint8Array(8); new DataView(v.buffer).setBigInt64(0, 2n ** 63n - 1n, true); return v; })())]);
  assert.throws(() => store.commit([], [put(s('x'), s('1')), add(s('max'), 1)]), (e) => e.payload.tag === 'other');
  store.commit([], [put(s('short'), b(1, 2, 3))]);
  assert.throws(() => store.commit([], [put(s('y'), s('1')), add(s('short'), 1)]), (e) => e.payload.tag === 'other' && /3 bytes/.test(e.payload.val));
  assert.equal(store.get(s('x')), undefined, 'a refused commit wrote nothing');
  assert.equal(store.get(s('y')), undefined, 'a refused commit wrote nothing');
  // An addition sees the writes before it in its commit: a put of a value
  // that is no counter refuses the whole commit before anything is written.
  assert.throws(() => store.commit([], [put(s('z'), s('')), add(s('z'), 0)]), (e) => e.payload.tag === 'other');
  assert.equal(store.get(s('z')), undefined, 'a refused commit wrote nothing');
  // A counter removed by a range earlier in the commit starts from zero.
  store.commit([], [delRange(s('n'), s('o')), add(s('n'), 3), { tag: 'notify', val: 'app' }]);
  assert.equal(counter(store.get(s('n'))), 3n);
});

test('onCommit sees each applied commit in order, and counters as their new value', () => {
  const seen = [];
  const store = new OrderedStorage({ onCommit: (changes) => seen.push(changes) });
  store.commit([], [put(s('a'), s('1')), add(s('n'), 3)]);
  conflict(() => store.commit([{ key: s('a'), expected: undefined }], [del(s('a'))]));
  store.commit([], [delRange(s('a'), s('b'))]);
  assert.equal(seen.length, 2);
  assert.deepEqual(seen[0][0], { put: [s('a'), s('1')] });
  assert.equal(counter(seen[0][1].put[1]), 3n);
  assert.deepEqual(seen[1], [{ deleteRange: [s('a'), s('b')] }]);
});

test('beforeCommit can refuse every commit', () => {
  const store = new OrderedStorage({ beforeCommit: () => { throw new StorageError('unavailable', 'disk gone'); } });
  assert.throws(() => store.commit([], [put(s('a'), s('1'))]), (e) => e.payload.tag === 'unavailable');
  assert.equal(store.get(s('a')), undefined);
});

// A naive model: a Map and a sort per scan.
class Model {
  map = new Map();
  scan(start, end, limit) {
    const [lo, hi] = [toKey(start), toKey(end)];
    return [...this.map.keys()].filter((k) => k >= lo && k < hi).sort().slice(0, limit);
  }
  commit(checks, writes) {
    for (const { key, expected } of checks) {
      const v = this.map.get(toKey(key));
      if ((v === undefined ? undefined : toKey(v)) !== (expected === undefined ? undefined : toKey(expected))) return false;
    }
    for (const w of writes) {
      if (w.tag === 'put') this.map.set(toKey(w.val.key), w.val.value);
      else if (w.tag === 'delete') this.map.delete(toKey(w.val));
      else for (const k of this.scan(w.val[0], w.val[1], Infinity)) this.map.delete(k);
    }
    return true;
  }
}

test('property: any sequence of commits leaves the same ordered contents as a naive model', () => {
  const key = fc.uint8Array({ maxLength: 3, max: 4 });
  const write = fc.oneof(
    fc.record({ tag: fc.constant('put'), val: fc.record({ key, value: fc.uint8Array({ maxLength: 2 }) }) }),
    fc.record({ tag: fc.constant('delete'), val: key }),
    fc.record({ tag: fc.constant('delete-range'), val: fc.tuple(key, key) }),
  );
  const check = fc.record({ key, expected: fc.option(fc.uint8Array({ maxLength: 2 }), { nil: undefined }) });
  const commit = fc.record({ checks: fc.array(check, { maxLength: 2 }), writes: fc.array(write, { maxLength: 5 }) });
  fc.assert(fc.property(fc.array(commit, { maxLength: 30 }), key, key, fc.nat(8), (commits, start, end, limit) => {
    const store = new OrderedStorage();
    const model = new Model();
    for (const { checks, writes } of commits) {
      let applied = true;
      try {
        store.commit(checks, writes);
      } catch (e) {
        assert.equal(e.payload.tag, 'conflict');
        applied = false;
      }
      assert.equal(applied, model.commit(checks, writes));
    }
    assert.deepEqual(store.scan(start, end, limit).map((e) => toKey(e.key)), model.scan(start, end, limit));
    assert.deepEqual([...store.entries()].map(([k, v]) => [toKey(k), toKey(v)]),
      model.scan(new Uint8Array(), Uint8Array.of(0xff, 0xff, 0xff, 0xff), Infinity).map((k) => [k, toKey(model.map.get(k))]));
  }), { seed: 42, numRuns: 300 });
});
