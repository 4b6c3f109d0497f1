//! PyKV's `GET /performance` and `GET /performance/recent-errors`: how
//! this process has been answering, over a window of its latest requests.
//! Prometheus (`/metrics`) has the same requests as counters and
//! histograms since the start; this is the small, recent view PyKV's
//! clients and web UI show.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

/// The requests the figures are over: the latest this many.
pub(super) const WINDOW: usize = 10_000;
/// The errors `recent-errors` lists: the latest this many.
pub(super) const RECENT_ERRORS: usize = 100;
/// `operations_per_second` is the rate over this much of the window.
const RATE_OVER_MS: u64 = 60_000;

/// The window, shared by every request of the server.
#[derive(Default)]
pub(super) struct Performance {
    window: Mutex<Window>,
}

#[derive(Default)]
struct Window {
    requests: VecDeque<Sample>,
    errors: VecDeque<Failure>,
}

struct Sample {
    at_ms: u64,
    micros: u64,
    error: bool,
}

struct Failure {
    operation: String,
    at_ms: u64,
    error: String,
    micros: u64,
}

/// An error as `/performance` counts it: a refusal or a failure, but not a
/// 404, which answers "no such key" as often as it reports a mistake.
pub(super) fn is_error(status: u16) -> bool {
    status >= 400 && status != 404
}

impl Performance {
    /// One request answered at `at_ms` (the store's clock); `reason` is
    /// the detail of an error answer.
    pub fn record(
        &self,
        method: &str,
        route: &str,
        status: u16,
        reason: Option<&str>,
        took: Duration,
        at_ms: u64,
    ) {
        if route.starts_with("/performance") {
            // Looking at the figures does not change them.
            return;
        }
        let micros = took.as_micros().min(u128::from(u64::MAX)) as u64;
        let error = is_error(status);
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        if window.requests.len() == WINDOW {
            window.requests.pop_front();
        }
        window.requests.push_back(Sample {
            at_ms,
            micros,
            error,
        });
        if error {
            if window.errors.len() == RECENT_ERRORS {
                window.errors.pop_front();
            }
            window.errors.push_back(Failure {
                operation: format!("{method} {route}"),
                at_ms,
                error: match reason {
                    Some(reason) => format!("{status} {reason}"),
                    None => status.to_string(),
                },
                micros,
            });
        }
    }

    /// `/performance` at `now_ms`, for a process started at `started_ms`.
    pub fn summary(&self, now_ms: u64, started_ms: u64) -> Value {
        let window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        let total = window.requests.len();
        let span_ms = RATE_OVER_MS
            .min(now_ms.saturating_sub(started_ms))
            .max(1_000);
        let since = now_ms.saturating_sub(span_ms);
        let recent = window
            .requests
            .iter()
            .rev()
            .take_while(|s| s.at_ms >= since)
            .count();
        let errors = window.requests.iter().filter(|s| s.error).count();
        let mut latencies: Vec<u64> = window.requests.iter().map(|s| s.micros).collect();
        latencies.sort_unstable();
        let ms = |micros: u64| micros as f64 / 1_000.0;
        let percentile = |p: f64| {
            latencies
                .get(((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1))
                .map_or(0.0, |m| ms(*m))
        };
        let mean = if total == 0 {
            0.0
        } else {
            ms(latencies.iter().sum::<u64>()) / total as f64
        };
        json!({
            "total_operations": total,
            "operations_per_second": recent as f64 * 1_000.0 / span_ms as f64,
            "error_rate": if total == 0 { 0.0 } else { errors as f64 / total as f64 },
            "avg_latency_ms": mean,
            "p95_latency_ms": percentile(0.95),
            "p99_latency_ms": percentile(0.99),
        })
    }

    /// `/performance/recent-errors`: most recent first.
    pub fn recent_errors(&self) -> Value {
        let window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        Value::Array(
            window
                .errors
                .iter()
                .rev()
                .map(|e| {
                    let at = SystemTime::UNIX_EPOCH + Duration::from_millis(e.at_ms);
                    json!({
                        "operation": e.operation,
                        "timestamp": humantime::format_rfc3339_millis(at).to_string(),
                        "error": e.error,
                        "duration_ms": e.micros as f64 / 1_000.0,
                    })
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_keeps_the_latest_requests_and_counts_errors_but_not_misses() {
        let p = Performance::default();
        let at = 1_700_000_000_000;
        for i in 0..(WINDOW as u64 + 10) {
            let status = match i % 4 {
                0 => 422,
                1 => 404,
                _ => 200,
            };
            p.record(
                "GET",
                "/get/{key}",
                status,
                Some("why"),
                Duration::from_micros(i),
                at,
            );
        }
        p.record("GET", "/performance", 500, None, Duration::ZERO, at);
        let s = p.summary(at, at - 120_000);
        assert_eq!(s["total_operations"], WINDOW);
        assert_eq!(s["error_rate"], 0.25);
        assert_eq!(s["operations_per_second"], WINDOW as f64 / 60.0);
        assert!(s["p99_latency_ms"].as_f64() >= s["p95_latency_ms"].as_f64());
        let errors = p.recent_errors();
        assert_eq!(errors.as_array().unwrap().len(), RECENT_ERRORS);
        assert_eq!(errors[0]["operation"], "GET /get/{key}");
        assert_eq!(errors[0]["error"], "422 why");
        assert_eq!(errors[0]["timestamp"], "2023-11-14T22:13:20.000Z");
    }

    #[test]
    fn an_empty_window_has_zeros() {
        let s = Performance::default().summary(5_000, 0);
        assert_eq!(s["total_operations"], 0);
        assert_eq!(s["error_rate"], 0.0);
        assert_eq!(s["p99_latency_ms"], 0.0);
    }
}
