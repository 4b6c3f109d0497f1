//! Emit, receive, ack, nack, visibility timeouts and consumer groups, on the
//! manual clock.

#[macro_use]
mod common;

use common::*;
use nexus_store::Error;
use nexus_store::events::{EmitOptions, EventDraft, EventsConfig, NackOutcome};

#[test]
fn emitted_event_is_received_with_its_envelope_and_acked_once() {
    let (mut s, _clock) = store();
    let id = emit(&mut s, "app1", "user.created", r#"{"id":42}"#);
    let got = receive(&mut s, "app1", "worker-1", 10);
    assert_eq!(ids(&got), vec![id.clone()]);
    let env = &got[0].envelope;
    assert_eq!(env.namespace, "app1");
    assert_eq!(env.event_type, "user.created");
    assert_eq!(env.payload, r#"{"id":42}"#);
    assert_eq!(env.emitted_at, START_MS);
    assert_eq!(env.redelivery_count, 0);
    assert_eq!(got[0].attempt, 1);
    assert_eq!(got[0].visible_until, START_MS + 30_000);
    s.ack("app1", None, "worker-1", &id).unwrap();
    assert!(receive(&mut s, "app1", "worker-1", 10).is_empty());
    assert!(matches!(
        s.ack("app1", None, "worker-1", &id),
        Err(Error::NotFound(_))
    ));
    let m = s.metrics("app1").unwrap();
    assert_eq!((m.emitted, m.acked, m.queue_depth), (1, 1, 0));
}

#[test]
fn messages_come_out_in_emission_order_and_max_is_respected() {
    let (mut s, clock) = store();
    let mut emitted = Vec::new();
    for i in 0..5 {
        emitted.push(emit(&mut s, "q", "n.x", &i.to_string()));
        clock.advance(1);
    }
    let first = receive(&mut s, "q", "c", 3);
    let rest = receive(&mut s, "q", "c", 3);
    assert_eq!(ids(&first), emitted[..3]);
    assert_eq!(ids(&rest), emitted[3..]);
}

#[test]
fn a_leased_message_is_invisible_until_its_timeout_then_redelivered() {
    let (mut s, clock) = store();
    let id = emit(&mut s, "q", "job.run", "{}");
    assert_eq!(receive(&mut s, "q", "a", 1).len(), 1);
    clock.advance(29_999);
    assert!(receive(&mut s, "q", "b", 1).is_empty(), "still leased to a");
    clock.advance(1);
    let again = receive(&mut s, "q", "b", 1);
    assert_eq!(ids(&again), vec![id.clone()]);
    assert_eq!(again[0].envelope.redelivery_count, 1);
    assert_eq!(again[0].attempt, 2);
    // a's lease is gone: its ack is refused and b still holds the message.
    assert!(matches!(
        s.ack("q", None, "a", &id),
        Err(Error::ConditionFailed(_))
    ));
    s.ack("q", None, "b", &id).unwrap();
}

#[test]
fn ack_after_the_window_expired_is_refused_and_changes_nothing() {
    let (mut s, clock) = store();
    let id = emit(&mut s, "q", "job.run", "{}");
    receive(&mut s, "q", "a", 1);
    clock.advance(30_000);
    let before = snapshot(&s);
    let err = s.ack("q", None, "a", &id).unwrap_err();
    assert!(
        matches!(err, Error::ConditionFailed(ref m) if m.contains("expired")),
        "{err}"
    );
    assert_eq!(snapshot(&s), before);
    assert_eq!(receive(&mut s, "q", "a", 1)[0].envelope.redelivery_count, 1);
}

#[test]
fn two_consumers_never_hold_the_same_message() {
    let (mut s, _clock) = store();
    for i in 0..10 {
        emit(&mut s, "q", "t.t", &i.to_string());
    }
    let a = receive(&mut s, "q", "a", 6);
    let b = receive(&mut s, "q", "b", 6);
    assert_eq!((a.len(), b.len()), (6, 4));
    let mut all = ids(&a);
    all.extend(ids(&b));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 10);
}

#[test]
fn nack_backs_off_exponentially_then_dead_letters() {
    let (mut s, clock) = store();
    s.set_events_config(
        "q",
        EventsConfig {
            max_attempts: 3,
            base_delay_ms: 1_000,
            max_delay_ms: 60_000,
            ..Default::default()
        },
    )
    .unwrap();
    let id = emit(&mut s, "q", "mail.send", r#"{"to":"x"}"#);

    receive(&mut s, "q", "w", 1);
    let first = s.nack("q", None, "w", &id, "smtp down", None).unwrap();
    assert_eq!(
        first,
        NackOutcome::Retry {
            visible_at: START_MS + 1_000
        }
    );
    clock.advance(999);
    assert!(receive(&mut s, "q", "w", 1).is_empty(), "backing off");
    clock.advance(1);
    assert_eq!(receive(&mut s, "q", "w", 1)[0].attempt, 2);
    let second = s.nack("q", None, "w", &id, "smtp down", None).unwrap();
    assert_eq!(
        second,
        NackOutcome::Retry {
            visible_at: clock_now(&s) + 2_000
        }
    );
    clock.advance(2_000);
    assert_eq!(receive(&mut s, "q", "w", 1)[0].attempt, 3);
    let last = s
        .nack(
            "q",
            None,
            "w",
            &id,
            "smtp down",
            Some("550 mailbox unavailable"),
        )
        .unwrap();
    assert_eq!(last, NackOutcome::DeadLettered);

    clock.advance(3_600_000);
    assert!(receive(&mut s, "q", "w", 1).is_empty());
    let letter = s.dlq_get("q", &id).unwrap();
    assert_eq!(letter.reason, "smtp down");
    assert_eq!(letter.error.as_deref(), Some("550 mailbox unavailable"));
    assert_eq!(letter.original_event.message_id, id);
    assert_eq!(letter.original_event.redelivery_count, 2);
    let m = s.metrics("q").unwrap();
    assert_eq!(
        (m.queue_depth, m.dlq_depth, m.nacked, m.dead_lettered),
        (0, 1, 3, 1)
    );
}

fn clock_now(s: &TestStore) -> u64 {
    use nexus_store::Clock;
    s.clock().now_ms()
}

#[test]
fn a_lease_that_expires_on_the_last_attempt_goes_to_the_dead_letter_queue() {
    let (mut s, clock) = store();
    s.set_events_config(
        "q",
        EventsConfig {
            max_attempts: 2,
            ..Default::default()
        },
    )
    .unwrap();
    let id = emit(&mut s, "q", "crash.me", "{}");
    for _ in 0..2 {
        assert_eq!(receive(&mut s, "q", "w", 1).len(), 1);
        clock.advance(30_000);
    }
    assert!(receive(&mut s, "q", "w", 1).is_empty());
    let letter = s.dlq_get("q", &id).unwrap();
    assert!(
        letter.reason.contains("visibility timeout"),
        "{}",
        letter.reason
    );
}

#[test]
fn delayed_events_are_not_delivered_before_their_time() {
    let (mut s, clock) = store();
    let id = s
        .emit(
            "q",
            EventDraft {
                options: EmitOptions {
                    delay_ms: 5_000,
                    producer_node_id: Some("node-a".into()),
                    broadcast: false,
                },
                ..draft("reminder.due", "{}")
            },
        )
        .unwrap();
    clock.advance(4_999);
    assert!(receive(&mut s, "q", "w", 1).is_empty());
    clock.advance(1);
    let got = receive(&mut s, "q", "w", 1);
    assert_eq!(ids(&got), vec![id]);
    assert_eq!(got[0].envelope.producer_node_id.as_deref(), Some("node-a"));
}

#[test]
fn each_group_gets_matching_events_and_its_consumers_compete() {
    let (mut s, _clock) = store();
    s.subscribe("app", "mailer", &["user.*".into()]).unwrap();
    s.subscribe("app", "audit", &["#".into()]).unwrap();
    let created = emit(&mut s, "app", "user.created", "{}");
    let paid = emit(&mut s, "app", "order.paid", "{}");

    let mailer = |s: &mut TestStore, c: &str| {
        s.receive("app", &receive_req(Some("mailer"), c, 10, 1_000))
            .unwrap()
    };
    let audit = s
        .receive("app", &receive_req(Some("audit"), "x", 10, 1_000))
        .unwrap();
    assert_eq!(ids(&audit), vec![created.clone(), paid.clone()]);
    let m1 = mailer(&mut s, "m1");
    let m2 = mailer(&mut s, "m2");
    assert_eq!(ids(&m1), vec![created.clone()]);
    assert!(m2.is_empty(), "m1 holds the only matching event");
    assert_eq!(m1[0].group.as_deref(), Some("mailer"));
    // The namespace queue has every event too, independently of the groups.
    assert_eq!(receive(&mut s, "app", "plain", 10).len(), 2);
    // Acking in one group leaves the others alone.
    s.ack("app", Some("mailer"), "m1", &created).unwrap();
    assert!(s.ack("app", Some("audit"), "x", &created).is_ok());
}

#[test]
fn broadcast_reaches_every_group_whatever_its_patterns() {
    let (mut s, _clock) = store();
    s.subscribe("app", "a", &["billing.*".into()]).unwrap();
    s.subscribe("app", "b", &["user.*".into()]).unwrap();
    let id = s
        .emit(
            "app",
            EventDraft {
                options: EmitOptions {
                    broadcast: true,
                    ..Default::default()
                },
                ..draft("system.shutdown", "{}")
            },
        )
        .unwrap();
    for g in ["a", "b"] {
        let got = s
            .receive("app", &receive_req(Some(g), "c", 10, 1_000))
            .unwrap();
        assert_eq!(ids(&got), vec![id.clone()], "group {g}");
        assert!(got[0].envelope.broadcast);
    }
}

#[test]
fn unsubscribing_removes_the_group_and_its_waiting_messages() {
    let (mut s, _clock) = store();
    s.subscribe("app", "g", &["#".into()]).unwrap();
    for _ in 0..3 {
        emit(&mut s, "app", "a.b", "{}");
    }
    assert_eq!(s.metrics("app").unwrap().queue_depth, 6);
    assert!(s.unsubscribe("app", "g").unwrap());
    assert!(!s.unsubscribe("app", "g").unwrap());
    assert_eq!(s.metrics("app").unwrap().queue_depth, 3);
    assert!(matches!(
        s.receive("app", &receive_req(Some("g"), "c", 1, 1_000)),
        Err(Error::NotFound(_))
    ));
    assert!(s.list_subscriptions("app").unwrap().is_empty());
}

#[test]
fn emit_batch_is_one_commit_with_ids_in_order() {
    let (mut s, _clock) = store();
    let drafts = (0..10)
        .map(|i| draft("bulk.item", &i.to_string()))
        .collect();
    let emitted = s.emit_batch("q", drafts).unwrap();
    assert_eq!(emitted.len(), 10);
    let mut sorted = emitted.clone();
    sorted.sort();
    assert_eq!(sorted, emitted);
    assert_eq!(ids(&receive(&mut s, "q", "c", 10)), emitted);
}

#[test]
fn metrics_report_in_flight_ages_and_depths() {
    let (mut s, clock) = store();
    emit(&mut s, "q", "a.a", "{}");
    clock.advance(1_000);
    emit(&mut s, "q", "a.a", "{}");
    clock.advance(500);
    receive(&mut s, "q", "c", 1);
    let m = s.metrics("q").unwrap();
    assert_eq!(m.queue_depth, 2);
    assert_eq!(m.in_flight, 1);
    assert_eq!(m.oldest_message_age_ms, Some(1_500));
    assert_eq!(m.newest_message_age_ms, Some(500));
    clock.advance(30_000);
    assert_eq!(s.metrics("q").unwrap().in_flight, 0, "the lease expired");
    let empty = s.metrics("nothing-here").unwrap();
    assert_eq!(empty, Default::default());
}

#[test]
fn ack_batch_acks_what_it_may_and_reports_the_rest() {
    let (mut s, _clock) = store();
    for _ in 0..3 {
        emit(&mut s, "q", "a.b", "{}");
    }
    let got = ids(&receive(&mut s, "q", "c", 3));
    let mut batch = got.clone();
    batch.push(got[0].clone());
    batch.push("0000000000000000ffff".into());
    batch.push("junk".into());
    let outcomes = s.ack_batch("q", None, "c", &batch).unwrap();
    assert!(outcomes[..3].iter().all(Option::is_none));
    assert!(
        matches!(outcomes[3], Some(Error::NotFound(_))),
        "a repeated id"
    );
    assert!(matches!(outcomes[4], Some(Error::NotFound(_))));
    assert!(matches!(outcomes[5], Some(Error::NotFound(_))));
    let m = s.metrics("q").unwrap();
    assert_eq!((m.acked, m.queue_depth), (3, 0));
}

#[test]
fn dead_letter_skips_the_remaining_attempts() {
    let (mut s, _clock) = store();
    let id = emit(&mut s, "q", "unknown.kind", "{}");
    receive(&mut s, "q", "c", 1);
    s.dead_letter(
        "q",
        None,
        "c",
        &id,
        "No handler for event unknown.kind",
        None,
    )
    .unwrap();
    let letter = s.dlq_get("q", &id).unwrap();
    assert_eq!(letter.reason, "No handler for event unknown.kind");
    assert_eq!(letter.original_event.redelivery_count, 0);
    let m = s.metrics("q").unwrap();
    assert_eq!((m.queue_depth, m.dlq_depth, m.dead_lettered), (0, 1, 1));
    assert!(matches!(
        s.dead_letter("q", None, "c", &id, "again", None),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn an_empty_receive_means_nothing_is_visible_even_after_dead_lettering() {
    let (mut s, clock) = store();
    s.set_events_config(
        "q",
        EventsConfig {
            max_attempts: 1,
            ..Default::default()
        },
    )
    .unwrap();
    let doomed = emit(&mut s, "q", "a.b", "{}");
    receive(&mut s, "q", "w", 1);
    clock.advance(30_000);
    let fresh = emit(&mut s, "q", "a.b", "{}");
    // The first visible entry is an expired last attempt: it goes to the
    // DLQ and the receive goes on to the next message.
    assert_eq!(ids(&receive(&mut s, "q", "w", 1)), vec![fresh]);
    assert!(s.dlq_get("q", &doomed).is_ok());
}
