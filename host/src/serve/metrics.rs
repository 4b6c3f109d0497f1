//! What `/metrics` exposes, in the Prometheus text format: requests by route
//! and status, request latency, requests per guest call, storage commit
//! latency, and the key count of every namespace (read from the store at
//! scrape time).

use std::sync::Weak;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::Nexus;
use crate::backend::{Backend, Check, Storage, StorageError, Write};
use crate::wait::Waiters;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NamespaceLabels {
    namespace: String,
}

/// Latency buckets from 50 µs to about 1.6 s.
fn latency_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(0.000_05, 2.0, 16)
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    commit_latency: Histogram,
    batch_size: Histogram,
    keys: Family<NamespaceLabels, Gauge>,
}

impl Metrics {
    pub fn new() -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(latency_buckets())
        });
        let commit_latency = Histogram::new(latency_buckets());
        let batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 11));
        let keys = Family::<NamespaceLabels, Gauge>::default();
        let mut registry = Registry::with_prefix("nexus");
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request, by route",
            latency.clone(),
        );
        registry.register(
            "storage_commit_duration_seconds",
            "Time for a storage commit to be acknowledged (durable, on the file backend)",
            commit_latency.clone(),
        );
        registry.register(
            "http_batch_requests",
            "Requests answered by one call into the store (batching)",
            batch_size.clone(),
        );
        registry.register(
            "namespace_keys",
            "Live keys per namespace, read when scraped",
            keys.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            commit_latency,
            batch_size,
            keys,
        }
    }

    /// The histogram of requests per guest call, for the batcher to fill.
    pub(super) fn batch_size(&self) -> Histogram {
        self.batch_size.clone()
    }

    pub fn record_request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_string(),
            })
            .observe(took.as_secs_f64());
    }

    /// The text exposition, with key counts read from `nexus` now.
    pub fn render(&self, nexus: &Nexus) -> String {
        self.keys.clear();
        match nexus.namespaces() {
            Ok(namespaces) => {
                for ns in namespaces {
                    self.keys
                        .get_or_create(&NamespaceLabels { namespace: ns.name })
                        .set(ns.key_count as i64);
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading key counts for /metrics"),
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }

    /// Wraps a backend so each commit's latency is observed.
    pub fn metered<B: Storage>(&self, inner: B) -> Metered<B> {
        Metered {
            inner,
            commit_latency: self.commit_latency.clone(),
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// A storage that times its commits.
pub struct Metered<B> {
    inner: B,
    commit_latency: Histogram,
}

impl<B: Storage> Storage for Metered<B> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.get(key)
    }
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        self.inner.get_many(keys)
    }
    fn scan(
        &self,
        start: &[u8],
        end: &[u8],
        limit: u32,
    ) -> Result<nexus_store::storage::Entries, StorageError> {
        self.inner.scan(start, end, limit)
    }
    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError> {
        let start = std::time::Instant::now();
        let result = self.inner.commit(checks, writes);
        self.commit_latency.observe(start.elapsed().as_secs_f64());
        result
    }
}

impl<B: Backend> Backend for Metered<B> {
    fn watch(&self, waiters: Weak<Waiters>) {
        self.inner.watch(waiters);
    }

    fn compaction(&self) -> &'static str {
        self.inner.compaction()
    }

    fn compact(&self) -> Result<(), StorageError> {
        self.inner.compact()
    }

    fn snapshot(&self, visit: crate::backend::Visit<'_>) -> Result<(), StorageError> {
        self.inner.snapshot(visit)
    }
}

impl<B> Metered<B> {
    pub fn inner(&self) -> &B {
        &self.inner
    }
}
