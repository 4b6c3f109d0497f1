//! Property: any sequence of commits leaves every backend exactly as the
//! reference semantics (`apply_commit` over a map, the memory backend) do,
//! and every commit is accepted or refused alike. The file backend groups
//! commits and PostgreSQL coalesces each commit's writes into a few
//! statements; this is what keeps both equal to the contract. Keys come from
//! a tiny alphabet, so writes collide, ranges cover them and counters meet
//! values that are not counters.
//!
//! PostgreSQL comes from `NEXUS_TEST_DATABASE_URL` (failing under `CI`
//! without it).

use std::sync::Arc;

use nexus_host::backend::{
    Backend, Check, FileBackend, MemoryBackend, PostgresBackend, PostgresOptions, Storage, Write,
};
use nexus_host::testing;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn key() -> impl Strategy<Value = Vec<u8>> {
    (0u8..6).prop_map(|k| vec![k])
}

fn write() -> impl Strategy<Value = Write> {
    prop_oneof![
        (key(), vec(any::<u8>(), 0..3)).prop_map(|(k, v)| Write::Put(k, v)),
        (
            key(),
            (0u8..6).prop_map(|b| i64::from(b).to_le_bytes().to_vec())
        )
            .prop_map(|(k, v)| Write::Put(k, v)),
        key().prop_map(Write::Delete),
        (key(), key()).prop_map(|(a, b)| Write::DeleteRange(a, b)),
        (key(), -3i64..4).prop_map(|(k, d)| Write::Add(k, d)),
        Just(Write::Notify("app".into())),
    ]
}

fn check() -> impl Strategy<Value = Check> {
    (key(), proptest::option::of(vec(any::<u8>(), 0..2)))
        .prop_map(|(key, expected)| Check { key, expected })
}

type Commit = (Vec<Check>, Vec<Write>);

fn commits() -> impl Strategy<Value = Vec<Commit>> {
    vec((vec(check(), 0..2), vec(write(), 0..8)), 1..6)
}

/// Empties a backend between cases (one range over every key).
fn clear(b: &dyn Backend) {
    b.commit(vec![], vec![Write::DeleteRange(vec![], vec![0xff])])
        .unwrap();
}

#[test]
fn any_commits_leave_every_backend_as_the_reference_does() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut backends: Vec<(&str, Arc<dyn Backend>)> =
        vec![("file", Arc::new(FileBackend::open(dir.path()).unwrap()))];
    if let Some(url) = testing::test_database() {
        let options = PostgresOptions {
            table: testing::fresh_table(&url, "model_commits".to_string()),
            ..PostgresOptions::new(url)
        };
        backends.push((
            "postgres",
            Arc::new(PostgresBackend::open(&options).unwrap()),
        ));
    }
    let mut runner = TestRunner::new(Config::with_cases(256));
    runner
        .run(&commits(), |commits| {
            let reference = MemoryBackend::new();
            for (_, b) in &backends {
                clear(&**b);
            }
            for (checks, writes) in commits {
                let expected = reference
                    .commit(checks.clone(), writes.clone())
                    .map_err(|e| std::mem::discriminant(&e));
                for (name, b) in &backends {
                    let got = b
                        .commit(checks.clone(), writes.clone())
                        .map_err(|e| std::mem::discriminant(&e));
                    prop_assert_eq!(got, expected, "{} accepted or refused differently", name);
                }
            }
            let want = reference.scan(&[], &[0xff], 100).unwrap();
            for (name, b) in &backends {
                prop_assert_eq!(&b.scan(&[], &[0xff], 100).unwrap(), &want, "{}", name);
            }
            Ok(())
        })
        .unwrap();
}

/// PostgreSQL folds concurrent commits into one transaction: a group
/// answers each of its commits, and stores, exactly as the same commits one
/// by one — a commit whose check fails (here often: later commits check
/// what earlier ones wrote) is refused alone, and the others see only the
/// commits accepted before them.
#[test]
fn a_group_of_commits_answers_and_stores_as_its_commits_one_by_one() {
    let Some(url) = testing::test_database() else {
        return;
    };
    let options = PostgresOptions {
        table: testing::fresh_table(&url, "model_groups".to_string()),
        ..PostgresOptions::new(url)
    };
    let postgres = PostgresBackend::open(&options).unwrap();
    let mut runner = TestRunner::new(Config::with_cases(256));
    runner
        .run(&(commits(), commits()), |(before, group)| {
            let reference = MemoryBackend::new();
            clear(&postgres);
            for (checks, writes) in before {
                let expected = reference.commit(checks.clone(), writes.clone());
                prop_assert_eq!(postgres.commit(checks, writes), expected);
            }
            let expected: Vec<_> = group
                .iter()
                .map(|(checks, writes)| reference.commit(checks.clone(), writes.clone()))
                .collect();
            prop_assert_eq!(postgres.commit_group(group), expected);
            prop_assert_eq!(
                postgres.scan(&[], &[0xff], 100).unwrap(),
                reference.scan(&[], &[0xff], 100).unwrap()
            );
            Ok(())
        })
        .unwrap();
}
