//! Embedded events throughput: emit → receive → ack cycles through the
//! component, in batches of 1 and 10, on the memory and file backends, next
//! to the same cycle called natively on the logic crate (memory backend).
//!
//! Run: `cargo bench -p nexus-host --bench events`. After criterion's own
//! report it prints events/s per benchmark, the wasm/native ratio and the
//! figure next to the 100–1,000 events/s per instance that the event system
//! we follow (nexus-core) documents; the figures go to docs/benchmarks.md.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, Throughput, measurement::WallTime};
use nexus_host::backend::MemoryBackend;
use nexus_host::clock::SystemClock;
use nexus_host::events::{EmitOptions, EventDraft, ReceiveRequest};
use nexus_host::{Namespace, Nexus};

const PAYLOAD: &str = r#"{"user_id":12345,"plan":"pro","source":"bench"}"#;
const BATCHES: [u32; 2] = [1, 10];

fn drafts(n: u32) -> Vec<EventDraft> {
    (0..n)
        .map(|_| EventDraft {
            event_type: "user.created".into(),
            payload: PAYLOAD.into(),
            options: EmitOptions::default(),
        })
        .collect()
}

fn request(n: u32) -> ReceiveRequest {
    ReceiveRequest {
        group: None,
        consumer: "bench".into(),
        max: n,
        visibility_timeout_ms: 30_000,
        wait_ms: 0,
    }
}

/// One emit → receive → ack cycle of `n` events through the component.
fn cycle_wasm(ns: &Namespace, n: u32) {
    let drafts = drafts(n);
    if n == 1 {
        ns.emit("user.created", PAYLOAD).unwrap();
    } else {
        ns.emit_batch(&drafts).unwrap();
    }
    let got = ns.receive(&request(n)).unwrap();
    assert_eq!(got.len(), n as usize);
    if n == 1 {
        ns.ack(None, "bench", &got[0].envelope.message_id).unwrap();
    } else {
        let ids: Vec<&str> = got.iter().map(|d| d.envelope.message_id.as_str()).collect();
        black_box(ns.ack_batch(None, "bench", &ids).unwrap());
    }
}

fn bench_wasm(group: &mut BenchmarkGroup<'_, WallTime>, nexus: &Nexus) {
    let ns = nexus.namespace("bench").unwrap();
    for n in BATCHES {
        group.throughput(Throughput::Elements(n.into()));
        group.bench_function(format!("batch{n}/wasm"), |b| b.iter(|| cycle_wasm(&ns, n)));
    }
}

fn memory(c: &mut Criterion) {
    let mut group = c.benchmark_group("events-memory");
    let backend = Arc::new(MemoryBackend::new());
    let nexus = Nexus::builder().backend(backend.clone()).build().unwrap();
    bench_wasm(&mut group, &nexus);

    let mut native = nexus_store::Store::new(backend, SystemClock);
    for n in BATCHES {
        group.throughput(Throughput::Elements(n.into()));
        group.bench_function(format!("batch{n}/native"), |b| {
            b.iter(|| {
                native.emit_batch("native", drafts(n)).unwrap();
                let got = native.receive("native", &request(n)).unwrap();
                let ids: Vec<String> = got.into_iter().map(|d| d.envelope.message_id).collect();
                black_box(native.ack_batch("native", None, "bench", &ids).unwrap());
            })
        });
    }
    group.finish();
}

fn file(c: &mut Criterion) {
    let mut group = c.benchmark_group("events-file");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    let dir = tempfile::tempdir().unwrap();
    let nexus = Nexus::open(dir.path()).unwrap();
    bench_wasm(&mut group, &nexus);
    group.finish();
}

/// Reads criterion's estimates back and prints events/s and the ratios.
fn summary() {
    let root = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("criterion");
    let events_per_s = |id: &str, n: u32| -> Option<f64> {
        let path = root.join(id).join("new/estimates.json");
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        Some(f64::from(n) * 1e9 / json["mean"]["point_estimate"].as_f64()?)
    };
    println!("\nsummary (mean), events/s for a full emit -> receive -> ack cycle:");
    for group in ["events-memory", "events-file"] {
        for n in BATCHES {
            for side in ["wasm", "native"] {
                if let Some(eps) = events_per_s(&format!("{group}/batch{n}_{side}"), n) {
                    println!(
                        "  {group}/batch{n}/{side:<6} {eps:>10.0} events/s  ({:.0}x nexus-core's 1,000/s)",
                        eps / 1_000.0
                    );
                }
            }
        }
    }
    for n in BATCHES {
        if let (Some(w), Some(nat)) = (
            events_per_s(&format!("events-memory/batch{n}_wasm"), n),
            events_per_s(&format!("events-memory/batch{n}_native"), n),
        ) {
            println!("  batch{n} wasm/native ratio: {:.2}", w / nat);
        }
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    memory(&mut c);
    file(&mut c);
    c.final_summary();
    summary();
}
