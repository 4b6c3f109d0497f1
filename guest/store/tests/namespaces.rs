//! Namespaces: names, creation, listing, size, clear, drop, metadata and
//! statistics.

#[macro_use]
mod common;

use common::*;
use nexus_store::{DEFAULT_NAMESPACE, Error, EvictionPolicy, Limits, Stats, sanitize, validate};
use proptest::prelude::*;

fn reason(name: &str) -> String {
    match validate(name) {
        Err(Error::InvalidNamespace(why)) => why,
        other => panic!("{name:?}: expected InvalidNamespace, got {other:?}"),
    }
}

// ---------------------------------------------------------------- names

#[test]
fn validate_accepts_good_names() {
    for name in [
        "default",
        "a",
        "a1",
        "a-1",
        "app_1",
        "A-Z",
        "-x",
        "0",
        &"n".repeat(64),
        "cores",
        "xcore",
    ] {
        assert_eq!(validate(name), Ok(()), "{name:?}");
    }
}

#[test]
fn validate_rejects_an_empty_name() {
    assert!(reason("").contains("empty"));
}

#[test]
fn validate_rejects_a_name_over_64_characters() {
    let r = reason(&"n".repeat(65));
    assert!(r.contains("65") && r.contains("64"), "{r}");
}

#[test]
fn validate_rejects_bad_characters() {
    for (name, ch) in [
        ("a b", "' '"),
        ("app:1", "':'"),
        ("a/b", "'/'"),
        ("a.b", "'.'"),
        ("é", "'é'"),
        ("a\0", "'\\0'"),
    ] {
        let r = reason(name);
        assert!(r.contains("not allowed") && r.contains(ch), "{name:?}: {r}");
    }
}

#[test]
fn validate_rejects_a_leading_underscore() {
    for name in ["_", "_system", "__x"] {
        let r = reason(name);
        assert!(r.contains("starts with '_'"), "{name:?}: {r}");
    }
}

#[test]
fn validate_rejects_reserved_names_in_any_case() {
    for name in ["core", "CORE", "Core", "pgmq", "PgMq"] {
        let r = reason(name);
        assert!(r.contains("reserved"), "{name:?}: {r}");
    }
}

#[test]
fn every_store_operation_validates_the_namespace() {
    let (mut s, _) = store();
    put(&mut s, "ok", b"k", b"v");
    let before = snapshot(&s);
    for bad in ["", "core", "_x", "a:b", &"n".repeat(65)] {
        assert_err!(
            s.set(bad, b"k", b"v", &Default::default()),
            Error::InvalidNamespace(_)
        );
        assert_err!(s.get(bad, b"k"), Error::InvalidNamespace(_));
        assert_err!(s.exists(bad, b"k"), Error::InvalidNamespace(_));
        assert_err!(s.delete(bad, b"k"), Error::InvalidNamespace(_));
        assert_err!(
            s.get_many(bad, &[b"k".to_vec()]),
            Error::InvalidNamespace(_)
        );
        assert_err!(
            s.set_many(bad, &[(b"k".to_vec(), vec![])], None),
            Error::InvalidNamespace(_)
        );
        assert_err!(
            s.delete_many(bad, &[b"k".to_vec()]),
            Error::InvalidNamespace(_)
        );
        assert_err!(s.increment(bad, b"k", 1), Error::InvalidNamespace(_));
        assert_err!(s.transaction(bad, &[], &[]), Error::InvalidNamespace(_));
        assert_err!(s.list(bad, &Default::default()), Error::InvalidNamespace(_));
        assert_err!(s.size(bad), Error::InvalidNamespace(_));
        assert_err!(s.clear(bad), Error::InvalidNamespace(_));
        assert_err!(s.drop_namespace(bad), Error::InvalidNamespace(_));
        assert_err!(s.namespace_info(bad), Error::InvalidNamespace(_));
        assert_err!(s.get_metadata(bad), Error::InvalidNamespace(_));
        assert_err!(s.set_metadata(bad, "{}"), Error::InvalidNamespace(_));
        assert_err!(s.get_limits(bad), Error::InvalidNamespace(_));
        assert_err!(
            s.set_limits(bad, Limits::default()),
            Error::InvalidNamespace(_)
        );
        assert_err!(s.stats(bad), Error::InvalidNamespace(_));
    }
    assert_eq!(snapshot(&s), before);
}

#[test]
fn sanitize_examples() {
    assert_eq!(sanitize("ok-name"), "ok-name");
    assert_eq!(sanitize("my app!"), "my_app_");
    assert_eq!(sanitize("__x"), "x");
    assert_eq!(sanitize("_"), DEFAULT_NAMESPACE);
    assert_eq!(sanitize(""), DEFAULT_NAMESPACE);
    assert_eq!(sanitize("core"), "core-ns");
    assert_eq!(sanitize("PGMQ"), "PGMQ-ns");
    assert_eq!(sanitize("_core"), "core-ns");
    assert_eq!(sanitize(&"z".repeat(100)), "z".repeat(64));
    assert_eq!(sanitize("ü"), DEFAULT_NAMESPACE);
}

proptest! {
    #![proptest_config(proptest_config(256))]

    #[test]
    fn sanitize_output_always_validates(raw in any::<String>()) {
        let clean = sanitize(&raw);
        prop_assert_eq!(validate(&clean), Ok(()), "{:?} -> {:?}", raw, clean);
    }

    #[test]
    fn sanitize_output_always_validates_for_tricky_alphabets(raw in "[_ :.éa-zA-Z0-9-]{0,80}|(_*(core|pgmq|CoRe))") {
        let clean = sanitize(&raw);
        prop_assert_eq!(validate(&clean), Ok(()), "{:?} -> {:?}", raw, clean);
    }

    #[test]
    fn sanitize_leaves_valid_names_unchanged(name in "[a-zA-Z0-9-][a-zA-Z0-9_-]{0,63}") {
        prop_assume!(validate(&name).is_ok());
        prop_assert_eq!(sanitize(&name), name);
    }
}

// ---------------------------------------------------------------- lifecycle

#[test]
fn the_default_namespace_works() {
    let (mut s, _) = store();
    assert_eq!(DEFAULT_NAMESPACE, "default");
    put(&mut s, DEFAULT_NAMESPACE, b"k", b"v");
    assert_eq!(value_of(&mut s, "default", b"k").unwrap(), b"v");
    assert_eq!(s.size(DEFAULT_NAMESPACE).unwrap(), 1);
    let names: Vec<String> = s
        .list_namespaces()
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, vec!["default".to_string()]);
}

#[test]
fn a_namespace_is_created_on_its_first_write() {
    let (mut s, clock) = store();
    assert_eq!(s.namespace_info("fresh").unwrap(), None);
    // Reads and no-op writes do not create it.
    assert_eq!(s.get("fresh", b"k").unwrap(), None);
    assert_eq!(s.get_many("fresh", &[b"k".to_vec()]).unwrap(), vec![None]);
    assert!(!s.delete("fresh", b"k").unwrap());
    assert_eq!(s.delete_many("fresh", &[b"k".to_vec()]).unwrap(), 0);
    assert_eq!(s.list("fresh", &Default::default()).unwrap().keys.len(), 0);
    assert_eq!(s.size("fresh").unwrap(), 0);
    assert_eq!(s.clear("fresh").unwrap(), 0);
    assert_eq!(s.stats("fresh").unwrap(), Stats::default());
    assert_eq!(s.get_limits("fresh").unwrap(), Limits::default());
    assert_eq!(s.namespace_info("fresh").unwrap(), None);
    assert!(snapshot(&s).is_empty(), "nothing at all was written");

    clock.advance(1234);
    put(&mut s, "fresh", b"k", b"v");
    let info = s.namespace_info("fresh").unwrap().expect("created");
    assert_eq!(info.name, "fresh");
    assert_eq!(info.created_at, START_MS + 1234);
    assert_eq!(info.metadata, "{}");
    assert_eq!(info.key_count, 1);
    assert_eq!(info.limits, Limits::default());

    // Later writes do not change the creation time.
    clock.advance(1000);
    put(&mut s, "fresh", b"k2", b"v");
    assert_eq!(
        s.namespace_info("fresh").unwrap().unwrap().created_at,
        START_MS + 1234
    );
}

#[test]
fn set_metadata_or_set_limits_also_create_the_namespace() {
    let (mut s, _) = store();
    s.set_metadata("meta", r#"{"a":1}"#).unwrap();
    s.set_limits(
        "lim",
        Limits {
            max_keys: Some(3),
            ..Limits::default()
        },
    )
    .unwrap();
    let meta = s.namespace_info("meta").unwrap().unwrap();
    assert_eq!((meta.key_count, meta.metadata.as_str()), (0, r#"{"a":1}"#));
    let lim = s.namespace_info("lim").unwrap().unwrap();
    assert_eq!(lim.limits.max_keys, Some(3));
}

#[test]
fn list_namespaces_is_sorted_with_details() {
    let (mut s, clock) = store();
    let order = ["zeta", "a1", "default", "a", "a-1", "B"];
    for (i, ns) in order.iter().enumerate() {
        clock.set(START_MS + i as u64 * 10);
        for k in 0..=i as u8 {
            put(&mut s, ns, &[k], b"v");
        }
    }
    s.set_metadata("a1", r#"{ "owner" : "team-a1" }"#).unwrap();
    let infos = s.list_namespaces().unwrap();
    let names: Vec<&str> = infos.iter().map(|i| i.name.as_str()).collect();
    let mut sorted: Vec<&str> = order.to_vec();
    sorted.sort();
    assert_eq!(names, sorted);
    for info in &infos {
        let i = order.iter().position(|n| *n == info.name).unwrap();
        assert_eq!(info.created_at, START_MS + i as u64 * 10, "{}", info.name);
        assert_eq!(info.key_count, i as u64 + 1, "{}", info.name);
        let want_meta = if info.name == "a1" {
            r#"{"owner":"team-a1"}"#
        } else {
            "{}"
        };
        assert_eq!(info.metadata, want_meta, "{}", info.name);
    }
}

#[test]
fn size_is_exact() {
    let (mut s, clock) = store();
    assert_eq!(s.size("n").unwrap(), 0);
    for i in 0..20u8 {
        put(&mut s, "n", &[i], b"");
    }
    assert_eq!(s.size("n").unwrap(), 20);
    put(&mut s, "n", &[3], b"again");
    assert_eq!(s.size("n").unwrap(), 20);
    s.delete("n", &[0]).unwrap();
    s.delete_many("n", &[vec![1], vec![2], vec![200]]).unwrap();
    assert_eq!(s.size("n").unwrap(), 17);
    for i in 100..105u8 {
        put_ttl(&mut s, "n", &[i], b"", 10);
    }
    assert_eq!(s.size("n").unwrap(), 22);
    clock.advance(10);
    assert_eq!(s.size("n").unwrap(), 17);
    s.increment("n", &[250], 1).unwrap();
    assert_eq!(s.size("n").unwrap(), 18);
    assert_eq!(s.size("other").unwrap(), 0);
}

#[test]
fn clear_deletes_live_keys_and_keeps_the_namespace() {
    let (mut s, _) = store();
    for ns in ["a", "a1", "a-1", "b"] {
        for k in [&b"x"[..], b"y", b"z"] {
            put(&mut s, ns, k, ns.as_bytes());
        }
    }
    s.set_metadata("a", r#"{"keep":true}"#).unwrap();
    s.set_limits(
        "a",
        Limits {
            max_keys: Some(10),
            ..Limits::default()
        },
    )
    .unwrap();
    let before = snapshot(&s);

    assert_eq!(s.clear("a").unwrap(), 3);

    let after = snapshot(&s);
    for other in ["a1", "a-1", "b"] {
        assert_eq!(
            owned_by(&after, other),
            owned_by(&before, other),
            "{other} is untouched"
        );
        assert_eq!(list_all(&mut s, other, b"", 10).len(), 3);
    }
    assert_eq!(s.size("a").unwrap(), 0);
    assert_eq!(stored_entries(&after, "a"), 0);
    assert_eq!(list_all(&mut s, "a", b"", 10), Vec::<Vec<u8>>::new());
    let info = s
        .namespace_info("a")
        .unwrap()
        .expect("the namespace is kept");
    assert_eq!(info.metadata, r#"{"keep":true}"#);
    assert_eq!(info.limits.max_keys, Some(10));
    assert_eq!(s.stats("a").unwrap().deletes, 3);
    // Usable again right away.
    put(&mut s, "a", b"x", b"new");
    assert_eq!(s.size("a").unwrap(), 1);
    assert_eq!(s.clear("a").unwrap(), 1);
    assert_eq!(s.clear("a").unwrap(), 0);
}

#[test]
fn drop_removes_everything_of_the_namespace() {
    let (mut s, _) = store();
    for ns in ["a", "a1", "a-1"] {
        put(&mut s, ns, b"k", b"v");
        put_ttl(&mut s, ns, b"t", b"v", 1000);
        s.increment(ns, b"n", 1).unwrap();
        s.get(ns, b"k").unwrap();
        s.get(ns, b"missing").unwrap();
        s.set_metadata(ns, r#"{"x":1}"#).unwrap();
    }
    s.flush().unwrap();
    let before = snapshot(&s);
    assert!(!owned_by(&before, "a").is_empty());

    assert!(s.drop_namespace("a").unwrap());

    let after = snapshot(&s);
    assert!(
        owned_by(&after, "a").is_empty(),
        "no entry, index or counter of `a` is left"
    );
    assert!(!has_record(&after, "a"));
    for other in ["a1", "a-1"] {
        assert_eq!(
            owned_by(&after, other),
            owned_by(&before, other),
            "{other} is untouched"
        );
        assert!(has_record(&after, other));
    }
    assert_eq!(s.namespace_info("a").unwrap(), None);
    assert_err!(s.get_metadata("a"), Error::NotFound(_));
    assert_eq!(s.stats("a").unwrap(), Stats::default());
    assert_eq!(s.get("a", b"k").unwrap(), None);
    // That miss was on a namespace that does not exist: a flush drops it.
    s.flush().unwrap();
    assert!(
        !s.drop_namespace("a").unwrap(),
        "dropping twice reports false"
    );
    assert!(!s.drop_namespace("never").unwrap());
    let names: Vec<String> = s
        .list_namespaces()
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, vec!["a-1".to_string(), "a1".to_string()]);

    // Reads counted before the drop are not flushed into a recreated namespace.
    s.get("a1", b"k").unwrap();
    put(&mut s, "a", b"k", b"v2");
    let stats = s.stats("a").unwrap();
    assert_eq!(
        (stats.hits, stats.misses, stats.sets, stats.total_keys),
        (0, 0, 1, 1)
    );
    assert_eq!(s.namespace_info("a").unwrap().unwrap().metadata, "{}");
}

#[test]
fn drop_forgets_unflushed_reads_of_the_namespace() {
    let (mut s, _) = store();
    put(&mut s, "a", b"k", b"v");
    s.get("a", b"k").unwrap();
    s.get("a", b"nope").unwrap();
    assert!(s.drop_namespace("a").unwrap());
    put(&mut s, "a", b"k", b"v");
    let stats = s.stats("a").unwrap();
    assert_eq!((stats.hits, stats.misses), (0, 0));
}

// ---------------------------------------------------------------- metadata

#[test]
fn metadata_round_trips_in_compact_form() {
    let (mut s, _) = store();
    put(&mut s, "m", b"k", b"v");
    assert_eq!(s.get_metadata("m").unwrap(), "{}");
    s.set_metadata("m", "{ \"owner\" : \"x\", \"n\" : [1, 2] }")
        .unwrap();
    assert_eq!(s.get_metadata("m").unwrap(), r#"{"n":[1,2],"owner":"x"}"#);
    s.set_metadata("m", "{}").unwrap();
    assert_eq!(s.get_metadata("m").unwrap(), "{}");
    assert_eq!(
        value_of(&mut s, "m", b"k").unwrap(),
        b"v",
        "metadata leaves the keys alone"
    );
}

#[test]
fn metadata_must_be_a_json_object_and_nothing_is_written_otherwise() {
    let (mut s, _) = store();
    s.set_metadata("m", r#"{"keep":1}"#).unwrap();
    let before = snapshot(&s);
    for bad in [
        "[1,2]", "1", "\"text\"", "null", "true", "{oops", "", "{} {}",
    ] {
        let msg = assert_err!(s.set_metadata("m", bad), Error::InvalidMetadata(_));
        assert!(!msg.is_empty());
        // Also for a namespace that does not exist yet: it is not created.
        assert_err!(s.set_metadata("new", bad), Error::InvalidMetadata(_));
    }
    assert_eq!(snapshot(&s), before);
    assert_eq!(s.get_metadata("m").unwrap(), r#"{"keep":1}"#);
    assert_eq!(s.namespace_info("new").unwrap(), None);
}

#[test]
fn get_metadata_of_an_unknown_namespace_is_not_found() {
    let (mut s, _) = store();
    let msg = assert_err!(s.get_metadata("ghost"), Error::NotFound(_));
    assert!(msg.contains("ghost"), "{msg}");
}

// ---------------------------------------------------------------- limits

#[test]
fn limits_round_trip_and_default_for_unknown_namespaces() {
    let (mut s, _) = store();
    assert_eq!(s.get_limits("l").unwrap(), Limits::default());
    let limits = Limits {
        max_keys: Some(7),
        max_key_bytes: 16,
        max_value_bytes: 1,
        policy: EvictionPolicy::EvictLru,
        idempotency_window_ms: 1_000,
    };
    s.set_limits("l", limits).unwrap();
    assert_eq!(s.get_limits("l").unwrap(), limits);
    assert_eq!(s.namespace_info("l").unwrap().unwrap().limits, limits);
    s.set_limits("l", Limits::default()).unwrap();
    assert_eq!(s.get_limits("l").unwrap(), Limits::default());
}

// ---------------------------------------------------------------- statistics

#[test]
fn stats_count_each_kind_of_event_per_namespace() {
    let (mut s, clock) = store();
    let ns = "st";
    s.set_limits(
        ns,
        Limits {
            max_keys: Some(3),
            policy: EvictionPolicy::EvictLru,
            ..Limits::default()
        },
    )
    .unwrap();
    put(&mut s, ns, b"a", b"1"); // set
    clock.advance(1);
    put(&mut s, ns, b"a", b"2"); // set
    clock.advance(1);
    put_ttl(&mut s, ns, b"t", b"x", 5); // set
    clock.advance(1);
    s.increment(ns, b"n", 1).unwrap(); // set
    s.get(ns, b"a").unwrap(); // hit
    s.exists(ns, b"n").unwrap(); // hit
    s.get(ns, b"zz").unwrap(); // miss
    s.get_many(ns, &[b"a".to_vec(), b"q".to_vec()]).unwrap(); // hit + miss
    clock.advance(10); // t expires
    s.get(ns, b"t").unwrap(); // miss
    assert!(s.delete(ns, b"n").unwrap()); // delete
    clock.advance(1);
    put(&mut s, ns, b"b", b"1"); // set
    clock.advance(1);
    put(&mut s, ns, b"c", b"1"); // set: 4 stored incl. expired t -> t is reclaimed (expiration)
    clock.advance(1);
    put(&mut s, ns, b"d", b"1"); // set: full -> a (least recently written) is evicted
    let stats = s.stats(ns).unwrap();
    assert_eq!(
        stats,
        Stats {
            hits: 3,
            misses: 3,
            sets: 7,
            deletes: 1,
            expirations: 1,
            evictions: 1,
            total_keys: 3
        }
    );
    assert_eq!(s.get(ns, b"a").unwrap(), None);
}

#[test]
fn stats_of_one_namespace_ignore_the_others() {
    let (mut s, _) = store();
    put(&mut s, "a", b"k", b"v");
    put(&mut s, "a1", b"k", b"v");
    put(&mut s, "a1", b"k2", b"v");
    s.get("a1", b"k").unwrap();
    s.get("a1", b"nope").unwrap();
    s.delete("a1", b"k").unwrap();
    let a = s.stats("a").unwrap();
    assert_eq!(
        a,
        Stats {
            sets: 1,
            total_keys: 1,
            ..Stats::default()
        }
    );
    let a1 = s.stats("a1").unwrap();
    assert_eq!(
        a1,
        Stats {
            hits: 1,
            misses: 1,
            sets: 2,
            deletes: 1,
            total_keys: 1,
            ..Stats::default()
        }
    );
}

#[test]
fn global_stats_is_the_sum_of_every_namespace() {
    let (mut s, clock) = store();
    for (i, ns) in ["a", "a1", "default", "z"].iter().enumerate() {
        for k in 0..=i as u8 {
            put(&mut s, ns, &[k], b"1");
            s.get(ns, &[k]).unwrap();
            s.get(ns, &[k, k]).unwrap();
        }
        put_ttl(&mut s, ns, b"ttl", b"", 5);
        s.delete(ns, &[0]).unwrap();
    }
    clock.advance(5);
    s.tick(2).unwrap();
    let mut sum = Stats::default();
    for info in s.list_namespaces().unwrap() {
        sum += s.stats(&info.name).unwrap();
    }
    let global = s.global_stats().unwrap();
    assert_eq!(global, sum);
    assert_eq!(global.sets, 1 + 2 + 3 + 4 + 4);
    assert_eq!(global.hits, 10);
    assert_eq!(global.misses, 10);
    assert_eq!(global.deletes, 4);
    assert_eq!(global.total_keys, 6);
    assert_eq!(global.expirations, 2);
}

#[test]
fn stats_of_a_fresh_store_are_zero() {
    let (mut s, _) = store();
    assert_eq!(s.global_stats().unwrap(), Stats::default());
}
