//! A tight loop of one operation, for instruction-level profiling of the hot
//! path (`valgrind --tool=callgrind` counts instructions, so results repeat
//! on a busy machine; see docs/benchmarks.md):
//!
//! ```sh
//! cargo build --release -p nexus-host --example hot_loop
//! valgrind --tool=callgrind --toggle-collect='hot_loop::wasm_loop' target/release/examples/hot_loop 10000 get
//! valgrind --tool=callgrind --toggle-collect='hot_loop::native_loop' target/release/examples/hot_loop 10000 set native
//! valgrind --tool=callgrind --toggle-collect='hot_loop::events_loop' target/release/examples/hot_loop 1000 events
//!
//! valgrind --tool=callgrind --toggle-collect='hot_loop::native_events_loop' target/release/examples/hot_loop 1000 events native
//! valgrind --tool=callgrind --toggle-collect='hot_loop::floor_loop' target/release/examples/hot_loop 10000 floor
//! valgrind --tool=callgrind --toggle-collect='hot_loop::http_loop' target/release/examples/hot_loop 16000 http-get 16
//! valgrind --tool=callgrind --toggle-collect='hot_loop::native_http_loop' target/release/examples/hot_loop 16000 http-get 16 native
//! valgrind --tool=callgrind --toggle-collect='hot_loop::ops_loop' target/release/examples/hot_loop 16000 ops-set 16
//! valgrind --tool=callgrind --toggle-collect='hot_loop::native_ops_loop' target/release/examples/hot_loop 16000 ops-set 16 native
//! valgrind --tool=callgrind --toggle-collect='hot_loop::set_many_loop' target/release/examples/hot_loop 16000 ops-set 16 set-many
//! TWO_NS=1 valgrind --tool=callgrind --toggle-collect='hot_loop::ops_loop' target/release/examples/hot_loop 16000 ops-set 16
//! ```
//!
//! `http-get` and `http-set` hand REST requests to the component,
//! `BATCH` (default 1) per call: `handle_http_now` alone, else
//! `handle_http_batch_now`, as `nexus serve` does.
//! `events` runs emit-batch → receive → ack-batch cycles of 10 events.
//! `floor` calls `namespaces.sanitize` on a valid name: one string into the
//! component and one out, no storage, almost no guest work; it is what any
//! call through the component costs at least.

use nexus_host::Namespace;
use nexus_host::clock::SystemClock;
use nexus_host::events::{EmitOptions, EventDraft, ReceiveRequest};

const VALUE: [u8; 32] = [b'x'; 32];

#[inline(never)]
fn wasm_loop(ns: &Namespace, n: usize, set: bool) {
    for _ in 0..n {
        if set {
            ns.set("k", VALUE).unwrap();
        } else {
            std::hint::black_box(ns.get("k").unwrap());
        }
    }
}

#[inline(never)]
fn events_loop(ns: &Namespace, n: usize) {
    let (drafts, request) = (event_drafts(), receive_request());
    for _ in 0..n {
        ns.emit_batch(&drafts).unwrap();
        let got = ns.receive(&request).unwrap();
        let ids: Vec<&str> = got.iter().map(|d| d.envelope.message_id.as_str()).collect();
        std::hint::black_box(ns.ack_batch(None, "bench", &ids).unwrap());
    }
}

#[inline(never)]
fn floor_loop(nexus: &nexus_host::Nexus, n: usize) {
    for _ in 0..n {
        std::hint::black_box(nexus.sanitize("bench").unwrap());
    }
}

/// REST request `i` of a loop: `GET /get/k{i % 64}` or a SET of it.
fn http_request(i: usize, set: bool) -> nexus_host::http::HttpRequest {
    nexus_host::http::HttpRequest {
        method: if set { "POST" } else { "GET" }.into(),
        path: if set {
            "/set".into()
        } else {
            format!("/get/k{}", i % 64)
        },
        query: "ns=bench".into(),
        body: if set {
            format!(
                r#"{{"key":"k{}","value":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}"#,
                i % 64
            )
            .into_bytes()
        } else {
            Vec::new()
        },
        ..Default::default()
    }
}

/// `n` REST requests through the component, `batch` per call.
#[inline(never)]
fn http_loop(nexus: &nexus_host::Nexus, n: usize, set: bool, batch: usize) {
    use nexus_host::http::HttpRequest;
    let request = |i: usize| http_request(i, set);
    let mut i = 0;
    while i < n {
        if batch == 1 {
            std::hint::black_box(nexus.handle_http_now(&request(i)).unwrap());
        } else {
            let requests: Vec<HttpRequest> = (i..i + batch).map(request).collect();
            std::hint::black_box(nexus.handle_http_batch_now(&requests));
        }
        i += batch;
    }
}

/// [`http_loop`] natively: the same requests straight into the logic.
#[inline(never)]
fn native_http_loop(n: usize, set: bool, batch: usize) {
    let mut store = nexus_store::Store::new(nexus_store::MemoryStorage::new(), SystemClock);
    for i in 0..64 {
        store.handle_http(&http_request(i, true));
    }
    let mut i = 0;
    while i < n {
        if batch == 1 {
            std::hint::black_box(store.handle_http(&http_request(i, set)));
        } else {
            let requests: Vec<_> = (i..i + batch).map(|i| http_request(i, set)).collect();
            std::hint::black_box(store.handle_http_batch(&requests));
        }
        i += batch;
    }
}

/// SET `i` of an `ops-set` loop: one of 64 keys, in namespace `bench`
/// or, with `two_ns` (`TWO_NS` set), alternately in `bench` and `bench2`
/// (no two consecutive SETs share a namespace, so none run as one group).
fn set_operation(i: usize, two_ns: bool) -> nexus_store::batch::Operation {
    nexus_store::batch::Operation::Set(nexus_store::batch::SetIn {
        ns: if two_ns && i % 2 == 1 {
            "bench2"
        } else {
            "bench"
        }
        .into(),
        key: format!("k{}", i % 64).into_bytes(),
        value: VALUE.to_vec(),
        options: Default::default(),
    })
}

/// Calls `f` with the indexes of each batch of `batch` out of `n`.
fn in_batches(n: usize, batch: usize, mut f: impl FnMut(std::ops::Range<usize>)) {
    let mut i = 0;
    while i < n {
        f(i..i + batch);
        i += batch;
    }
}

/// `n` SETs of 64 keys through `Nexus::batch`, `batch` per call.
#[inline(never)]
fn ops_loop(nexus: &nexus_host::Nexus, n: usize, batch: usize, two_ns: bool) {
    in_batches(n, batch, |range| {
        let ops: Vec<_> = range.map(|i| set_operation(i, two_ns)).collect();
        std::hint::black_box(nexus.batch(&ops));
    });
}

/// `n` SETs of 64 keys through `Namespace::set_many`, `batch` per call.
#[inline(never)]
fn set_many_loop(ns: &Namespace, n: usize, batch: usize) {
    in_batches(n, batch, |range| {
        let items: Vec<(Vec<u8>, Vec<u8>)> = range
            .map(|i| (format!("k{}", i % 64).into_bytes(), VALUE.to_vec()))
            .collect();
        std::hint::black_box(ns.set_many(&items, None).unwrap());
    });
}

/// [`ops_loop`] natively, through `Store::batch`.
#[inline(never)]
fn native_ops_loop(n: usize, batch: usize, two_ns: bool) {
    let mut store = nexus_store::Store::new(nexus_store::MemoryStorage::new(), SystemClock);
    in_batches(n, batch, |range| {
        let ops: Vec<_> = range.map(|i| set_operation(i, two_ns)).collect();
        std::hint::black_box(store.batch(&ops));
    });
}

#[inline(never)]
fn native_events_loop(n: usize) {
    let mut store = nexus_store::Store::new(nexus_store::MemoryStorage::new(), SystemClock);
    let request = receive_request();
    for _ in 0..n {
        store.emit_batch("bench", event_drafts()).unwrap();
        let got = store.receive("bench", &request).unwrap();
        let ids: Vec<String> = got.into_iter().map(|d| d.envelope.message_id).collect();
        std::hint::black_box(store.ack_batch("bench", None, "bench", &ids).unwrap());
    }
}

fn event_drafts() -> Vec<EventDraft> {
    (0..10)
        .map(|_| EventDraft {
            event_type: "user.created".into(),
            payload: r#"{"user_id":12345,"plan":"pro","source":"bench"}"#.into(),
            options: EmitOptions::default(),
        })
        .collect()
}

fn receive_request() -> ReceiveRequest {
    ReceiveRequest {
        group: None,
        consumer: "bench".into(),
        max: 10,
        visibility_timeout_ms: 30_000,
        wait_ms: 0,
    }
}

#[inline(never)]
fn native_loop(n: usize, set: bool) {
    let mut store = nexus_store::Store::new(nexus_store::MemoryStorage::new(), SystemClock);
    let options = nexus_store::SetOptions::default();
    store.set("bench", b"k", &VALUE, &options).unwrap();
    for _ in 0..n {
        if set {
            store.set("bench", b"k", &VALUE, &options).unwrap();
        } else {
            std::hint::black_box(store.get("bench", b"k").unwrap());
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(200_000, |a| a.parse().expect("a count"));
    let set = args.get(2).is_some_and(|a| a == "set");
    let start = std::time::Instant::now();
    let native = args.get(3).is_some_and(|a| a == "native");
    let mode = args.get(2).map_or("get", String::as_str);
    if mode == "ops-set" {
        let batch: usize = args.get(3).map_or(1, |a| a.parse().expect("a batch size"));
        let two_ns = std::env::var_os("TWO_NS").is_some();
        if args.get(4).is_some_and(|a| a == "native") {
            native_ops_loop(n, batch, two_ns);
        } else if args.get(4).is_some_and(|a| a == "set-many") {
            let nexus = nexus_host::Nexus::memory().unwrap();
            set_many_loop(&nexus.namespace("bench").unwrap(), n, batch);
        } else {
            ops_loop(&nexus_host::Nexus::memory().unwrap(), n, batch, two_ns);
        }
        return;
    }
    if let Some(kind) = mode.strip_prefix("http-") {
        let batch: usize = args.get(3).map_or(1, |a| a.parse().expect("a batch size"));
        if args.get(4).is_some_and(|a| a == "native") {
            native_http_loop(n, kind == "set", batch);
            return;
        }
        let nexus = nexus_host::Nexus::memory().unwrap();
        // Every key exists, so GETs hit.
        http_loop(&nexus, 64, true, 1);
        http_loop(&nexus, n, kind == "set", batch);
    } else if args.get(2).is_some_and(|a| a == "floor") {
        floor_loop(&nexus_host::Nexus::memory().unwrap(), n);
    } else if args.get(2).is_some_and(|a| a == "events") && native {
        native_events_loop(n);
    } else if args.get(2).is_some_and(|a| a == "events") {
        let nexus = nexus_host::Nexus::memory().unwrap();
        events_loop(&nexus.namespace("bench").unwrap(), n);
    } else if native {
        native_loop(n, set);
    } else {
        let nexus = nexus_host::Nexus::memory().unwrap();
        let ns = nexus.namespace("bench").unwrap();
        ns.set("k", VALUE).unwrap();
        wasm_loop(&ns, n, set);
    }
    eprintln!("{:?} per op", start.elapsed() / n as u32);
}
