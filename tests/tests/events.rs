//! Events through the component: queues, leases, retries, the dead-letter
//! queue, consumer groups, delays, cron tasks in `tick`, and bad input. Time
//! moves only by the harness's manual clock (it starts at 1 000 000 ms).

use nexus_host::events::{
    EmitOptions, EventDraft, EventsConfig, LogQuery, Metrics, NackOutcome, NodeRegistration,
    ReceiveRequest, TaskSpec,
};
use nexus_host::{Namespace, StoreError};
use nexus_tests::{Harness, store_error};

const START: u64 = 1_000_000;

fn from(consumer: &str, max: u32, visibility_timeout_ms: u64) -> ReceiveRequest {
    ReceiveRequest {
        group: None,
        consumer: consumer.to_string(),
        max,
        visibility_timeout_ms,
        wait_ms: 0,
    }
}

fn from_group(group: &str, consumer: &str) -> ReceiveRequest {
    ReceiveRequest {
        group: Some(group.to_string()),
        ..from(consumer, 10, 30_000)
    }
}

fn every_five_minutes(name: &str) -> TaskSpec {
    TaskSpec {
        name: name.to_string(),
        cron: "*/5 * * * *".to_string(),
        timezone: None,
        event_type: "report.due".to_string(),
        payload: r#"{"kind":"hourly"}"#.to_string(),
    }
}

fn config(max_attempts: u32) -> EventsConfig {
    EventsConfig {
        max_attempts,
        base_delay_ms: 1_000,
        max_delay_ms: 10_000,
        ..EventsConfig::default()
    }
}

fn all_log(ns: &Namespace) -> Vec<String> {
    ns.log_query(&LogQuery {
        limit: 1000,
        ..LogQuery::default()
    })
    .unwrap()
    .events
    .into_iter()
    .map(|e| e.message_id)
    .collect()
}

#[test]
fn emit_receive_ack() {
    let h = Harness::new();
    let ns = h.nexus.namespace("app1").unwrap();
    let id = ns.emit("user.created", r#"{"id": 1}"#).unwrap();

    let got = ns.receive(&from("w1", 10, 30_000)).unwrap();
    assert_eq!(got.len(), 1);
    let d = &got[0];
    assert_eq!(d.envelope.message_id, id);
    assert_eq!(d.envelope.namespace, "app1");
    assert_eq!(d.envelope.event_type, "user.created");
    assert_eq!(
        d.envelope.payload, r#"{"id": 1}"#,
        "payload is kept as emitted"
    );
    assert_eq!(d.envelope.emitted_at, START);
    assert_eq!(d.envelope.redelivery_count, 0);
    assert_eq!(d.envelope.scheduled_task_id, None);
    assert_eq!(
        (d.group.as_deref(), d.consumer.as_str(), d.attempt),
        (None, "w1", 1)
    );
    assert_eq!(d.visible_until, START + 30_000);

    // Leased: nobody else gets it inside the window.
    assert!(ns.receive(&from("w2", 10, 30_000)).unwrap().is_empty());
    let m = ns.metrics().unwrap();
    assert_eq!(
        (m.queue_depth, m.in_flight, m.emitted, m.acked),
        (1, 1, 1, 0)
    );

    ns.ack(None, "w1", &id).unwrap();
    let m = ns.metrics().unwrap();
    assert_eq!(
        (m.queue_depth, m.in_flight, m.emitted, m.acked),
        (0, 0, 1, 1)
    );
    assert!(matches!(
        store_error(ns.ack(None, "w1", &id)),
        StoreError::NotFound(_)
    ));
    // Acked means gone for good, even after the window.
    h.clock.advance(60_000);
    assert!(ns.receive(&from("w2", 10, 30_000)).unwrap().is_empty());
    // The log keeps it.
    assert_eq!(all_log(&ns), [id]);
}

#[test]
fn unacked_message_comes_back_after_the_visibility_timeout() {
    let h = Harness::new();
    let ns = h.nexus.namespace("app1").unwrap();
    let id = ns.emit("job.run", "{}").unwrap();
    let first = ns.receive(&from("w1", 1, 5_000)).unwrap();
    assert_eq!(first[0].envelope.redelivery_count, 0);

    h.clock.advance(4_999);
    assert!(ns.receive(&from("w2", 1, 5_000)).unwrap().is_empty());
    assert_eq!(ns.metrics().unwrap().in_flight, 1);
    h.clock.advance(1);
    assert_eq!(ns.metrics().unwrap().in_flight, 0, "the lease is over");
    let again = ns.receive(&from("w2", 1, 5_000)).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].envelope.message_id, id);
    assert_eq!(again[0].envelope.redelivery_count, 1);
    assert_eq!(again[0].attempt, 2);
    assert_eq!(again[0].consumer, "w2");

    // The first consumer's lease is gone: its ack is refused and changes nothing.
    let before = h.backend.snapshot();
    assert!(matches!(
        store_error(ns.ack(None, "w1", &id)),
        StoreError::ConditionFailed(_)
    ));
    assert_eq!(h.backend.snapshot(), before);
    ns.ack(None, "w2", &id).unwrap();
    assert_eq!(ns.metrics().unwrap().queue_depth, 0);
}

#[test]
fn nack_backs_off_then_dead_letters_and_replay_redelivers() {
    let h = Harness::new();
    let ns = h.nexus.namespace("app1").unwrap();
    ns.set_events_config(&config(3)).unwrap();
    assert_eq!(ns.events_config().unwrap(), config(3));
    let id = ns.emit("payment.charge", r#"{"amount":5}"#).unwrap();

    // Attempt 1: back after the base delay.
    let d = ns.receive(&from("w", 1, 30_000)).unwrap();
    assert_eq!(d[0].attempt, 1);
    let now = START;
    assert_eq!(
        ns.nack(None, "w", &id, "card declined", None).unwrap(),
        NackOutcome::Retry {
            visible_at: now + 1_000
        }
    );
    assert!(ns.receive(&from("w", 1, 30_000)).unwrap().is_empty());
    h.clock.advance(999);
    assert!(ns.receive(&from("w", 1, 30_000)).unwrap().is_empty());
    h.clock.advance(1);

    // Attempt 2: the delay doubles.
    let d = ns.receive(&from("w", 1, 30_000)).unwrap();
    assert_eq!((d[0].attempt, d[0].envelope.redelivery_count), (2, 1));
    assert_eq!(
        ns.nack(None, "w", &id, "card declined", None).unwrap(),
        NackOutcome::Retry {
            visible_at: START + 1_000 + 2_000
        }
    );
    h.clock.advance(2_000);

    // Attempt 3 is the last: the nack dead-letters it.
    let d = ns.receive(&from("w", 1, 30_000)).unwrap();
    assert_eq!(d[0].attempt, 3);
    let failed_at = START + 3_000;
    assert_eq!(
        ns.nack(None, "w", &id, "card declined", Some("E_DECLINED"))
            .unwrap(),
        NackOutcome::DeadLettered
    );
    h.clock.advance(60_000);
    assert!(ns.receive(&from("w", 1, 30_000)).unwrap().is_empty());
    let m = ns.metrics().unwrap();
    assert_eq!(
        (m.queue_depth, m.dlq_depth, m.nacked, m.dead_lettered),
        (0, 1, 3, 1)
    );

    let page = ns.dlq_list(None, 10).unwrap();
    assert_eq!(page.next, None);
    assert_eq!(page.letters.len(), 1);
    let letter = &page.letters[0];
    assert_eq!(letter.id, id);
    assert_eq!(letter.original_event.message_id, id);
    assert_eq!(letter.original_event.payload, r#"{"amount":5}"#);
    assert_eq!(letter.original_event.redelivery_count, 2);
    assert_eq!(letter.reason, "card declined");
    assert_eq!(letter.error.as_deref(), Some("E_DECLINED"));
    assert_eq!(letter.failed_at, failed_at);
    assert_eq!(letter.group, None);
    assert_eq!(&ns.dlq_get(&letter.id).unwrap(), letter);

    // Replay: a new message, linked to the old one, with fresh attempts.
    let new_id = ns.dlq_replay(&letter.id).unwrap();
    assert_ne!(new_id, id);
    assert!(matches!(
        store_error(ns.dlq_get(&letter.id)),
        StoreError::NotFound(_)
    ));
    let d = ns.receive(&from("w", 1, 30_000)).unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].envelope.message_id, new_id);
    assert_eq!(d[0].envelope.replay_of.as_deref(), Some(id.as_str()));
    assert_eq!(d[0].envelope.payload, r#"{"amount":5}"#);
    assert_eq!((d[0].attempt, d[0].envelope.redelivery_count), (1, 0));
    let m = ns.metrics().unwrap();
    assert_eq!((m.queue_depth, m.dlq_depth, m.emitted), (1, 0, 2));
    ns.ack(None, "w", &new_id).unwrap();
}

#[test]
fn a_lease_expiring_on_the_last_attempt_dead_letters_and_purge_empties_the_dlq() {
    let h = Harness::new();
    let ns = h.nexus.namespace("app1").unwrap();
    ns.set_events_config(&config(1)).unwrap();
    let a = ns.emit("job.run", r#"{"n":1}"#).unwrap();
    let b = ns.emit("job.run", r#"{"n":2}"#).unwrap();
    assert_eq!(ns.receive(&from("w", 10, 1_000)).unwrap().len(), 2);
    h.clock.advance(1_000);
    // Both leases expired on their only attempt: dead letters, not deliveries.
    assert!(ns.receive(&from("w", 10, 1_000)).unwrap().is_empty());
    let page = ns.dlq_list(None, 1).unwrap();
    assert_eq!(page.letters[0].id, a);
    assert!(page.letters[0].reason.contains("visibility timeout"));
    let page = ns.dlq_list(page.next.as_deref(), 1).unwrap();
    assert_eq!(page.letters[0].id, b);
    assert_eq!(ns.metrics().unwrap().dlq_depth, 2);

    assert_eq!(ns.dlq_purge().unwrap(), 2);
    assert!(ns.dlq_list(None, 10).unwrap().letters.is_empty());
    let m = ns.metrics().unwrap();
    assert_eq!((m.queue_depth, m.dlq_depth, m.dead_lettered), (0, 0, 2));
    assert_eq!(ns.dlq_purge().unwrap(), 0);
}

#[test]
fn consumer_groups_get_the_events_their_patterns_match() {
    let h = Harness::new();
    let ns = h.nexus.namespace("shop").unwrap();
    let before_subscribing = ns.emit("order.created", "{}").unwrap();
    ns.subscribe("billing", &["order.*"]).unwrap();
    ns.subscribe("audit", &["#"]).unwrap();
    ns.subscribe("users", &["user.#"]).unwrap();
    let names: Vec<String> = ns
        .list_subscriptions()
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["audit", "billing", "users"]);

    let id = ns.emit("order.created", r#"{"order":7}"#).unwrap();
    let billing = ns.receive(&from_group("billing", "b1")).unwrap();
    assert_eq!(billing.len(), 1, "only events emitted after subscribing");
    assert_eq!(billing[0].envelope.message_id, id);
    assert_eq!(billing[0].group.as_deref(), Some("billing"));
    assert!(ns.receive(&from_group("users", "u1")).unwrap().is_empty());
    let audit = ns.receive(&from_group("audit", "a1")).unwrap();
    assert_eq!(audit[0].envelope.message_id, id);
    // The namespace queue has both events; each group its own copy.
    let plain: Vec<String> = ns
        .receive(&from("n1", 10, 30_000))
        .unwrap()
        .into_iter()
        .map(|d| d.envelope.message_id)
        .collect();
    assert_eq!(plain, [before_subscribing, id.clone()]);
    assert_eq!(ns.metrics().unwrap().queue_depth, 4);

    // An ack is per queue: the group's ack leaves the other copies alone.
    assert!(matches!(
        store_error(ns.ack(None, "b1", &id)),
        StoreError::ConditionFailed(_)
    ));
    ns.ack(Some("billing"), "b1", &id).unwrap();
    assert_eq!(ns.metrics().unwrap().queue_depth, 3);

    // A broadcast reaches every group whatever its patterns.
    let b = ns
        .emit_with(
            "system.notice",
            "{}",
            &EmitOptions {
                broadcast: true,
                ..EmitOptions::default()
            },
        )
        .unwrap();
    let users = ns.receive(&from_group("users", "u1")).unwrap();
    assert_eq!(users[0].envelope.message_id, b);
    assert!(users[0].envelope.broadcast);

    // Unsubscribing drops the group's waiting messages.
    assert!(ns.unsubscribe("audit").unwrap());
    assert!(!ns.unsubscribe("audit").unwrap());
    assert!(matches!(
        store_error(ns.receive(&from_group("audit", "a1"))),
        StoreError::NotFound(_)
    ));
}

#[test]
fn delayed_events_are_invisible_until_their_time() {
    let h = Harness::new();
    let ns = h.nexus.namespace("app1").unwrap();
    let id = ns
        .emit_with(
            "reminder.send",
            r#"{"to":"ada"}"#,
            &EmitOptions {
                delay_ms: 10_000,
                producer_node_id: Some("scheduler-1".to_string()),
                broadcast: false,
            },
        )
        .unwrap();
    assert!(ns.receive(&from("w", 10, 30_000)).unwrap().is_empty());
    let m = ns.metrics().unwrap();
    assert_eq!((m.queue_depth, m.in_flight), (1, 0));
    h.clock.advance(9_999);
    assert!(ns.receive(&from("w", 10, 30_000)).unwrap().is_empty());
    h.clock.advance(1);
    let d = ns.receive(&from("w", 10, 30_000)).unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].envelope.message_id, id);
    assert_eq!(d[0].envelope.emitted_at, START, "emitted when asked");
    assert_eq!(
        d[0].envelope.producer_node_id.as_deref(),
        Some("scheduler-1")
    );
}

#[test]
fn emit_batch_is_one_commit_in_order() {
    let h = Harness::new();
    let ns = h.nexus.namespace("app1").unwrap();
    let draft = |t: &str| EventDraft {
        event_type: t.to_string(),
        payload: "{}".to_string(),
        options: EmitOptions::default(),
    };
    let ids = ns
        .emit_batch(&[draft("a.one"), draft("a.two"), draft("a.three")])
        .unwrap();
    assert_eq!(ids.len(), 3);
    assert_eq!(all_log(&ns), ids);
    let by_type = ns
        .log_query(&LogQuery {
            event_type: Some("a.two".to_string()),
            limit: 10,
            ..LogQuery::default()
        })
        .unwrap();
    assert_eq!(by_type.events.len(), 1);
    assert_eq!(by_type.events[0].message_id, ids[1]);
    let got: Vec<String> = ns
        .receive(&from("w", 10, 30_000))
        .unwrap()
        .into_iter()
        .map(|d| d.envelope.message_id)
        .collect();
    assert_eq!(got, ids);
}

#[test]
fn a_cron_task_fires_in_tick_once_per_occurrence() {
    let h = Harness::new();
    let ns = h.nexus.namespace("app1").unwrap();
    ns.subscribe("reports", &["report.*"]).unwrap();
    // The clock starts at 00:16:40 UTC; */5 is next due at 00:20:00.
    let task = ns.create_task(&every_five_minutes("five")).unwrap();
    assert!(task.active);
    assert_eq!(task.next_run_at, Some(1_200_000));
    assert_eq!((task.run_count, task.last_run_at), (0, None));
    assert_eq!(ns.list_tasks().unwrap(), std::slice::from_ref(&task));

    assert_eq!(h.nexus.tick(100).unwrap().tasks_fired, 0);
    h.clock.set(1_199_999);
    assert_eq!(h.nexus.tick(100).unwrap().tasks_fired, 0);
    assert!(ns.receive(&from("w", 10, 30_000)).unwrap().is_empty());
    h.clock.advance(1);
    let report = h.nexus.tick(100).unwrap();
    assert_eq!(report.tasks_fired, 1);
    assert_eq!(h.nexus.tick(100).unwrap().tasks_fired, 0, "fires once");

    let d = ns.receive(&from("w", 10, 30_000)).unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(
        d[0].envelope.scheduled_task_id.as_deref(),
        Some(task.task_id.as_str())
    );
    assert_eq!(d[0].envelope.event_type, "report.due");
    assert_eq!(d[0].envelope.payload, r#"{"kind":"hourly"}"#);
    assert_eq!(d[0].envelope.emitted_at, 1_200_000);
    let group = ns.receive(&from_group("reports", "r1")).unwrap();
    assert_eq!(
        group[0].envelope.scheduled_task_id.as_deref(),
        Some(task.task_id.as_str())
    );

    let fired = ns.get_task("five").unwrap();
    assert_eq!(fired.run_count, 1);
    assert_eq!(fired.last_run_at, Some(1_200_000));
    assert_eq!(fired.next_run_at, Some(1_500_000));

    // Missed occurrences fire once, not once each.
    h.clock.set(2_400_000);
    assert_eq!(h.nexus.tick(100).unwrap().tasks_fired, 1);
    assert_eq!(ns.get_task("five").unwrap().next_run_at, Some(2_700_000));

    // Paused: not due, does not fire.
    let paused = ns.set_task_active("five", false).unwrap();
    assert_eq!((paused.active, paused.next_run_at), (false, None));
    h.clock.set(3_600_000);
    assert_eq!(h.nexus.tick(100).unwrap().tasks_fired, 0);
    // Resumed: scheduled from now.
    let resumed = ns.set_task_active("five", true).unwrap();
    assert_eq!(resumed.next_run_at, Some(3_900_000));
    ns.delete_task("five").unwrap();
    assert!(ns.list_tasks().unwrap().is_empty());
    h.clock.set(4_000_000);
    assert_eq!(h.nexus.tick(100).unwrap().tasks_fired, 0);
    assert_eq!(ns.metrics().unwrap().emitted, 2);
}

#[test]
fn a_task_runs_in_its_time_zone() {
    let h = Harness::new();
    let ns = h.nexus.namespace("app1").unwrap();
    let task = ns
        .create_task(&TaskSpec {
            timezone: Some("Europe/Paris".to_string()),
            cron: "0 9 * * *".to_string(),
            ..every_five_minutes("morning")
        })
        .unwrap();
    // 09:00 in Paris on 1 January 1970 was 08:00 UTC.
    assert_eq!(task.next_run_at, Some(8 * 3_600_000));
}

#[test]
fn tick_trims_the_log_past_its_retention() {
    let h = Harness::new();
    let ns = h.nexus.namespace("app1").unwrap();
    ns.set_events_config(&EventsConfig {
        log_retention_ms: 60_000,
        ..EventsConfig::default()
    })
    .unwrap();
    let old = ns.emit("a.b", "{}").unwrap();
    h.clock.advance(30_000);
    let young = ns.emit("a.b", "{}").unwrap();
    h.clock.advance(30_000);
    assert_eq!(h.nexus.tick(100).unwrap().log_entries_removed, 0);
    h.clock.advance(1);
    let report = h.nexus.tick(100).unwrap();
    assert_eq!((report.log_entries_removed, report.more), (1, false));
    assert_eq!(all_log(&ns), std::slice::from_ref(&young));
    // The log is history, not the queue: both messages are still deliverable.
    let got = ns.receive(&from("w", 10, 30_000)).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].envelope.message_id, old);
}

#[test]
fn nodes_register_heartbeat_and_go_stale() {
    let h = Harness::new();
    let ns = h.nexus.namespace("app1").unwrap();
    let id = ns
        .register_node(&NodeRegistration {
            display_name: "worker one".to_string(),
            description: "handles users".to_string(),
            metadata: r#"{ "zone": "eu" }"#.to_string(),
            subscriptions: vec!["user.#".to_string()],
        })
        .unwrap();
    let node = ns.get_node(&id).unwrap();
    assert_eq!(node.metadata, r#"{"zone":"eu"}"#);
    assert_eq!((node.registered_at, node.live), (START, true));
    h.clock.advance(60_000);
    assert!(!ns.get_node(&id).unwrap().live);
    ns.heartbeat(&id).unwrap();
    let listed = ns.list_nodes().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].last_heartbeat, listed[0].live),
        (START + 60_000, true)
    );
    ns.deregister_node(&id).unwrap();
    assert!(ns.list_nodes().unwrap().is_empty());
    assert!(matches!(
        store_error(ns.heartbeat(&id)),
        StoreError::NotFound(_)
    ));
}

#[test]
fn bad_input_is_a_typed_error_and_changes_nothing() {
    let h = Harness::new();
    let ns = h.nexus.namespace("app1").unwrap();

    // On a namespace that does not exist yet: no write creates it.
    let invalid_json = store_error(ns.emit("user.created", "{not json"));
    assert!(
        matches!(invalid_json, StoreError::InvalidArgument(_)),
        "{invalid_json:?}"
    );
    assert_eq!(ns.info().unwrap(), None);
    assert!(h.backend.snapshot().is_empty());

    let kept = ns.emit("user.created", "{}").unwrap();
    ns.create_task(&every_five_minutes("five")).unwrap();
    let metrics: Metrics = ns.metrics().unwrap();
    let before = h.backend.snapshot();
    let unchanged = |what: &str| {
        assert_eq!(ns.metrics().unwrap(), metrics, "{what}");
        assert!(h.backend.snapshot() == before, "{what} changed storage");
    };

    let good = EventDraft {
        event_type: "user.created".to_string(),
        payload: "{}".to_string(),
        options: EmitOptions::default(),
    };
    let bad_payload = EventDraft {
        payload: "[1,".to_string(),
        ..good.clone()
    };
    let invalid = |r: Result<_, nexus_host::Error>, what: &str| {
        let e = store_error(r.map(|_: ()| ()));
        assert!(matches!(e, StoreError::InvalidArgument(_)), "{what}: {e:?}");
        unchanged(what);
    };
    invalid(
        ns.emit("user.created", "{not json").map(drop),
        "invalid JSON",
    );
    invalid(
        ns.emit_batch(&[good.clone(), bad_payload]).map(drop),
        "batch with one bad payload",
    );
    invalid(ns.emit_batch(&[]).map(drop), "empty batch");
    invalid(ns.emit("user..created", "{}").map(drop), "bad event type");
    invalid(
        ns.emit_with(
            "user.created",
            "{}",
            &EmitOptions {
                delay_ms: 31 * 24 * 3_600_000,
                ..EmitOptions::default()
            },
        )
        .map(drop),
        "delay too long",
    );
    invalid(ns.receive(&from("w", 0, 1_000)).map(drop), "max 0");
    invalid(
        ns.receive(&from("w", 1, 0)).map(drop),
        "no visibility timeout",
    );
    invalid(ns.receive(&from("w b", 1, 1_000)).map(drop), "bad consumer");
    invalid(
        ns.create_task(&TaskSpec {
            cron: "not a cron".to_string(),
            ..every_five_minutes("bad-cron")
        })
        .map(drop),
        "bad cron",
    );
    invalid(
        ns.create_task(&TaskSpec {
            cron: "0 0 * * * *".to_string(),
            ..every_five_minutes("six-fields")
        })
        .map(drop),
        "six cron fields",
    );
    invalid(
        ns.create_task(&TaskSpec {
            timezone: Some("Mars/Olympus".to_string()),
            ..every_five_minutes("mars")
        })
        .map(drop),
        "unknown timezone",
    );
    invalid(
        ns.subscribe("g", &["user.cr*"]).map(drop),
        "bad subscription pattern",
    );
    invalid(
        ns.set_events_config(&EventsConfig {
            max_attempts: 0,
            ..EventsConfig::default()
        }),
        "zero max attempts",
    );
    invalid(ns.dlq_list(None, 0).map(drop), "zero page");
    assert_eq!(ns.events_config().unwrap(), EventsConfig::default());
    assert_eq!(ns.list_tasks().unwrap().len(), 1);

    let not_found = |r: Result<(), nexus_host::Error>, what: &str| {
        let e = store_error(r);
        assert!(matches!(e, StoreError::NotFound(_)), "{what}: {e:?}");
        unchanged(what);
    };
    // Well-formed ids of messages that were never emitted, and malformed ones.
    let unknown = "00000000000000000001";
    for id in [unknown, "nope", kept.to_uppercase().as_str()] {
        not_found(ns.ack(None, "w", id), "ack of an unknown id");
        not_found(
            ns.nack(None, "w", id, "why", None).map(drop),
            "nack of an unknown id",
        );
        not_found(ns.dlq_get(id).map(drop), "dlq_get of an unknown id");
        not_found(ns.dlq_replay(id).map(drop), "dlq_replay of an unknown id");
    }
    not_found(ns.get_task("missing").map(drop), "unknown task");
    not_found(ns.delete_task("missing"), "delete of an unknown task");
    not_found(
        ns.set_task_active("missing", false).map(drop),
        "pause of an unknown task",
    );
    not_found(ns.get_node("node-x").map(drop), "unknown node");
    not_found(
        ns.deregister_node("node-x"),
        "deregister of an unknown node",
    );
    not_found(
        ns.receive(&from_group("nobody", "w")).map(drop),
        "unknown subscription",
    );

    // A duplicate task name is a refused condition, not a second task.
    let dup = store_error(ns.create_task(&every_five_minutes("five")));
    assert!(matches!(dup, StoreError::ConditionFailed(_)), "{dup:?}");
    unchanged("duplicate task");
}

#[test]
fn ack_batch_has_an_outcome_per_id_and_dead_letter_skips_the_retries() {
    let h = Harness::new();
    let ns = h.nexus.namespace("app1").unwrap();
    let a = ns.emit("job.run", r#"{"n":1}"#).unwrap();
    let b = ns.emit("job.run", r#"{"n":2}"#).unwrap();
    let c = ns.emit("job.run", r#"{"n":3}"#).unwrap();
    assert_eq!(ns.receive(&from("w1", 2, 30_000)).unwrap().len(), 2);
    assert_eq!(ns.receive(&from("w2", 2, 30_000)).unwrap().len(), 1);

    let outcomes = ns
        .ack_batch(None, "w1", &[a.as_str(), "nope", a.as_str(), c.as_str()])
        .unwrap();
    assert_eq!(outcomes.len(), 4);
    assert_eq!(outcomes[0], None);
    assert!(matches!(outcomes[1], Some(StoreError::NotFound(_))));
    assert!(
        matches!(outcomes[2], Some(StoreError::NotFound(_))),
        "a repeated id was acked by its first occurrence"
    );
    assert!(matches!(outcomes[3], Some(StoreError::ConditionFailed(_))));
    let m = ns.metrics().unwrap();
    assert_eq!((m.queue_depth, m.acked), (2, 1));
    assert!(matches!(
        store_error(ns.ack_batch(None, "w1", &[] as &[&str])),
        StoreError::InvalidArgument(_)
    ));

    // No retry can fix it: straight to the dead-letter queue on attempt 1.
    ns.dead_letter(None, "w1", &b, "no handler", Some("unknown type"))
        .unwrap();
    let letter = ns.dlq_get(&b).unwrap();
    assert_eq!(letter.reason, "no handler");
    assert_eq!(letter.error.as_deref(), Some("unknown type"));
    assert_eq!(letter.original_event.redelivery_count, 0);
    let m = ns.metrics().unwrap();
    assert_eq!((m.queue_depth, m.dlq_depth, m.dead_lettered), (1, 1, 1));
    assert!(matches!(
        store_error(ns.dead_letter(None, "w1", &b, "again", None)),
        StoreError::NotFound(_)
    ));
}
