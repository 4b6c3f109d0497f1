//! Random operations over many namespaces, through the real component,
//! against a model where every namespace is its own map: no operation on one
//! namespace may ever show up in another.

use std::collections::BTreeMap;

use nexus_host::types::ListOptions;
use nexus_tests::Harness;
use proptest::prelude::*;

/// Names that prefix each other, so a layout bug would leak between them.
const NAMESPACES: [&str; 4] = ["a", "a1", "a-1", "default"];

#[derive(Debug, Clone)]
enum Step {
    Set(usize, Vec<u8>, Vec<u8>),
    Delete(usize, Vec<u8>),
    Increment(usize, Vec<u8>),
    Clear(usize),
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    // Bytes that matter to the layout: ':' as users use it, 0x00 and 0xFF.
    prop::collection::vec(
        prop::sample::select(vec![b'a', b'1', b':', 0x00, 0xFF]),
        1..4,
    )
}

fn step() -> impl Strategy<Value = Step> {
    let ns = 0..NAMESPACES.len();
    prop_oneof![
        4 => (ns.clone(), key(), prop::collection::vec(any::<u8>(), 0..4)).prop_map(|(n, k, v)| Step::Set(n, k, v)),
        2 => (ns.clone(), key()).prop_map(|(n, k)| Step::Delete(n, k)),
        1 => (ns.clone(), key()).prop_map(|(n, k)| Step::Increment(n, k)),
        1 => ns.prop_map(Step::Clear),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_operation_leaks_into_another_namespace(steps in prop::collection::vec(step(), 1..30)) {
        let h = Harness::new();
        let handles: Vec<_> = NAMESPACES.iter().map(|n| h.nexus.namespace(n).unwrap()).collect();
        let mut model: Vec<BTreeMap<Vec<u8>, Vec<u8>>> = vec![BTreeMap::new(); NAMESPACES.len()];
        for step in steps {
            match step {
                Step::Set(n, k, v) => {
                    handles[n].set(&k, &v).unwrap();
                    model[n].insert(k, v);
                }
                Step::Delete(n, k) => {
                    prop_assert_eq!(handles[n].delete(&k).unwrap(), model[n].remove(&k).is_some());
                }
                Step::Increment(n, k) => {
                    let current = model[n].get(&k).map(|v| std::str::from_utf8(v).ok().and_then(|s| s.parse::<i64>().ok()));
                    match current {
                        Some(None) => prop_assert!(handles[n].increment(&k, 1).is_err()),
                        Some(Some(i)) => {
                            prop_assert_eq!(handles[n].increment(&k, 1).unwrap(), i + 1);
                            model[n].insert(k, (i + 1).to_string().into_bytes());
                        }
                        None => {
                            prop_assert_eq!(handles[n].increment(&k, 1).unwrap(), 1);
                            model[n].insert(k, b"1".to_vec());
                        }
                    }
                }
                Step::Clear(n) => {
                    prop_assert_eq!(handles[n].clear().unwrap(), model[n].len() as u64);
                    model[n].clear();
                }
            }
            for (n, ns) in handles.iter().enumerate() {
                prop_assert_eq!(ns.size().unwrap(), model[n].len() as u64);
                let page = ns.list(&ListOptions { prefix: vec![], cursor: None, limit: 1000 }).unwrap();
                let listed: Vec<&[u8]> = page.keys.iter().map(|k| k.key.as_slice()).collect();
                let expected: Vec<&[u8]> = model[n].keys().map(Vec::as_slice).collect();
                prop_assert_eq!(listed, expected);
                for (k, v) in &model[n] {
                    prop_assert_eq!(ns.get_value(k).unwrap(), Some(v.clone()));
                }
            }
        }
    }
}
