//! What the REST API costs inside the store, without any HTTP server: a
//! PyKV GET and SET as request records through `Nexus::handle_http` (the
//! component, memory backend, one thread), next to the same records handled
//! natively by the logic crate. Set against `scripts/bench-http.sh`'s
//! req/s, it splits a request's time between the store and the server.
//!
//! Run: `cargo bench --workspace --bench http`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput};
use nexus_host::Nexus;
use nexus_host::backend::MemoryBackend;
use nexus_host::clock::SystemClock;
use nexus_store::http::Request;

const KEYS: usize = 10_000;
/// Requests per call in the `http-batch` group.
const BATCH: usize = 16;

fn get(i: usize) -> Request {
    Request {
        method: "GET".into(),
        path: format!("/get/user:{:06}", i % KEYS),
        query: "ns=bench".into(),
        ..Request::default()
    }
}

fn set(i: usize) -> Request {
    Request {
        method: "POST".into(),
        path: "/set".into(),
        query: "ns=bench".into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: format!(
            r#"{{"key":"user:{:06}","value":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}"#,
            i % KEYS
        )
        .into_bytes(),
        started_at_ms: None,
        ..Request::default()
    }
}

fn handle(c: &mut Criterion) {
    let mut group = c.benchmark_group("http");
    group.throughput(Throughput::Elements(1));
    let backend = Arc::new(MemoryBackend::new());
    let nexus = Nexus::builder().backend(backend.clone()).build().unwrap();
    for i in 0..KEYS {
        let answer = nexus.handle_http(set(i)).unwrap();
        assert_eq!(answer.status, 200);
    }
    let mut native = nexus_store::Store::new(backend, SystemClock);
    let mut i = 0;
    group.bench_function("get/wasm", |b| {
        b.iter(|| {
            i += 1;
            black_box(nexus.handle_http(get(i)).unwrap())
        })
    });
    group.bench_function("get/native", |b| {
        b.iter(|| {
            i += 1;
            black_box(native.handle_http(&get(i)))
        })
    });
    group.bench_function("set/wasm", |b| {
        b.iter(|| {
            i += 1;
            black_box(nexus.handle_http(set(i)).unwrap())
        })
    });
    group.bench_function("set/native", |b| {
        b.iter(|| {
            i += 1;
            black_box(native.handle_http(&set(i)))
        })
    });
    group.finish();

    // The same requests, BATCH at a time: one guest call, one get-many,
    // one commit for all of them (`nexus serve` gathers requests so).
    let mut group = c.benchmark_group("http-batch");
    group.throughput(Throughput::Elements(BATCH as u64));
    let batch = |at: usize, one: fn(usize) -> Request| -> Vec<Request> {
        (at..at + BATCH).map(one).collect()
    };
    for (name, one) in [("get", get as fn(usize) -> Request), ("set", set)] {
        group.bench_function(format!("{name}/wasm"), |b| {
            b.iter(|| {
                i += BATCH;
                black_box(nexus.handle_http_batch_now(&batch(i, one)))
            })
        });
        group.bench_function(format!("{name}/native"), |b| {
            b.iter(|| {
                i += BATCH;
                black_box(native.handle_http_batch(&batch(i, one)))
            })
        });
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    handle(&mut c);
    c.final_summary();
}
