//! Key-value behaviour through the component.

use nexus_host::StoreError;
use nexus_host::types::{Condition, ListOptions, Op, SetOptions};
use nexus_tests::{Harness, store_error};

fn ttl(ms: u64) -> SetOptions {
    SetOptions {
        ttl_ms: Some(ms),
        only_if_absent: false,
        only_if_version: None,
    }
}

#[test]
fn set_get_delete_round_trip() {
    let h = Harness::new();
    let ns = h.nexus.namespace("app1").unwrap();
    let v1 = ns.set("user:1", "ada").unwrap();
    let entry = ns.get("user:1").unwrap().unwrap();
    assert_eq!(
        (entry.value.as_slice(), entry.version, entry.expires_at),
        (&b"ada"[..], v1, None)
    );
    let v2 = ns.set("user:1", "grace").unwrap();
    assert!(v2 > v1, "versions grow");
    assert!(ns.exists("user:1").unwrap());
    assert!(ns.delete("user:1").unwrap());
    assert!(!ns.delete("user:1").unwrap());
    assert_eq!(ns.get("user:1").unwrap(), None);
}

#[test]
fn same_key_in_two_namespaces_is_two_entries() {
    let h = Harness::new();
    let default = h.nexus.default_namespace();
    let app1 = h.nexus.namespace("app1").unwrap();
    default.set("app1:user", "in-default").unwrap();
    app1.set("user", "in-app1").unwrap();
    assert_eq!(default.get_value("user").unwrap(), None);
    assert_eq!(app1.get_value("app1:user").unwrap(), None);
    assert_eq!(
        default.get_value("app1:user").unwrap().unwrap(),
        b"in-default"
    );
    assert_eq!(app1.get_value("user").unwrap().unwrap(), b"in-app1");
    assert_eq!((default.size().unwrap(), app1.size().unwrap()), (1, 1));
}

#[test]
fn ttl_expiry_is_exact_with_the_manual_clock() {
    let h = Harness::new();
    let ns = h.nexus.namespace("cache").unwrap();
    ns.set_with("k", "v", &ttl(5_000)).unwrap();
    ns.set("forever", "v").unwrap();
    h.clock.advance(4_999);
    assert!(ns.exists("k").unwrap());
    assert_eq!(ns.size().unwrap(), 2);
    h.clock.advance(1);
    // Expired but not yet swept: invisible to every read and to size.
    assert_eq!(ns.get("k").unwrap(), None);
    assert!(!ns.exists("k").unwrap());
    assert_eq!(ns.get_many(&[b"k".to_vec()]).unwrap(), vec![None]);
    let listed = ns
        .list(&ListOptions {
            prefix: vec![],
            cursor: None,
            limit: 10,
        })
        .unwrap();
    assert_eq!(
        listed
            .keys
            .iter()
            .map(|k| k.key.as_slice())
            .collect::<Vec<_>>(),
        [&b"forever"[..]]
    );
    assert_eq!(ns.size().unwrap(), 1);
    let report = h.nexus.tick(100).unwrap();
    assert_eq!((report.expired_keys, report.more), (1, false));
    assert_eq!(ns.stats().unwrap().expirations, 1);
    assert_eq!(ns.size().unwrap(), 1);
}

#[test]
fn tick_does_bounded_work() {
    let h = Harness::new();
    let ns = h.nexus.namespace("cache").unwrap();
    let items: Vec<(Vec<u8>, Vec<u8>)> = (0..25)
        .map(|i| (format!("k{i}").into_bytes(), b"v".to_vec()))
        .collect();
    ns.set_many(&items, Some(10)).unwrap();
    h.clock.advance(10);
    let first = h.nexus.tick(10).unwrap();
    assert_eq!((first.expired_keys, first.more), (10, true));
    let rest = h.nexus.tick(100).unwrap();
    assert_eq!(rest.expired_keys, 15);
    assert_eq!(ns.size().unwrap(), 0);
}

#[test]
fn conditional_writes() {
    let h = Harness::new();
    let ns = h.nexus.namespace("app1").unwrap();
    let absent = SetOptions {
        ttl_ms: None,
        only_if_absent: true,
        only_if_version: None,
    };
    let v = ns.set_with("k", "1", &absent).unwrap();
    assert!(matches!(
        store_error(ns.set_with("k", "2", &absent)),
        StoreError::ConditionFailed(_)
    ));
    let stale = SetOptions {
        ttl_ms: None,
        only_if_absent: false,
        only_if_version: Some(v + 1),
    };
    assert!(matches!(
        store_error(ns.set_with("k", "2", &stale)),
        StoreError::ConditionFailed(_)
    ));
    let current = SetOptions {
        only_if_version: Some(v),
        ..stale
    };
    ns.set_with("k", "3", &current).unwrap();
    assert_eq!(ns.get_value("k").unwrap().unwrap(), b"3");
}

#[test]
fn increment_counts_and_rejects_non_integers() {
    let h = Harness::new();
    let ns = h.nexus.namespace("app1").unwrap();
    assert_eq!(ns.increment("n", 5).unwrap(), 5);
    assert_eq!(ns.increment("n", -7).unwrap(), -2);
    ns.set("name", "ada").unwrap();
    let before = h.backend.snapshot();
    assert!(matches!(
        store_error(ns.increment("name", 1)),
        StoreError::NotAnInteger(_)
    ));
    assert_eq!(h.backend.snapshot(), before);
}

#[test]
fn transaction_is_all_or_nothing() {
    let h = Harness::new();
    let ns = h.nexus.namespace("bank").unwrap();
    let va = ns.set("a", "10").unwrap();
    let set = |k: &str, v: &str| Op::Set {
        key: k.into(),
        value: v.into(),
        ttl_ms: None,
    };
    let before = h.backend.snapshot();
    let failed = ns.transaction(
        &[Condition::VersionIs(b"a".to_vec(), va + 1)],
        &[set("a", "0"), set("b", "10")],
    );
    assert!(matches!(
        store_error(failed),
        StoreError::ConditionFailed(_)
    ));
    assert_eq!(h.backend.snapshot(), before);
    let versions = ns
        .transaction(
            &[
                Condition::VersionIs(b"a".to_vec(), va),
                Condition::Absent(b"b".to_vec()),
            ],
            &[set("a", "0"), set("b", "10"), Op::Delete(b"gone".to_vec())],
        )
        .unwrap();
    assert!(versions[0].is_some() && versions[1].is_some() && versions[2].is_none());
    assert_eq!(ns.get_value("b").unwrap().unwrap(), b"10");
}

#[test]
fn list_pages_in_key_order() {
    let h = Harness::new();
    let ns = h.nexus.namespace("app1").unwrap();
    for i in (0..25).rev() {
        ns.set(format!("user:{i:02}"), "x").unwrap();
    }
    ns.set("other", "x").unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = ns
            .list(&ListOptions {
                prefix: b"user:".to_vec(),
                cursor,
                limit: 10,
            })
            .unwrap();
        seen.extend(
            page.keys
                .into_iter()
                .map(|k| String::from_utf8(k.key).unwrap()),
        );
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let expected: Vec<String> = (0..25).map(|i| format!("user:{i:02}")).collect();
    assert_eq!(seen, expected);
}

#[test]
fn bad_input_is_a_typed_error_and_writes_nothing() {
    let h = Harness::new();
    h.nexus.namespace("app1").unwrap().set("seed", "x").unwrap();
    let before = h.backend.snapshot();
    for bad in ["", "a b", "_private", "core", "pgmq", &"n".repeat(65)] {
        assert!(
            matches!(
                store_error(h.nexus.namespace(bad)),
                StoreError::InvalidNamespace(_)
            ),
            "{bad:?}"
        );
    }
    let ns = h.nexus.namespace("app1").unwrap();
    assert!(matches!(
        store_error(ns.set("", "v")),
        StoreError::InvalidKey(_)
    ));
    assert!(matches!(
        store_error(ns.set(vec![b'k'; 5000], "v")),
        StoreError::KeyTooLarge(_)
    ));
    assert!(matches!(
        store_error(ns.set("k", vec![0u8; 2 << 20])),
        StoreError::ValueTooLarge(_)
    ));
    assert!(matches!(
        store_error(ns.set_with("k", "v", &ttl(0))),
        StoreError::InvalidArgument(_)
    ));
    assert!(matches!(
        store_error(ns.set_metadata("not json")),
        StoreError::InvalidMetadata(_)
    ));
    assert!(matches!(
        store_error(ns.set_metadata("[1, 2]")),
        StoreError::InvalidMetadata(_)
    ));
    let too_big = ns.list(&ListOptions {
        prefix: vec![],
        cursor: None,
        limit: 0,
    });
    assert!(matches!(
        store_error(too_big),
        StoreError::InvalidArgument(_)
    ));
    assert_eq!(h.backend.snapshot(), before);
}

#[test]
fn concurrent_increments_are_not_lost() {
    let h = Harness::new();
    std::thread::scope(|s| {
        for _ in 0..8 {
            let ns = h.nexus.namespace("counters").unwrap();
            s.spawn(move || {
                for _ in 0..100 {
                    ns.increment("hits", 1).unwrap();
                }
            });
        }
    });
    let ns = h.nexus.namespace("counters").unwrap();
    assert_eq!(ns.get_value("hits").unwrap().unwrap(), b"800");
    // Each pooled instance tallies its own writes until flushed.
    h.nexus.flush().unwrap();
    assert_eq!(ns.stats().unwrap().sets, 800);
}
