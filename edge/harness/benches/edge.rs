//! What one edge request costs in the harness, without the network: the
//! component instantiated per request (pooling allocator, as Spin), a
//! request handed to it through wasi:http, its body read to the end, over a
//! SQLite file on disk. `cargo bench -p nexus-edge-harness --bench edge`.
//!
//! - `instantiate`: a new store and instance, dropped: the per-request floor.
//! - `404`: instantiate + route a path nobody serves (one `SELECT`: the
//!   piggybacked tick's check).
//! - `GET miss, no namespace`: instantiate + GET in a namespace that does
//!   not exist (one `SELECT` for the tick, the token check and the entry).
//! - `GET hit`: the same of a stored key; one GET in 16 also writes its
//!   hit, counted 16 times (the edge's sampled statistics).
//! - `GET hit, exact counts`: `NEXUS_READ_COUNT_SAMPLE=1`: every hit
//!   written in a transaction before the answer.
//! - `SET`: instantiate + a durable SET.

use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use nexus_edge_harness::{Edge, HarnessOptions};

fn request(method: &str, uri: &str, body: &str) -> hyper::Request<Full<Bytes>> {
    hyper::Request::builder()
        .method(method)
        .uri(format!("http://bench.local{uri}"))
        .header("host", "bench.local")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a well-formed request")
}

/// One request, answered and its body read.
async fn call(edge: &Edge, method: &str, uri: &str, body: &str) -> u16 {
    let (in_flight, _done) = tokio::sync::mpsc::channel(1);
    let response = edge
        .handle(request(method, uri, body), in_flight)
        .await
        .expect("the component answers");
    let status = response.status().as_u16();
    response
        .into_body()
        .collect()
        .await
        .expect("the whole body");
    status
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::TempDir::new().expect("a temporary directory");
    let options = HarnessOptions {
        database: dir.path().join("bench.db"),
        ..HarnessOptions::default()
    };
    let edge = Edge::open(&options).expect("the edge component loads");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let value = "v".repeat(32);
    let set_body = format!(r#"{{"key":"bench:1","value":"{value}"}}"#);
    assert_eq!(
        runtime.block_on(call(&edge, "POST", "/set?ns=bench", &set_body)),
        200
    );

    let mut group = c.benchmark_group("edge");
    group.bench_function("instantiate", |b| {
        b.iter(|| runtime.block_on(edge.instantiate()).expect("instantiates"))
    });
    group.bench_function("404", |b| {
        b.iter(|| assert_eq!(runtime.block_on(call(&edge, "GET", "/nope", "")), 404))
    });
    group.bench_function("GET miss, no namespace", |b| {
        b.iter(|| {
            let status = runtime.block_on(call(&edge, "GET", "/get/bench:1?ns=absent", ""));
            assert_eq!(status, 404)
        })
    });
    group.bench_function("GET hit", |b| {
        b.iter(|| {
            let status = runtime.block_on(call(&edge, "GET", "/get/bench:1?ns=bench", ""));
            assert_eq!(status, 200)
        })
    });
    let exact = Edge::open(&HarnessOptions {
        environment: vec![("NEXUS_READ_COUNT_SAMPLE".into(), "1".into())],
        ..options.clone()
    })
    .expect("the edge component loads");
    group.bench_function("GET hit, exact counts", |b| {
        b.iter(|| {
            let status = runtime.block_on(call(&exact, "GET", "/get/bench:1?ns=bench", ""));
            assert_eq!(status, 200)
        })
    });
    group.bench_function("SET", |b| {
        b.iter(|| {
            let status = runtime.block_on(call(&edge, "POST", "/set?ns=bench", &set_body));
            assert_eq!(status, 200)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
