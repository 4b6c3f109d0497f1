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
        (stats["cache_hits"].as_u64(), stats["cache_misses"].as_u64()),
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

/// While a server owns the data directory, a command there fails with a
/// reason that says what holds it and what to do instead.
#[test]
fn a_data_directory_in_use_by_a_server_is_exit_3_with_the_way_out() {
    let cli = Cli::new();
    let server = Serving::start(&cli);
    let run = cli.run(&["kv", "get", "k"]);
    drop(server);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("in use by another process"), "{run:?}");
    assert!(run.stderr.contains("--url"), "{run:?}");
}

/// `nexus serve` on the test's data directory, killed when dropped.
struct Serving {
    child: std::process::Child,
    url: String,
}

impl Serving {
    fn start(cli: &Cli) -> Self {
        let mut child = Command::new(binary())
            .arg("--data")
            .arg(cli.data.path())
            .args(["serve", "--addr", "127.0.0.1:0"])
            .env_remove("NEXUS_DATA")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nexus serve starts");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().expect("piped")),
            &mut line,
        )
        .expect("it prints its address");
        let url = line
            .trim()
            .strip_prefix("nexus listening on ")
            .unwrap_or_else(|| panic!("{line:?}"))
            .to_string();
        Self { child, url }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// With `--url`, commands run against a running server: what they write is
/// the server's, and they print and exit as on a local store.
#[test]
fn commands_with_url_run_against_a_running_server() {
    let cli = Cli::new();
    let server = Serving::start(&cli);
    let url = server.url.clone();
    let remote = |args: &[&str]| {
        let mut all = vec!["--url", url.as_str()];
        all.extend_from_slice(args);
        cli.run(&all)
    };
    assert!(
        remote(&["kv", "set", "user:1", "ada", "--ns", "app1"])
            .ok()
            .starts_with("OK (version ")
    );
    assert_eq!(
        remote(&["kv", "get", "user:1", "--ns", "app1"]).ok(),
        "ada\n"
    );
    assert_eq!(
        remote(&["kv", "incr", "n", "--by", "5", "--ns", "app1"]).ok(),
        "5\n"
    );
    assert_eq!(remote(&["kv", "get", "missing", "--ns", "app1"]).code, 1);
    assert_eq!(remote(&["kv", "set", "k", "v", "--ns", "_bad"]).code, 2);
    let id = remote(&["events", "emit", "job.run", "{}", "--ns", "app1"]).ok();
    let got = remote(&["--json", "events", "receive", "--ns", "app1"]).json();
    assert_eq!(got[0]["message_id"], id.trim());
    let listed = remote(&["--json", "ns", "list"]).json();

    // A watch through the server hears the server's writes.
    let mut watcher = Command::new(binary())
        .args([
            "--url", &url, "kv", "watch", "user:1", "--ns", "app1", "--count", "2",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = watcher.stdout.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let within = std::time::Duration::from_secs(30);
    assert_eq!(lines.recv_timeout(within).unwrap(), "user:1=ada");
    remote(&["kv", "set", "user:1", "grace", "--ns", "app1"]).ok();
    assert_eq!(lines.recv_timeout(within).unwrap(), "user:1=grace");
    assert!(watcher.wait().unwrap().success());

    // The same store, read locally once the server is gone.
    drop(server);
    assert_eq!(
        cli.run(&["kv", "get", "user:1", "--ns", "app1"]).ok(),
        "grace\n"
    );
    let local = cli.json(&["ns", "list"]);
    assert_eq!(local[0]["created_at"], listed[0]["created_at"]);
    // Nothing listens there any more: the store cannot be reached (3).
    let gone = cli.run(&["--url", &url, "kv", "get", "user:1"]);
    assert_eq!(gone.code, 3, "{gone:?}");
    assert!(gone.stderr.contains("cannot use the server"), "{gone:?}");
}

/// Once the server has tokens, `--url` needs one that may create tokens
/// (raw storage is beneath every namespace's rules).
#[test]
fn url_needs_a_store_admin_token_once_the_server_has_tokens() {
    let cli = Cli::new();
    let secret = |out: String| {
        out.split_whitespace()
            .find(|w| w.starts_with("nxt_"))
            .expect("a secret")
            .to_string()
    };
    let root = secret(
        cli.run(&["tokens", "create", "--ns", "*", "--scope", "admin"])
            .ok(),
    );
    let scoped = secret(
        cli.run(&["tokens", "create", "--ns", "app1", "--scope", "admin"])
            .ok(),
    );
    let server = Serving::start(&cli);
    let url = server.url.as_str();
    let anonymous = cli.run(&["--url", url, "kv", "get", "k"]);
    assert_eq!(anonymous.code, 3, "{anonymous:?}");
    assert!(anonymous.stderr.contains("401"), "{anonymous:?}");
    let narrow = cli.run(&[
        "--url", url, "--token", &scoped, "kv", "get", "k", "--ns", "app1",
    ]);
    assert_eq!(narrow.code, 3, "{narrow:?}");
    assert!(narrow.stderr.contains("403"), "{narrow:?}");
    let output = Command::new(binary())
        .args(["--url", url, "kv", "set", "k", "v", "--ns", "app1"])
        .env("NEXUS_TOKEN", &root)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
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
        .map(|i| i["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["app1", "default"]);
    assert_eq!(list[1]["total_keys"], 2);
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
    assert_eq!(cli.json(&["ns", "clear", "app1"])["keys_deleted"], 0);
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
fn writes_with_an_idempotency_key_apply_once() {
    let cli = Cli::new();
    for _ in 0..2 {
        let run = cli.json(&["kv", "incr", "n", "--by", "5", "--idempotency-key", "k1"]);
        assert_eq!(run["value"], 5, "{run}");
    }
    let reused = cli.run(&["kv", "incr", "n", "--by", "6", "--idempotency-key", "k1"]);
    assert_eq!(reused.code, 2, "{reused:?}");
    assert!(
        reused.stderr.contains("idempotency key reused"),
        "{reused:?}"
    );
    assert_eq!(cli.run(&["kv", "get", "n"]).ok(), "5\n");

    let set = |value: &str| cli.json(&["kv", "set", "s", value, "--idempotency-key", "k2"]);
    let first = set("a");
    assert_eq!(set("a"), first, "the same version again");
    let ids: Vec<Value> = (0..2)
        .map(|_| {
            cli.json(&[
                "events",
                "emit",
                "a.b",
                "{}",
                "--ns",
                "q",
                "--idempotency-key",
                "e1",
            ])["message_id"]
                .clone()
        })
        .collect();
    assert_eq!(ids[0], ids[1]);
    let metrics = cli.json(&["events", "metrics", "--ns", "q"]);
    assert_eq!(metrics["queue_depth"], 1, "one event: {metrics}");
    let id = ids[0].as_str().unwrap();
    cli.json(&["events", "receive", "--ns", "q"]);
    for _ in 0..2 {
        cli.run(&["events", "ack", id, "--ns", "q", "--idempotency-key", "a1"])
            .ok();
    }
    let deleted =
        |key: &str| cli.json(&["kv", "del", "s", "--idempotency-key", key])["deleted"].clone();
    assert_eq!(
        (deleted("d1"), deleted("d1"), deleted("d2")),
        (Value::Bool(true), Value::Bool(true), Value::Bool(false))
    );
    let bad = cli.run(&["kv", "set", "x", "y", "--idempotency-key", "has space"]);
    assert_eq!(bad.code, 2, "{bad:?}");
}

#[test]
fn backup_restore_and_copy_move_a_whole_store() {
    let first = Cli::new();
    first
        .run(&["kv", "set", "user:1", "ada", "--ns", "app1"])
        .ok();
    first
        .run(&["events", "emit", "a.b", "{}", "--ns", "q"])
        .ok();
    let file = first.data.path().join("..").join(format!(
        "{}.nexusbak",
        first.data.path().file_name().unwrap().to_string_lossy()
    ));
    let file = file.to_str().unwrap();
    let backed = first.json(&["backup", "--to", file]);
    assert!(backed["entries"].as_u64().unwrap() > 3, "{backed}");

    let second = Cli::new();
    let restored = second.json(&["restore", "--from", file]);
    assert_eq!(restored["entries"], backed["entries"]);
    assert_eq!(
        second.run(&["kv", "get", "user:1", "--ns", "app1"]).ok(),
        "ada\n"
    );
    let again = second.run(&["restore", "--from", file]);
    assert_eq!(again.code, 2, "{again:?}");
    assert!(again.stderr.contains("not empty"), "{again:?}");
    second.run(&["kv", "set", "extra", "x"]).ok();
    second.run(&["restore", "--from", file, "--force"]).ok();
    assert_eq!(second.run(&["kv", "get", "extra"]).code, 1, "replaced");

    let bytes = std::fs::read(file).unwrap();
    std::fs::write(file, &bytes[..bytes.len() - 10]).unwrap();
    let third = Cli::new();
    let bad = third.run(&["restore", "--from", file]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("not a valid nexus backup"), "{bad:?}");
    assert_eq!(
        third.json(&["ns", "list"]),
        serde_json::json!([]),
        "nothing written"
    );
    std::fs::remove_file(file).unwrap();

    let to = third.data.path().join("copied");
    let copied = third.json(&[
        "copy",
        "--from",
        first.data.path().to_str().unwrap(),
        "--to",
        to.to_str().unwrap(),
    ]);
    assert_eq!(copied["entries"], backed["entries"]);
    let run = Command::new(binary())
        .args([
            "--data",
            to.to_str().unwrap(),
            "kv",
            "get",
            "user:1",
            "--ns",
            "app1",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&run.stdout), "ada\n");
}

/// The file store is one process's: while `nexus serve` holds it, a backup
/// goes through the server (`--url`), which streams one snapshot.
#[test]
fn a_backup_through_a_running_server_restores_elsewhere() {
    let cli = Cli::new();
    let server = Serving::start(&cli);
    let remote = |args: &[&str]| {
        let mut all = vec!["--url", server.url.as_str()];
        all.extend_from_slice(args);
        cli.run(&all)
    };
    remote(&["kv", "set", "user:1", "ada", "--ns", "app1"]).ok();
    let file = tempfile::NamedTempFile::new().unwrap();
    let path = file.path().to_str().unwrap();
    let backed = remote(&["--json", "backup", "--to", path]).json();
    assert!(backed["entries"].as_u64().unwrap() >= 2, "{backed}");
    let other = Cli::new();
    other.run(&["restore", "--from", path]).ok();
    assert_eq!(
        other.run(&["kv", "get", "user:1", "--ns", "app1"]).ok(),
        "ada\n"
    );
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

#[test]
fn an_emitted_event_is_received_then_acked_and_gone() {
    let cli = Cli::new();
    let emitted = cli.json(&[
        "events",
        "emit",
        "user.created",
        r#"{"id":7}"#,
        "--ns",
        "app1",
    ]);
    let id = emitted["message_id"]
        .as_str()
        .expect("a message id")
        .to_string();

    let received = cli.json(&["events", "receive", "--ns", "app1", "--max", "5"]);
    let received = received.as_array().expect("a list of deliveries");
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["message_id"], id.as_str());
    assert_eq!(received[0]["payload"], serde_json::json!({"id": 7}));
    assert_eq!(received[0]["attempt"], 1);

    cli.run(&["events", "ack", &id, "--ns", "app1"]).ok();
    let metrics = cli.json(&["events", "metrics", "--ns", "app1"]);
    assert_eq!(metrics["queue_depth"], 0);
    assert_eq!(metrics["acked"], 1);
    // The other namespace never saw it.
    let other = cli.json(&["events", "receive", "--ns", "app2"]);
    assert_eq!(other, serde_json::json!([]));
}

#[test]
fn key_events_turn_on_and_off_and_tell_each_change() {
    let cli = Cli::new();
    let off = cli.json(&["ns", "key-events", "app1"]);
    assert_eq!(
        (&off["enabled"], &off["include_values"]),
        (&false.into(), &false.into())
    );
    let on = cli.json(&["ns", "key-events", "app1", "--on", "--values"]);
    assert_eq!(
        (&on["enabled"], &on["include_values"]),
        (&true.into(), &true.into())
    );
    cli.run(&["kv", "set", "k", "v1", "--ns", "app1"]).ok();
    cli.run(&["kv", "del", "k", "--ns", "app1"]).ok();
    let told = cli.json(&["events", "receive", "--ns", "app1", "--max", "5"]);
    let types: Vec<&str> = told
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|d| d["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["kv.set", "kv.deleted"]);
    assert_eq!(told[0]["payload"]["value"], "v1");

    // `--no-values` keeps the setting on; `--off` stops the events.
    let kept = cli.json(&["ns", "key-events", "app1", "--no-values"]);
    assert_eq!(
        (&kept["enabled"], &kept["include_values"]),
        (&true.into(), &false.into())
    );
    cli.json(&["ns", "key-events", "app1", "--off"]);
    cli.run(&["kv", "set", "k", "v2", "--ns", "app1"]).ok();
    let metrics = cli.json(&["events", "metrics", "--ns", "app1"]);
    assert_eq!(metrics["emitted"], 2);
    assert_eq!(
        cli.run(&["ns", "key-events", "app1", "--on", "--off"]).code,
        2,
        "contradictory flags are a usage error"
    );
    assert_eq!(cli.run(&["ns", "key-events", "_bad", "--on"]).code, 2);
}

/// `--wait-ms` holds an empty receive until a message becomes visible:
/// here a delayed one, found by the wait's own recheck on the real clock.
#[test]
fn receive_with_wait_ms_waits_for_a_delayed_event() {
    let cli = Cli::new();
    let emitted = cli.json(&["events", "emit", "later", "{}", "--delay-ms", "300"]);
    let received = cli.json(&["events", "receive", "--wait-ms", "10000"]);
    assert_eq!(received[0]["message_id"], emitted["message_id"]);
    let run = cli.run(&["events", "receive", "--wait-ms", "20001"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("0-20000"), "{run:?}");
}

#[test]
fn bad_event_input_exits_2_and_emits_nothing() {
    let cli = Cli::new();
    for args in [
        ["events", "emit", "bad..type", "{}"],
        ["events", "emit", "user.created", "{not json"],
    ] {
        let run = cli.run(&args);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains("invalid argument"), "{run:?}");
    }
    let run = cli.run(&["events", "ack", "00000000000000000000"]);
    assert_eq!(run.code, 1, "an unknown message id is not found: {run:?}");
    let metrics = cli.json(&["events", "metrics"]);
    assert_eq!(metrics["emitted"], 0);
    assert_eq!(
        cli.json(&["events", "log"])["events"],
        serde_json::json!([])
    );
}

#[test]
fn a_nack_on_the_last_attempt_dead_letters_and_replay_requeues() {
    let cli = Cli::new();
    cli.run(&["events", "config", "--max-attempts", "1"]).ok();
    let id = cli.json(&["events", "emit", "job.run", "{}"])["message_id"]
        .as_str()
        .expect("a message id")
        .to_string();
    cli.run(&["events", "receive"]).ok();
    let nacked = cli.json(&["events", "nack", &id, "--reason", "boom"]);
    assert_eq!(nacked["outcome"], "dead_lettered");

    let letters = cli.json(&["dlq", "list"]);
    assert_eq!(letters["letters"][0]["id"], id.as_str());
    assert_eq!(letters["letters"][0]["reason"], "boom");
    assert_eq!(cli.json(&["dlq", "get", &id])["reason"], "boom");

    let replayed = cli.json(&["dlq", "replay", &id]);
    let new_id = replayed["message_id"].as_str().expect("a new message id");
    assert_ne!(new_id, id);
    assert_eq!(cli.json(&["dlq", "list"])["letters"], serde_json::json!([]));
    let received = cli.json(&["events", "receive"]);
    assert_eq!(received[0]["message_id"], new_id);
    assert_eq!(received[0]["replay_of"], id.as_str());
}

#[test]
fn a_subscription_receives_only_matching_events() {
    let cli = Cli::new();
    cli.run(&["events", "subscribe", "billing", "billing.#"])
        .ok();
    cli.run(&["events", "emit", "billing.invoice.paid", "{}"])
        .ok();
    cli.run(&["events", "emit", "user.created", "{}"]).ok();

    let got = cli.json(&["events", "receive", "--group", "billing"]);
    let types: Vec<&str> = got
        .as_array()
        .expect("a list")
        .iter()
        .map(|d| d["event_type"].as_str().expect("a type"))
        .collect();
    assert_eq!(types, ["billing.invoice.paid"]);
    let subs = cli.json(&["events", "subscriptions"]);
    assert_eq!(subs[0]["patterns"], serde_json::json!(["billing.#"]));
    cli.run(&["events", "unsubscribe", "billing"]).ok();
    assert_eq!(
        cli.json(&["events", "subscriptions"]),
        serde_json::json!([])
    );
}

#[test]
fn nodes_register_heartbeat_list_and_deregister() {
    let cli = Cli::new();
    let id = cli
        .run(&["nodes", "register", "worker", "--subscribe", "user.*"])
        .ok()
        .trim()
        .to_string();
    assert!(id.starts_with("node-"), "{id}");
    cli.run(&["nodes", "heartbeat", &id]).ok();
    let nodes = cli.json(&["nodes", "list"]);
    assert_eq!(nodes[0]["node_id"], id.as_str());
    assert_eq!(nodes[0]["subscriptions"], serde_json::json!(["user.*"]));
    cli.run(&["nodes", "deregister", &id]).ok();
    assert_eq!(cli.run(&["nodes", "get", &id]).code, 1);
    let bad = cli.run(&["nodes", "register", "w", "--metadata", "[1]"]);
    assert_eq!(bad.code, 2, "metadata must be a JSON object: {bad:?}");
}

#[test]
fn tasks_are_created_paused_resumed_and_deleted_and_bad_cron_is_refused() {
    let cli = Cli::new();
    let bad = cli.run(&["tasks", "create", "t", "--cron", "bad", "--type", "x.y"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("cron"), "{bad:?}");
    assert_eq!(cli.json(&["tasks", "list"]), serde_json::json!([]));

    let task = cli.json(&[
        "tasks",
        "create",
        "nightly",
        "--cron",
        "0 3 * * *",
        "--type",
        "report.run",
    ]);
    assert_eq!(task["active"], true);
    assert!(task["next_run_at"].is_u64());
    assert_eq!(cli.json(&["tasks", "pause", "nightly"])["active"], false);
    assert_eq!(cli.json(&["tasks", "resume", "nightly"])["active"], true);
    cli.run(&["tasks", "delete", "nightly"]).ok();
    assert_eq!(cli.run(&["tasks", "get", "nightly"]).code, 1);

    let tick = cli.json(&["tick"]);
    assert_eq!(tick["tasks_fired"], 0);
    assert_eq!(tick["more"], false);
}

#[test]
fn events_log_and_tail_show_emitted_events_in_order() {
    let cli = Cli::new();
    for n in 0..3 {
        cli.run(&[
            "events",
            "emit",
            "counter.bumped",
            &format!(r#"{{"n":{n}}}"#),
        ])
        .ok();
    }
    let page = cli.json(&["events", "log", "--limit", "2"]);
    let payloads: Vec<&Value> = page["events"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| &e["payload"])
        .collect();
    assert_eq!(
        payloads,
        [&serde_json::json!({"n": 0}), &serde_json::json!({"n": 1})]
    );
    let next = page["next"].as_str().expect("a cursor");
    let rest = cli.json(&["events", "log", "--after", next]);
    assert_eq!(rest["events"][0]["payload"], serde_json::json!({"n": 2}));

    let tail = cli.run(&["events", "tail", "--limit", "1"]).ok();
    assert!(
        tail.contains(r#"{"n":2}"#) && !tail.contains(r#"{"n":1}"#),
        "{tail}"
    );
}

/// Batching options out of range are refused before the server starts,
/// with a reason naming the option.
#[test]
fn serve_refuses_batch_options_out_of_range() {
    let cli = Cli::new();
    for args in [
        ["--batch-max", "0"],
        ["--batch-max", "5000"],
        ["--batch-wait-us", "1000000"],
    ] {
        let mut all = vec!["serve", "--addr", "127.0.0.1:0"];
        all.extend_from_slice(&args);
        let run = cli.run(&all);
        assert_ne!(run.code, 0, "{args:?}: {run:?}");
        assert!(run.stdout.is_empty(), "never listened: {run:?}");
        assert!(run.stderr.contains(args[0]), "{args:?}: {run:?}");
    }
}
