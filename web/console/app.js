// The console page: a small UI over the REST API, answered by the store in
// this tab (the guest component through jco, storage persisted to
// IndexedDB) or by a nexus server.
import { Nexus } from '../src/nexus.js';
import { Client, enc } from './client.js';
import { InTabTransport, RemoteTransport } from './transport.js';

const $ = (id) => document.getElementById(id);

const state = {
  client: null,
  nexus: null,
  ns: new URLSearchParams(location.search).get('ns') || 'default',
  tab: 'keys',
  cursor: null,
  /** The keys table shows values (read for each page listed). */
  showValues: false,
};

// --- small DOM helpers ---

function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return el;
}

const time = (ms) => (ms === null || ms === undefined ? '—' : new Date(ms).toLocaleString());
/** A time of today as hh:mm:ss, any other day in full. */
const clockTime = (ms) => (new Date(ms).toDateString() === new Date().toDateString() ? new Date(ms).toLocaleTimeString() : time(ms));
const short = (text, n = 60) => (text.length > n ? `${text.slice(0, n)}…` : text);

function showError(error) {
  $('error-text').textContent = error?.message ?? String(error);
  $('error').hidden = false;
}

function setStatus(text, kind = 'ok') {
  $('status').textContent = text;
  $('status').className = `pill ${kind}`;
}

function result(id, text, ok = true) {
  const out = $(id);
  out.textContent = text;
  out.className = `result ${ok ? 'ok' : 'bad'}`;
}

/** Runs an action; a refusal is shown where the action was asked for, anything else in the banner. */
async function attempt(resultId, fn) {
  try {
    return await fn();
  } catch (error) {
    if (resultId && error.code) result(resultId, error.code === 'http' ? error.reason : error.message, false);
    else showError(error);
    return undefined;
  }
}

function api(method, path, body) {
  if (!state.client) return Promise.reject(new Error('the store is not open (see the message above)'));
  return state.client.call(method, path, body);
}
const nsPath = (rest = '') => `/namespaces/${enc(state.ns)}${rest}`;

// --- namespaces ---

async function refreshNamespaces() {
  const { namespaces } = await api('GET', '/namespaces');
  const names = [...new Set([...namespaces, state.ns])].sort();
  $('namespaces').replaceChildren(...names.map((name) => h('li', {},
    h('button', {
      type: 'button',
      class: name === state.ns ? 'ns current' : 'ns',
      onclick: () => openNamespace(name),
    }, name))));
}

async function openNamespace(name) {
  unwatch();
  state.ns = name;
  state.cursor = null;
  $('current-namespace').textContent = name;
  history.replaceState(null, '', `?ns=${enc(name)}`);
  await refreshAll();
}

// --- keys ---

async function listKeys(more = false) {
  const prefix = $('kv-prefix').value;
  const query = new URLSearchParams({ prefix, limit: '20' });
  if (more && state.cursor) query.set('cursor', state.cursor);
  const page = await api('GET', nsPath(`/entries?${query}`));
  $('kv-value-heading').hidden = !state.showValues;
  const rows = page.keys.map((k) => h('tr', {},
    h('td', { class: 'mono' }, k.key),
    state.showValues ? h('td', { class: 'mono value muted' }, '…') : null,
    h('td', {}, `${k.value_bytes} B`),
    h('td', { class: 'when' }, k.expires_at ? time(k.expires_at) : 'never'),
    h('td', { class: 'actions' },
      h('button', { type: 'button', onclick: () => getKey(k.key) }, 'Get'),
      h('button', { type: 'button', class: 'danger', onclick: () => deleteKey(k.key) }, 'Delete'))));
  if (more) $('kv-rows').append(...rows);
  else $('kv-rows').replaceChildren(...rows);
  if (!more && rows.length === 0) {
    $('kv-rows').replaceChildren(h('tr', {}, h('td', { colspan: state.showValues ? '5' : '4', class: 'empty' }, 'No keys yet.')));
  }
  state.cursor = page.next_cursor;
  $('kv-more').hidden = !page.next_cursor;
  if (state.showValues && page.keys.length > 0) {
    // The page's values in one read (getMany), not one GET per row.
    const values = await state.client.values(state.ns, page.keys.map((k) => k.key));
    rows.forEach((row, i) => {
      const cell = row.querySelector('td.value');
      cell.textContent = values[i] === null ? 'gone' : short(values[i], 40);
      cell.classList.toggle('muted', values[i] === null);
    });
  }
  const { total_keys: total } = await api('GET', nsPath('/keys'));
  $('kv-count').textContent = `${total} key${total === 1 ? '' : 's'} in ${state.ns}`;
}

async function getKey(key) {
  $('kv-key').value = key;
  await attempt('kv-result', async () => {
    const { value } = await api('GET', `/get/${enc(key)}?ns=${enc(state.ns)}`);
    $('kv-value').value = value;
    result('kv-result', `${key} = ${short(value)}`);
  });
}

/** The key shown live in the Keys tab, and how to stop showing it. */
let stopWatching = null;

function unwatch() {
  stopWatching?.();
  stopWatching = null;
  $('kv-watch').hidden = true;
}

function watchKey(key) {
  unwatch();
  $('kv-watch-key').textContent = key;
  $('kv-watch-value').textContent = '…';
  $('kv-watch').hidden = false;
  stopWatching = state.client.watch(state.ns, [key], ([value]) => {
    $('kv-watch-value').textContent = value === null ? '(no value)' : value;
    $('kv-watch-value').classList.toggle('muted', value === null);
    $('kv-watch-when').textContent = `as of ${new Date().toLocaleTimeString()}`;
  }, (error) => {
    unwatch();
    showError(error);
  });
}

async function deleteKey(key) {
  await attempt('kv-result', async () => {
    await api('DELETE', `/delete/${enc(key)}?ns=${enc(state.ns)}`);
    result('kv-result', `deleted ${key}`);
    await listKeys();
  });
}

// --- events ---

async function refreshEvents() {
  const log = await api('GET', nsPath('/events/log'));
  const events = log.events.slice(-50).reverse();
  $('ev-log').replaceChildren(...(events.length ? events.map((e) => h('tr', {},
    h('td', { class: 'when' }, clockTime(e.emitted_at)),
    h('td', { class: 'mono' }, e.event_type),
    h('td', { class: 'mono' }, short(JSON.stringify(e.payload))),
    h('td', { class: 'mono muted' }, e.message_id))) : [h('tr', {}, h('td', { colspan: '4', class: 'empty' }, 'No events yet.'))]));
  const m = await api('GET', nsPath('/events/metrics'));
  $('ev-metrics').textContent = `queue ${m.queue_depth} · in flight ${m.in_flight} · dead ${m.dlq_depth} · emitted ${m.emitted} · acked ${m.acked}`;
  const dlq = await api('GET', nsPath('/dlq'));
  $('dlq-rows').replaceChildren(...(dlq.letters.length ? dlq.letters.map((l) => h('tr', {},
    h('td', { class: 'when' }, clockTime(l.failed_at)),
    h('td', { class: 'mono' }, l.original_event.event_type),
    h('td', {}, l.reason),
    h('td', { class: 'actions' }, h('button', {
      type: 'button',
      onclick: () => attempt(null, async () => {
        await api('POST', nsPath(`/dlq/${enc(l.id)}/replay`));
        await refreshEvents();
      }),
    }, 'Replay')))) : [h('tr', {}, h('td', { colspan: '4', class: 'empty' }, 'Nothing dead-lettered.'))]));
}

function deliveryItem(d, consumer) {
  const item = h('li', { class: 'delivery' },
    h('div', {}, h('strong', { class: 'mono' }, d.event_type), ' ', h('span', { class: 'mono muted' }, d.message_id)),
    h('div', { class: 'mono small' }, short(JSON.stringify(d.payload), 120)),
    h('div', { class: 'muted small' }, `attempt ${d.attempt} · leased until ${time(d.visible_until)}`));
  const settle = (verb, body) => attempt(null, async () => {
    const answer = await api('POST', nsPath(`/events/${enc(d.message_id)}/${verb}`), body);
    item.replaceChildren(h('span', { class: 'muted' }, `${d.message_id}: ${verb === 'ack' ? 'acked' : answer.outcome}`));
    await refreshEvents();
  });
  item.append(h('div', { class: 'row' },
    h('button', { type: 'button', class: 'primary', onclick: () => settle('ack', { consumer }) }, 'Ack'),
    h('button', { type: 'button', onclick: () => settle('nack', { consumer, reason: 'nacked in the console' }) }, 'Nack')));
  return item;
}

// --- tasks ---

async function refreshTasks() {
  const { tasks } = await api('GET', nsPath('/tasks'));
  $('task-rows').replaceChildren(...(tasks.length ? tasks.map((t) => h('tr', {},
    h('td', { class: 'mono' }, t.name),
    h('td', { class: 'mono' }, `${t.cron}${t.timezone ? ` (${t.timezone})` : ''}`),
    h('td', { class: 'when' }, t.active ? time(t.next_run_at) : 'paused'),
    h('td', {}, String(t.run_count)),
    h('td', { class: 'actions' },
      h('button', {
        type: 'button',
        onclick: () => attempt(null, async () => {
          await api('POST', nsPath(`/tasks/${enc(t.name)}/${t.active ? 'pause' : 'resume'}`));
          await refreshTasks();
        }),
      }, t.active ? 'Pause' : 'Resume'),
      h('button', {
        type: 'button',
        class: 'danger',
        onclick: () => attempt(null, async () => {
          await api('DELETE', nsPath(`/tasks/${enc(t.name)}`));
          await refreshTasks();
        }),
      }, 'Delete')))) : [h('tr', {}, h('td', { colspan: '5', class: 'empty' }, 'No tasks.'))]));
}

// --- namespace ---

async function refreshNamespaceInfo() {
  const info = await api('GET', nsPath()).catch((e) => (e.status === 404 ? null : Promise.reject(e)));
  if (!info) {
    $('ns-info').replaceChildren(h('dt', {}, 'State'), h('dd', {}, 'empty: written on first use'));
    $('ns-metadata-json').value = '{}';
    return;
  }
  const facts = {
    Created: time(info.created_at),
    Keys: String(info.total_keys),
    'Max keys': info.limits.max_keys ?? 'unlimited',
    'Max key bytes': String(info.limits.max_key_bytes),
    'Max value bytes': String(info.limits.max_value_bytes),
    'When full': info.limits.policy,
  };
  $('ns-info').replaceChildren(...Object.entries(facts).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]));
  if (document.activeElement !== $('ns-metadata-json')) $('ns-metadata-json').value = JSON.stringify(info.metadata, null, 2);
}

// --- stats ---

async function refreshStats() {
  const stats = await api('GET', '/stats');
  const tiles = {
    Hits: stats.cache_hits,
    Misses: stats.cache_misses,
    'Hit rate': stats.cache_hits + stats.cache_misses ? `${Math.round((100 * stats.cache_hits) / (stats.cache_hits + stats.cache_misses))}%` : '—',
    Keys: stats.total_keys,
    Sets: stats.sets,
    Deletes: stats.deletes,
    Expired: stats.expirations,
  };
  $('stats-totals').replaceChildren(...Object.entries(tiles).map(([k, v]) => h('div', { class: 'tile' }, h('div', { class: 'tile-value' }, String(v)), h('div', { class: 'muted' }, k))));
  // The store-wide tiles above; each namespace's own figures here, the
  // open one marked.
  const rows = Object.entries(stats.namespaces).map(([name, s]) => h('tr', name === state.ns ? { class: 'current' } : {},
    h('td', { class: 'mono' }, name), h('td', {}, String(s.total_keys)), h('td', {}, String(s.cache_hits)), h('td', {}, String(s.cache_misses))));
  $('stats-rows').replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: '4', class: 'empty' }, 'No namespaces yet.'))]));
}

// --- wiring ---

const refreshers = { keys: () => listKeys(), events: refreshEvents, tasks: refreshTasks, namespace: refreshNamespaceInfo, stats: refreshStats, rest: async () => {} };

async function refreshAll() {
  await attempt(null, async () => {
    await refreshNamespaces();
    await refreshers[state.tab]();
  });
}

function selectTab(tab) {
  state.tab = tab;
  for (const button of document.querySelectorAll('[role=tab]')) button.setAttribute('aria-selected', String(button.dataset.tab === tab));
  for (const section of document.querySelectorAll('.tab')) section.hidden = section.id !== `tab-${tab}`;
  refreshAll();
}

function wire() {
  for (const button of document.querySelectorAll('[role=tab]')) button.addEventListener('click', () => selectTab(button.dataset.tab));
  $('error-dismiss').addEventListener('click', () => { $('error').hidden = true; });

  $('new-namespace').addEventListener('submit', (e) => {
    e.preventDefault();
    openNamespace($('new-namespace-name').value.trim());
    $('new-namespace-name').value = '';
  });

  $('kv-set').addEventListener('submit', (e) => {
    e.preventDefault();
    attempt('kv-result', async () => {
      const key = $('kv-key').value;
      const body = { key, value: $('kv-value').value };
      if ($('kv-ttl').value) body.ttl = Number($('kv-ttl').value);
      await api('POST', `/set?ns=${enc(state.ns)}`, body);
      result('kv-result', `set ${key}${body.ttl ? ` for ${body.ttl} s` : ''}`);
      await refreshAll();
    });
  });
  $('kv-get-button').addEventListener('click', () => getKey($('kv-key').value));
  $('kv-delete-button').addEventListener('click', () => deleteKey($('kv-key').value));
  $('kv-watch-button').addEventListener('click', () => {
    const key = $('kv-key').value;
    if (key) watchKey(key);
    else result('kv-result', 'name the key to watch', false);
  });
  $('kv-watch-stop').addEventListener('click', unwatch);
  $('kv-list').addEventListener('submit', (e) => { e.preventDefault(); attempt(null, () => listKeys()); });
  $('kv-show-values').addEventListener('change', () => {
    state.showValues = $('kv-show-values').checked;
    attempt(null, () => listKeys());
  });
  $('kv-more').addEventListener('click', () => attempt(null, () => listKeys(true)));

  $('ev-emit').addEventListener('submit', (e) => {
    e.preventDefault();
    attempt('ev-emit-result', async () => {
      let payload;
      try {
        payload = JSON.parse($('ev-payload').value || '{}');
      } catch (err) {
        result('ev-emit-result', `payload is not JSON: ${err.message}`, false);
        return;
      }
      const { message_id: id } = await api('POST', nsPath('/events'), { event_type: $('ev-type').value, payload, delay_ms: Number($('ev-delay').value || 0) });
      result('ev-emit-result', `emitted ${id}`);
      await refreshAll();
    });
  });
  $('ev-receive').addEventListener('submit', (e) => {
    e.preventDefault();
    attempt(null, async () => {
      const consumer = $('ev-consumer').value;
      const { messages } = await api('POST', nsPath('/events/receive'), {
        consumer, max: Number($('ev-max').value), visibility_timeout_ms: Number($('ev-visibility').value),
      });
      $('ev-deliveries').replaceChildren(...(messages.length ? messages.map((d) => deliveryItem(d, consumer)) : [h('li', { class: 'empty' }, 'Nothing to receive.')]));
      await refreshEvents();
    });
  });
  $('dlq-replay-all').addEventListener('click', () => attempt(null, async () => {
    await api('POST', nsPath('/dlq/replay'));
    await refreshEvents();
  }));

  $('task-create').addEventListener('submit', (e) => {
    e.preventDefault();
    attempt('task-result', async () => {
      let payload;
      try {
        payload = JSON.parse($('task-payload').value || '{}');
      } catch (err) {
        result('task-result', `payload is not JSON: ${err.message}`, false);
        return;
      }
      const task = await api('POST', nsPath('/tasks'), {
        name: $('task-name').value, cron: $('task-cron').value, timezone: $('task-tz').value || null, event_type: $('task-type').value, payload,
      });
      result('task-result', `created ${task.name}; next run ${time(task.next_run_at)}`);
      await refreshTasks();
    });
  });

  $('ns-metadata').addEventListener('submit', (e) => {
    e.preventDefault();
    attempt('ns-result', async () => {
      let metadata;
      try {
        metadata = JSON.parse($('ns-metadata-json').value);
      } catch (err) {
        result('ns-result', `metadata is not JSON: ${err.message}`, false);
        return;
      }
      await api('PUT', nsPath('/metadata'), metadata);
      result('ns-result', 'metadata saved');
      await refreshAll();
    });
  });
  $('ns-clear').addEventListener('click', () => attempt('ns-result', async () => {
    const { keys_deleted: n } = await api('DELETE', nsPath());
    result('ns-result', `deleted ${n} key${n === 1 ? '' : 's'}`);
    await refreshAll();
  }));

  $('rest').addEventListener('submit', (e) => {
    e.preventDefault();
    attempt(null, async () => {
      const started = performance.now();
      if (!state.client) throw new Error('the store is not open (see the message above)');
      const answer = await state.client.raw($('rest-method').value, $('rest-path').value, $('rest-body').value);
      const ms = (performance.now() - started).toFixed(2);
      $('rest-status').textContent = `${answer.status} · ${ms} ms · ${answer.headers.map(([k, v]) => `${k}: ${v}`).join(' · ')}`;
      let body = answer.body;
      try {
        body = JSON.stringify(JSON.parse(body), null, 2);
      } catch {
        // shown as sent
      }
      $('rest-response').textContent = body;
      $('rest-response').className = `response ${answer.status < 400 ? 'ok' : 'bad'}`;
    });
  });

  $('mode').addEventListener('change', () => {
    const remote = $('mode').value === 'remote';
    $('server-url').hidden = !remote;
    $('connect-button').hidden = !remote;
    if (!remote) connectInTab();
  });
  $('connect').addEventListener('submit', (e) => {
    e.preventDefault();
    const url = $('server-url').value || 'http://127.0.0.1:8000';
    unwatch();
    state.client = new Client(new RemoteTransport(url));
    setStatus(`server ${url}`, 'ok');
    refreshAll();
  });

  // The log tail, stats and tasks follow the store while they are shown.
  setInterval(() => {
    if (!state.client || document.hidden) return;
    if (['events', 'stats', 'tasks'].includes(state.tab)) refreshers[state.tab]().catch(() => {});
  }, 1000);
  addEventListener('pagehide', () => state.nexus?.flush());
}

async function connectInTab() {
  unwatch();
  if (!state.nexus) {
    setStatus('opening…', 'wait');
    try {
      state.nexus = await Nexus.open({
        persist: 'indexeddb',
        onWaiting: () => setStatus('open in another tab: waiting for it to close', 'wait'),
      });
    } catch (error) {
      setStatus('not loaded', 'bad');
      showError(error);
      return;
    }
    state.nexus.onError((error) => showError(error));
    window.nexus = state.nexus;
  }
  state.client = new Client(new InTabTransport(state.nexus));
  setStatus('in this tab · saved in IndexedDB', 'ok');
  $('current-namespace').textContent = state.ns;
  await refreshAll();
}

$('current-namespace').textContent = state.ns;
wire();
connectInTab();
