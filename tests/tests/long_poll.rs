//! Long polling through the Rust API: a `receive` with `wait_ms` on an
//! empty queue returns as soon as a message may be there — an emit or a
//! nack from another thread, a delayed message or an expired lease coming
//! due — or at its deadline, and never polls the storage meanwhile. The
//! HTTP side is in `http.rs`, the cross-host side in host/tests/many_hosts.rs.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use nexus_host::clock::SystemClock;
use nexus_host::events::{EmitOptions, EventsConfig, ReceiveRequest};
use nexus_host::testing::wait_until;
use nexus_host::{Namespace, Nexus, StoreError};
use nexus_tests::{Harness, store_error};

fn waiting(consumer: &str, wait_ms: u64) -> ReceiveRequest {
    ReceiveRequest {
        group: None,
        consumer: consumer.to_string(),
        max: 10,
        visibility_timeout_ms: 30_000,
        wait_ms,
    }
}

/// Starts `request` on a thread; returns its answer's channel once the
/// receive is waiting (listening on the namespace), so what the test does
/// next happens during the wait.
fn receive_in_background(
    ns: &Namespace,
    request: ReceiveRequest,
) -> mpsc::Receiver<Vec<nexus_host::events::Delivery>> {
    let (tx, rx) = mpsc::channel();
    let worker = ns.clone();
    std::thread::spawn(move || {
        let _ = tx.send(worker.receive(&request).expect("receive"));
    });
    let waiters = ns.nexus().waiters().clone();
    wait_until(Duration::from_secs(20), "the receive waits", || {
        waiters.waiting(ns.name()) > 0
    });
    rx
}

/// Long enough that a test passing through a wait's end instead of a wake
/// would time out on `recv_timeout` first.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

#[test]
fn a_waiting_receive_returns_as_soon_as_another_thread_emits() {
    let h = Harness::new();
    let app = h.nexus.namespace("app").unwrap();
    let answer = receive_in_background(&app, waiting("w", 20_000));
    let id = app.emit("job.run", "{}").unwrap();
    let got = answer
        .recv_timeout(ANSWER_WITHIN)
        .expect("woken by the emit");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].envelope.message_id, id);
}

#[test]
fn a_wait_with_nothing_to_come_answers_empty_at_its_deadline() {
    let h = Harness::new();
    let app = h.nexus.namespace("app").unwrap();
    let answer = receive_in_background(&app, waiting("w", 5_000));
    h.clock.advance(5_000);
    assert!(answer.recv_timeout(ANSWER_WITHIN).unwrap().is_empty());
}

#[test]
fn a_delayed_message_is_received_when_its_delay_ends_during_the_wait() {
    let h = Harness::new();
    let app = h.nexus.namespace("app").unwrap();
    let options = EmitOptions {
        delay_ms: 3_000,
        ..EmitOptions::default()
    };
    let id = app.emit_with("later", "{}", &options).unwrap();
    let answer = receive_in_background(&app, waiting("w", 20_000));
    h.clock.advance(3_000);
    let got = answer.recv_timeout(ANSWER_WITHIN).unwrap();
    assert_eq!(got[0].envelope.message_id, id);
}

#[test]
fn a_nacked_message_reaches_a_waiting_receiver_after_its_backoff() {
    let h = Harness::new();
    let app = h.nexus.namespace("app").unwrap();
    app.set_events_config(&EventsConfig {
        base_delay_ms: 1_000,
        ..EventsConfig::default()
    })
    .unwrap();
    let id = app.emit("job", "{}").unwrap();
    assert_eq!(app.receive(&waiting("a", 0)).unwrap().len(), 1);
    let answer = receive_in_background(&app, waiting("b", 20_000));
    // The nack wakes "b", which learns when the retry becomes visible.
    app.nack(None, "a", &id, "failed", None).unwrap();
    h.clock.advance(1_000);
    let got = answer.recv_timeout(ANSWER_WITHIN).unwrap();
    assert_eq!(
        (got[0].envelope.message_id.as_str(), got[0].attempt),
        (id.as_str(), 2)
    );
}

/// On the system clock nothing moves the time by hand: the wait itself
/// must look again when the lease ends, or it would answer empty after 10 s.
#[test]
fn an_expired_lease_is_found_by_the_waits_own_recheck() {
    let nexus = Nexus::builder()
        .memory()
        .clock(SystemClock)
        .build()
        .unwrap();
    let app = nexus.namespace("app").unwrap();
    let id = app.emit("job", "{}").unwrap();
    let lease = ReceiveRequest {
        visibility_timeout_ms: 300,
        ..waiting("a", 0)
    };
    assert_eq!(app.receive(&lease).unwrap().len(), 1);
    let got = app.receive(&waiting("b", 10_000)).unwrap();
    assert_eq!(
        got.len(),
        1,
        "redelivered when the lease ended, within the wait"
    );
    assert_eq!(
        (got[0].envelope.message_id.as_str(), got[0].attempt),
        (id.as_str(), 2)
    );
}

#[test]
fn a_wait_over_twenty_seconds_is_refused_at_once() {
    let h = Harness::new();
    let app = h.nexus.namespace("app").unwrap();
    let err = store_error(app.receive(&waiting("w", 20_001)));
    assert!(
        matches!(&err, StoreError::InvalidArgument(m) if m.contains("0-20000")),
        "{err:?}"
    );
}

#[test]
fn a_started_node_handles_an_event_emitted_while_it_waits() {
    let h = Harness::new();
    let app = h.nexus.namespace("app").unwrap();
    let (tx, rx) = mpsc::channel();
    let node = app
        .node("worker")
        .max_wait(Duration::from_secs(20))
        .heartbeat_interval(Duration::from_secs(60))
        .on_event("job.run", move |e| {
            tx.send(e.message_id.clone()).unwrap();
            Ok(())
        })
        .register()
        .unwrap();
    let running = node.start();
    wait_until(ANSWER_WITHIN, "the node waits", || {
        h.nexus.waiters().waiting("app") > 0
    });
    let id = app.emit("job.run", "{}").unwrap();
    assert_eq!(rx.recv_timeout(ANSWER_WITHIN).unwrap(), id);
    // Once it waits again, stopping wakes that wait and ends it (the manual
    // clock would never end it).
    wait_until(ANSWER_WITHIN, "the node waits again", || {
        app.metrics().unwrap().acked > 0 && h.nexus.waiters().waiting("app") > 0
    });
    let stopping = Instant::now();
    running.stop().unwrap();
    assert!(stopping.elapsed() < ANSWER_WITHIN);
}
