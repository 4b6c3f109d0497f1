//! Watching keys through the Rust API: the entries at once, then again
//! each time one of them changes — a write from another thread, a delete,
//! a TTL ending on the manual clock — woken by the namespace's key channel,
//! never by polling. The HTTP side is in `http.rs`, the cross-host side on
//! PostgreSQL in host/tests/many_hosts.rs.

use std::sync::mpsc;
use std::time::Duration;

use nexus_host::types::{Entry, SetOptions};
use nexus_host::{StoreError, Watch};
use nexus_store::MAX_WATCHED_KEYS;
use nexus_tests::{Harness, store_error};

/// Longer than any wake takes; a watch that waits it out failed.
const WITHIN: Duration = Duration::from_secs(10);

fn values(entries: &[Option<Entry>]) -> Vec<Option<String>> {
    entries
        .iter()
        .map(|e| {
            e.as_ref()
                .map(|e| String::from_utf8(e.value.clone()).unwrap())
        })
        .collect()
}

/// The watch's next change, read on a thread once it waits.
fn next_in_background(mut watch: Watch) -> mpsc::Receiver<(Watch, Vec<Option<String>>)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let entries = watch
            .next_timeout(WITHIN)
            .expect("watch")
            .expect("a change");
        let _ = tx.send((watch, values(&entries)));
    });
    rx
}

#[test]
fn a_watch_gives_the_entries_at_once_then_each_change() {
    let h = Harness::new();
    let app = h.nexus.namespace("app").unwrap();
    app.set("a", "1").unwrap();
    let mut watch = app.watch(&["a", "b"]).unwrap();
    let first = watch.next().unwrap().unwrap();
    assert_eq!(values(&first), [Some("1".into()), None]);
    assert_eq!(
        watch.next_timeout(Duration::ZERO).unwrap(),
        None,
        "nothing changed"
    );

    let answer = next_in_background(watch);
    app.set("b", "2").unwrap();
    let (watch, seen) = answer.recv_timeout(WITHIN).expect("woken by the set");
    assert_eq!(seen, [Some("1".into()), Some("2".into())]);

    let answer = next_in_background(watch);
    app.delete("a").unwrap();
    let (mut watch, seen) = answer.recv_timeout(WITHIN).expect("woken by the delete");
    assert_eq!(seen, [None, Some("2".into())]);

    // A write of another key, or of the same keys in another namespace,
    // is no change of this watch.
    app.set("c", "3").unwrap();
    h.nexus.namespace("other").unwrap().set("b", "9").unwrap();
    assert_eq!(watch.next_timeout(Duration::ZERO).unwrap(), None);
}

#[test]
fn a_ttl_ending_is_a_change_without_any_commit() {
    let h = Harness::new();
    let app = h.nexus.namespace("app").unwrap();
    let options = SetOptions {
        ttl_ms: Some(1_000),
        ..SetOptions::default()
    };
    app.set_with("a", "1", &options).unwrap();
    let mut watch = app.watch(&["a"]).unwrap();
    assert_eq!(values(&watch.next().unwrap().unwrap()), [Some("1".into())]);
    let answer = next_in_background(watch);
    // Moving the manual clock wakes every waiter, as a jump of time must.
    h.clock.advance(1_000);
    let (_, seen) = answer.recv_timeout(WITHIN).expect("woken by the expiry");
    assert_eq!(seen, [None]);
}

#[test]
fn several_writes_before_a_read_give_the_latest_once() {
    let h = Harness::new();
    let app = h.nexus.namespace("app").unwrap();
    let mut watch = app.watch(&["k"]).unwrap();
    watch.next().unwrap().unwrap();
    for v in 1..=5 {
        app.set("k", v.to_string()).unwrap();
    }
    let latest = watch.next_timeout(WITHIN).unwrap().unwrap();
    assert_eq!(values(&latest), [Some("5".into())]);
    assert_eq!(watch.next_timeout(Duration::ZERO).unwrap(), None);
}

#[test]
fn a_watch_of_no_keys_or_too_many_is_refused() {
    let h = Harness::new();
    let app = h.nexus.namespace("app").unwrap();
    let none: [&str; 0] = [];
    assert!(matches!(
        store_error(app.watch(&none)),
        StoreError::InvalidArgument(_)
    ));
    let many: Vec<String> = (0..=MAX_WATCHED_KEYS).map(|i| format!("k{i}")).collect();
    assert!(matches!(
        store_error(app.watch(&many)),
        StoreError::InvalidArgument(_)
    ));
    assert!(app.watch(&many[..MAX_WATCHED_KEYS]).is_ok());
}
