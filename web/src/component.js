// The guest component, instantiated by jco's glue (`gen/`, made by
// `npm run build`) with the imports this package provides. A trap leaves a
// component instance unusable, so it is replaced: the failed call reports a
// `NexusError` with code "trap" (and the guest's panic message), and the
// next call runs on a fresh instance over the same storage, which a trap
// cannot have half-written (every write is one all-or-nothing commit).

import { instantiate } from '../gen/nexus_component.js';
import { NexusError } from './errors.js';
import { takeStderr, wasiImports } from './wasi.js';

const compiled = new Map();

/** Compiles each core module once per page (or process); instances share them. */
function coreModule(name) {
  if (!compiled.has(name)) compiled.set(name, compile(new URL(`../gen/${name}`, import.meta.url)));
  return compiled.get(name);
}

/** A core module from its URL: read from disk in Node, streamed in a page. */
export async function compile(url) {
  if (url.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    return WebAssembly.compile(await readFile(url));
  }
  return WebAssembly.compileStreaming(fetch(url));
}

/** What jco's glue puts on a typed error: the WIT `error` variant as `{ tag, val }`. */
function typedPayload(e) {
  const payload = e !== null && typeof e === 'object' && Object.hasOwn(e, 'payload') ? e.payload : undefined;
  return payload && typeof payload.tag === 'string' ? payload : undefined;
}

/**
 * The WIT `error` variant (`{ tag, val }`, as jco lifts it) as a
 * `NexusError`: how a thrown error becomes one, and how the per-item errors
 * of a batch answer (`ack-batch`) do.
 */
export function nexusError(variant) {
  return new NexusError(variant.tag, variant.val ?? '');
}

export class Component {
  #imports;
  #exports = null;
  #starting = null;
  #onTrap;

  constructor({ storage, clock, onTrap }) {
    // jco's glue takes the functions off these objects, so they are bound here.
    this.#imports = {
      ...wasiImports,
      'nexus:store/storage': {
        get: (key) => storage.get(key),
        getMany: (keys) => storage.getMany(keys),
        scan: (start, end, limit) => storage.scan(start, end, limit),
        commit: (checks, writes) => storage.commit(checks, writes),
      },
      'nexus:store/clock': { nowMs: () => clock.nowMs() },
      'nexus:store/types': {},
    };
    this.#onTrap = onTrap;
  }

  /** Instantiates the guest; resolves to this component. */
  static async start(options) {
    const component = new Component(options);
    await component.ready();
    return component;
  }

  /** Resolves once an instance is ready (after a trap: the replacement). */
  async ready() {
    if (!this.#exports) {
      this.#starting ??= instantiate(coreModule, this.#imports).then((exports) => {
        this.#exports = exports;
        this.#starting = null;
      });
      await this.#starting;
    }
  }

  /** The raw jco exports (`kv`, `namespaces`, `events`, `maintenance`, `httpApi`), for hot loops. */
  get exports() {
    if (!this.#exports) throw new NexusError('trap', 'the component is being re-instantiated; await ready()');
    return this.#exports;
  }

  /**
   * Runs `fn(exports)` on a live instance. Typed errors become `NexusError`s
   * with the variant's code; anything else is a trap: the instance is
   * dropped, a new one is started, and the error says what the guest said.
   */
  async call(fn) {
    await this.ready();
    return this.callNow(fn);
  }

  /** `call` without waiting: for callers that know an instance is up. */
  callNow(fn) {
    const exports = this.exports;
    takeStderr();
    try {
      return fn(exports);
    } catch (e) {
      const payload = typedPayload(e);
      if (payload) throw nexusError(payload);
      if (e instanceof NexusError) throw e;
      this.#exports = null;
      const said = takeStderr();
      const trap = new NexusError('trap', [said, e?.message ?? String(e)].filter(Boolean).join('\n'), { cause: e });
      this.#onTrap?.(trap);
      this.ready().catch(() => {});
      throw trap;
    }
  }
}
