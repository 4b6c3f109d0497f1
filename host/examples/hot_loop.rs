//! A tight loop of one operation, for instruction-level profiling of the hot
//! path (`valgrind --tool=callgrind` counts instructions, so results repeat
//! on a busy machine; see docs/benchmarks.md):
//!
//! ```sh
//! cargo build --release -p nexus-host --example hot_loop
//! valgrind --tool=callgrind --toggle-collect='hot_loop::wasm_loop' target/release/examples/hot_loop 10000 get
//! valgrind --tool=callgrind --toggle-collect='hot_loop::native_loop' target/release/examples/hot_loop 10000 set native
//! ```

use nexus_host::Namespace;
use nexus_host::clock::SystemClock;

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
    if args.get(3).is_some_and(|a| a == "native") {
        native_loop(n, set);
    } else {
        let nexus = nexus_host::Nexus::memory().unwrap();
        let ns = nexus.namespace("bench").unwrap();
        ns.set("k", VALUE).unwrap();
        wasm_loop(&ns, n, set);
    }
    eprintln!("{:?} per op", start.elapsed() / n as u32);
}
