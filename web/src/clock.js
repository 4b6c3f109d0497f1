// The WIT `clock` import: milliseconds since the Unix epoch, as the u64
// (BigInt) jco expects.

/** The tab's wall clock. */
export const systemClock = {
  nowMs: () => BigInt(Date.now()),
};

/** A clock that moves only when told to: tests drive TTL, leases and cron with it. */
export class ManualClock {
  #now;
  #watchers = [];

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#now = BigInt(startMs);
  }

  nowMs() {
    return this.#now;
  }

  set(ms) {
    this.#now = BigInt(ms);
    this.#moved();
  }

  advance(ms) {
    this.#now += BigInt(ms);
    this.#moved();
  }

  /** Calls `f` whenever the clock is moved: held receives look again. */
  onMove(f) {
    this.#watchers.push(f);
  }

  #moved() {
    for (const f of this.#watchers) f();
  }
}
