//! Losing the database machine: two `nexus serve` on a replicated
//! PostgreSQL cluster (Patroni, synchronous replication, scripts/test.sh
//! starts it with scripts/pg-cluster.sh) through its multi-host URL, with
//! writers running while the primary is SIGKILLed, and with the whole
//! cluster down. Nothing acknowledged may be lost, nothing retried with an
//! idempotency key may count twice, and service must come back by itself.
//! These tests change the cluster, so they run one at a time.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nexus_host::backend::PostgresOptions;
use nexus_host::serve::BackendKind;
use nexus_host::testing::{cluster_ctl, fresh_table, test_cluster};
use nexus_tests::http::{Host, Server};
use serde_json::{Value, json};

/// One cluster, one test at a time.
static CLUSTER: Mutex<()> = Mutex::new(());

/// How long a writer may see its writes refused around a failover.
const WINDOW_LIMIT: Duration = Duration::from_secs(30);

/// Two servers on a fresh table of the cluster.
fn two_servers(url: &str, name: &str) -> [Server; 2] {
    let table = fresh_table(url, format!("failover_{name}"));
    [
        Server::postgres_on(url, &table),
        Server::postgres_on(url, &table),
    ]
}

/// What one writer saw: its acknowledged writes' ids, and the longest time
/// from a refused write to the next acknowledged one.
#[derive(Default)]
struct Seen {
    acknowledged: Vec<String>,
    longest_gap: Duration,
    refused: usize,
}

impl Seen {
    /// Sends until acknowledged (a 2xx), retrying a refusal (a 503, which
    /// says why) with the same request, so the same idempotency key.
    fn until_acknowledged(&mut self, send: impl Fn() -> nexus_tests::http::Answer) -> Value {
        // From the start of the first request that failed (a commit held
        // by a hung server counts from when it was sent).
        let mut refused_since: Option<Instant> = None;
        loop {
            let sent_at = Instant::now();
            let answer = send();
            if answer.status < 300 {
                if let Some(since) = refused_since {
                    self.longest_gap = self.longest_gap.max(since.elapsed());
                }
                return answer.body;
            }
            assert_eq!(
                answer.status, 503,
                "only the storage may refuse: {answer:?}"
            );
            assert!(
                answer.body["detail"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{answer:?}"
            );
            self.refused += 1;
            let since = *refused_since.get_or_insert(sent_at);
            assert!(
                since.elapsed() < WINDOW_LIMIT,
                "writes refused for {WINDOW_LIMIT:?}: {answer:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn the_primary_killed_under_writers_loses_no_acknowledged_write() {
    let Some(url) = test_cluster() else { return };
    let _one_at_a_time = CLUSTER.lock().unwrap_or_else(|p| p.into_inner());
    let servers = Arc::new(two_servers(&url, "kill_primary"));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = |kind: &'static str, w: usize| {
        let (servers, stop) = (servers.clone(), stop.clone());
        std::thread::spawn(move || {
            let s = &servers[w % 2];
            let mut seen = Seen::default();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let key = format!("{kind}-{w}-{i}");
                match kind {
                    // A set is retried with its key too: a SET whose outcome
                    // was unknown is applied once, with one version.
                    "set" => {
                        let body = seen.until_acknowledged(|| {
                            s.post_with(
                                "/set?ns=fo",
                                json!({"key": key, "value": format!("v{i}")}),
                                &[("idempotency-key", &key)],
                            )
                        });
                        assert_eq!(body["key"], key.as_str());
                        seen.acknowledged.push(key);
                    }
                    "increment" => {
                        seen.until_acknowledged(|| {
                            s.post_with(
                                "/namespaces/fo/increment",
                                json!({"key": "counter", "by": 1}),
                                &[("idempotency-key", &key)],
                            )
                        });
                        seen.acknowledged.push(key);
                    }
                    // Receives what the emitters emitted and acks each,
                    // the ack retried with its key.
                    "ack" => {
                        let body = seen.until_acknowledged(|| {
                            s.post_with(
                                "/namespaces/fo/events/receive",
                                json!({"consumer": "acker", "max": 10, "visibility_timeout_ms": 600_000}),
                                &[("idempotency-key", &key)],
                            )
                        });
                        for message in body["messages"].as_array().unwrap() {
                            let id = message["message_id"].as_str().unwrap();
                            let ack_key = format!("ack-{id}");
                            seen.until_acknowledged(|| {
                                s.post_with(
                                    &format!("/namespaces/fo/events/{id}/ack"),
                                    json!({"consumer": "acker"}),
                                    &[("idempotency-key", &ack_key)],
                                )
                            });
                            seen.acknowledged.push(id.to_string());
                        }
                    }
                    _ => {
                        let body = seen.until_acknowledged(|| {
                            s.post_with(
                                "/namespaces/fo/events",
                                json!({"event_type": "order.created", "payload": {"key": key}}),
                                &[("idempotency-key", &key)],
                            )
                        });
                        seen.acknowledged
                            .push(body["message_id"].as_str().unwrap().to_string());
                    }
                }
                i += 1;
            }
            seen
        })
    };
    let writers: Vec<_> = [
        ("set", 0),
        ("set", 1),
        ("increment", 0),
        ("increment", 1),
        ("emit", 0),
        ("emit", 1),
        ("ack", 0),
    ]
    .into_iter()
    .map(|(kind, w)| (kind, writer(kind, w)))
    .collect();

    std::thread::sleep(Duration::from_millis(1500));
    let killed_at = Instant::now();
    let killed = cluster_ctl("kill-primary", &[]);
    let recovered_after = killed_at.elapsed();
    // kill-primary returns once a primary runs again (Patroni promotes the
    // standby, or restarts the killed one when the standby is not ready);
    // the writers go on for a while against it.
    let leader = cluster_ctl("leader", &[]);
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    let mut seen: BTreeMap<&str, Vec<Seen>> = BTreeMap::new();
    for (kind, w) in writers {
        seen.entry(kind)
            .or_default()
            .push(w.join().expect("a writer"));
    }
    let window = seen
        .values()
        .flatten()
        .map(|s| s.longest_gap)
        .max()
        .unwrap();
    let refused: usize = seen.values().flatten().map(|s| s.refused).sum();
    eprintln!(
        "failover: node {killed} killed, node {leader} leads; writes refused {refused} times, \
         at most {window:?} per writer ({:?} from the kill to a running primary)",
        recovered_after
    );

    // Every acknowledged set is there, on both servers.
    let [a, b] = &*servers;
    for key in seen["set"].iter().flat_map(|s| &s.acknowledged) {
        for s in [a, b] {
            let got = s.get(&format!("/get/{key}?ns=fo"));
            assert_eq!(got.status, 200, "{key} was acknowledged: {got:?}");
        }
    }
    // Every increment retried with its key counted exactly once.
    let increments: usize = seen["increment"].iter().map(|s| s.acknowledged.len()).sum();
    assert!(increments > 0);
    assert_eq!(
        a.ok(a.get("/get/counter?ns=fo"))["value"],
        increments.to_string(),
        "one count per acknowledged increment"
    );
    // Every acknowledged event is in the log once, and nothing else is.
    let emitted: BTreeSet<String> = seen["emit"]
        .iter()
        .flat_map(|s| s.acknowledged.clone())
        .collect();
    let emitted_count: usize = seen["emit"].iter().map(|s| s.acknowledged.len()).sum();
    assert_eq!(emitted.len(), emitted_count, "an id acknowledged twice");
    let mut logged = Vec::new();
    let mut after = String::new();
    loop {
        let page = b.ok(b.get(&format!(
            "/namespaces/fo/events/log?limit=1000&after={after}"
        )));
        let events = page["events"].as_array().unwrap();
        logged.extend(
            events
                .iter()
                .map(|e| e["message_id"].as_str().unwrap().to_string()),
        );
        match page["next"].as_str() {
            Some(next) if !events.is_empty() => after = next.to_string(),
            _ => break,
        }
    }
    let logged_set: BTreeSet<String> = logged.iter().cloned().collect();
    assert_eq!(logged.len(), logged_set.len(), "an event logged twice");
    assert_eq!(
        logged_set, emitted,
        "the log holds exactly the acknowledged events"
    );

    // Every acknowledged ack counted once, each of an acknowledged event.
    let acked: BTreeSet<String> = seen["ack"]
        .iter()
        .flat_map(|s| s.acknowledged.clone())
        .collect();
    assert_eq!(
        acked.len(),
        seen["ack"][0].acknowledged.len(),
        "an id acked twice"
    );
    assert!(
        acked.is_subset(&emitted),
        "acks of events never acknowledged"
    );
    let metrics = b.ok(b.get("/namespaces/fo/events/metrics"));
    assert_eq!(
        metrics["acked"],
        acked.len(),
        "one count per acknowledged ack: {metrics}"
    );
    // Every node runs again, the old primary as a replica if it lost the lead.
    cluster_ctl("wait", &[]);
    assert_ne!(cluster_ctl("leader", &[]), "");
}

#[test]
fn the_whole_cluster_down_is_503_with_a_reason_and_service_resumes_by_itself() {
    let Some(url) = test_cluster() else { return };
    let _one_at_a_time = CLUSTER.lock().unwrap_or_else(|p| p.into_inner());
    let [s, _other] = two_servers(&url, "all_down");
    s.ok(s.post("/set?ns=down", json!({"key": "before", "value": "1"})));
    let nodes: usize = std::fs::read_to_string(
        std::path::Path::new(&std::env::var("NEXUS_TEST_CLUSTER_DIR").unwrap()).join("nodes"),
    )
    .unwrap()
    .trim()
    .parse()
    .unwrap();
    let node_names: Vec<String> = (1..=nodes).map(|i| i.to_string()).collect();
    for node in &node_names {
        cluster_ctl("stop-node", &[node]);
    }
    let refused = s.post("/set?ns=down", json!({"key": "during", "value": "1"}));
    assert_eq!(refused.status, 503, "{refused:?}");
    let reason = refused.body["detail"].as_str().unwrap_or_default();
    assert!(
        reason.contains("PostgreSQL"),
        "a reason that names the storage: {reason}"
    );
    for node in &node_names {
        cluster_ctl("start-node", &[node]);
    }
    cluster_ctl("wait", &[]);
    // Without restarting anything, the same server writes again.
    nexus_host::testing::wait_until(Duration::from_secs(60), "writes are served again", || {
        s.post("/set?ns=down", json!({"key": "after", "value": "2"}))
            .status
            == 200
    });
    assert_eq!(s.ok(s.get("/get/before?ns=down"))["value"], "1");
    assert_eq!(s.ok(s.get("/get/after?ns=down"))["value"], "2");
}

/// Patroni killed on the leader (no watchdog here): its PostgreSQL runs on
/// as a primary and takes connections, while the other node is promoted;
/// a commit sent to the orphan then waits for a standby that is gone. Each
/// statement's bound drops such a connection (the write is `outcome
/// unknown`, retried with its key) and passes the host over, so writes go
/// on at the new primary, and nothing acknowledged is lost.
#[test]
fn a_primary_orphaned_by_its_patroni_is_left_for_the_new_one() {
    let Some(url) = test_cluster() else { return };
    let _one_at_a_time = CLUSTER.lock().unwrap_or_else(|p| p.into_inner());
    let table = fresh_table(&url, "failover_orphan".into());
    let options = PostgresOptions {
        table,
        statement_timeout: Some(Duration::from_secs(2)),
        ..PostgresOptions::new(&url)
    };
    let start = || {
        Server::start(
            Host::Serve(BackendKind::Postgres(options.clone())),
            64 * 1024,
        )
    };
    let servers = [start(), start()];
    let mut seen = Seen::default();
    let mut acknowledged = Vec::new();
    let mut write = |i: usize| {
        let key = format!("k{i}");
        seen.until_acknowledged(|| {
            servers[i % 2].post_with(
                "/namespaces/orphan/increment",
                json!({"key": "n", "by": 1}),
                &[("idempotency-key", &key)],
            )
        });
        acknowledged.push(key);
    };
    for i in 0..20 {
        write(i);
    }
    let orphaned = cluster_ctl("kill-patroni", &[]);
    let killed_at = Instant::now();
    // Until the other node leads and both servers have written through it.
    // Patroni takes the TTL (10 s) and a loop or two; the bound is wide
    // because a loaded CI machine slows its loop, and on failure the
    // cluster's logs say why (the run removes them afterwards).
    let mut i = 20;
    loop {
        let leader = cluster_ctl("leader", &[]);
        if !leader.is_empty() && leader != orphaned {
            break;
        }
        write(i);
        i += 1;
        assert!(
            killed_at.elapsed() < Duration::from_secs(90),
            "no new leader {:?} after node {orphaned}'s Patroni was killed \
             (leader seen: {leader:?}, {} writes acknowledged)\n{}",
            killed_at.elapsed(),
            acknowledged.len(),
            nexus_host::testing::cluster_logs(40)
        );
    }
    for _ in 0..20 {
        write(i);
        i += 1;
    }
    eprintln!(
        "orphan: node {orphaned}'s Patroni killed; {} writes acknowledged, refused {} times, at most {:?}",
        acknowledged.len(),
        seen.refused,
        seen.longest_gap
    );
    for s in &servers {
        assert_eq!(
            s.ok(s.get("/get/n?ns=orphan"))["value"],
            acknowledged.len().to_string(),
            "one count per acknowledged increment, read through the new primary"
        );
    }
    // The orphan's Patroni back: it demotes it, and it rejoins.
    cluster_ctl("start-node", &[&orphaned]);
    cluster_ctl("wait", &[]);
}
