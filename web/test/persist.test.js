// Persistence through IndexedDB (fake-indexeddb in Node; the browser test
// does the same with Chromium's real one): a reopened store has every
// answered write, a store that cannot be loaded says so, and a failed
// write-through refuses further writes instead of running ahead of disk.
import 'fake-indexeddb/auto';

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { IDBDatabase, IDBFactory } from 'fake-indexeddb';

import { ManualClock, Nexus, NexusError } from '../src/nexus.js';
import { IndexedDbPersistence } from '../src/persist.js';

const open = (indexedDB, name = 'nexus') =>
  Nexus.open({ persist: 'indexeddb', name, indexedDB, clock: new ManualClock(), tickEveryMs: 0 });

test('a reopened store has every answered write, in commit order', async () => {
  const indexedDB = new IDBFactory();
  let nexus = await open(indexedDB);
  const app = nexus.namespace('app1');
  await app.set('kept', 'v1');
  await Promise.all(Array.from({ length: 200 }, (_, i) => app.set(`k${i}`, `${i}`)));
  await app.set('kept', 'v2');
  await app.delete('k0');
  await app.increment('counter', 41);
  await app.increment('counter');
  await app.emit('e', {});
  await nexus.namespace('gone').set('x', 'y');
  await nexus.namespace('gone').clear();
  await nexus.flush();
  const entries = [...nexus.storage.entries()];
  await nexus.close();

  nexus = await open(indexedDB);
  assert.deepEqual([...nexus.storage.entries()], entries, 'the reloaded map is the map that was written');
  const again = nexus.namespace('app1');
  assert.equal((await again.get('kept')).text, 'v2');
  assert.equal(await again.get('k0'), null);
  assert.equal((await again.get('k199')).text, '199');
  assert.equal((await again.get('counter')).text, '42');
  assert.equal(await nexus.namespace('gone').size(), 0);
  assert.equal((await again.receive({ consumer: 'c' })).length, 1);
  await nexus.close();
});

test('stores with different names are separate databases', async () => {
  const indexedDB = new IDBFactory();
  const a = await open(indexedDB, 'a');
  await a.namespace('app1').set('k', 'in a');
  await a.close();
  const b = await open(indexedDB, 'b');
  assert.equal(await b.namespace('app1').get('k'), null);
  await b.close();
});

test('an entry nexus did not write is reported, and nothing is loaded or changed', async () => {
  const indexedDB = new IDBFactory();
  const nexus = await open(indexedDB);
  await nexus.namespace('app1').set('k', 'v');
  await nexus.close();
  const db = await new Promise((resolve) => {
    const req = indexedDB.open('nexus', 1);
    req.onsuccess = () => resolve(req.result);
  });
  await new Promise((resolve) => {
    const tx = db.transaction('kv', 'readwrite');
    tx.objectStore('kv').put('not bytes', 'a string key');
    tx.oncomplete = resolve;
  });
  db.close();
  await assert.rejects(open(indexedDB), (e) => e instanceof NexusError && e.code === 'storage' && /did not write/.test(e.reason));
  const { entries, persistence } = await IndexedDbPersistence.open('nexus', indexedDB).catch((e) => ({ error: e }));
  assert.equal(entries, undefined, 'still refused: the data was left as it was');
  assert.equal(persistence, undefined);
});

test('a failed write-through rejects the write and refuses the next ones', async () => {
  const indexedDB = new IDBFactory();
  const nexus = await open(indexedDB);
  const app = nexus.namespace('app1');
  await app.set('before', 'ok');
  const transaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (names, mode) {
    if (mode === 'readwrite') throw new DOMException('disk full', 'QuotaExceededError');
    return transaction.call(this, names, mode);
  };
  try {
    await assert.rejects(app.set('lost', 'x'), (e) => e.code === 'storage' && /disk full/.test(e.reason));
    await assert.rejects(app.set('next', 'x'), (e) => e.code === 'storage' && /IndexedDB write failed/.test(e.reason));
    assert.equal(await app.get('next'), null, 'the refused write changed nothing');
    assert.equal((await app.get('before')).text, 'ok', 'reads still work');
  } finally {
    IDBDatabase.prototype.transaction = transaction;
  }
  await nexus.close().catch(() => {});
  const reopened = await open(indexedDB);
  assert.equal((await reopened.namespace('app1').get('before')).text, 'ok');
  assert.equal(await reopened.namespace('app1').get('lost'), null, 'the rejected write was never acknowledged');
  await reopened.close();
});

test('persist must be indexeddb or memory', async () => {
  await assert.rejects(Nexus.open({ persist: 'disk' }), (e) => e.code === 'invalid-argument');
});
