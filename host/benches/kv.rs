//! Embedded key-value throughput: GET and SET through the component (memory
//! backend, one thread) next to the same operations called natively on the
//! logic crate over the same backend, durable SET on the file backend
//! with 1 and 50 writer threads, and random GET over a million keys on the
//! file backend next to the memory backend (one thread, through the
//! component), ending with `ratio file_random_get_vs_memory …`.
//!
//! Run: `cargo bench -p nexus-host --bench kv`. After criterion's own report
//! it prints ops/s per benchmark and the wasm/native ratios; the figures go
//! to docs/benchmarks.md.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use nexus_host::Nexus;
use nexus_host::backend::MemoryBackend;
use nexus_host::batch::{Operation, SetIn};
use nexus_host::clock::SystemClock;
use nexus_host::types::SetOptions;

const KEYS: usize = 10_000;
const VALUE: &[u8] = &[b'x'; 32];
const NO_OPTIONS: SetOptions = SetOptions {
    ttl_ms: None,
    only_if_absent: false,
    only_if_version: None,
};

fn key(i: usize) -> Vec<u8> {
    format!("user:{:06}", i % KEYS).into_bytes()
}

fn memory_kv(c: &mut Criterion) {
    let mut group = c.benchmark_group("memory");
    group.throughput(Throughput::Elements(1));

    let backend = Arc::new(MemoryBackend::new());
    let nexus = Nexus::builder().backend(backend.clone()).build().unwrap();
    let ns = nexus.namespace("bench").unwrap();
    for i in 0..KEYS {
        ns.set(key(i), VALUE).unwrap();
    }
    let keys: Vec<Vec<u8>> = (0..KEYS).map(key).collect();

    let mut i = 0;
    group.bench_function("get/wasm", |b| {
        b.iter(|| {
            i += 1;
            black_box(ns.get(&keys[i % KEYS]).unwrap())
        })
    });
    let mut native = nexus_store::Store::new(backend.clone(), SystemClock);
    group.bench_function("get/native", |b| {
        b.iter(|| {
            i += 1;
            black_box(native.get("bench", &keys[i % KEYS]).unwrap())
        })
    });
    group.bench_function("set/wasm", |b| {
        b.iter(|| {
            i += 1;
            black_box(ns.set_with(&keys[i % KEYS], VALUE, &NO_OPTIONS).unwrap())
        })
    });
    let options = SetOptions::default();
    group.bench_function("set/native", |b| {
        b.iter(|| {
            i += 1;
            black_box(
                native
                    .set("bench", &keys[i % KEYS], VALUE, &options)
                    .unwrap(),
            )
        })
    });
    group.finish();
}

/// Keys per call in the `batch` group.
const BATCH: usize = 16;

/// SETs of different keys, [`BATCH`] per call through `Nexus::batch` (one
/// guest call, one get-many, one commit), next to the native single SET.
fn memory_batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch");
    group.throughput(Throughput::Elements(BATCH as u64));
    let backend = Arc::new(MemoryBackend::new());
    let nexus = Nexus::builder().backend(backend.clone()).build().unwrap();
    let sets = |at: usize| -> Vec<Operation> {
        (at..at + BATCH)
            .map(|i| {
                Operation::Set(SetIn {
                    ns: "bench".into(),
                    key: key(i),
                    value: VALUE.to_vec(),
                    options: SetOptions::default(),
                })
            })
            .collect()
    };
    let mut i = 0;
    group.bench_function("set/wasm", |b| {
        b.iter(|| {
            i += BATCH;
            black_box(nexus.batch(&sets(i)))
        })
    });
    let mut native = nexus_store::Store::new(backend, SystemClock);
    group.bench_function("set/native", |b| {
        b.iter(|| {
            i += BATCH;
            black_box(native.batch(&sets(i)))
        })
    });
    group.finish();
}

fn durable_set(c: &mut Criterion) {
    let mut group = c.benchmark_group("file");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    let dir = tempfile::tempdir().unwrap();
    let nexus = Nexus::open(dir.path()).unwrap();
    for threads in [1usize, 50] {
        group.bench_function(format!("set/{threads}-writers"), |b| {
            b.iter_custom(|iters| {
                let per_thread = (iters as usize).div_ceil(threads);
                let start = Instant::now();
                std::thread::scope(|s| {
                    for t in 0..threads {
                        let ns = nexus.namespace("durable").unwrap();
                        s.spawn(move || {
                            for i in 0..per_thread {
                                ns.set(key(t * per_thread + i), VALUE).unwrap();
                            }
                        });
                    }
                });
                // Report time per write actually done.
                start
                    .elapsed()
                    .mul_f64(iters as f64 / (per_thread * threads) as f64)
            })
        });
    }
    // One writer, BATCH SETs per `Nexus::batch` call: one commit, one
    // fsync for all of them.
    group.throughput(Throughput::Elements(BATCH as u64));
    let mut i = 0;
    group.bench_function("set/1-writer-batch", |b| {
        b.iter(|| {
            i += BATCH;
            let sets: Vec<Operation> = (i..i + BATCH)
                .map(|i| {
                    Operation::Set(SetIn {
                        ns: "durable".into(),
                        key: key(i),
                        value: VALUE.to_vec(),
                        options: SetOptions::default(),
                    })
                })
                .collect();
            black_box(nexus.batch(&sets))
        })
    });
    group.finish();
}

/// Reads criterion's estimates back and prints ops/s and the ratios.
fn summary() {
    let root = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("criterion");
    let ns_per_op = |id: &str| -> Option<f64> {
        let path = root.join(id).join("new/estimates.json");
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        json["mean"]["point_estimate"].as_f64()
    };
    println!("\nsummary (mean):");
    for id in [
        "memory/get_wasm",
        "memory/get_native",
        "memory/set_wasm",
        "memory/set_native",
        "batch/set_wasm",
        "batch/set_native",
        "file/set_1-writers",
        "file/set_50-writers",
        "file/set_1-writer-batch",
        "random_get/memory",
        "random_get/file",
    ] {
        if let Some(ns) = ns_per_op(id) {
            let per_call = if id.starts_with("batch/") {
                BATCH as f64
            } else {
                1.0
            };
            println!(
                "  {id:<22} {:>12.0} ops/s  ({:.0} ns/op)",
                1e9 * per_call / ns,
                ns / per_call
            );
        }
    }
    for op in ["get", "set"] {
        if let (Some(w), Some(n)) = (
            ns_per_op(&format!("memory/{op}_wasm")),
            ns_per_op(&format!("memory/{op}_native")),
        ) {
            println!("  {op} wasm/native ratio: {:.2}", n / w);
        }
    }
    if let Some(set) = ns_per_op("memory/set_wasm") {
        println!("ratio set_per_s {:.0}", 1e9 / set);
    }
    if let (Some(batch), Some(native)) =
        (ns_per_op("batch/set_wasm"), ns_per_op("memory/set_native"))
    {
        println!(
            "ratio batch_set_vs_native {:.2}",
            native / (batch / BATCH as f64)
        );
    }
    if let (Some(file), Some(memory)) =
        (ns_per_op("random_get/file"), ns_per_op("random_get/memory"))
    {
        println!("ratio file_random_get_vs_memory {:.2}", memory / file);
    }
}

/// Keys in the random-GET comparison: enough that the file's B-tree is
/// several levels deep and reads miss the CPU caches, as a real store's do.
const RANDOM_KEYS: usize = 1_000_000;

/// Random GET over [`RANDOM_KEYS`] keys, file against memory, one thread.
fn random_get(c: &mut Criterion) {
    let dir = tempfile::TempDir::new().unwrap();
    let stores = [
        ("memory", Nexus::memory().unwrap()),
        ("file", Nexus::open(dir.path()).unwrap()),
    ];
    let mut group = c.benchmark_group("random_get");
    group.throughput(Throughput::Elements(1));
    for (name, nexus) in &stores {
        let ns = nexus.namespace("bench").unwrap();
        let big_key = |i: usize| format!("user:{i:08}").into_bytes();
        for chunk in (0..RANDOM_KEYS).collect::<Vec<_>>().chunks(1_000) {
            let items: Vec<_> = chunk
                .iter()
                .map(|&i| (big_key(i), VALUE.to_vec()))
                .collect();
            ns.set_many(&items, None).unwrap();
        }
        // A fixed pseudo-random walk (an LCG), the same for both backends.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        group.bench_function(*name, |b| {
            b.iter(|| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let i = (state >> 33) as usize % RANDOM_KEYS;
                black_box(ns.get(big_key(i)).unwrap())
            })
        });
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    memory_kv(&mut c);
    memory_batch(&mut c);
    durable_set(&mut c);
    random_get(&mut c);
    c.final_summary();
    summary();
}
