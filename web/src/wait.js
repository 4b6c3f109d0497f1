// Long polling in the JavaScript host, as in the wasmtime host
// (host/src/wait.rs): the guest never waits; an empty receive with a wait
// comes back at once, and the host holds it until a commit wakes the
// namespace (the guest adds a `notify` write to emits and nacks), a message
// becomes visible by time, or the time is up. Every wait listens first,
// then asks, then sleeps, so a wake-up between the ask and the sleep is
// never lost. A held receive holds no instance: other calls run meanwhile.

/** The response header of an empty receive that may be held (nexus_store::http::WAIT_HEADER). */
export const WAIT_HEADER = 'x-nexus-wait';

/** The response headers a host acts on and never forwards (nexus_store::http::HOST_HEADERS). */
export const HOST_HEADERS = [WAIT_HEADER, 'x-nexus-watch'];

/** `ns=app; deadline=MS; next=MS` as `{ namespace, deadlineMs, nextVisibleMs }`, or null. */
export function parseWaitHint(value) {
  const hint = { namespace: null, deadlineMs: null, nextVisibleMs: null };
  for (const part of value.split(';')) {
    const [name, v] = part.trim().split('=');
    if (name === 'ns') hint.namespace = v;
    else if (name === 'deadline') hint.deadlineMs = Number(v);
    else if (name === 'next') hint.nextVisibleMs = Number(v);
    else return null;
  }
  return hint.namespace === null || !Number.isFinite(hint.deadlineMs) ? null : hint;
}

/** The receivers waiting in this store, by namespace. */
export class Waiters {
  #waiting = new Map();
  #closed = false;

  /** `{ woken, cancel }`: `woken` resolves at the namespace's next wake. */
  listen(namespace) {
    let resolve;
    const woken = new Promise((r) => { resolve = r; });
    let set = this.#waiting.get(namespace);
    if (!set) this.#waiting.set(namespace, (set = new Set()));
    set.add(resolve);
    return {
      woken,
      cancel: () => {
        set.delete(resolve);
        if (set.size === 0 && this.#waiting.get(namespace) === set) this.#waiting.delete(namespace);
      },
    };
  }

  wake(namespace) {
    const set = this.#waiting.get(namespace);
    this.#waiting.delete(namespace);
    for (const resolve of set ?? []) resolve();
  }

  /** How many receives are held open now. */
  get total() {
    let n = 0;
    for (const set of this.#waiting.values()) n += set.size;
    return n;
  }

  /** The clock jumped (a test moved it): everyone looks again. */
  wakeAll() {
    for (const namespace of [...this.#waiting.keys()]) this.wake(namespace);
  }

  /** Closing: held receives answer now, later ones at once. */
  close() {
    this.#closed = true;
    this.wakeAll();
  }

  get closed() {
    return this.#closed;
  }
}

/**
 * Holds one request. `ask()` resolves to `{ value, recheckAtMs }`:
 * `recheckAtMs` null when the value is the answer (messages came, or an
 * error), else when to ask again at the latest. Resolves to the last value
 * once there is one worth answering or `deadlineMs` (on `clock`) is reached.
 */
export async function hold(waiters, clock, namespace, deadlineMs, ask) {
  for (;;) {
    const listener = waiters.listen(namespace);
    let asked;
    try {
      asked = await ask();
    } catch (e) {
      listener.cancel();
      throw e;
    }
    const now = Number(clock.nowMs());
    if (asked.recheckAtMs === null || now >= deadlineMs || waiters.closed) {
      listener.cancel();
      return asked.value;
    }
    const sleep = Math.max(0, Math.min(asked.recheckAtMs, deadlineMs) - now);
    let timer;
    await Promise.race([listener.woken, new Promise((r) => { timer = setTimeout(r, sleep); })]);
    clearTimeout(timer);
    listener.cancel();
  }
}
