//! Several hosts on one PostgreSQL database: two `nexus serve` processes on
//! different ports over one table, and two `Nexus` values (two pools) in
//! this process. Everything is one transactional store, so what one host
//! writes the other reads, races are decided once, and counts are exact.
//! Each check runs on one PostgreSQL (`NEXUS_TEST_DATABASE_URL`) and on a
//! replicated cluster through its multi-host URL (`NEXUS_TEST_CLUSTER_URL`:
//! Patroni, synchronous replication; scripts/test.sh starts both), failing
//! under `CI` without them.

use std::sync::{Arc, Barrier};

use nexus_host::backend::PostgresOptions;
use nexus_host::testing::{fresh_table, test_cluster, test_database};
use nexus_host::types::SetOptions;
use nexus_host::{Error, Nexus, StoreError};
use serde_json::{Value, json};

mod common;
use common::ServeProcess;

const T0: u64 = 1_700_000_000_000;

/// Each check as `mod check { fn postgres(); fn cluster(); }`.
macro_rules! on_postgres_and_cluster {
    ($($check:ident),* $(,)?) => {$(
        mod $check {
            #[test]
            fn postgres() {
                if let Some(url) = super::test_database() {
                    super::$check(&url);
                }
            }

            #[test]
            fn cluster() {
                if let Some(url) = super::test_cluster() {
                    super::$check(&url);
                }
            }
        }
    )*};
}

on_postgres_and_cluster!(
    two_servers_on_one_database_are_one_store,
    competing_consumers_on_two_servers_ack_every_message_once,
    a_cron_task_ticked_by_both_servers_fires_once_per_occurrence,
    of_two_hosts_setting_only_if_absent_exactly_one_wins,
    a_receive_waiting_on_one_server_returns_as_soon_as_the_other_emits,
    a_watch_on_one_host_sees_a_write_through_another,
    hosts_starting_at_once_on_an_empty_database_all_start,
);

/// A fresh table for one test.
fn table(url: &str, name: &str) -> String {
    fresh_table(url, format!("hosts_{name}"))
}

/// A host in this process (a pool of its own) on `table`.
fn host(url: &str, table: &str) -> Nexus {
    Nexus::builder()
        .postgres_with(PostgresOptions {
            table: table.to_string(),
            ..PostgresOptions::new(url)
        })
        .build()
        .expect("a host on the database")
}

/// `nexus serve` on PostgreSQL, on a free port and a manual clock.
struct Server {
    process: ServeProcess,
    agent: ureq::Agent,
}

impl Server {
    fn start(url: &str, table: &str) -> Self {
        let process = ServeProcess::start(
            common::nexus()
                .args(["serve", "--addr", "127.0.0.1:0", "--database-url", url])
                .args(["--database-table", table])
                .env("NEXUS_MANUAL_CLOCK_MS", T0.to_string())
                .env("NEXUS_LOG", "warn"),
        );
        Self {
            process,
            agent: common::agent(),
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.process.base()))
            .header("content-type", "application/json")
            .body(body.map(|b| b.to_string()).unwrap_or_default().into_bytes())
            .unwrap();
        let mut response = self.agent.run(request).expect("the server answers");
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, body) = self.call(method, path, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {body}"
        );
        body
    }
}

fn two_servers_on_one_database_are_one_store(url: &str) {
    let table = table(url, "two_servers");
    let a = Server::start(url, &table);
    let b = Server::start(url, &table);

    a.ok(
        "POST",
        "/set?ns=app1",
        Some(json!({"key": "user:123", "value": "alice"})),
    );
    assert_eq!(b.ok("GET", "/get/user:123?ns=app1", None)["value"], "alice");
    b.ok(
        "POST",
        "/set?ns=app2",
        Some(json!({"key": "k", "value": "v"})),
    );
    for s in [&a, &b] {
        assert_eq!(
            s.ok("GET", "/namespaces", None)["namespaces"],
            json!(["app1", "app2"])
        );
        assert_eq!(s.ok("GET", "/namespaces/app1/keys", None)["total_keys"], 1);
        assert_eq!(s.ok("GET", "/stats", None)["total_keys"], 2);
    }

    // 1000 increments, split across both servers, from 8 clients at once.
    let servers = Arc::new([a, b]);
    let clients: Vec<_> = (0..8)
        .map(|c| {
            let servers = servers.clone();
            std::thread::spawn(move || {
                for _ in 0..125 {
                    let (status, body) = servers[c % 2].call(
                        "POST",
                        "/namespaces/app1/increment",
                        Some(json!({"key": "hits", "by": 1})),
                    );
                    assert_eq!(status, 200, "{body}");
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    let [a, b] = &*servers;
    assert_eq!(b.ok("GET", "/get/hits?ns=app1", None)["value"], "1000");
    assert_eq!(a.ok("GET", "/get/hits?ns=app1", None)["value"], "1000");
}

fn competing_consumers_on_two_servers_ack_every_message_once(url: &str) {
    let table = table(url, "consumers");
    let servers = Arc::new([Server::start(url, &table), Server::start(url, &table)]);
    let total = 200;
    for i in 0..total {
        servers[i % 2].ok(
            "POST",
            "/namespaces/jobs/events",
            Some(json!({"event_type": "job.run", "payload": {"n": i}})),
        );
    }
    let consumers: Vec<_> = (0..4)
        .map(|c| {
            let servers = servers.clone();
            std::thread::spawn(move || {
                let server = &servers[c % 2];
                let consumer = format!("worker-{c}");
                let mut acked = Vec::new();
                loop {
                    let got = server.ok(
                        "POST",
                        "/namespaces/jobs/events/receive",
                        Some(json!({"consumer": consumer, "max": 10, "visibility_timeout_ms": 600_000})),
                    );
                    let messages = got["messages"].as_array().unwrap().clone();
                    if messages.is_empty() {
                        return acked;
                    }
                    for m in messages {
                        let id = m["message_id"].as_str().unwrap().to_string();
                        server.ok("POST", &format!("/namespaces/jobs/events/{id}/ack"), Some(json!({"consumer": consumer})));
                        acked.push(m["payload"]["n"].as_u64().unwrap());
                    }
                }
            })
        })
        .collect();
    let mut all: Vec<u64> = consumers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..total as u64).collect::<Vec<_>>(),
        "every message acked exactly once"
    );
    let metrics = servers[1].ok("GET", "/namespaces/jobs/events/metrics", None);
    assert_eq!(metrics["acked"], total);
    assert_eq!(metrics["queue_depth"], 0);
}

fn a_cron_task_ticked_by_both_servers_fires_once_per_occurrence(url: &str) {
    let table = table(url, "cron");
    let [a, b] = [Server::start(url, &table), Server::start(url, &table)];
    a.ok(
        "POST",
        "/namespaces/jobs/tasks",
        Some(json!({"name": "every-minute", "cron": "* * * * *", "event_type": "tick.minute"})),
    );
    for minute in 1..=3u64 {
        let at = (T0 / 60_000 + minute) * 60_000;
        for s in [&a, &b] {
            s.ok("POST", "/_test/clock", Some(json!({"set_ms": at})));
        }
        // Both servers tick at the same moment.
        let both: Vec<Value> = std::thread::scope(|scope| {
            let ticks: Vec<_> = [&a, &b]
                .map(|s| scope.spawn(move || s.ok("POST", "/tick", None)))
                .into_iter()
                .collect();
            ticks.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let fired: u64 = both
            .iter()
            .map(|r| r["tasks_fired"].as_u64().unwrap())
            .sum();
        assert!(fired <= 1, "minute {minute}: {both:?}");
    }
    let log = b.ok("GET", "/namespaces/jobs/events/log?type=tick.minute", None);
    assert_eq!(log["events"].as_array().unwrap().len(), 3, "{log}");
}

fn of_two_hosts_setting_only_if_absent_exactly_one_wins(url: &str) {
    let table = table(url, "only_if_absent");
    let hosts = [host(url, &table), host(url, &table)];
    let only_if_absent = SetOptions {
        ttl_ms: None,
        only_if_absent: true,
        only_if_version: None,
    };
    for round in 0..10 {
        let key = format!("lock-{round}");
        let barrier = Arc::new(Barrier::new(4));
        let writers: Vec<_> = (0..4)
            .map(|t| {
                let (ns, barrier, key) = (
                    hosts[t % 2].namespace("locks").unwrap(),
                    barrier.clone(),
                    key.clone(),
                );
                std::thread::spawn(move || {
                    barrier.wait();
                    ns.set_with(&key, format!("writer-{t}"), &only_if_absent)
                })
            })
            .collect();
        let outcomes: Vec<_> = writers.into_iter().map(|h| h.join().unwrap()).collect();
        let wins = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(wins, 1, "round {round}: {outcomes:?}");
        for o in &outcomes {
            assert!(
                matches!(o, Ok(_) | Err(Error::Store(StoreError::ConditionFailed(_)))),
                "{o:?}"
            );
        }
    }
}

/// Long polling across hosts: B holds an empty receive; A's emit commits a
/// NOTIFY in its transaction, B's listener hears it and B answers. Each
/// server's manual clock stands still, so B's wait can only end by that
/// wake-up.
fn a_receive_waiting_on_one_server_returns_as_soon_as_the_other_emits(url: &str) {
    let table = table(url, "long_poll");
    let a = Server::start(url, &table);
    let b = Server::start(url, &table);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel();
        let held = &b;
        scope.spawn(move || {
            let _ = tx.send(held.ok(
                "POST",
                "/namespaces/lp/events/receive",
                Some(json!({"wait_ms": 20_000})),
            ));
        });
        let since = std::time::Instant::now();
        while b.ok("GET", "/_test/waiting", None)["waiting"] != 1 {
            assert!(since.elapsed().as_secs() < 20, "B never held the receive");
            std::thread::yield_now();
        }
        let id = a.ok(
            "POST",
            "/namespaces/lp/events",
            Some(json!({"event_type": "job"})),
        )["message_id"]
            .clone();
        let got = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("B is woken by A's emit through PostgreSQL");
        assert_eq!(got["messages"][0]["message_id"], id);
    });
}

/// A watch on one host is woken by a write through another: the key
/// channel's notify goes through PostgreSQL (LISTEN), and nothing polls.
fn a_watch_on_one_host_sees_a_write_through_another(url: &str) {
    let table = table(url, "watch");
    let (a, b) = (host(url, &table), host(url, &table));
    let mut watch = a.namespace("w").unwrap().watch(&["k"]).unwrap();
    let first = watch.next().unwrap().unwrap();
    assert_eq!(first, [None]);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let next = watch.next_timeout(std::time::Duration::from_secs(20));
        let _ = tx.send(next.map(|e| e.map(|e| e[0].clone().map(|e| e.value))));
    });
    b.namespace("w").unwrap().set("k", "from b").unwrap();
    let seen = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the watch answers")
        .expect("no error");
    assert_eq!(seen, Some(Some(b"from b".to_vec())), "woken by B's write");
}

/// Hosts started together on an empty database all start: creating the
/// table is serialized among them (`CREATE TABLE IF NOT EXISTS` alone is
/// not safe against itself: the loser of the race fails on PostgreSQL's
/// catalog with a duplicate key).
fn hosts_starting_at_once_on_an_empty_database_all_start(url: &str) {
    for round in 0..5 {
        let table = table(url, &format!("start_{round}"));
        let barrier = Barrier::new(6);
        let started: Vec<Result<Nexus, Error>> = std::thread::scope(|scope| {
            let opening: Vec<_> = (0..6)
                .map(|_| {
                    let (barrier, url, table) = (&barrier, &url, &table);
                    scope.spawn(move || {
                        barrier.wait();
                        Nexus::builder()
                            .postgres_with(PostgresOptions {
                                table: table.clone(),
                                pool_size: 2,
                                ..PostgresOptions::new(url.to_string())
                            })
                            .build()
                    })
                })
                .collect();
            opening.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (host, nexus) in started.iter().enumerate() {
            assert!(
                nexus.is_ok(),
                "round {round}, host {host}: {:?}",
                nexus.as_ref().err()
            );
        }
        let ns = started[0].as_ref().unwrap().namespace("start").unwrap();
        ns.set(b"k", b"v").unwrap();
        let other = started[5].as_ref().unwrap().namespace("start").unwrap();
        assert_eq!(other.get(b"k").unwrap().unwrap().value, b"v");
    }
}
