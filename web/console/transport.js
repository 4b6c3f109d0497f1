// Where the console's requests go. Both transports speak the REST API
// (the same routes and bytes `nexus serve` answers): one hands them to the
// component in this tab, the other sends them to a server with fetch (the
// server must allow this page's origin with CORS when it is another origin).

/** The store in this tab: requests go to the component's `http-api` export. */
export class InTabTransport {
  constructor(nexus) {
    this.nexus = nexus;
    this.label = 'this tab';
  }

  request(method, path, body) {
    return this.nexus.request(method, path, body ?? '');
  }

  /**
   * Calls `onChange(values)` with the keys' values as text (null where
   * none) now and at each change, until the returned function is called.
   */
  watch(ns, keys, onChange, onError) {
    const changes = this.nexus.namespace(ns).watch(keys);
    (async () => {
      for await (const entries of changes) onChange(entries.map((entry) => entry && entry.text));
    })().catch(onError);
    return () => changes.return();
  }

  /** Several keys' values as text (null where none): one `getMany`, one call into the store. */
  async getMany(ns, keys) {
    const entries = await this.nexus.namespace(ns).getMany(keys);
    return entries.map((entry) => entry && entry.text);
  }
}

/** A nexus server: requests go over HTTP. */
export class RemoteTransport {
  constructor(baseUrl) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.label = this.baseUrl;
  }

  /**
   * `watch` of the in-tab transport, over the server's
   * `GET /namespaces/{ns}/watch` as Server-Sent Events: `EventSource`
   * reconnects by itself, resuming from the last event's id.
   */
  watch(ns, keys, onChange, onError) {
    const query = keys.map((key) => `key=${encodeURIComponent(key)}`).join('&');
    const source = new EventSource(`${this.baseUrl}/namespaces/${encodeURIComponent(ns)}/watch?${query}`);
    source.onmessage = (event) => onChange(JSON.parse(event.data).entries.map((entry) => entry.value));
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) onError(new Error(`watching ${keys.join(', ')} failed`));
    };
    return () => source.close();
  }

  async request(method, path, body) {
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body || undefined,
    });
    return {
      status: response.status,
      headers: [...response.headers.entries()],
      body: await response.text(),
    };
  }
}
