// The console's client: REST calls through a transport, JSON in and out,
// refusals as NexusError (code "http", the status, and the server's detail).
import { NexusError } from '../src/errors.js';

export class Client {
  constructor(transport) {
    this.transport = transport;
  }

  /** The raw answer: `{ status, headers, body }`. */
  raw(method, path, body) {
    return this.transport.request(method, path, body);
  }

  /**
   * The values of several keys of namespace `ns`, in order, as text (null
   * where there is none). In this tab that is one `getMany`, one call into
   * the store; a server's REST API has no batch read, so there it is one
   * `GET /get/{key}` per key, sent together.
   */
  async values(ns, keys) {
    if (this.transport.getMany) return this.transport.getMany(ns, keys);
    return Promise.all(keys.map(async (key) => {
      try {
        return (await this.call('GET', `/get/${enc(key)}?ns=${enc(ns)}`)).value;
      } catch (e) {
        if (e.status === 404) return null;
        throw e;
      }
    }));
  }

  /** Watches keys of `ns`: see the transports' `watch`; returns the function that stops it. */
  watch(ns, keys, onChange, onError) {
    return this.transport.watch(ns, keys, onChange, onError);
  }

  /** Parsed JSON of a 2xx answer; a NexusError otherwise. */
  async call(method, path, body) {
    const text = body === undefined ? '' : JSON.stringify(body);
    const response = await this.raw(method, path, text);
    let json = null;
    try {
      json = response.body ? JSON.parse(response.body) : null;
    } catch {
      // not JSON: reported below with the raw text
    }
    if (response.status < 200 || response.status > 299) {
      const detail = json?.detail ?? response.body ?? '';
      throw new NexusError('http', `${response.status} ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`, { status: response.status });
    }
    return json;
  }
}

/** A path segment or query value, percent-encoded. */
export const enc = encodeURIComponent;
