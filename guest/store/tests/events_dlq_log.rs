//! The dead-letter queue and the event log.

#[macro_use]
mod common;

use common::*;
use nexus_store::Error;
use nexus_store::events::{EventsConfig, LogQuery};

/// Emits an event and fails it once with `max-attempts = 1`, so it lands in
/// the DLQ; returns its id.
fn dead_letter(s: &mut TestStore, ns: &str, event_type: &str) -> String {
    s.set_events_config(
        ns,
        EventsConfig {
            max_attempts: 1,
            ..Default::default()
        },
    )
    .unwrap();
    let id = emit(s, ns, event_type, r#"{"n":1}"#);
    let got = receive(s, ns, "w", 1);
    assert_eq!(ids(&got), vec![id.clone()]);
    s.nack(ns, None, "w", &id, "boom", None).unwrap();
    id
}

#[test]
fn replay_re_emits_the_event_links_it_and_empties_the_letter() {
    let (mut s, clock) = store();
    let old = dead_letter(&mut s, "q", "job.run");
    clock.advance(10);
    let new = s.dlq_replay("q", &old).unwrap();
    assert_ne!(new, old);
    assert!(matches!(s.dlq_get("q", &old), Err(Error::NotFound(_))));
    let got = receive(&mut s, "q", "w", 1);
    assert_eq!(ids(&got), vec![new.clone()]);
    assert_eq!(got[0].envelope.replay_of.as_deref(), Some(old.as_str()));
    assert_eq!(got[0].envelope.payload, r#"{"n":1}"#);
    // The log keeps both, the replay pointing at the original.
    let log = s
        .log_query(
            "q",
            &LogQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .unwrap();
    let logged: Vec<_> = log
        .events
        .iter()
        .map(|e| (e.message_id.clone(), e.replay_of.clone()))
        .collect();
    assert_eq!(logged, vec![(old.clone(), None), (new, Some(old))]);
    assert_eq!(s.metrics("q").unwrap().dlq_depth, 0);
}

#[test]
fn dlq_lists_in_pages_replays_all_and_purges() {
    let (mut s, _clock) = store();
    let mut letters = Vec::new();
    for _ in 0..5 {
        letters.push(dead_letter(&mut s, "q", "x.y"));
    }
    let first = s.dlq_list("q", None, 2).unwrap();
    let second = s.dlq_list("q", first.next.as_deref(), 2).unwrap();
    let third = s.dlq_list("q", second.next.as_deref(), 2).unwrap();
    let listed: Vec<String> = [first, second, third.clone()]
        .iter()
        .flat_map(|p| p.letters.iter().map(|l| l.id.clone()))
        .collect();
    assert_eq!(listed, letters);
    assert_eq!(third.next, None);

    assert_eq!(s.dlq_replay_all("q").unwrap(), 5);
    assert_eq!(receive(&mut s, "q", "w", 10).len(), 5);
    assert_eq!(s.dlq_list("q", None, 10).unwrap().letters.len(), 0);

    for _ in 0..3 {
        dead_letter(&mut s, "q", "x.y");
    }
    assert_eq!(s.dlq_purge("q").unwrap(), 3);
    assert_eq!(s.dlq_purge("q").unwrap(), 0);
    assert_eq!(s.metrics("q").unwrap().dlq_depth, 0);
}

#[test]
fn a_group_letter_replays_into_its_group() {
    let (mut s, _clock) = store();
    s.subscribe("q", "g", &["#".into()]).unwrap();
    s.set_events_config(
        "q",
        EventsConfig {
            max_attempts: 1,
            ..Default::default()
        },
    )
    .unwrap();
    let id = emit(&mut s, "q", "a.b", "{}");
    let req = receive_req(Some("g"), "w", 1, 1_000);
    s.receive("q", &req).unwrap();
    s.nack("q", Some("g"), "w", &id, "no", None).unwrap();
    let letter_id = format!("{id}@g");
    assert_eq!(
        s.dlq_get("q", &letter_id).unwrap().group.as_deref(),
        Some("g")
    );
    let new = s.dlq_replay("q", &letter_id).unwrap();
    assert_eq!(ids(&s.receive("q", &req).unwrap()), vec![new]);
}

#[test]
fn log_queries_by_type_time_range_and_cursor() {
    let (mut s, clock) = store();
    let mut all = Vec::new();
    for i in 0..6 {
        let ty = if i % 2 == 0 {
            "user.created"
        } else {
            "order.paid"
        };
        all.push((emit(&mut s, "q", ty, "{}"), ty, START_MS + i * 1_000));
        clock.advance(1_000);
    }
    let q = |event_type: Option<&str>, since, until, after: Option<&str>, limit| LogQuery {
        event_type: event_type.map(str::to_string),
        since,
        until,
        after_id: after.map(str::to_string),
        limit,
    };
    let users = s
        .log_query("q", &q(Some("user.created"), None, None, None, 10))
        .unwrap();
    assert_eq!(users.events.len(), 3);
    assert!(users.events.iter().all(|e| e.event_type == "user.created"));

    let window = s
        .log_query(
            "q",
            &q(
                None,
                Some(START_MS + 1_000),
                Some(START_MS + 4_000),
                None,
                10,
            ),
        )
        .unwrap();
    let got: Vec<_> = window.events.iter().map(|e| e.message_id.clone()).collect();
    assert_eq!(
        got,
        all[1..4].iter().map(|a| a.0.clone()).collect::<Vec<_>>()
    );

    let page1 = s.log_query("q", &q(None, None, None, None, 4)).unwrap();
    let page2 = s
        .log_query("q", &q(None, None, None, page1.next.as_deref(), 4))
        .unwrap();
    assert_eq!(page1.events.len() + page2.events.len(), 6);
    assert_eq!(page2.next, None);
    assert_eq!(page2.events[0].message_id, all[4].0);

    let typed_window = s
        .log_query(
            "q",
            &q(Some("order.paid"), Some(START_MS + 2_000), None, None, 10),
        )
        .unwrap();
    assert_eq!(typed_window.events.len(), 2);
}

#[test]
fn a_full_last_page_has_no_next_cursor() {
    let (mut s, clock) = store();
    for i in 0..4 {
        emit(&mut s, "q", if i % 2 == 0 { "a.b" } else { "c.d" }, "{}");
        clock.advance(1_000);
    }
    let query = |event_type: Option<&str>, after: Option<String>, limit| LogQuery {
        event_type: event_type.map(str::to_string),
        since: None,
        until: None,
        after_id: after,
        limit,
    };
    let first = s.log_query("q", &query(None, None, 2)).unwrap();
    assert!(first.next.is_some(), "two more entries follow");
    let last = s.log_query("q", &query(None, first.next, 2)).unwrap();
    assert_eq!((last.events.len(), last.next), (2, None));
    let everything = s.log_query("q", &query(None, None, 4)).unwrap();
    assert_eq!((everything.events.len(), everything.next), (4, None));
    let typed = s.log_query("q", &query(Some("a.b"), None, 2)).unwrap();
    assert_eq!((typed.events.len(), typed.next), (2, None));
    let typed_first = s.log_query("q", &query(Some("a.b"), None, 1)).unwrap();
    assert!(typed_first.next.is_some());

    for _ in 0..2 {
        dead_letter(&mut s, "d", "x.y");
    }
    let letters = s.dlq_list("d", None, 2).unwrap();
    assert_eq!((letters.letters.len(), letters.next), (2, None));
    assert!(s.dlq_list("d", None, 1).unwrap().next.is_some());
}

#[test]
fn tick_trims_the_log_by_age_but_not_the_queue() {
    let (mut s, clock) = store();
    s.set_events_config(
        "q",
        EventsConfig {
            log_retention_ms: 60_000,
            ..Default::default()
        },
    )
    .unwrap();
    emit(&mut s, "q", "old.one", "{}");
    clock.advance(30_000);
    let young = emit(&mut s, "q", "new.one", "{}");
    clock.advance(30_001);
    let report = s.tick(100).unwrap();
    assert_eq!(report.log_entries_removed, 1);
    let log = s
        .log_query(
            "q",
            &LogQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(log.events.len(), 1);
    assert_eq!(log.events[0].message_id, young);
    let by_type = s
        .log_query(
            "q",
            &LogQuery {
                event_type: Some("old.one".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(by_type.events.is_empty(), "the type index is trimmed too");
    assert_eq!(
        receive(&mut s, "q", "w", 10).len(),
        2,
        "retention is for the log only"
    );
}
