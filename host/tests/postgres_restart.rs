//! PostgreSQL restarted under load: `nexus serve` on the postgres backend
//! with writers running; the database is stopped, then started again.
//! Requests during the outage fail with 503 and a reason (unavailable, or
//! outcome unknown for a commit in flight when it went), the server
//! recovers by itself, and every write it acknowledged is there afterwards.
//!
//! Needs `NEXUS_TEST_DATABASE_URL` and `NEXUS_TEST_PG_CTL` (a command that
//! takes `stop` or `start`, e.g. `pg_ctlcluster 15 main`); scripts/test.sh
//! sets both. Without them the test fails when `CI` is set.

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nexus_host::testing::{fresh_table, required_env, wait_until};

mod common;
use common::ServeProcess;

fn pg_ctl(command: &str, action: &str) {
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{command} {action}"))
        .status()
        .expect("the PostgreSQL control command runs");
    assert!(status.success(), "`{command} {action}` failed");
}

#[test]
fn a_restart_under_load_is_503s_then_recovery_and_no_acknowledged_write_is_lost() {
    let (Some(url), Some(ctl)) = (
        required_env("NEXUS_TEST_DATABASE_URL"),
        required_env("NEXUS_TEST_PG_CTL"),
    ) else {
        return;
    };
    let table = fresh_table(&url, "restart_under_load".into());
    let table = table.as_str();
    let server = ServeProcess::start(
        common::nexus()
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--database-url",
                &url,
                "--database-table",
                table,
            ])
            .env("NEXUS_LOG", "off"),
    );
    let base = server.base();
    let agent = common::agent();

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let refused = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (stop, acked, refused, agent, base) = (
                stop.clone(),
                acked.clone(),
                refused.clone(),
                agent.clone(),
                base.clone(),
            );
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let key = format!("w{w}-{i}");
                    i += 1;
                    let body = serde_json::json!({"key": key, "value": key}).to_string();
                    let Ok(mut response) = agent.post(format!("{base}/set?ns=load")).send(body)
                    else {
                        continue;
                    };
                    let status = response.status().as_u16();
                    let text = response.body_mut().read_to_string().unwrap_or_default();
                    match status {
                        200 => acked.lock().unwrap().push(key),
                        // Unavailable (nothing written), or, for a write
                        // whose COMMIT was in flight when the database
                        // went, outcome unknown (it may have been).
                        503 => {
                            assert!(
                                text.contains("detail")
                                    && (text.contains("unavailable")
                                        || text.contains("outcome unknown")),
                                "{text}"
                            );
                            refused.fetch_add(1, Ordering::SeqCst);
                        }
                        other => panic!("unexpected {other}: {text}"),
                    }
                }
            })
        })
        .collect();

    let acked_count = || acked.lock().unwrap().len();
    wait_until(Duration::from_secs(60), "writes are acknowledged", || {
        acked_count() >= 200
    });
    pg_ctl(&ctl, "stop");
    wait_until(
        Duration::from_secs(60),
        "a request fails during the outage",
        || refused.load(Ordering::SeqCst) > 0,
    );
    let before_restart = acked_count();
    pg_ctl(&ctl, "start");
    wait_until(
        Duration::from_secs(60),
        "the server recovers by itself",
        || acked_count() >= before_restart + 200,
    );
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }

    let acked = acked.lock().unwrap().clone();
    for key in &acked {
        let mut response = agent
            .get(format!("{base}/get/{key}?ns=load"))
            .call()
            .unwrap();
        let text = response.body_mut().read_to_string().unwrap();
        assert_eq!(response.status().as_u16(), 200, "{key}: {text}");
        assert!(
            text.contains(&format!("\"value\":\"{key}\"")),
            "{key}: {text}"
        );
    }
    eprintln!(
        "acknowledged {}, refused during the outage {}, lost 0",
        acked.len(),
        refused.load(Ordering::SeqCst)
    );
}
