//! A commit whose connection is lost while PostgreSQL commits it may or
//! may not have been applied: the backend says so (`OutcomeUnknown`),
//! never "nothing was written". A deferred trigger holds the `COMMIT` open
//! long enough for the test to end its backend (`pg_terminate_backend`),
//! as a machine's loss or a failover would. PostgreSQL comes from
//! `NEXUS_TEST_DATABASE_URL` (failing under `CI` without it).

use std::time::Duration;

use nexus_host::backend::{PostgresBackend, PostgresOptions, Storage as _, StorageError, Write};
use nexus_host::testing::{fresh_table, test_database, wait_until};

/// Names this test's connections, so that it ends only its own.
const APPLICATION: &str = "nexus_unknown_outcome_test";

#[test]
fn a_commit_whose_connection_dies_while_committing_is_an_unknown_outcome() {
    let Some(url) = test_database() else { return };
    let table = fresh_table(&url, "unknown_outcome".into());
    let separator = if url.contains('?') { '&' } else { '?' };
    let backend = PostgresBackend::open(&PostgresOptions {
        table: table.clone(),
        pool_size: 1,
        ..PostgresOptions::new(format!("{url}{separator}application_name={APPLICATION}"))
    })
    .expect("the backend opens");
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "CREATE OR REPLACE FUNCTION nexus_test_slow_commit() RETURNS trigger \
               LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$; \
             CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON \"{table}\" \
               DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION nexus_test_slow_commit();"
        ))
        .unwrap();

    std::thread::scope(|scope| {
        let ender = scope.spawn(|| {
            let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            let committing = "SELECT pid FROM pg_stat_activity \
                 WHERE application_name = $1 AND state = 'active' AND query = 'COMMIT'";
            let mut pid: Option<i32> = None;
            wait_until(Duration::from_secs(20), "the commit is in flight", || {
                pid = admin
                    .query_opt(committing, &[&APPLICATION])
                    .unwrap()
                    .map(|row| row.get(0));
                pid.is_some()
            });
            admin
                .execute("SELECT pg_terminate_backend($1)", &[&pid.unwrap()])
                .unwrap();
        });
        let outcome = backend.commit(vec![], vec![Write::Put(b"k".to_vec(), b"v".to_vec())]);
        ender.join().unwrap();
        assert!(
            matches!(outcome, Err(StorageError::OutcomeUnknown(_))),
            "{outcome:?}"
        );
    });
    // Here it was not applied (the trigger never returned); what the
    // store promises is only that it said it could not know.
    admin
        .batch_execute(&format!("DROP TRIGGER slow_commit ON \"{table}\""))
        .unwrap();
    assert_eq!(backend.get(b"k").unwrap(), None);
}

/// A `COMMIT` the server holds past the statement bound (a primary whose
/// synchronous standby is gone holds it for ever) is given up: the answer
/// is an unknown outcome within about the bound, its connection is
/// dropped, and the next commit, on a new connection, goes through.
#[test]
fn a_commit_held_past_the_bound_is_an_unknown_outcome_in_time() {
    let Some(url) = test_database() else { return };
    let table = fresh_table(&url, "bounded_commit".into());
    let backend = PostgresBackend::open(&PostgresOptions {
        table: table.clone(),
        pool_size: 2,
        statement_timeout: Some(Duration::from_millis(500)),
        ..PostgresOptions::new(url.clone())
    })
    .expect("the backend opens");
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "CREATE OR REPLACE FUNCTION nexus_test_held_commit() RETURNS trigger \
               LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$; \
             CREATE CONSTRAINT TRIGGER held_commit AFTER INSERT ON \"{table}\" \
               DEFERRABLE INITIALLY DEFERRED FOR EACH ROW \
               WHEN (NEW.k = '\\x68656c64') EXECUTE FUNCTION nexus_test_held_commit();"
        ))
        .unwrap();
    let started = std::time::Instant::now();
    let held = backend.commit(vec![], vec![Write::Put(b"held".to_vec(), b"v".to_vec())]);
    let took = started.elapsed();
    assert!(
        matches!(held, Err(StorageError::OutcomeUnknown(ref why)) if why.contains("not answered in time")),
        "{held:?}"
    );
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
    backend
        .commit(vec![], vec![Write::Put(b"next".to_vec(), b"v".to_vec())])
        .expect("a new connection commits");
    assert_eq!(backend.get(b"next").unwrap(), Some(b"v".to_vec()));
    assert_eq!(
        backend.get(b"held").unwrap(),
        None,
        "cancelled in its trigger"
    );
}
