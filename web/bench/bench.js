// `npm run bench` (not a test): GET and SET ops/s through the component
// with the JavaScript storage, nexus's raw GET beside the floor component's
// (bench/floor/, `npm run build:floor`), and keys/s of getMany in batches of
// 100, in Node and in headless Chromium, one after the other in one run.
// scripts/bench-web.sh runs it next to the wasmtime host's kv bench and
// prints the ratios; docs/benchmarks.md has the figures.
//
//   node bench/bench.js [--seconds N] [--node-only]
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';

import { Nexus } from '../src/nexus.js';
import { serve } from '../scripts/serve.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/chromium.js';
import { run } from './loop.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '2' }, 'node-only': { type: 'boolean', default: false } },
});
const seconds = Number(values.seconds);
// The floor component is built apart (`npm run build:floor`; bench-web.sh
// does); without it, nexus's figures alone (as scripts/bench-jco.sh wants).
const floor = existsSync(new URL('./floor/gen/floor.js', import.meta.url));
if (!floor) console.error('the floor component is not built (npm run build:floor): GET floor left out');

const rows = [];
for (const r of await run(Nexus, { seconds, floor })) rows.push({ where: `node ${process.versions.node}`, ...r });

if (!values['node-only']) await inChromium();

console.log(`${'where'.padEnd(24)} ${'operation (ops/s unless said)'.padEnd(36)} ${'median'.padStart(12)} ${'best'.padStart(10)}`);
for (const { where, name, opsPerSec, best } of rows) {
  console.log(`${where.padEnd(24)} ${name.padEnd(36)} ${String(opsPerSec).padStart(12)} ${String(best).padStart(10)}`);
}

async function inChromium() {
  const server = await serve({ port: 0 });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(`http://127.0.0.1:${server.address().port}/bench/?seconds=${seconds}&floor=${floor ? 1 : 0}`);
    await page.waitForFunction(() => window.benchResult || window.benchError, null, { timeout: 60 * seconds * 1000 });
    const error = await page.evaluate(() => window.benchError);
    if (error) throw new Error(`the benchmark failed in Chromium: ${error}`);
    const where = `chromium ${browser.version()}`;
    for (const r of await page.evaluate(() => window.benchResult)) rows.push({ where, ...r });
  } finally {
    await browser.close();
    server.close();
  }
}
