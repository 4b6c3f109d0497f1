//! Namespace operations through the component.

use nexus_host::StoreError;
use nexus_host::types::{EvictionPolicy, Limits};
use nexus_tests::{Harness, store_error};

#[test]
fn namespaces_are_created_on_first_write_and_listed_sorted() {
    let h = Harness::new();
    let b = h.nexus.namespace("beta").unwrap();
    assert_eq!(b.info().unwrap(), None);
    b.set("k", "v").unwrap();
    h.nexus
        .namespace("alpha")
        .unwrap()
        .set_metadata(r#"{"team": "core"}"#)
        .unwrap();
    let list = h.nexus.namespaces().unwrap();
    let names: Vec<&str> = list.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["alpha", "beta"]);
    assert_eq!(list[0].metadata, r#"{"team":"core"}"#);
    assert_eq!((list[0].key_count, list[1].key_count), (0, 1));
    assert_eq!(list[1].created_at, 1_000_000);
}

#[test]
fn clear_empties_one_namespace_only() {
    let h = Harness::new();
    let a = h.nexus.namespace("a").unwrap();
    let a1 = h.nexus.namespace("a1").unwrap();
    for i in 0..5 {
        a.set(format!("k{i}"), "v").unwrap();
        a1.set(format!("k{i}"), "v").unwrap();
    }
    assert_eq!(a.clear().unwrap(), 5);
    assert_eq!(a.size().unwrap(), 0);
    assert!(a.info().unwrap().is_some(), "clear keeps the namespace");
    assert_eq!(a1.size().unwrap(), 5);
    assert_eq!(a1.get_value("k3").unwrap().unwrap(), b"v");
}

#[test]
fn drop_removes_everything_of_the_namespace() {
    let h = Harness::new();
    let a = h.nexus.namespace("a").unwrap();
    a.set("k", "v").unwrap();
    a.set_metadata(r#"{"x":1}"#).unwrap();
    h.nexus.namespace("b").unwrap().set("k", "v").unwrap();
    assert!(a.drop_namespace().unwrap());
    assert!(!a.drop_namespace().unwrap());
    let left = h.backend.snapshot();
    assert!(
        left.keys()
            .all(|k| !k.starts_with(b"a\0") && !k.ends_with(b"Na")),
        "{left:?}"
    );
    assert!(matches!(store_error(a.metadata()), StoreError::NotFound(_)));
    assert_eq!(h.nexus.namespaces().unwrap().len(), 1);
}

#[test]
fn stats_count_per_namespace_and_globally() {
    let h = Harness::new();
    let a = h.nexus.namespace("a").unwrap();
    let b = h.nexus.namespace("b").unwrap();
    a.set("k", "v").unwrap();
    b.set("k", "v").unwrap();
    a.get("k").unwrap();
    a.get("k").unwrap();
    a.get("missing").unwrap();
    b.delete("k").unwrap();
    let sa = a.stats().unwrap();
    assert_eq!(
        (sa.hits, sa.misses, sa.sets, sa.deletes, sa.total_keys),
        (2, 1, 1, 0, 1)
    );
    let sb = b.stats().unwrap();
    assert_eq!(
        (sb.hits, sb.misses, sb.sets, sb.deletes, sb.total_keys),
        (0, 0, 1, 1, 0)
    );
    let global = h.nexus.global_stats().unwrap();
    assert_eq!(
        (global.hits, global.misses, global.sets, global.total_keys),
        (2, 1, 2, 1)
    );
}

#[test]
fn reject_policy_refuses_new_keys_when_full() {
    let h = Harness::new();
    let ns = h.nexus.namespace("small").unwrap();
    ns.set_limits(Limits {
        max_keys: Some(2),
        max_key_bytes: 16,
        max_value_bytes: 8,
        policy: EvictionPolicy::Reject,
        ..Limits::default()
    })
    .unwrap();
    ns.set("a", "1").unwrap();
    ns.set("b", "2").unwrap();
    let before = h.backend.snapshot();
    assert!(matches!(
        store_error(ns.set("c", "3")),
        StoreError::QuotaExceeded(_)
    ));
    assert!(matches!(
        store_error(ns.set("a", "123456789")),
        StoreError::ValueTooLarge(_)
    ));
    assert!(matches!(
        store_error(ns.set("a-very-long-key-indeed", "1")),
        StoreError::KeyTooLarge(_)
    ));
    assert_eq!(h.backend.snapshot(), before);
    ns.set("a", "updated").unwrap();
    assert_eq!(ns.size().unwrap(), 2);
}

#[test]
fn evict_lru_makes_room_by_evicting_the_least_recently_written() {
    let h = Harness::new();
    let ns = h.nexus.namespace("cache").unwrap();
    let limits = Limits {
        max_keys: Some(3),
        policy: EvictionPolicy::EvictLru,
        ..ns.limits().unwrap()
    };
    ns.set_limits(limits).unwrap();
    for k in ["a", "b", "c"] {
        ns.set(k, "v").unwrap();
        h.clock.advance(1);
    }
    ns.set("a", "again").unwrap();
    h.clock.advance(1);
    ns.set("d", "v").unwrap();
    assert_eq!(ns.size().unwrap(), 3);
    assert_eq!(ns.get("b").unwrap(), None, "b was the least recently used");
    assert!(ns.exists("a").unwrap() && ns.exists("c").unwrap() && ns.exists("d").unwrap());
    assert_eq!(ns.stats().unwrap().evictions, 1);
}

#[test]
fn sanitize_gives_names_the_store_accepts() {
    let h = Harness::new();
    for raw in ["my app!", "_x", "core", "", "ok"] {
        let clean = h.nexus.sanitize(raw).unwrap();
        h.nexus.namespace(&clean).unwrap().set("k", "v").unwrap();
    }
    assert_eq!(h.nexus.sanitize("my app!").unwrap(), "my_app_");
}
