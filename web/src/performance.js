// PyKV's `GET /performance` and `GET /performance/recent-errors` in the
// browser host, as `nexus serve` answers them (host/src/serve/performance.rs):
// a window of the latest requests this store (this tab, this process)
// answered through `request()`. The guest decides who may ask (it answers
// 501 to an admitted request, having no window of its own); this answers.

/** The requests the figures are over: the latest this many. */
export const WINDOW = 10_000;
/** The errors `recent-errors` lists: the latest this many. */
export const RECENT_ERRORS = 100;
const RATE_OVER_MS = 60_000;

/** An error as `/performance` counts it: a refusal or failure, not a 404 (a miss is an answer). */
export const isError = (status) => status >= 400 && status !== 404;

export class Performance {
  #requests = [];
  #errors = [];

  /** One request answered at `atMs`, taking `ms`; `route` is the route template. */
  record(method, route, status, reason, ms, atMs) {
    if (route.startsWith('/performance')) return;
    const error = isError(status);
    this.#requests.push({ atMs, ms, error });
    if (this.#requests.length > WINDOW) this.#requests.shift();
    if (error) {
      this.#errors.push({ operation: `${method} ${route}`, atMs, error: reason ? `${status} ${reason}` : String(status), ms });
      if (this.#errors.length > RECENT_ERRORS) this.#errors.shift();
    }
  }

  summary(nowMs, startedMs) {
    const total = this.#requests.length;
    const spanMs = Math.max(1_000, Math.min(RATE_OVER_MS, nowMs - startedMs));
    const recent = this.#requests.filter((r) => r.atMs >= nowMs - spanMs).length;
    const latencies = this.#requests.map((r) => r.ms).sort((a, b) => a - b);
    const percentile = (p) => (total ? latencies[Math.max(0, Math.ceil(total * p) - 1)] : 0);
    return {
      total_operations: total,
      operations_per_second: (recent * 1000) / spanMs,
      error_rate: total ? this.#requests.filter((r) => r.error).length / total : 0,
      avg_latency_ms: total ? latencies.reduce((a, b) => a + b, 0) / total : 0,
      p95_latency_ms: percentile(0.95),
      p99_latency_ms: percentile(0.99),
    };
  }

  recentErrors() {
    return this.#errors
      .slice()
      .reverse()
      .map((e) => ({ operation: e.operation, timestamp: new Date(e.atMs).toISOString(), error: e.error, duration_ms: e.ms }));
  }
}
