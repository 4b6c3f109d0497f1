//! Backup, restore and copy between backends (`nexus_host::backup`): a
//! store moved from the file backend to PostgreSQL and back keeps every
//! byte, and a backup taken while a writer runs is a state the store was
//! in. PostgreSQL from `NEXUS_TEST_DATABASE_URL` (failing under `CI`
//! without it).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use nexus_host::Nexus;
use nexus_host::backend::{
    Backend, FileBackend, MemoryBackend, PostgresBackend, PostgresOptions, Storage, Write,
};
use nexus_host::backup;
use nexus_host::events::{EmitOptions, ReceiveRequest};
use nexus_host::testing::{fresh_table, test_database};
use nexus_host::types::{KeyEvents, SetOptions};

/// Every entry of `backend`, from its snapshot.
fn entries(backend: &dyn Backend) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut all = BTreeMap::new();
    backend
        .snapshot(&mut |k, v| {
            all.insert(k.to_vec(), v.to_vec());
            Ok(())
        })
        .unwrap();
    all
}

fn postgres(url: &str, name: &str) -> Arc<PostgresBackend> {
    let options = PostgresOptions {
        table: fresh_table(url, format!("backup_{name}")),
        ..PostgresOptions::new(url)
    };
    Arc::new(PostgresBackend::open(&options).expect("the backend opens"))
}

#[test]
fn a_store_moved_from_file_to_postgres_and_back_keeps_every_byte() {
    let Some(url) = test_database() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = Arc::new(FileBackend::open(dir.path().join("first")).unwrap());
    {
        // A store with something of everything in it.
        let nexus = Nexus::builder().backend(file.clone()).build().unwrap();
        let app = nexus.namespace("app").unwrap();
        app.set_key_events(KeyEvents {
            enabled: true,
            include_values: true,
        })
        .unwrap();
        for i in 0..300 {
            app.set(format!("k{i}"), vec![i as u8; i % 50]).unwrap();
        }
        let ttl = SetOptions {
            ttl_ms: Some(3_600_000),
            ..SetOptions::default()
        };
        app.set_with("short", "lived", &ttl).unwrap();
        app.set(b"\x00\xffbinary", b"\x00\x01").unwrap();
        app.increment("n", 42).unwrap();
        let jobs = nexus.namespace("jobs").unwrap();
        jobs.emit_with("job.created", r#"{"id":1}"#, &EmitOptions::default())
            .unwrap();
        nexus.flush().unwrap();
    }
    let original = entries(&*file);
    assert!(original.len() > 600, "{} entries", original.len());

    let backup = dir.path().join("store.nexusbak");
    let written = backup::write_file(&*file, &backup).unwrap();
    assert_eq!(written.entries, original.len() as u64);

    let pg = postgres(&url, "move");
    let restored = backup::restore_file(&backup, &*pg, false).unwrap();
    assert_eq!(restored, written);
    assert_eq!(entries(&*pg), original, "PostgreSQL holds the same bytes");

    let back = Arc::new(FileBackend::open(dir.path().join("second")).unwrap());
    backup::copy(&*pg, &*back, false).unwrap();
    assert_eq!(
        entries(&*back),
        original,
        "and so does the file copied back"
    );

    // The copy is a working store.
    let nexus = Nexus::builder().backend(back).build().unwrap();
    let app = nexus.namespace("app").unwrap();
    assert_eq!(app.get_value("k7").unwrap(), Some(vec![7; 7]));
    assert_eq!(app.get_value("n").unwrap(), Some(b"42".to_vec()));
    let jobs = nexus.namespace("jobs").unwrap();
    let request = ReceiveRequest {
        group: None,
        consumer: "w".into(),
        max: 10,
        visibility_timeout_ms: 30_000,
        wait_ms: 0,
    };
    assert_eq!(jobs.receive(&request).unwrap().len(), 1);
}

/// A writer commits pairs `a{i}`, `b{i}` (one commit each, in order) while
/// a backup runs: the backup holds a prefix of the pairs, whole pairs only,
/// and at least every pair acknowledged before it began.
fn a_backup_under_load_is_a_state_that_existed(backend: Arc<dyn Backend>) {
    let acked = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (backend, acked, stop) = (backend.clone(), acked.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let key = |side: &str| format!("{side}{i:08}").into_bytes();
                backend
                    .commit(
                        Vec::new(),
                        vec![
                            Write::Put(key("a"), vec![1; 64]),
                            Write::Put(key("b"), vec![2; 64]),
                        ],
                    )
                    .expect("a commit");
                i += 1;
                acked.store(i, Ordering::SeqCst);
            }
        })
    };
    nexus_host::testing::wait_until(std::time::Duration::from_secs(30), "200 pairs", || {
        acked.load(Ordering::SeqCst) >= 200
    });
    let before = acked.load(Ordering::SeqCst);
    let mut bytes = Vec::new();
    backup::write(&*backend, &mut bytes).unwrap();
    let after = acked.load(Ordering::SeqCst);
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();

    let restored = MemoryBackend::new();
    backup::read(&bytes[..], |k, v| {
        restored.commit(Vec::new(), vec![Write::Put(k, v)]).unwrap();
        Ok(())
    })
    .unwrap();
    let keys: Vec<Vec<u8>> = restored.snapshot().into_keys().collect();
    let pairs = keys.len() / 2;
    assert_eq!(keys.len(), pairs * 2, "whole pairs only");
    assert!(
        (before..=after + 1).contains(&pairs),
        "{pairs} pairs: at least the {before} acknowledged before, at most what was written by the end"
    );
    for i in 0..pairs {
        for side in ["a", "b"] {
            let key = format!("{side}{i:08}").into_bytes();
            assert!(keys.binary_search(&key).is_ok(), "a gap at {side}{i}");
        }
    }
}

#[test]
fn a_backup_under_load_on_the_file_backend_is_a_state_that_existed() {
    let dir = tempfile::tempdir().unwrap();
    a_backup_under_load_is_a_state_that_existed(Arc::new(FileBackend::open(dir.path()).unwrap()));
}

#[test]
fn a_backup_under_load_on_postgres_is_a_state_that_existed() {
    let Some(url) = test_database() else { return };
    a_backup_under_load_is_a_state_that_existed(postgres(&url, "load"));
}

#[test]
fn a_damaged_backup_is_refused_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let source = MemoryBackend::new();
    source
        .commit(
            Vec::new(),
            (0..5000u32)
                .map(|i| Write::Put(i.to_be_bytes().to_vec(), vec![1; 100]))
                .collect(),
        )
        .unwrap();
    let path = dir.path().join("b");
    backup::write_file(&source, &path).unwrap();
    let whole = std::fs::read(&path).unwrap();
    // Cut in the middle: more than one commit's worth of entries before it.
    std::fs::write(&path, &whole[..whole.len() / 2]).unwrap();
    let target = FileBackend::open(dir.path().join("store")).unwrap();
    let err = backup::restore_file(&path, &target, false).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
    assert!(
        target.scan(&[], &[0xFF], 1).unwrap().is_empty(),
        "nothing written"
    );
}
