//! The `nexus` binary end to end: each test runs it as a separate process
//! per command on a fresh data directory (the file backend), and checks
//! stdout, stderr and the exit code.

use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use serde_json::Value;
use tempfile::TempDir;

/// Cargo builds the binary before running this package's tests.
fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_nexus"))
}

/// A fresh data directory and a way to run `nexus --data <it> ...`.
struct Cli {
    data: TempDir,
}

/// What one run printed, and how it exited.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Asserts a zero exit and returns stdout.
    fn ok(self) -> String {
        assert_eq!(self.code, 0, "expected success: {self:?}");
        self.stdout
    }

    fn json(self) -> Value {
        let stdout = self.ok();
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout:?}"))
    }
}

impl Cli {
    fn new() -> Self {
        Self {
            data: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        let output = Command::new(binary())
            .arg("--data")
            .arg(self.data.path())
            .args(args)
            .env_remove("NEXUS_DATA")
            .output()
            .expect("the nexus binary runs");
        Run {
            // None = killed by a signal, e.g. a panic with panic=abort.
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
        }
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut with_json = vec!["--json"];
        with_json.extend_from_slice(args);
        self.run(&with_json).json()
    }
}

#[test]
fn set_then_get_prints_the_value() {
    let cli = Cli::new();
    assert!(
        cli.run(&["kv", "set", "user:1", "ada lovelace", "--ns", "app1"])
            .ok()
            .contains("version")
    );
    assert_eq!(
        cli.run(&["kv", "get", "user:1", "--ns", "app1"]).ok(),
        "ada lovelace\n"
    );
    // Namespaces are separate; `default` is the one used when none is named.
    assert_eq!(cli.run(&["kv", "get", "user:1"]).code, 1);
    cli.run(&["kv", "set", "greeting", "-hello-"]).ok();
    assert_eq!(
        cli.run(&["kv", "get", "greeting", "--ns", "default"]).ok(),
        "-hello-\n"
    );
}

#[test]
fn get_of_a_missing_key_exits_1() {
    let cli = Cli::new();
    let run = cli.run(&["kv", "get", "nope"]);
    assert_eq!((run.code, run.stdout.as_str()), (1, ""), "{run:?}");
    assert!(run.stderr.starts_with("error: not found"), "{run:?}");

    let run = cli.run(&["kv", "get", "nope", "--json"]);
    assert_eq!((run.code, run.stdout.trim()), (1, "null"), "{run:?}");
    assert!(run.stderr.contains("not found"), "{run:?}");
}

#[test]
fn json_output_has_the_entry_fields() {
    let cli = Cli::new();
    let set = cli.json(&["kv", "set", "session", "token", "--ttl", "3600"]);
    let version = set["version"].as_u64().expect("a version");
    let got = cli.json(&["kv", "get", "session"]);
    assert_eq!(got["key"], "session");
    assert_eq!(got["value"], "token");
    assert_eq!(got["version"].as_u64(), Some(version));
    let now_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let expires_at = got["expires_at"].as_u64().expect("a TTL was set");
    assert!((now_ms..=now_ms + 3_600_000).contains(&expires_at), "{got}");

    cli.run(&["kv", "set", "plain", "v"]).ok();
    assert_eq!(cli.json(&["kv", "get", "plain"])["expires_at"], Value::Null);
}

#[test]
fn what_one_process_writes_the_next_one_reads() {
    let cli = Cli::new();
    cli.run(&["kv", "set", "a", "1", "--ns", "app1"]).ok();
    assert_eq!(
        cli.run(&["kv", "incr", "a", "--by", "41", "--ns", "app1"])
            .ok(),
        "42\n"
    );
    assert_eq!(
        cli.run(&["kv", "incr", "a", "--by", "-2", "--ns", "app1"])
            .ok(),
        "40\n"
    );
    assert_eq!(cli.run(&["kv", "get", "a", "--ns", "app1"]).ok(), "40\n");
    assert_eq!(cli.run(&["kv", "get", "missing", "--ns", "app1"]).code, 1);
    assert!(std::fs::metadata(cli.data.path().join("nexus.redb")).is_ok());

    // Each process flushes its read statistics before it exits.
    let stats = cli.json(&["ns", "stats", "app1"]);
    assert_eq!(
        (stats["hits"].as_u64(), stats["misses"].as_u64()),
        (Some(1), Some(1)),
        "{stats}"
    );
    assert_eq!(stats["total_keys"], 1);

    // --memory starts empty and keeps nothing.
    let run = cli.run(&["--memory", "kv", "get", "a", "--ns", "app1"]);
    assert_eq!(run.code, 1, "{run:?}");
    cli.run(&["--memory", "kv", "set", "b", "2", "--ns", "app1"])
        .ok();
    assert_eq!(cli.run(&["kv", "get", "b", "--ns", "app1"]).code, 1);
}

#[test]
fn ns_list_shows_every_namespace() {
    let cli = Cli::new();
    cli.run(&["kv", "set", "k", "v", "--ns", "app1"]).ok();
    cli.run(&["kv", "set", "k", "v"]).ok();
    cli.run(&["kv", "set", "k2", "v"]).ok();

    let table = cli.run(&["ns", "list"]).ok();
    let lines: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert_eq!(lines[0][..2], ["NAME", "KEYS"], "{table}");
    assert_eq!(lines[1][..2], ["app1", "1"], "{table}");
    assert_eq!(lines[2][..2], ["default", "2"], "{table}");

    let list = cli.json(&["ns", "list"]);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["app1", "default"]);
    assert_eq!(list[1]["key_count"], 2);
    assert_eq!(list[0]["metadata"], serde_json::json!({}));
}

#[test]
fn ns_clear_reports_how_many_keys_it_deleted() {
    let cli = Cli::new();
    for key in ["a", "b", "c"] {
        cli.run(&["kv", "set", key, "v", "--ns", "app1"]).ok();
    }
    cli.run(&["kv", "set", "kept", "v"]).ok();
    assert!(
        cli.run(&["ns", "clear", "app1"])
            .ok()
            .contains("deleted 3 keys")
    );
    assert_eq!(cli.run(&["ns", "size", "app1"]).ok(), "0\n");
    assert_eq!(cli.json(&["ns", "clear", "app1"])["deleted"], 0);
    assert_eq!(cli.run(&["kv", "get", "kept"]).ok(), "v\n");

    assert_eq!(cli.json(&["ns", "drop", "app1"])["dropped"], true);
    assert_eq!(cli.run(&["ns", "info", "app1"]).code, 1);
}

#[test]
fn an_invalid_namespace_exits_2_and_writes_nothing() {
    let cli = Cli::new();
    let run = cli.run(&["kv", "set", "k", "v", "--ns", "bad name"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.starts_with("error: invalid namespace"),
        "{run:?}"
    );
    assert_eq!(run.stdout, "");
    assert_eq!(cli.run(&["ns", "info", "core"]).code, 2, "reserved name");
    assert_eq!(cli.json(&["ns", "list"]), serde_json::json!([]));
}

#[test]
fn metadata_must_be_a_json_object() {
    let cli = Cli::new();
    let run = cli.run(&["ns", "meta", "app1", "--set", "[1]"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("invalid metadata"), "{run:?}");
    // A namespace without metadata does not exist yet.
    assert_eq!(cli.run(&["ns", "meta", "app1"]).code, 1);

    cli.run(&["ns", "meta", "app1", "--set", r#"{ "owner": "ops" }"#])
        .ok();
    assert_eq!(
        cli.json(&["ns", "meta", "app1"]),
        serde_json::json!({ "owner": "ops" })
    );
    assert_eq!(
        cli.json(&["ns", "info", "app1"])["metadata"]["owner"],
        "ops"
    );
}

#[test]
fn incr_of_a_non_integer_exits_2() {
    let cli = Cli::new();
    cli.run(&["kv", "set", "name", "ada"]).ok();
    let run = cli.run(&["kv", "incr", "name"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("not an integer"), "{run:?}");
    assert_eq!(cli.run(&["kv", "get", "name"]).ok(), "ada\n");
    assert_eq!(cli.json(&["kv", "incr", "hits"])["value"], 1);
}

#[test]
fn conditional_sets_fail_with_exit_2_and_change_nothing() {
    let cli = Cli::new();
    let v1 = cli.json(&["kv", "set", "k", "one", "--if-absent"])["version"]
        .as_u64()
        .unwrap();
    let run = cli.run(&["kv", "set", "k", "two", "--if-absent"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("condition failed"), "{run:?}");
    let stale = (v1 + 1).to_string();
    assert_eq!(
        cli.run(&["kv", "set", "k", "two", "--if-version", &stale])
            .code,
        2
    );
    cli.run(&["kv", "set", "k", "two", "--if-version", &v1.to_string()])
        .ok();
    assert_eq!(cli.run(&["kv", "get", "k"]).ok(), "two\n");
}

#[test]
fn list_pages_with_a_cursor_and_limits_update_from_the_current_ones() {
    let cli = Cli::new();
    for key in ["user:1", "user:2", "user:3", "order:1"] {
        cli.run(&["kv", "set", key, "v", "--ns", "app1"]).ok();
    }
    let page = cli.json(&[
        "kv", "list", "--ns", "app1", "--prefix", "user:", "--limit", "2",
    ]);
    let keys = |page: &Value| -> Vec<String> {
        page["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["key"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(keys(&page), ["user:1", "user:2"]);
    let cursor = page["next_cursor"].as_str().expect("more keys follow");
    let rest = cli.json(&[
        "kv", "list", "--ns", "app1", "--prefix", "user:", "--cursor", cursor,
    ]);
    assert_eq!(
        (keys(&rest), &rest["next_cursor"]),
        (vec!["user:3".to_string()], &Value::Null)
    );

    let limits = cli.json(&[
        "ns",
        "limits",
        "app1",
        "--max-keys",
        "10",
        "--policy",
        "evict-lru",
    ]);
    assert_eq!(
        (&limits["max_keys"], &limits["policy"]),
        (&Value::from(10), &Value::from("evict-lru"))
    );
    let limits = cli.json(&["ns", "limits", "app1", "--max-value-bytes", "100"]);
    assert_eq!(limits["max_keys"], 10, "other limits are kept: {limits}");
    assert_eq!(
        cli.json(&["ns", "limits", "app1", "--unlimited"])["max_keys"],
        Value::Null
    );
    assert_eq!(
        cli.run(&["ns", "limits", "app1", "--max-keys", "0"]).code,
        2
    );
}
