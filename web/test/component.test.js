// The transpiled guest over the JavaScript storage: the same behaviour as
// every other host, and typed errors for everything it refuses.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { NexusError } from '../src/nexus.js';
import { openMemory, snapshot } from './helpers.js';

const refusal = (code) => (e) => e instanceof NexusError && e.code === code && e.reason.length > 0;

test('set, get, delete, exists and list in a namespace', async () => {
  const { nexus } = await openMemory();
  const app = nexus.namespace('app1');
  const version = await app.set('user:1', 'alice');
  assert.equal(typeof version, 'bigint');
  const entry = await app.get('user:1');
  assert.equal(entry.text, 'alice');
  assert.equal(entry.version, version);
  assert.equal(entry.expiresAt, null);
  await app.set('user:2', Uint8Array.of(0, 255));
  assert.deepEqual((await app.get('user:2')).value, Uint8Array.of(0, 255));
  await app.set('other', 'x');
  const page = await app.list({ prefix: 'user:', limit: 1 });
  assert.deepEqual(page.keys.map((k) => k.key), ['user:1']);
  const next = await app.list({ prefix: 'user:', cursor: page.nextCursor, limit: 1 });
  assert.deepEqual(next.keys.map((k) => k.key), ['user:2']);
  assert.equal(await app.exists('user:1'), true);
  assert.equal(await app.delete('user:1'), true);
  assert.equal(await app.delete('user:1'), false);
  assert.equal(await app.get('user:1'), null);
  assert.equal(await app.size(), 2);
  assert.equal(await app.increment('n', 5), 5);
  assert.equal(await app.increment('n', -2), 3);
  await nexus.close();
});

test('property: a key is only ever visible in the namespace it was written to', async () => {
  const { nexus } = await openMemory();
  const names = ['a', 'b', 'a-b', 'a_b', 'ab'];
  await fc.assert(fc.asyncProperty(
    fc.array(fc.record({ ns: fc.constantFrom(...names), key: fc.string({ minLength: 1, maxLength: 4 }), value: fc.string() }), { maxLength: 20 }),
    async (writes) => {
      for (const name of names) await nexus.namespace(name).clear();
      const model = new Map(names.map((n) => [n, new Map()]));
      for (const { ns, key, value } of writes) {
        await nexus.namespace(ns).set(key, value);
        model.get(ns).set(key, value);
      }
      for (const ns of names) {
        for (const { key } of writes) {
          const got = await nexus.namespace(ns).get(key);
          assert.equal(got?.text, model.get(ns).get(key));
        }
        assert.equal(await nexus.namespace(ns).size(), model.get(ns).size);
      }
    },
  ), { seed: 7, numRuns: 40 });
  await nexus.close();
});

test('TTL follows the manual clock', async () => {
  const { nexus, clock } = await openMemory();
  const app = nexus.namespace('app1');
  await app.set('session', 'token', { ttlMs: 1_000 });
  clock.advance(999);
  assert.equal((await app.get('session')).text, 'token');
  clock.advance(1);
  assert.equal(await app.get('session'), null);
  const report = await nexus.tick();
  assert.equal(report.expiredKeys, 1);
  assert.equal(await app.size(), 0);
  await nexus.close();
});

test('emit, receive, ack; nack until dead-lettered; replay', async () => {
  const { nexus, clock } = await openMemory();
  const app = nexus.namespace('orders');
  const first = await app.emit('order.created', { id: 1 });
  const [delivery] = await app.receive({ consumer: 'worker', visibilityTimeoutMs: 5_000 });
  assert.equal(delivery.envelope.messageId, first);
  assert.equal(delivery.envelope.payload, '{"id":1}');
  assert.deepEqual(await app.receive({ consumer: 'worker' }), [], 'leased, so not visible');
  await app.ack(first, { consumer: 'worker' });
  assert.equal((await app.metrics()).acked, 1);

  const second = await app.emit('order.created', { id: 2 });
  let outcome;
  for (let attempt = 0; attempt < 20; attempt++) {
    const got = await app.receive({ consumer: 'worker', visibilityTimeoutMs: 5_000 });
    if (got.length === 0) {
      clock.advance(60_000);
      continue;
    }
    outcome = await app.nack(second, { consumer: 'worker', reason: 'broken' });
    if (outcome.tag === 'dead-lettered') break;
  }
  assert.equal(outcome.tag, 'dead-lettered');
  const { letters } = await app.deadLetters();
  assert.equal(letters.length, 1);
  assert.equal(letters[0].originalEvent.messageId, second);
  assert.equal(letters[0].reason, 'broken');
  const replayed = await app.replay(letters[0].id);
  clock.advance(1);
  const [again] = await app.receive({ consumer: 'worker' });
  assert.equal(again.envelope.messageId, replayed);
  assert.equal(again.envelope.replayOf, second);
  assert.deepEqual((await app.deadLetters()).letters, []);
  const log = await app.log();
  assert.ok(log.events.length >= 3);
  await nexus.close();
});

test('a receive with waitMs resolves when an emit lands, a delay ends or its time is up', async () => {
  const { nexus, clock } = await openMemory();
  const app = nexus.namespace('app1');
  const untilWaiting = async () => {
    while (nexus.waitingReceives === 0) await new Promise((r) => setImmediate(r));
  };
  // Woken by an emit (the manual clock stands still: no deadline passes).
  let held = app.receive({ consumer: 'c', waitMs: 20_000 });
  await untilWaiting();
  const id = await app.emit('job', {});
  assert.deepEqual((await held).map((d) => d.envelope.messageId), [id]);
  // A delayed message, visible when the clock reaches it.
  const later = await app.emit('later', {}, { delayMs: 2_000 });
  held = app.receive({ consumer: 'c', waitMs: 20_000 });
  await untilWaiting();
  clock.advance(2_000);
  assert.deepEqual((await held).map((d) => d.envelope.messageId), [later]);
  // Nothing to come: empty at the deadline.
  held = app.receive({ consumer: 'c', waitMs: 1_000 });
  await untilWaiting();
  clock.advance(1_000);
  assert.deepEqual(await held, []);
  assert.equal(nexus.waitingReceives, 0);
  await assert.rejects(app.receive({ waitMs: 20_001 }), refusal('invalid-argument'));
  await nexus.close();
});

test('key events: off by default; on, each change is an event in the same commit; bad settings are refused', async () => {
  const { nexus } = await openMemory();
  const app = nexus.namespace('watched');
  assert.deepEqual(await app.keyEvents(), { enabled: false, includeValues: false });
  await assert.rejects(app.setKeyEvents({ enabled: 'yes' }), refusal('invalid-argument'));
  assert.deepEqual(await app.keyEvents(), { enabled: false, includeValues: false }, 'unchanged');
  assert.deepEqual(await app.setKeyEvents({ enabled: true, includeValues: true }), { enabled: true, includeValues: true });
  const version = await app.set('k', 'v1');
  await app.delete('k');
  const got = await app.receive({ consumer: 'replica' });
  assert.deepEqual(got.map((d) => d.envelope.eventType), ['kv.set', 'kv.deleted']);
  const told = got[0].envelope.payload;
  assert.equal(JSON.parse(told).value, 'v1');
  // Versions use all 64 bits: read them as text (JSON.parse would round them).
  assert.equal(BigInt(told.match(/"version":(\d+)/)[1]), version);
  assert.deepEqual(await app.setKeyEvents({ includeValues: false }), { enabled: true, includeValues: false }, 'enabled kept');
  await app.setKeyEvents({ enabled: false });
  await app.set('k', 'v2');
  assert.deepEqual(await app.receive({ consumer: 'replica' }), []);
});

test('watch yields the entries at once, then at each change of a watched key, a TTL ending included', async () => {
  const { nexus, clock } = await openMemory();
  const app = nexus.namespace('watched');
  await app.set('a', '1');
  const watch = app.watch(['a', 'b']);
  const first = await watch.next();
  assert.deepEqual(first.value.map((e) => e?.text ?? null), ['1', null]);
  const pending = watch.next();
  await app.set('c', 'another key');
  await nexus.namespace('other').set('b', 'another namespace');
  await app.set('b', '2', { ttlMs: 1_000 });
  assert.deepEqual((await pending).value.map((e) => e?.text ?? null), ['1', '2']);
  const expiry = watch.next();
  clock.advance(1_000);
  assert.deepEqual((await expiry).value.map((e) => e?.text ?? null), ['1', null]);
  assert.deepEqual(await watch.return(), { value: undefined, done: true });
  assert.equal((await watch.next()).done, true);
  assert.throws(() => app.watch('a'), refusal('invalid-argument'));
  await assert.rejects(app.watch([]).next(), refusal('invalid-argument'));
});

test('bad input is a typed NexusError and writes nothing', async () => {
  const { nexus } = await openMemory();
  const app = nexus.namespace('app1');
  await app.set('k', 'v');
  await app.set('n', 'not a number');
  const before = snapshot(nexus);
  const cases = [
    [() => nexus.namespace('Bad Name').set('k', 'v'), 'invalid-namespace'],
    [() => nexus.namespace('').get('k'), 'invalid-namespace'],
    [() => app.set('', 'v'), 'invalid-key'],
    [() => app.set('x'.repeat(5000), 'v'), 'key-too-large'],
    [() => app.set('big', new Uint8Array(2 * 1024 * 1024)), 'value-too-large'],
    [() => app.set('k', 'v', { ttlMs: 0 }), 'invalid-argument'],
    [() => app.set('k', 'v', { ttlMs: -1 }), 'invalid-argument'],
    [() => app.set('k', 'v', { onlyIfAbsent: true }), 'condition-failed'],
    [() => app.increment('n'), 'not-an-integer'],
    [() => app.setMetadata([1, 2]), 'invalid-metadata'],
    [() => app.ack('0000000000000000000a', { consumer: 'c' }), 'not-found'],
    [() => app.replay('nope'), 'not-found'],
    [() => app.createTask({ name: 't', cron: 'not cron', eventType: 'tick' }), 'invalid-argument'],
    [() => app.createTask({ name: 't', cron: '* * * * *', timezone: 'Mars/Base', eventType: 'tick' }), 'invalid-argument'],
    [() => app.set(42, 'v'), 'invalid-argument'],
    [() => app.receive({ max: 0 }), 'invalid-argument'],
  ];
  for (const [call, code] of cases) {
    await assert.rejects(call, refusal(code), `expected ${code}`);
  }
  assert.deepEqual(snapshot(nexus), before);
  await nexus.close();
});

test('writes with an idempotencyKey apply once; the key with another request is refused', async () => {
  const { nexus } = await openMemory();
  const app = nexus.namespace('app1');
  assert.equal(await app.increment('n', 5, { idempotencyKey: 'inc-1' }), 5);
  assert.equal(await app.increment('n', 5, { idempotencyKey: 'inc-1' }), 5);
  assert.equal((await app.get('n')).text, '5');
  const before = snapshot(nexus);
  await assert.rejects(app.increment('n', 6, { idempotencyKey: 'inc-1' }), refusal('idempotency-key-reused'));
  await assert.rejects(app.set('k', 'v', { idempotencyKey: 'has space' }), refusal('invalid-argument'));
  assert.deepEqual(snapshot(nexus), before);
  const version = await app.set('k', 'v', { idempotencyKey: 'set-1' });
  assert.equal(await app.set('k', 'v', { idempotencyKey: 'set-1' }), version);
  const id = await app.emit('order.created', { id: 1 }, { idempotencyKey: 'emit-1' });
  assert.equal(await app.emit('order.created', { id: 1 }, { idempotencyKey: 'emit-1' }), id);
  const [delivery] = await app.receive({ consumer: 'w' });
  assert.equal(delivery.envelope.messageId, id);
  assert.deepEqual(await app.receive({ consumer: 'w' }), [], 'one event, not two');
  await app.ack(id, { consumer: 'w', idempotencyKey: 'ack-1' });
  await app.ack(id, { consumer: 'w', idempotencyKey: 'ack-1' });
  assert.equal(await app.delete('k', { idempotencyKey: 'del-1' }), true);
  assert.equal(await app.delete('k', { idempotencyKey: 'del-1' }), true, 'the first answer again');
  assert.equal((await app.info()).limits.idempotencyWindowMs, 86_400_000);
  await nexus.close();
});

test('the REST API answers as nexus serve does', async () => {
  const { nexus } = await openMemory();
  const set = await nexus.request('POST', '/set?ns=app1', JSON.stringify({ key: 'user:123', value: 'alice', ttl: 3600 }));
  assert.equal(set.status, 200, set.body);
  const got = await nexus.request('GET', '/get/user:123?ns=app1');
  assert.deepEqual(JSON.parse(got.body), { key: 'user:123', namespace: 'app1', value: 'alice' });
  assert.equal((await nexus.request('GET', '/get/user:123?ns=app2')).status, 404);
  assert.equal((await nexus.request('GET', '/get/absent?ns=app1')).status, 404);
  const bad = await nexus.request('POST', '/set?ns=app1', '{not json');
  assert.equal(bad.status, 422);
  assert.ok(JSON.parse(bad.body).detail);
  assert.equal((await nexus.request('PATCH', '/set')).status, 405);
  const stats = JSON.parse((await nexus.request('GET', '/stats')).body);
  assert.equal(stats.namespaces.app1.total_keys, 1);
  assert.equal(stats.cache_hits, 1);
  assert.equal(stats.cache_misses, 1);
  await nexus.close();
});

test('a trap is a NexusError, storage is unchanged, and the next call runs on a new instance', async () => {
  const { nexus } = await openMemory();
  const app = nexus.namespace('app1');
  await app.set('k', 'before');
  const before = snapshot(nexus);
  const traps = [];
  nexus.onError((e) => traps.push(e));
  // A host bug the guest does not survive: get-many throwing something that
  // is not a storage error. (Too few values is a typed storage error now:
  // the store checks the contract.)
  const { storage } = nexus;
  const getMany = storage.getMany;
  storage.getMany = () => {
    throw new TypeError('a broken storage');
  };
  await assert.rejects(app.set('k', 'during'), refusal('trap'));
  storage.getMany = getMany;
  assert.equal(traps.length, 1);
  assert.deepEqual(snapshot(nexus), before, 'a trapped call wrote nothing');
  await app.set('k', 'after');
  assert.equal((await app.get('k')).text, 'after');
  await nexus.close();
});

test("a namespace handle answers as the name does, refuses what the name would, and any number of namespaces work", async () => {
  const { nexus } = await openMemory();
  const { kv } = nexus.component.exports;
  const options = { ttlMs: undefined, onlyIfAbsent: false, onlyIfVersion: undefined };
  const handle = kv.NamespaceHandle.open('app1');
  assert.equal(handle.name(), 'app1');
  const key = new TextEncoder().encode('k');
  const version = handle.set(key, Uint8Array.of(1, 2), options);
  assert.deepEqual(kv.get('app1', key), handle.get(key));
  assert.equal(kv.get('app1', key).version, version);
  assert.deepEqual(handle.getMany([key, Uint8Array.of(9)]), kv.getMany('app1', [key, Uint8Array.of(9)]));
  assert.throws(() => handle.set(key, Uint8Array.of(3), { ...options, onlyIfAbsent: true }), (e) => e.payload?.tag === 'condition-failed');
  assert.equal(handle.delete(key), true);
  assert.equal(kv.get('app1', key), undefined);
  for (const bad of ['', 'Bad Name', '_private', 'core', 'x'.repeat(65)]) {
    assert.throws(() => kv.NamespaceHandle.open(bad), (e) => e.payload?.tag === 'invalid-namespace', bad);
  }
  // The JavaScript API keeps a bounded map of handles per instance: past
  // its size it starts again, and every namespace still answers.
  for (let i = 0; i < 1100; i++) await nexus.namespace(`ns${i}`).set('k', `v${i}`);
  for (const i of [0, 1023, 1024, 1099]) assert.equal((await nexus.namespace(`ns${i}`).get('k')).text, `v${i}`);
  await nexus.close();
});

test('a cron task fires on tick, by the manual clock', async () => {
  const { nexus, clock } = await openMemory();
  clock.set(Date.UTC(2026, 0, 1, 12, 0, 30));
  const app = nexus.namespace('jobs');
  const task = await app.createTask({ name: 'every-minute', cron: '* * * * *', timezone: 'Europe/Paris', eventType: 'job.run' });
  assert.equal(task.nextRunAt, Date.UTC(2026, 0, 1, 12, 1, 0));
  clock.set(Date.UTC(2026, 0, 1, 12, 1, 0));
  assert.equal((await nexus.tick()).tasksFired, 1);
  const [delivery] = await app.receive({ consumer: 'c' });
  assert.equal(delivery.envelope.eventType, 'job.run');
  await nexus.close();
});

// --- batch calls: one call into the component for many keys or events ---

/** What a reader sees of an entry (the getter `text` included). */
const seen = (entry) => entry && { key: entry.key, text: entry.text, version: entry.version, expiresAt: entry.expiresAt };

/** Counts the calls into the component and into its storage import while `fn` runs. */
async function counting(nexus, fn) {
  const component = nexus.component;
  const { storage } = nexus;
  const counts = { component: 0, get: 0, getMany: 0, commit: 0 };
  const originals = { callNow: component.callNow, get: storage.get, getMany: storage.getMany, commit: storage.commit };
  component.callNow = (f) => {
    counts.component++;
    return originals.callNow.call(component, f);
  };
  for (const name of ['get', 'getMany', 'commit']) {
    storage[name] = (...args) => {
      counts[name]++;
      return originals[name].apply(storage, args);
    };
  }
  try {
    await fn();
  } finally {
    delete component.callNow;
    for (const name of ['get', 'getMany', 'commit']) delete storage[name];
  }
  return counts;
}

test('getMany, setMany and deleteMany are one call into the component, one storage read, at most one commit', async () => {
  const { nexus } = await openMemory();
  const app = nexus.namespace('app1');
  const keys = Array.from({ length: 100 }, (_, i) => `user:${i}`);
  let versions;
  const set = await counting(nexus, async () => {
    versions = await app.setMany(keys.map((k) => [k, `value of ${k}`]));
  });
  assert.deepEqual(set, { component: 1, get: 0, getMany: 1, commit: 1 });
  assert.equal(versions.length, 100);
  assert.ok(versions.every((v) => typeof v === 'bigint'));
  let entries;
  const read = await counting(nexus, async () => {
    entries = await app.getMany([...keys, 'absent']);
  });
  assert.deepEqual(read, { component: 1, get: 0, getMany: 1, commit: 0 });
  assert.deepEqual(entries.slice(0, 2).map(seen), [
    { key: 'user:0', text: 'value of user:0', version: versions[0], expiresAt: null },
    { key: 'user:1', text: 'value of user:1', version: versions[1], expiresAt: null },
  ]);
  assert.equal(entries[100], null);
  let deleted;
  const gone = await counting(nexus, async () => {
    deleted = await app.deleteMany(keys);
  });
  assert.deepEqual(gone, { component: 1, get: 0, getMany: 1, commit: 1 });
  assert.equal(deleted, 100);
  assert.equal(await app.size(), 0);
  await nexus.close();
});

test('property: getMany answers what get answers key by key; setMany and deleteMany do what set and delete do', async () => {
  const { nexus } = await openMemory();
  // The batch calls in one namespace, the singles in another, from the same input.
  const batch = nexus.namespace('batch');
  const singles = nexus.namespace('singles');
  const key = fc.oneof(
    fc.string({ minLength: 1, maxLength: 3 }),
    fc.uint8Array({ minLength: 1, maxLength: 3 }),
  );
  // A key's identity is its bytes: 'a' and Uint8Array.of(97) are one key.
  const text = (k) => String(typeof k === 'string' ? new TextEncoder().encode(k) : k);
  await fc.assert(fc.asyncProperty(
    fc.array(fc.tuple(key, fc.string({ maxLength: 8 })), { maxLength: 25 }),
    fc.array(key, { maxLength: 25 }),
    fc.option(fc.integer({ min: 1, max: 10_000 }), { nil: undefined }),
    async (items, keys, ttlMs) => {
      await batch.clear();
      await singles.clear();
      const versions = await batch.setMany(items, { ttlMs });
      assert.equal(versions.length, items.length);
      for (const [k, v] of items) await singles.set(k, v, { ttlMs });
      // The last item of a key is the value it keeps, with that item's version.
      const last = new Map(items.map(([k, v], i) => [text(k), { k, v, version: versions[i] }]));
      for (const { k, v, version } of last.values()) {
        const got = await batch.get(k);
        assert.equal(got.text, v);
        assert.equal(got.version, version);
        assert.equal(got.expiresAt, ttlMs === undefined ? null : nexus.nowMs() + ttlMs);
        assert.equal((await singles.get(k)).text, v);
      }
      assert.equal(await batch.size(), last.size);
      assert.equal(await singles.size(), last.size);

      // getMany is map(get), in order, duplicates and misses included.
      const many = await batch.getMany(keys);
      const one = [];
      for (const k of keys) one.push(await batch.get(k));
      assert.deepEqual(many.map(seen), one.map(seen));

      // deleteMany counts each live key once, as deleting them one by one does.
      const deleted = await batch.deleteMany(keys);
      let deletedOneByOne = 0;
      for (const k of keys) if (await singles.delete(k)) deletedOneByOne++;
      assert.equal(deleted, deletedOneByOne);
      assert.equal(deleted, new Set(keys.map(text).filter((k) => last.has(k))).size);
      assert.equal(await batch.size(), await singles.size());
      for (const k of keys) assert.equal(await batch.get(k), null);
    },
  ), { seed: 24, numRuns: 40 });
  // A hit or a miss per key, as get counts them.
  const before = await batch.stats();
  await batch.setMany({ a: '1' });
  await batch.getMany(['a', 'b', 'a']);
  const after = await batch.stats();
  assert.deepEqual([after.hits - before.hits, after.misses - before.misses], [2, 1]);
  await nexus.close();
});

test('batch calls see and touch only their own namespace', async () => {
  const { nexus } = await openMemory();
  const a = nexus.namespace('a');
  const b = nexus.namespace('b');
  await a.setMany(new Map([['k1', 'from a'], ['k2', 'from a']]));
  await b.setMany([['k2', 'from b']]);
  assert.deepEqual((await a.getMany(['k1', 'k2'])).map((e) => e?.text), ['from a', 'from a']);
  assert.deepEqual((await b.getMany(['k1', 'k2'])).map((e) => e?.text), [undefined, 'from b']);
  assert.equal(await b.deleteMany(['k1', 'k2']), 1);
  assert.deepEqual((await a.getMany(['k1', 'k2'])).map((e) => e?.text), ['from a', 'from a']);
  const [id] = await a.emitBatch([{ eventType: 'only.in.a', payload: {} }]);
  assert.deepEqual(await b.receive({ consumer: 'c' }), []);
  assert.deepEqual(await b.ackBatch([id], { consumer: 'c' }).then((r) => r.map((e) => e?.code)), ['not-found']);
  assert.equal((await a.receive({ consumer: 'c' }))[0].envelope.messageId, id);
  await nexus.close();
});

test('emitBatch emits what emit does, in order; ackBatch answers per id, and a refused id changes nothing', async () => {
  const { nexus, clock } = await openMemory();
  const app = nexus.namespace('orders');
  const events = [
    { eventType: 'order.created', payload: { id: 1 } },
    { eventType: 'order.created', payload: '{"id":2}', producerNodeId: 'shop-1' },
    { eventType: 'order.shipped', payload: { id: 1 }, broadcast: true },
    { eventType: 'order.reminder', payload: { id: 1 }, delayMs: 60_000 },
  ];
  const ids = await app.emitBatch(events);
  assert.equal(ids.length, 4);
  const singles = nexus.namespace('singles');
  for (const { eventType, payload, ...options } of events) await singles.emit(eventType, payload, options);
  const deliveries = await app.receive({ consumer: 'worker', max: 10 });
  assert.deepEqual(deliveries.map((d) => d.envelope.messageId), ids.slice(0, 3), 'the delayed one is not visible yet');
  const fields = (d) => [d.envelope.eventType, d.envelope.payload, d.envelope.producerNodeId, d.envelope.broadcast];
  assert.deepEqual(deliveries.map(fields), [
    ['order.created', '{"id":1}', undefined, false],
    ['order.created', '{"id":2}', 'shop-1', false],
    ['order.shipped', '{"id":1}', undefined, true],
  ]);
  assert.deepEqual((await singles.receive({ consumer: 'worker', max: 10 })).map(fields), deliveries.map(fields));

  const unknown = '0000000000000000000a';
  const outcomes = await app.ackBatch([ids[0], unknown, ids[2]], { consumer: 'worker' });
  assert.equal(outcomes.length, 3);
  assert.equal(outcomes[0], null);
  assert.ok(refusal('not-found')(outcomes[1]), String(outcomes[1]));
  assert.equal(outcomes[2], null);
  assert.equal((await app.metrics()).acked, 2);
  // Another consumer's lease: condition-failed for that id, and the lease holds.
  const [other] = await app.ackBatch([ids[1]], { consumer: 'someone-else' });
  assert.ok(refusal('condition-failed')(other), String(other));
  assert.deepEqual(await app.ackBatch([ids[1]], { consumer: 'worker' }), [null]);
  clock.advance(60_000);
  const [reminder] = await app.receive({ consumer: 'worker' });
  assert.equal(reminder.envelope.messageId, ids[3]);
  assert.deepEqual(await app.ackBatch([ids[3], ids[3]], { consumer: 'worker' }).then((r) => r.map((e) => e?.code ?? null)), [null, 'not-found']);
  assert.equal((await app.metrics()).queueDepth, 0);
  await nexus.close();
});

test('bad input to a batch call is a typed NexusError and writes nothing', async () => {
  const { nexus } = await openMemory();
  const app = nexus.namespace('app1');
  await app.setMany({ a: 'v', b: 'v' });
  await app.emit('job', {});
  const before = snapshot(nexus);
  const tooMany = Array.from({ length: 101 }, () => ({ eventType: 'e', payload: {} }));
  const cases = [
    [() => app.getMany('a'), 'invalid-argument'],
    [() => app.getMany(['a', 1]), 'invalid-argument'],
    [() => app.getMany(['a', '']), 'invalid-key'],
    [() => nexus.namespace('Bad Name').getMany(['a']), 'invalid-namespace'],
    [() => app.setMany('a=1'), 'invalid-argument'],
    [() => app.setMany(null), 'invalid-argument'],
    [() => app.setMany([['a']]), 'invalid-argument'],
    [() => app.setMany([['a', 'new'], [{}, 'v']]), 'invalid-argument'],
    [() => app.setMany([['a', 'new'], ['b', 7]]), 'invalid-argument'],
    [() => app.setMany({ a: 'new' }, { ttlMs: -1 }), 'invalid-argument'],
    [() => app.setMany({ a: 'new' }, { ttlMs: 1.5 }), 'invalid-argument'],
    [() => app.setMany({ a: 'new' }, { ttlMs: 0 }), 'invalid-argument'],
    [() => app.setMany([['a', 'new'], ['', 'v']]), 'invalid-key'],
    [() => app.setMany([['a', 'new'], ['c', new Uint8Array(2 * 1024 * 1024)]]), 'value-too-large'],
    [() => app.deleteMany('a'), 'invalid-argument'],
    [() => app.deleteMany(['a', undefined]), 'invalid-argument'],
    [() => app.deleteMany(['a', '']), 'invalid-key'],
    [() => app.emitBatch({ eventType: 'e' }), 'invalid-argument'],
    [() => app.emitBatch([{ eventType: 'e', payload: {} }, null]), 'invalid-argument'],
    [() => app.emitBatch([{ eventType: 7, payload: {} }]), 'invalid-argument'],
    [() => app.emitBatch([{ eventType: 'e', payload: {}, delayMs: -1 }]), 'invalid-argument'],
    [() => app.emitBatch([{ eventType: 'e', payload: 1n }]), 'invalid-argument'],
    [() => app.emitBatch([{ eventType: 'e', payload: {} }, { eventType: 'e', payload: 'not json' }]), 'invalid-argument'],
    [() => app.emitBatch([]), 'invalid-argument'],
    [() => app.emitBatch(tooMany), 'invalid-argument'],
    [() => app.ackBatch('0000000000000000000a'), 'invalid-argument'],
    [() => app.ackBatch([1]), 'invalid-argument'],
    [() => app.ackBatch(['0000000000000000000a'], { consumer: 5 }), 'invalid-argument'],
    [() => app.ackBatch([]), 'invalid-argument'],
  ];
  for (const [call, code] of cases) {
    await assert.rejects(call, refusal(code), `expected ${code}: ${call}`);
  }
  assert.deepEqual(snapshot(nexus), before);
  assert.equal((await app.get('a')).text, 'v');
  await nexus.close();
});
