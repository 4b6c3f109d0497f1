// The JavaScript host behind node:http: the transpiled guest, the JS
// storage and clock, exactly what a page runs, serving the REST API over
// real HTTP so that the HTTP suite every host passes (tests/tests/http.rs)
// runs against this host too. Test infrastructure, not a product server:
// storage is in memory.
//
//   node test/api-server.js [--port N] [--manual-clock-ms MS] [--tick-every-ms MS] [--max-body-bytes N]
//
// Prints "nexus-web listening on http://ADDR" once it accepts connections.
// With --manual-clock-ms it answers POST /_test/clock {"advance_ms": N} or
// {"set_ms": N}, as `nexus serve` and the edge harness do (their parser,
// nexus_store::ClockMove, has the rule this file's moveClock repeats in
// JavaScript), and GET /_test/waiting (the receives held open now), as
// `nexus serve` does.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import { ManualClock, Nexus, systemClock } from '../src/nexus.js';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'manual-clock-ms': { type: 'string' },
    'tick-every-ms': { type: 'string', default: '1000' },
    'max-body-bytes': { type: 'string', default: String(2 * 1024 * 1024) },
  },
});

const manual = args['manual-clock-ms'] === undefined ? null : new ManualClock(Number(args['manual-clock-ms']));
const maxBody = Number(args['max-body-bytes']);
const nexus = await Nexus.open({ persist: 'memory', clock: manual ?? systemClock, tickEveryMs: Number(args['tick-every-ms']) });
nexus.onError((error) => console.error(`nexus-web: ${error.message}`));

function reply(res, status, body, headers = [['content-type', 'application/json']]) {
  res.writeHead(status, headers.flat());
  res.end(body);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > maxBody) {
        reject(Object.assign(new Error(`request body over ${maxBody} bytes`), { status: 413 }));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

function moveClock(body) {
  let move;
  try {
    move = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    move = null;
  }
  const keys = move && typeof move === 'object' ? Object.keys(move) : [];
  const ms = keys.length === 1 ? move[keys[0]] : undefined;
  if (!Number.isSafeInteger(ms) || ms < 0 || !['advance_ms', 'set_ms'].includes(keys[0])) return null;
  if (keys[0] === 'advance_ms') manual.advance(ms);
  else manual.set(ms);
  return Number(manual.nowMs());
}

const server = createServer(async (req, res) => {
  try {
    const body = await readBody(req);
    const url = new URL(req.url, 'http://host');
    if (manual && req.method === 'POST' && url.pathname === '/_test/clock') {
      const now = moveClock(body);
      if (now === null) reply(res, 422, JSON.stringify({ detail: 'expected {"advance_ms": N} or {"set_ms": N}' }));
      else reply(res, 200, JSON.stringify({ now_ms: now }));
      return;
    }
    if (manual && req.method === 'GET' && url.pathname === '/_test/waiting') {
      reply(res, 200, JSON.stringify({ waiting: nexus.waitingReceives }));
      return;
    }
    const headers = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i].toLowerCase(), req.rawHeaders[i + 1]]);
    const answer = await nexus.request(req.method, url.pathname + url.search, body, headers);
    reply(res, answer.status, answer.body, answer.headers);
  } catch (error) {
    const status = error.status ?? (error.code === 'trap' ? 500 : 503);
    if (!res.headersSent) reply(res, status, JSON.stringify({ detail: error.message }));
  }
});

server.listen(Number(args.port), '127.0.0.1', () => {
  const { address, port } = server.address();
  console.log(`nexus-web listening on http://${address}:${port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => nexus.close().finally(() => process.exit(0))));
}
