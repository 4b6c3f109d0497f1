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
