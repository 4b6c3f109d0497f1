//! The committed fuzz corpora (`fuzz/corpus/<target>/`) and every crash a
//! fuzzer found (`fuzz/regressions/<target>/`), replayed through the fuzz
//! targets' bodies as ordinary tests, so what fuzzing once covered stays
//! covered without a fuzzer.

use std::path::Path;

use nexus_store::fuzz;

fn replay(target: &str, body: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut inputs = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("a corpus entry").path();
            let data = std::fs::read(&path).expect("a corpus file");
            let outcome = std::panic::catch_unwind(|| body(&data));
            assert!(outcome.is_ok(), "{target} fails on {}", path.display());
            inputs += 1;
        }
    }
    assert!(
        inputs > 0,
        "no corpus for {target} under {}",
        root.display()
    );
}

#[test]
fn rest_handler_corpus() {
    replay("rest_handler", fuzz::rest_handler);
}

#[test]
fn key_codec_corpus() {
    replay("key_codec", fuzz::key_codec);
}

#[test]
fn stored_records_corpus() {
    replay("stored_records", fuzz::stored_records);
}

#[test]
fn cron_and_patterns_corpus() {
    replay("cron_and_patterns", fuzz::cron_and_patterns);
}
