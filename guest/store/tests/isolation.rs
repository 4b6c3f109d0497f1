//! Namespaces never see each other's keys: a model-based property test over
//! random operation sequences, and a few plain cases with confusable names.

#[macro_use]
mod common;

use std::collections::BTreeMap;

use common::*;
use nexus_store::{Error, ListOptions, TickReport};
use proptest::prelude::*;

/// Names that prefix each other, or that a naive `ns:key` layout would confuse.
const NAMESPACES: [&str; 5] = ["a", "a1", "a-1", "default", "app1"];
/// Bytes keys are made of: separators, the extremes, and ordinary letters.
const KEY_BYTES: [u8; 6] = [b'a', b'1', b':', 0x00, 0xFF, b'-'];

#[derive(Debug, Clone)]
enum Action {
    Set {
        ns: usize,
        key: Vec<u8>,
        value: Vec<u8>,
        ttl: Option<u64>,
    },
    Get {
        ns: usize,
        key: Vec<u8>,
    },
    Delete {
        ns: usize,
        key: Vec<u8>,
    },
    Increment {
        ns: usize,
        key: Vec<u8>,
        delta: i64,
    },
    SetMany {
        ns: usize,
        items: Vec<(Vec<u8>, Vec<u8>)>,
    },
    DeleteMany {
        ns: usize,
        keys: Vec<Vec<u8>>,
    },
    Clear {
        ns: usize,
    },
    Drop {
        ns: usize,
    },
    List {
        ns: usize,
        prefix: Vec<u8>,
        limit: u32,
    },
    Size {
        ns: usize,
    },
    Advance {
        ms: u64,
    },
    Tick {
        budget: u32,
    },
}

fn ns_index() -> impl Strategy<Value = usize> {
    0..NAMESPACES.len()
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(KEY_BYTES.to_vec()), 1..=3)
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"0".to_vec()),
        Just(b"17".to_vec()),
        Just(b"-5".to_vec()),
        Just(b"abc".to_vec()),
        Just(Vec::new()),
        Just(vec![0x00, 0xFF, b':']),
        Just(i64::MAX.to_string().into_bytes()),
        prop::collection::vec(any::<u8>(), 0..4),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (ns_index(), key(), value(), prop::option::weighted(0.25, 1..20u64))
            .prop_map(|(ns, key, value, ttl)| Action::Set { ns, key, value, ttl }),
        3 => (ns_index(), key()).prop_map(|(ns, key)| Action::Get { ns, key }),
        2 => (ns_index(), key()).prop_map(|(ns, key)| Action::Delete { ns, key }),
        3 => (ns_index(), key(), prop_oneof![-3..=3i64, Just(i64::MAX), Just(i64::MIN)])
            .prop_map(|(ns, key, delta)| Action::Increment { ns, key, delta }),
        2 => (ns_index(), prop::collection::vec((key(), value()), 0..4))
            .prop_map(|(ns, items)| Action::SetMany { ns, items }),
        1 => (ns_index(), prop::collection::vec(key(), 0..4)).prop_map(|(ns, keys)| Action::DeleteMany { ns, keys }),
        1 => ns_index().prop_map(|ns| Action::Clear { ns }),
        1 => ns_index().prop_map(|ns| Action::Drop { ns }),
        2 => (ns_index(), prop::collection::vec(prop::sample::select(KEY_BYTES.to_vec()), 0..=2), 1..4u32)
            .prop_map(|(ns, prefix, limit)| Action::List { ns, prefix, limit }),
        1 => ns_index().prop_map(|ns| Action::Size { ns }),
        1 => (1..15u64).prop_map(|ms| Action::Advance { ms }),
        1 => (1..6u32).prop_map(|budget| Action::Tick { budget }),
    ]
}

/// A stored value and its expiry time.
type Stored = (Vec<u8>, Option<u64>);

/// The reference: what every namespace should hold, with expiry times.
#[derive(Default)]
struct Model {
    map: BTreeMap<(usize, Vec<u8>), Stored>,
}

impl Model {
    fn live(&self, ns: usize, key: &[u8], now: u64) -> Option<&Stored> {
        self.map
            .get(&(ns, key.to_vec()))
            .filter(|(_, at)| at.is_none_or(|at| now < at))
    }

    fn live_keys(&self, ns: usize, prefix: &[u8], now: u64) -> Vec<Vec<u8>> {
        self.map
            .iter()
            .filter(|((n, k), (_, at))| {
                *n == ns && k.starts_with(prefix) && at.is_none_or(|at| now < at)
            })
            .map(|((_, k), _)| k.clone())
            .collect()
    }

    fn remove_namespace(&mut self, ns: usize) {
        self.map.retain(|(n, _), _| *n != ns);
    }
}

/// Runs one action against both, asserting the store's answer matches the model.
fn step(
    s: &mut TestStore,
    clock: &nexus_store::ManualClock,
    m: &mut Model,
    action: &Action,
) -> Result<(), TestCaseError> {
    let now = nexus_store::Clock::now_ms(clock);
    match action.clone() {
        Action::Set {
            ns,
            key,
            value,
            ttl,
        } => {
            let opts = nexus_store::SetOptions {
                ttl_ms: ttl,
                ..Default::default()
            };
            s.set(NAMESPACES[ns], &key, &value, &opts).unwrap();
            m.map.insert((ns, key), (value, ttl.map(|t| now + t)));
        }
        Action::Get { ns, key } => {
            let got = s.get(NAMESPACES[ns], &key).unwrap();
            let want = m.live(ns, &key, now);
            prop_assert_eq!(
                got.map(|e| (e.value, e.expires_at)),
                want.cloned(),
                "get {:?} in {}",
                key,
                NAMESPACES[ns]
            );
        }
        Action::Delete { ns, key } => {
            let existed = s.delete(NAMESPACES[ns], &key).unwrap();
            prop_assert_eq!(existed, m.live(ns, &key, now).is_some());
            m.map.remove(&(ns, key));
        }
        Action::Increment { ns, key, delta } => {
            let got = s.increment(NAMESPACES[ns], &key, delta);
            let current = m.live(ns, &key, now).cloned();
            let parsed = match &current {
                None => Some(0),
                Some((v, _)) => std::str::from_utf8(v)
                    .ok()
                    .and_then(|t| t.parse::<i64>().ok()),
            };
            match parsed.map(|c| c.checked_add(delta)) {
                Some(Some(n)) => {
                    prop_assert_eq!(got, Ok(n));
                    let ttl = current.and_then(|(_, at)| at);
                    m.map.insert((ns, key), (n.to_string().into_bytes(), ttl));
                }
                _ => prop_assert!(matches!(got, Err(Error::NotAnInteger(_))), "{:?}", got),
            }
        }
        Action::SetMany { ns, items } => {
            let versions = s.set_many(NAMESPACES[ns], &items, None).unwrap();
            prop_assert_eq!(versions.len(), items.len());
            for (k, v) in items {
                m.map.insert((ns, k), (v, None));
            }
        }
        Action::DeleteMany { ns, keys } => {
            let deleted = s.delete_many(NAMESPACES[ns], &keys).unwrap();
            let distinct: std::collections::BTreeSet<&Vec<u8>> = keys
                .iter()
                .filter(|k| m.live(ns, k, now).is_some())
                .collect();
            prop_assert_eq!(deleted as usize, distinct.len());
            for k in keys {
                m.map.remove(&(ns, k));
            }
        }
        Action::Clear { ns } => {
            let cleared = s.clear(NAMESPACES[ns]).unwrap();
            prop_assert_eq!(cleared as usize, m.live_keys(ns, b"", now).len());
            m.remove_namespace(ns);
        }
        Action::Drop { ns } => {
            s.drop_namespace(NAMESPACES[ns]).unwrap();
            m.remove_namespace(ns);
            prop_assert!(owned_by(&snapshot(s), NAMESPACES[ns]).is_empty());
        }
        Action::List { ns, prefix, limit } => {
            prop_assert_eq!(
                list_all(s, NAMESPACES[ns], &prefix, limit),
                m.live_keys(ns, &prefix, now)
            );
        }
        Action::Size { ns } => {
            prop_assert_eq!(
                s.size(NAMESPACES[ns]).unwrap() as usize,
                m.live_keys(ns, b"", now).len()
            );
        }
        Action::Advance { ms } => clock.advance(ms),
        Action::Tick { budget } => {
            let TickReport { expired_keys, .. } = s.tick(budget).unwrap();
            prop_assert!(expired_keys <= budget);
        }
    }
    Ok(())
}

/// The whole state of every namespace agrees with the model.
fn check_all(
    s: &mut TestStore,
    clock: &nexus_store::ManualClock,
    m: &Model,
) -> Result<(), TestCaseError> {
    let now = nexus_store::Clock::now_ms(clock);
    for (ns, name) in NAMESPACES.iter().enumerate() {
        let want = m.live_keys(ns, b"", now);
        let page = s
            .list(
                name,
                &ListOptions {
                    limit: 1000,
                    ..ListOptions::default()
                },
            )
            .unwrap();
        let listed: Vec<Vec<u8>> = page.keys.iter().map(|k| k.key.clone()).collect();
        prop_assert_eq!(&listed, &want, "keys of {}", name);
        let values = s.get_many(name, &want).unwrap();
        for (k, got) in want.iter().zip(values) {
            let (v, at) = m.live(ns, k, now).unwrap();
            let got = got.expect("listed key is readable");
            prop_assert_eq!(&got.value, v, "value of {:?} in {}", k, name);
            prop_assert_eq!(got.expires_at, *at);
        }
        prop_assert_eq!(
            s.size(name).unwrap() as usize,
            want.len(),
            "size of {}",
            name
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(proptest_config(64))]

    #[test]
    fn random_operations_match_a_per_namespace_model(actions in prop::collection::vec(action(), 1..40)) {
        let (mut s, clock) = store();
        let mut model = Model::default();
        for action in &actions {
            step(&mut s, &clock, &mut model, action)?;
            check_all(&mut s, &clock, &model)?;
        }
        // Sweeping everything leaves exactly the live keys stored.
        while s.tick(1000).unwrap().more {}
        check_all(&mut s, &clock, &model)?;
        let snap = snapshot(&s);
        let now = nexus_store::Clock::now_ms(&clock);
        for (ns, name) in NAMESPACES.iter().enumerate() {
            prop_assert_eq!(stored_entries(&snap, name), model.live_keys(ns, b"", now).len(), "stored entries of {}", name);
        }
    }
}

#[test]
fn a_colon_in_a_key_does_not_reach_another_namespace() {
    let (mut s, _) = store();
    put(&mut s, "default", b"app1:user", b"in default");
    put(&mut s, "app1", b"user", b"in app1");
    assert_eq!(
        value_of(&mut s, "default", b"app1:user").unwrap(),
        b"in default"
    );
    assert_eq!(value_of(&mut s, "app1", b"user").unwrap(), b"in app1");
    assert_eq!(value_of(&mut s, "default", b"user"), None);
    assert_eq!(value_of(&mut s, "app1", b"app1:user"), None);
    assert_eq!(s.size("default").unwrap(), 1);
    assert_eq!(s.size("app1").unwrap(), 1);
    s.delete("app1", b"user").unwrap();
    assert_eq!(
        value_of(&mut s, "default", b"app1:user").unwrap(),
        b"in default"
    );
}

#[test]
fn namespaces_that_prefix_each_other_do_not_share_keys() {
    let (mut s, _) = store();
    // Keys that, glued to the shorter name, would spell the longer name's keys.
    put(&mut s, "a", b"1\0K", b"a");
    put(&mut s, "a", &[b'1', 0x00, b'K', b'x'], b"a");
    put(&mut s, "a1", b"x", b"a1");
    put(&mut s, "a-1", b"x", b"a-1");
    assert_eq!(
        list_all(&mut s, "a", b"", 10),
        vec![b"1\0K".to_vec(), b"1\0Kx".to_vec()]
    );
    assert_eq!(list_all(&mut s, "a1", b"", 10), vec![b"x".to_vec()]);
    assert_eq!(list_all(&mut s, "a-1", b"", 10), vec![b"x".to_vec()]);
    assert_eq!(s.clear("a").unwrap(), 2);
    assert_eq!(value_of(&mut s, "a1", b"x").unwrap(), b"a1");
    assert!(s.drop_namespace("a1").unwrap());
    assert_eq!(value_of(&mut s, "a-1", b"x").unwrap(), b"a-1");
    assert_eq!(s.size("a-1").unwrap(), 1);
}

#[test]
fn keys_with_extreme_bytes_stay_in_their_namespace() {
    let (mut s, _) = store();
    for ns in ["a", "a1"] {
        put(&mut s, ns, &[0xFF; 3], ns.as_bytes());
        put(&mut s, ns, &[0x00], ns.as_bytes());
        put(&mut s, ns, &[0x01], ns.as_bytes());
    }
    for ns in ["a", "a1"] {
        assert_eq!(
            list_all(&mut s, ns, b"", 1),
            vec![vec![0x00], vec![0x01], vec![0xFF; 3]]
        );
        assert_eq!(list_all(&mut s, ns, &[0xFF], 1), vec![vec![0xFF; 3]]);
        for k in [&[0xFF; 3][..], &[0x00], &[0x01]] {
            assert_eq!(value_of(&mut s, ns, k).unwrap(), ns.as_bytes());
        }
    }
}

#[test]
fn the_namespace_registry_is_not_reachable_through_keys() {
    let (mut s, _) = store();
    // The registry lives at 0x01 'N' <ns>; no key of any namespace can reach it.
    put(&mut s, "a", b"v", b"1");
    put(&mut s, "a", &[0x01, b'N', b'a'], b"fake");
    assert_eq!(s.list_namespaces().unwrap().len(), 1);
    assert_eq!(s.get_metadata("a").unwrap(), "{}");
}
