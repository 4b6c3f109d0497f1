//! Test support, not part of the API (feature `testing`): the PostgreSQL
//! test database, shared by this crate's tests (`host/tests/`) and the
//! end-to-end suites (`tests/`), and a wait for what another thread or
//! process does.

use std::time::{Duration, Instant};

/// The value of `name`, which scripts/test.sh sets. Missing: a failure when
/// `CI` is set (a test that needs PostgreSQL never skips in CI), otherwise
/// a visible "NOT RUN" and `None`.
pub fn required_env(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) => Some(value),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but {name} is not (scripts/test.sh sets it)"
            );
            eprintln!("NOT RUN: needs {name}");
            None
        }
    }
}

/// The test database's URL (`NEXUS_TEST_DATABASE_URL`), as [`required_env`].
pub fn test_database() -> Option<String> {
    required_env("NEXUS_TEST_DATABASE_URL")
}

/// The replicated cluster's multi-host URL (`NEXUS_TEST_CLUSTER_URL`: a
/// Patroni cluster that scripts/test.sh starts with scripts/pg-cluster.sh),
/// as [`required_env`].
pub fn test_cluster() -> Option<String> {
    required_env("NEXUS_TEST_CLUSTER_URL")
}

/// Runs `scripts/pg-cluster.sh COMMAND <the test cluster's directory> ARGS…`
/// (`NEXUS_TEST_CLUSTER_DIR`) and returns what it printed: how a test
/// kills the primary, stops a node or waits for the cluster to heal.
pub fn cluster_ctl(command: &str, args: &[&str]) -> String {
    let dir = std::env::var("NEXUS_TEST_CLUSTER_DIR")
        .expect("NEXUS_TEST_CLUSTER_DIR (scripts/test.sh sets it with NEXUS_TEST_CLUSTER_URL)");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg-cluster.sh");
    let output = std::process::Command::new(script)
        .arg(command)
        .arg(&dir)
        .args(args)
        .output()
        .expect("scripts/pg-cluster.sh runs");
    assert!(
        output.status.success(),
        "pg-cluster.sh {command} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// The last `lines` lines of each log of the test cluster (its Patroni and
/// PostgreSQL nodes, etcd), for a test's failure message: the cluster's
/// directory is removed when the run ends, its logs with it.
pub fn cluster_logs(lines: usize) -> String {
    let Ok(dir) = std::env::var("NEXUS_TEST_CLUSTER_DIR") else {
        return "(no NEXUS_TEST_CLUSTER_DIR)".into();
    };
    let mut logs: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    logs.retain(|p| p.extension().is_some_and(|e| e == "log"));
    logs.sort();
    let mut out = String::new();
    for log in logs {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(lines).collect();
        out.push_str(&format!("--- {}\n", log.display()));
        for line in tail.into_iter().rev() {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Drops `table` left by an earlier run, so the test starts on an empty one
/// (the backend creates it); returns the name.
pub fn fresh_table(url: &str, table: String) -> String {
    postgres::Client::connect(url, postgres::NoTls)
        .expect("the test database")
        .batch_execute(&format!("DROP TABLE IF EXISTS \"{table}\""))
        .expect("dropping the previous run's table");
    table
}

/// Returns once `done` holds, or fails saying what did not happen within
/// `limit`. It polls without sleeping: for what another thread or process
/// brings about, so a test never waits longer than it must.
pub fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < until, "timed out waiting until {what}");
        std::thread::yield_now();
    }
}
