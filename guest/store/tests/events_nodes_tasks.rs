//! Nodes with heartbeats and cron-scheduled tasks fired by `tick`.

#[macro_use]
mod common;

use std::sync::Arc;

use common::*;
use nexus_store::events::{EventsConfig, NodeRegistration, TaskSpec};
use nexus_store::{Clock, Error, ManualClock, MemoryStorage, Store};

fn registration(name: &str) -> NodeRegistration {
    NodeRegistration {
        display_name: name.into(),
        description: "sends mail".into(),
        metadata: r#"{"region":"eu"}"#.into(),
        subscriptions: vec!["user.*".into()],
    }
}

#[test]
fn nodes_register_heartbeat_go_stale_and_deregister() {
    let (mut s, clock) = store();
    s.set_events_config(
        "app",
        EventsConfig {
            node_stale_after_ms: 10_000,
            ..Default::default()
        },
    )
    .unwrap();
    let a = s.register_node("app", &registration("mailer")).unwrap();
    let b = s.register_node("app", &registration("billing")).unwrap();
    assert_ne!(a, b);
    let nodes = s.list_nodes("app").unwrap();
    assert_eq!(nodes.len(), 2);
    assert!(nodes.iter().all(|n| n.live));
    assert_eq!(nodes[0].metadata, r#"{"region":"eu"}"#);
    assert_eq!(nodes[0].subscriptions, vec!["user.*".to_string()]);

    clock.advance(9_000);
    s.heartbeat("app", &a).unwrap();
    clock.advance(1_000);
    let live: Vec<(String, bool)> = s
        .list_nodes("app")
        .unwrap()
        .into_iter()
        .map(|n| (n.node_id, n.live))
        .collect();
    assert_eq!(live, vec![(a.clone(), true), (b.clone(), false)]);
    assert_eq!(
        s.get_node("app", &a).unwrap().last_heartbeat,
        START_MS + 9_000
    );

    s.deregister_node("app", &b).unwrap();
    assert!(matches!(s.heartbeat("app", &b), Err(Error::NotFound(_))));
    assert!(matches!(
        s.deregister_node("app", &b),
        Err(Error::NotFound(_))
    ));
    assert_eq!(s.list_nodes("app").unwrap().len(), 1);
}

fn task(name: &str, cron: &str, tz: Option<&str>) -> TaskSpec {
    TaskSpec {
        name: name.into(),
        cron: cron.into(),
        timezone: tz.map(str::to_string),
        event_type: "report.daily".into(),
        payload: r#"{"kind":"digest"}"#.into(),
    }
}

/// Ticks every `step` ms from now until `until`; returns the tasks fired.
fn tick_until(s: &mut TestStore, clock: &ManualClock, until: u64, step: u64) -> u32 {
    let mut fired = 0;
    while clock.now_ms() < until {
        clock.advance(step);
        fired += s.tick(1_000).unwrap().tasks_fired;
    }
    fired
}

/// Ms since the epoch of a UTC RFC 3339 time.
fn at(rfc3339: &str) -> u64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis() as u64
}

#[test]
fn a_task_fires_every_occurrence_across_a_day_with_its_id_in_the_envelope() {
    let (mut s, clock) = store();
    clock.set(at("2026-03-02T00:00:00Z"));
    let t = s
        .create_task("app", &task("quarter", "*/15 * * * *", None))
        .unwrap();
    assert_eq!(t.next_run_at, Some(at("2026-03-02T00:15:00Z")));
    let fired = tick_until(&mut s, &clock, at("2026-03-03T00:00:00Z"), 60_000);
    assert_eq!(fired, 96);
    let got = s
        .receive("app", &receive_req(None, "w", 100, 1_000))
        .unwrap();
    assert_eq!(got.len(), 96);
    assert!(
        got.iter()
            .all(|d| d.envelope.scheduled_task_id.as_deref() == Some(t.task_id.as_str()))
    );
    assert_eq!(got[0].envelope.event_type, "report.daily");
    let after = s.get_task("app", "quarter").unwrap();
    assert_eq!(after.run_count, 96);
    assert_eq!(after.last_run_at, Some(at("2026-03-03T00:00:00Z")));
}

#[test]
fn daylight_saving_days_follow_wall_clock_time() {
    let (mut s, clock) = store();
    let ny = Some("America/New_York");
    // 2026-03-08: 02:00 EST jumps to 03:00 EDT. 2026-11-01: 02:00 EDT falls back to 01:00 EST.
    clock.set(at("2026-03-08T05:00:00Z")); // midnight in New York
    s.create_task("app", &task("fixed", "30 2 * * *", ny))
        .unwrap();
    s.create_task("app", &task("hourly", "0 * * * *", ny))
        .unwrap();
    let fired = tick_until(&mut s, &clock, at("2026-03-09T04:00:00Z"), 300_000);
    let fixed = s.get_task("app", "fixed").unwrap();
    let hourly = s.get_task("app", "hourly").unwrap();
    // The skipped 02:30 fires right after the gap, at 03:00 EDT = 07:00 UTC.
    assert_eq!(
        (fixed.run_count, fixed.last_run_at),
        (1, Some(at("2026-03-08T07:00:00Z")))
    );
    assert_eq!(hourly.run_count, 23, "a 23-hour day");
    assert_eq!(fired, 24);

    let (mut s, clock) = store();
    clock.set(at("2026-11-01T04:00:00Z")); // midnight EDT
    s.create_task("app", &task("fixed", "30 1 * * *", ny))
        .unwrap();
    s.create_task("app", &task("hourly", "0 * * * *", ny))
        .unwrap();
    tick_until(&mut s, &clock, at("2026-11-02T05:00:00Z"), 300_000);
    let fixed = s.get_task("app", "fixed").unwrap();
    let hourly = s.get_task("app", "hourly").unwrap();
    // 01:30 happens twice; the task fires at the first (EDT, 05:30 UTC) only.
    assert_eq!(
        (fixed.run_count, fixed.last_run_at),
        (1, Some(at("2026-11-01T05:30:00Z")))
    );
    assert_eq!(hourly.run_count, 25, "a 25-hour day");
}

#[test]
fn missed_occurrences_fire_once_on_catch_up() {
    let (mut s, clock) = store();
    clock.set(at("2026-05-01T00:00:00Z"));
    s.create_task("app", &task("minutely", "* * * * *", None))
        .unwrap();
    clock.set(at("2026-05-01T03:00:30Z")); // the host was down for three hours
    assert_eq!(s.tick(100).unwrap().tasks_fired, 1);
    assert_eq!(s.tick(100).unwrap().tasks_fired, 0);
    let t = s.get_task("app", "minutely").unwrap();
    assert_eq!(t.last_run_at, Some(at("2026-05-01T00:01:00Z")));
    assert_eq!(t.next_run_at, Some(at("2026-05-01T03:01:00Z")));
}

#[test]
fn several_hosts_ticking_one_storage_fire_each_occurrence_once() {
    let storage = Arc::new(MemoryStorage::new());
    let clock = ManualClock::new(at("2026-05-01T00:00:00Z"));
    let mut hosts: Vec<_> = (0..3)
        .map(|_| Store::new(storage.clone(), clock.clone()))
        .collect();
    hosts[0]
        .create_task("app", &task("t", "*/5 * * * *", None))
        .unwrap();
    let mut fired = 0;
    for _ in 0..60 {
        clock.advance(60_000);
        for h in &mut hosts {
            fired += h.tick(100).unwrap().tasks_fired;
        }
    }
    assert_eq!(fired, 12);
    assert_eq!(hosts[1].metrics("app").unwrap().emitted, 12);
}

#[test]
fn paused_tasks_do_not_fire_and_resume_from_now() {
    let (mut s, clock) = store();
    clock.set(at("2026-05-01T00:00:00Z"));
    s.create_task("app", &task("t", "0 * * * *", None)).unwrap();
    let paused = s.set_task_active("app", "t", false).unwrap();
    assert!(!paused.active);
    assert_eq!(paused.next_run_at, None);
    assert_eq!(
        tick_until(&mut s, &clock, at("2026-05-01T05:00:00Z"), 600_000),
        0
    );
    let resumed = s.set_task_active("app", "t", true).unwrap();
    assert_eq!(resumed.next_run_at, Some(at("2026-05-01T06:00:00Z")));
    assert_eq!(
        tick_until(&mut s, &clock, at("2026-05-01T07:00:00Z"), 600_000),
        2
    );
}

#[test]
fn task_names_are_unique_and_deleted_tasks_stop() {
    let (mut s, clock) = store();
    s.create_task("app", &task("t", "* * * * *", None)).unwrap();
    assert!(matches!(
        s.create_task("app", &task("t", "0 0 * * *", None)),
        Err(Error::ConditionFailed(_))
    ));
    assert_eq!(s.list_tasks("app").unwrap().len(), 1);
    s.delete_task("app", "t").unwrap();
    assert!(matches!(s.delete_task("app", "t"), Err(Error::NotFound(_))));
    clock.advance(120_000);
    assert_eq!(s.tick(100).unwrap().tasks_fired, 0);
}
