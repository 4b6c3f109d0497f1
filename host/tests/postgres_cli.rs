//! The `nexus` binary on the PostgreSQL backend, as a process: a database it
//! cannot use at start-up (a bad URL, nothing listening, a wrong password)
//! is a one-line error and exit code 3, never a panic; with a good URL,
//! what one command writes the next one reads. PostgreSQL comes from
//! `NEXUS_TEST_DATABASE_URL`; without it the cases that need a server fail
//! when `CI` is set and say they did not run otherwise.

use std::process::Command;

use nexus_host::testing::{test_cluster, test_database};

fn nexus(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_nexus"))
        .args(args)
        .env_remove("NEXUS_DATABASE_URL")
        .env_remove("NEXUS_DATA")
        .output()
        .expect("the nexus binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn assert_failed_to_start(args: &[&str], reason: &str) {
    let (code, stdout, stderr) = nexus(args);
    assert_eq!(code, 3, "{args:?}: stdout {stdout:?} stderr {stderr:?}");
    assert!(stderr.contains(reason), "{args:?}: {stderr:?}");
    assert!(!stderr.contains("panicked"), "{stderr:?}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr:?}");
}

#[test]
fn a_database_that_cannot_be_used_is_exit_code_3_with_a_reason() {
    let bad = "postgres://u:p@127.0.0.1:notaport/db";
    let nobody = "postgres://u:p@127.0.0.1:1/db";
    assert_failed_to_start(
        &["--database-url", bad, "kv", "get", "k"],
        "bad database URL",
    );
    assert_failed_to_start(
        &["--database-url", nobody, "kv", "get", "k"],
        "cannot connect to PostgreSQL",
    );
    assert_failed_to_start(
        &["serve", "--addr", "127.0.0.1:0", "--database-url", nobody],
        "cannot connect to PostgreSQL",
    );
    let (code, _, stderr) = nexus(&["serve", "--addr", "127.0.0.1:0", "--backend", "postgres"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--database-url"), "{stderr}");
}

#[test]
fn a_wrong_password_is_exit_code_3_and_never_printed() {
    let Some(url) = test_database() else { return };
    let config: postgres::Config = url.parse().expect("the test URL parses");
    let user = config.get_user().expect("the test URL names a user");
    let host = match &config.get_hosts()[0] {
        postgres::config::Host::Tcp(h) => h.clone(),
        other => panic!("expected a TCP host, got {other:?}"),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().expect("the test URL names a database");
    let wrong = format!("postgres://{user}:not-the-password-5ecret@{host}:{port}/{db}");
    assert_failed_to_start(
        &["--database-url", &wrong, "kv", "get", "k"],
        "password authentication failed",
    );
    let (_, _, stderr) = nexus(&["--database-url", &wrong, "kv", "get", "k"]);
    assert!(
        !stderr.contains("5ecret"),
        "the password is not printed: {stderr}"
    );
}

#[test]
fn what_one_command_writes_the_next_one_reads() {
    if let Some(url) = test_database() {
        one_command_writes_the_next_reads(&url);
    }
}

/// The same through a replicated cluster's multi-host URL.
#[test]
fn what_one_command_writes_the_next_one_reads_on_a_cluster() {
    if let Some(url) = test_cluster() {
        one_command_writes_the_next_reads(&url);
    }
}

fn one_command_writes_the_next_reads(url: &str) {
    let ns = format!("cli-{}", std::process::id());
    let (code, _, stderr) = nexus(&[
        "--database-url",
        url,
        "kv",
        "set",
        "--ns",
        &ns,
        "greeting",
        "hello",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) =
        nexus(&["--database-url", url, "kv", "get", "--ns", &ns, "greeting"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim(), "hello");
}

/// `nexus kv watch` in one process sees a set made by another: woken
/// through PostgreSQL's LISTEN, not by polling.
#[test]
fn kv_watch_prints_a_line_when_another_process_sets_the_key() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let Some(url) = test_database() else { return };
    let ns = format!("watch-{}", std::process::id());
    let mut watcher = Command::new(env!("CARGO_BIN_EXE_nexus"))
        .args([
            "--database-url",
            &url,
            "--json",
            "kv",
            "watch",
            "k",
            "--ns",
            &ns,
        ])
        .args(["--count", "2"])
        .env_remove("NEXUS_DATABASE_URL")
        .env_remove("NEXUS_DATA")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the nexus binary runs");
    // Lines are read on a thread, so a watch that is never woken fails the
    // test instead of hanging it.
    let stdout = watcher.stdout.take().expect("stdout");
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(serde_json::from_str::<serde_json::Value>(&line).unwrap());
        }
    });
    let within = std::time::Duration::from_secs(30);
    let first = lines.recv_timeout(within).expect("a first line");
    assert_eq!(first["entries"][0]["value"], serde_json::Value::Null);
    let (code, _, stderr) = nexus(&["--database-url", &url, "kv", "set", "--ns", &ns, "k", "v1"]);
    assert_eq!(code, 0, "{stderr}");
    let second = lines.recv_timeout(within).expect("a line for the set");
    assert_eq!(second["entries"][0]["value"], "v1");
    assert_eq!(second["namespace"], ns.as_str());
    assert!(
        watcher.wait().expect("exits").success(),
        "--count 2 ends it"
    );
}
