// The console's client (console/client.js) reading the values of a page of
// keys: in this tab one getMany, against a server one GET per key (its REST
// API has no batch read); both read the same values.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Client } from '../console/client.js';
import { InTabTransport } from '../console/transport.js';
import { openMemory } from './helpers.js';

test('the values of several keys read the same in this tab (one getMany) and over REST (one GET each)', async () => {
  const { nexus } = await openMemory();
  await nexus.namespace('app1').setMany({ 'user:1': 'alice', 'user:2': '{"n":2}', 'a/b c': 'x' });
  const keys = ['user:2', 'absent', 'a/b c', 'user:1'];

  const inTab = new Client(new InTabTransport(nexus));
  let getManyCalls = 0;
  const getMany = inTab.transport.getMany.bind(inTab.transport);
  inTab.transport.getMany = (...args) => {
    getManyCalls++;
    return getMany(...args);
  };
  const requests = [];
  // A server: only the REST API, as RemoteTransport speaks it.
  const remote = new Client({
    request: (method, path, body) => {
      requests.push(`${method} ${path}`);
      return nexus.request(method, path, body ?? '');
    },
  });

  const expected = ['{"n":2}', null, 'x', 'alice'];
  assert.deepEqual(await inTab.values('app1', keys), expected);
  assert.equal(getManyCalls, 1);
  assert.deepEqual(await remote.values('app1', keys), expected);
  assert.deepEqual(requests.sort(), [
    'GET /get/a%2Fb%20c?ns=app1', 'GET /get/absent?ns=app1', 'GET /get/user%3A1?ns=app1', 'GET /get/user%3A2?ns=app1',
  ]);
  await assert.rejects(remote.values('Bad Name', ['k']), (e) => e.code === 'http' && e.status >= 400);
  await assert.rejects(inTab.values('Bad Name', ['k']), (e) => e.code === 'invalid-namespace');
  await nexus.close();
});
