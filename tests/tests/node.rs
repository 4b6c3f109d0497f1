//! The node runtime and the ticker: handlers dispatched by event type, ack
//! on success, nack with the error on failure, dead letter when no handler
//! matches, and `tick` on a timer firing cron tasks.

use std::sync::mpsc;
use std::time::Duration;

use nexus_host::events::{EventsConfig, LogQuery, TaskSpec};
use nexus_host::testing::wait_until;
use nexus_tests::Harness;

#[test]
fn poll_dispatches_by_type_acks_nacks_and_dead_letters_the_unhandled() {
    let h = Harness::new();
    let app = h.nexus.namespace("app").unwrap();
    app.set_events_config(&EventsConfig {
        max_attempts: 2,
        base_delay_ms: 1_000,
        ..Default::default()
    })
    .unwrap();
    let (seen_tx, seen) = mpsc::channel();
    let node = app
        .node("worker")
        .on_event("user.created", move |e| {
            seen_tx.send(e.payload.clone()).unwrap();
            Ok(())
        })
        .on_event("mail.*", |_| anyhow::bail!("smtp down"))
        .on_event("crash.now", |_| panic!("handler bug"))
        .register()
        .unwrap();
    let registered = app.get_node(node.id()).unwrap();
    assert_eq!(
        registered.subscriptions,
        vec!["user.created", "mail.*", "crash.now"]
    );

    app.emit("user.created", r#"{"id":1}"#).unwrap();
    app.emit("mail.send", "{}").unwrap();
    app.emit("crash.now", "{}").unwrap();
    let stray = app.emit("billing.paid", "{}").unwrap();
    let report = node.poll_once().unwrap();
    assert_eq!(report.received, 4);
    assert_eq!(
        (report.acked, report.nacked, report.dead_lettered),
        (1, 2, 1)
    );
    assert_eq!(seen.try_recv().unwrap(), r#"{"id":1}"#);

    let letter = app.dlq_get(&stray).unwrap();
    assert_eq!(letter.reason, "No handler for event billing.paid");

    // The two failures come back after the backoff and die on attempt 2.
    assert_eq!(node.poll_once().unwrap().received, 0);
    h.clock.advance(1_000);
    let second = node.poll_once().unwrap();
    assert_eq!((second.received, second.dead_lettered), (2, 2));
    let letters = app.dlq_list(None, 10).unwrap().letters;
    let errors: Vec<_> = letters.iter().filter_map(|l| l.error.clone()).collect();
    assert!(errors.iter().any(|e| e.contains("smtp down")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("panicked")), "{errors:?}");
    assert_eq!(app.metrics().unwrap().queue_depth, 0);
}

#[test]
fn nodes_in_a_group_see_events_of_their_patterns_only() {
    let h = Harness::new();
    let app = h.nexus.namespace("app").unwrap();
    let mailer = app
        .node("mailer")
        .group("mailer")
        .on_event("user.*", |_| Ok(()))
        .register()
        .unwrap();
    app.emit("user.created", "{}").unwrap();
    app.emit("order.paid", "{}").unwrap();
    let report = mailer.poll_once().unwrap();
    assert_eq!((report.received, report.acked), (1, 1));
    // The namespace queue still holds both for group-less consumers.
    assert_eq!(app.metrics().unwrap().queue_depth, 2);
}

/// How long what another thread does may take to show (no assertion on
/// timing: only a bound for a hang).
const EVENTUALLY: Duration = Duration::from_secs(20);

#[test]
fn a_started_node_handles_events_and_stop_deregisters_it() {
    let h = Harness::new();
    let app = h.nexus.namespace("app").unwrap();
    let (tx, rx) = mpsc::channel();
    let node = app
        .node("worker")
        .on_event("job.run", move |e| {
            tx.send(e.message_id.clone()).unwrap();
            Ok(())
        })
        .register()
        .unwrap();
    let running = node.start();
    let id = app.emit("job.run", "{}").unwrap();
    assert_eq!(rx.recv_timeout(Duration::from_secs(20)).unwrap(), id);
    wait_until(EVENTUALLY, "the event is acked", || {
        app.metrics().unwrap().acked == 1
    });
    running.stop().unwrap();
    assert!(app.list_nodes().unwrap().is_empty());
}

#[test]
fn the_ticker_fires_due_tasks() {
    let h = Harness::new();
    let app = h.nexus.namespace("app").unwrap();
    app.create_task(&TaskSpec {
        name: "minutely".into(),
        cron: "* * * * *".into(),
        timezone: None,
        event_type: "clock.minute".into(),
        payload: "{}".into(),
    })
    .unwrap();
    let ticker = h.nexus.start_ticker(Duration::from_millis(5));
    h.clock.advance(60_000);
    wait_until(EVENTUALLY, "the task has run once", || {
        app.get_task("minutely").unwrap().run_count == 1
    });
    drop(ticker);
    let log = app
        .log_query(&LogQuery {
            event_type: Some("clock.minute".into()),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(log.events.len(), 1);
}
