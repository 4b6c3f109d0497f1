// The glue jco generates, as scripts/build.js rewrites it (lists lifted
// through a view, short ASCII strings written directly, the DataView kept
// until the memory grows and taken once per answer): strings of every kind
// cross intact, and bytes stay right while the guest's memory grows under
// them.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { openMemory } from './helpers.js';

test('strings cross into the component and back as UTF-8, short or long, ASCII or not', async () => {
  const { nexus } = await openMemory();
  const app = nexus.namespace('app1');
  const texts = ['', 'a', 'order.created', 'x'.repeat(64), 'y'.repeat(65), 'café', '☕ ok', '𝄞 clef', '\u007f\u0080', 'ü'.repeat(70)];
  for (const text of texts) {
    const id = await app.emit('text', { text });
    const { events } = await app.log({ afterId: undefined, limit: 1000 });
    assert.deepEqual(JSON.parse(events.find((e) => e.messageId === id).payload), { text });
  }
  await fc.assert(fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 80 }), async (text) => {
    await app.setMetadata({ text });
    assert.deepEqual(await app.metadata(), { text });
  }), { seed: 5, numRuns: 200 });
  await nexus.close();
});

test('values stay right while the guest memory grows under the calls', async () => {
  const { nexus } = await openMemory();
  const app = nexus.namespace('big');
  const value = (i, n) => Uint8Array.from({ length: n }, (_, j) => (i * 31 + j) & 255);
  const sizes = [10, 100_000, 300_000, 900_000];
  const keys = [];
  for (let i = 0; i < 24; i++) {
    keys.push(`k${i}`);
    // The guest allocates more and more: its memory grows (about twenty
    // times over this test) while the glue holds a DataView of the old one.
    await app.set(`k${i}`, value(i, sizes[i % sizes.length]));
    const entries = await app.getMany(keys);
    entries.forEach((entry, j) => assert.deepEqual(entry.value, value(j, sizes[j % sizes.length]), `k${j} after ${i + 1} sets`));
  }
  await nexus.close();
});
