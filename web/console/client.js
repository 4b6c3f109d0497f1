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
