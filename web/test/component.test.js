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
