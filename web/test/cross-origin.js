// A page on one origin calling `nexus serve` on another, in headless
// Chromium (Debian's /usr/bin/chromium through playwright-core), as a
// browser client of the REST API does: with `--cors-origin` set to the
// page's origin, `fetch` sets and gets keys, anonymously while the store
// has no tokens and with `Authorization: Bearer` (a preflighted request)
// once it has; a page on an origin not listed cannot read the answers.
//
// Needs the `nexus` binary (`cargo build -p nexus-host`, which the README's
// test command has done by the time it runs this; NEXUS_BIN overrides).
// Screenshots go to web/test-results/: look at them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';

const results = fileURLToPath(new URL('../test-results/', import.meta.url));
const NEXUS = process.env.NEXUS_BIN ?? fileURLToPath(new URL('../../target/debug/nexus', import.meta.url));

// The client page: a form that calls the API given in `?api=` with fetch.
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>nexus from another origin</title>
<style>
  body { font: 15px system-ui, sans-serif; margin: 2rem; max-width: 44rem; }
  label { display: block; margin: .4rem 0; } input { width: 26rem; font: inherit; }
  pre { background: #f4f4f4; padding: .8rem; white-space: pre-wrap; min-height: 6rem; }
</style>
<h1>A page on <span id="origin"></span></h1>
<p>calling nexus at <code id="api"></code></p>
<label>token <input id="token" placeholder="none: anonymous"></label>
<label>key <input id="key" value="user:123"></label>
<label>value <input id="value" value="alice"></label>
<button id="set">set</button> <button id="get">get</button> <button id="watch">watch</button>
<pre id="out"></pre>
<pre id="events"></pre>
<script>
  const api = new URLSearchParams(location.search).get('api');
  document.getElementById('origin').textContent = location.origin;
  document.getElementById('api').textContent = api;
  const out = document.getElementById('out');
  const value = (id) => document.getElementById(id).value;
  async function call(method, path, body) {
    const headers = { 'content-type': 'application/json' };
    if (value('token')) headers.authorization = 'Bearer ' + value('token');
    try {
      const response = await fetch(api + path, { method, headers, body: body && JSON.stringify(body) });
      out.textContent += method + ' ' + path + ' -> ' + response.status + ' ' + (await response.text()) + '\\n';
      out.dataset.last = String(response.status);
    } catch (e) {
      out.textContent += method + ' ' + path + ' -> blocked: ' + e.message + '\\n';
      out.dataset.last = 'blocked';
    }
  }
  document.getElementById('set').onclick = () =>
    call('POST', '/set?ns=app1', { key: value('key'), value: value('value') });
  document.getElementById('get').onclick = () =>
    call('GET', '/get/' + encodeURIComponent(value('key')) + '?ns=app1');
  // A watch is Server-Sent Events: EventSource, which sends no
  // Authorization header (so this works while the store has no tokens).
  document.getElementById('watch').onclick = () => {
    const source = new EventSource(api + '/namespaces/app1/watch?key=' + encodeURIComponent(value('key')));
    const events = document.getElementById('events');
    source.onmessage = (e) => {
      const [entry] = JSON.parse(e.data).entries;
      events.textContent += 'watched ' + entry.key + ' = ' + entry.value + '\\n';
    };
  };
</script>`;

const pages = [];
let allowed;
let nexus;
let api;
let browser;

async function pageServer() {
  const server = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  pages.push(server);
  return `http://127.0.0.1:${server.address().port}`;
}

before(async () => {
  assert.ok(existsSync(NEXUS), `the nexus binary is not built: ${NEXUS} (cargo build -p nexus-host)`);
  allowed = await pageServer();
  nexus = spawn(NEXUS, ['--memory', 'serve', '--addr', '127.0.0.1:0', '--cors-origin', allowed], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = await once(createInterface({ input: nexus.stdout }), 'line');
  api = line.replace('nexus listening on ', '').trim();
  assert.match(api, /^http:\/\/127\.0\.0\.1:\d+$/);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  nexus?.kill();
  for (const server of pages) server.close();
});

async function open(origin) {
  const page = await browser.newPage({ viewport: { width: 900, height: 640 } });
  await page.goto(`${origin}/?api=${encodeURIComponent(api)}`);
  return page;
}

async function click(page, button, count) {
  await page.click(button);
  await page.waitForFunction((n) => document.getElementById('out').textContent.split('\n').length > n, count);
  return page.locator('#out').getAttribute('data-last');
}

test('a page on an allowed origin watches a key with EventSource and sees each set as it happens', async () => {
  const page = await open(allowed);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.fill('#key', 'live');
  await page.click('#watch');
  await page.waitForFunction(() => document.getElementById('events').textContent.includes('watched live = null'));
  for (const value of ['one', 'two']) {
    await page.fill('#value', value);
    await page.click('#set');
    await page.waitForFunction((v) => document.getElementById('events').textContent.includes(`watched live = ${v}`), value);
  }
  await page.screenshot({ path: join(results, 'cross-origin-watch.png') });
  await page.close();
  assert.deepEqual(errors, []);
});

test('a page on an allowed origin sets and gets keys, then needs a token once one exists', async () => {
  const page = await open(allowed);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  assert.equal(await click(page, '#set', 1), '200');
  assert.equal(await click(page, '#get', 2), '200');
  assert.match(await page.locator('#out').textContent(), /"value":"alice"/);

  // The first token makes auth required (made here by a script, not the page).
  const made = await fetch(`${api}/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'web', namespaces: ['app1'], scope: 'write' }),
  });
  assert.equal(made.status, 201);
  const { secret } = await made.json();
  assert.equal(await click(page, '#get', 3), '401', 'anonymous is refused, and the page can read why');
  await page.fill('#token', secret);
  await page.fill('#value', 'bob');
  assert.equal(await click(page, '#set', 4), '200', 'a preflighted request with Authorization');
  assert.equal(await click(page, '#get', 5), '200');
  assert.match(await page.locator('#out').textContent(), /"value":"bob"/);
  await page.screenshot({ path: join(results, 'cross-origin-allowed.png') });
  assert.deepEqual(errors, []);
});

test('a page on an origin not listed cannot read the answers', async () => {
  const page = await open(await pageServer());
  assert.equal(await click(page, '#get', 1), 'blocked');
  await page.screenshot({ path: join(results, 'cross-origin-refused.png') });
});
