//! The harness as a server: the edge component answering over HTTP, the
//! harness's own `/_test/clock`, and the refusal to start a component that
//! imports what the harness does not provide. (The REST API itself is
//! tested against the harness in `tests/tests/http.rs`.)

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;

use nexus_edge_harness::{HarnessOptions, serve_until};

const T0: u64 = 1_700_000_000_000;

/// A harness on a free port; dropping it shuts it down and waits.
struct Harness {
    base: String,
    agent: ureq::Agent,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Harness {
    fn start(dir: &Path, manual_clock_ms: Option<u64>) -> Self {
        Self::start_with(dir, manual_clock_ms, true, Vec::new())
    }

    fn start_with(
        dir: &Path,
        manual_clock_ms: Option<u64>,
        pooling: bool,
        environment: Vec<(String, String)>,
    ) -> Self {
        let options = HarnessOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            // A directory that does not exist yet: created like `spin up`'s.
            database: dir.join(".spin/sqlite_db.db"),
            manual_clock_ms,
            pooling,
            environment,
            ..HarnessOptions::default()
        };
        let (addr_tx, addr_rx) = mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let ready = move |addr: SocketAddr| addr_tx.send(addr).unwrap();
            serve_until(options, ready, async {
                let _ = stopped.await;
            })
            .expect("the harness runs and stops cleanly");
        });
        let addr = addr_rx.recv().expect("the harness started");
        Self {
            base: format!("http://{addr}"),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into(),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .agent
            .get(format!("{}{path}", self.base))
            .call()
            .unwrap();
        read(response)
    }

    fn post(&self, path: &str, body: &str) -> (u16, String) {
        let response = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .send(body)
            .unwrap();
        read(response)
    }
}

fn read(mut response: ureq::http::Response<ureq::Body>) -> (u16, String) {
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

impl Drop for Harness {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
            && !std::thread::panicking()
        {
            panic!("the harness thread panicked");
        }
    }
}

#[test]
fn the_edge_component_answers_and_its_database_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let harness = Harness::start(dir.path(), None);
    for _ in 0..3 {
        let (status, body) = harness.get("/health");
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = harness.post("/set", r#"{"key": "k", "value": "at the edge"}"#);
    assert_eq!(status, 200, "{body}");
    let (status, body) = harness.get("/get/k");
    assert_eq!(status, 200, "{body}");
    let entry: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(entry["value"], "at the edge");
    drop(harness);
    assert!(dir.path().join(".spin/sqlite_db.db").is_file());
}

#[test]
fn the_on_demand_allocator_serves_as_well() {
    let dir = tempfile::tempdir().unwrap();
    let harness = Harness::start_with(dir.path(), None, false, Vec::new());
    let (status, body) = harness.get("/health");
    assert_eq!(status, 200, "{body}");
}

/// The edge's hit and miss counts by default: one read in 16 writes its
/// count, times 16, so `/stats` is an unbiased estimate and most reads
/// write nothing; `NEXUS_READ_COUNT_SAMPLE=1` in the component's
/// environment counts exactly.
#[test]
fn reads_count_one_in_sixteen_unless_told_to_count_exactly() {
    let hits = |environment: Vec<(String, String)>| {
        let dir = tempfile::tempdir().unwrap();
        let harness = Harness::start_with(dir.path(), Some(T0), true, environment);
        assert_eq!(harness.post("/set", r#"{"key": "k", "value": "v"}"#).0, 200);
        for _ in 0..100 {
            assert_eq!(harness.get("/get/k").0, 200);
        }
        let (status, body) = harness.get("/stats?ns=default");
        assert_eq!(status, 200, "{body}");
        let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
        stats["cache_hits"].as_u64().unwrap()
    };
    let sampled = hits(Vec::new());
    // Exactly 100 would mean every read wrote; 1 600, that every read
    // was drawn (a chance of 16^-100).
    assert_eq!(sampled % 16, 0, "counted in sixteens: {sampled}");
    assert!(sampled < 1600, "not every read wrote: {sampled}");
    let exact = hits(vec![("NEXUS_READ_COUNT_SAMPLE".into(), "1".into())]);
    assert_eq!(exact, 100);
}

/// Concurrent writers, each request its own instance and SQLite
/// connection, half of them on one key: no write and no count is lost to
/// another writer (a commit that waits for the lock past the busy timeout
/// is retried), and the key counts stay exact.
#[test]
fn concurrent_sets_count_exactly_and_keep_the_last_value_of_each_key() {
    let dir = tempfile::tempdir().unwrap();
    let harness = Harness::start(dir.path(), Some(T0));
    let (writers, each) = (8, 25);
    std::thread::scope(|scope| {
        for w in 0..writers {
            let harness = &harness;
            scope.spawn(move || {
                for i in 0..each {
                    let own = format!(r#"{{"key": "w{w}-{i}", "value": "v{i}"}}"#);
                    assert_eq!(harness.post("/set", &own).0, 200);
                    let shared = format!(r#"{{"key": "shared", "value": "w{w}"}}"#);
                    assert_eq!(harness.post("/set", &shared).0, 200);
                }
            });
        }
    });
    let (status, body) = harness.get("/stats?ns=default");
    assert_eq!(status, 200, "{body}");
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stats["total_keys"], writers * each + 1, "{body}");
    assert_eq!(stats["sets"], 2 * writers * each, "{body}");
    let (status, body) = harness.get("/get/w7-24");
    assert_eq!(status, 200, "{body}");
    let entry: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(entry["value"], "v24");
}

#[test]
fn on_a_manual_clock_the_harness_answers_the_clock_route() {
    let dir = tempfile::tempdir().unwrap();
    let harness = Harness::start(dir.path(), Some(T0));
    let moved: serde_json::Value = {
        let (status, body) = harness.post("/_test/clock", r#"{"advance_ms": 1500}"#);
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    };
    assert_eq!(moved, serde_json::json!({ "now_ms": T0 + 1500 }));
    let (status, body) = harness.post("/_test/clock", r#"{"set_ms": 5}"#);
    assert_eq!((status, body.as_str()), (200, r#"{"now_ms":5}"#));
    let (status, body) = harness.post("/_test/clock", r#"{"advance_ms": 1, "set_ms": 2}"#);
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("detail"), "{body}");
}

#[test]
fn instances_read_the_manual_clock_as_their_wall_clock() {
    let dir = tempfile::tempdir().unwrap();
    let harness = Harness::start(dir.path(), Some(T0));
    let (status, body) = harness.post("/set", r#"{"key": "k", "value": "v", "ttl": 10}"#);
    assert_eq!(status, 200, "{body}");
    harness.post("/_test/clock", r#"{"advance_ms": 9999}"#);
    assert_eq!(harness.get("/get/k").0, 200);
    harness.post("/_test/clock", r#"{"advance_ms": 1}"#);
    assert_eq!(harness.get("/get/k").0, 404);
}

#[test]
fn without_a_manual_clock_the_clock_route_is_the_components() {
    let dir = tempfile::tempdir().unwrap();
    let harness = Harness::start(dir.path(), None);
    let (status, body) = harness.post("/_test/clock", r#"{"advance_ms": 1500}"#);
    assert_eq!(status, 404, "{body}");
    assert!(!body.contains("now_ms"), "{body}");
}

#[test]
fn a_component_importing_what_the_harness_lacks_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    // Neither the nexus host's storage nor Spin's key-value store (which
    // Spin has, but nexus-edge must not use) is linked.
    for import in ["nexus:store/storage@0.1.0", "fermyon:spin/key-value@2.0.0"] {
        let component = common::component_of(
            &format!(
                "package test:outside;
                 world outside {{
                     import {import};
                     export wasi:http/incoming-handler@0.2.6;
                 }}"
            ),
            "outside",
        );
        let path = dir.path().join("outside.wasm");
        std::fs::write(&path, component).unwrap();
        let options = HarnessOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            database: dir.path().join("sqlite_db.db"),
            component: path,
            ..HarnessOptions::default()
        };
        let error = serve_until(options, |_| panic!("it must not serve"), async {})
            .expect_err("linking fails");
        let message = format!("{error:#}");
        assert!(message.contains("linking the component"), "{message}");
        assert!(
            message.contains(import.split('@').next().unwrap()),
            "{message}"
        );
    }
}
