//! Bad input to the events operations: a typed error, and storage unchanged.

#[macro_use]
mod common;

use common::*;
use nexus_store::Error;
use nexus_store::events::{EventsConfig, LogQuery, NodeRegistration, TaskSpec};

/// Runs `op`, expects the error `matches`, and checks nothing was written.
macro_rules! rejects {
    ($s:expr, $op:expr, $pat:pat) => {{
        let before = snapshot(&$s);
        let result = $op;
        assert!(matches!(result, Err($pat)), "{:?}", result.map(|_| ()));
        assert_eq!(snapshot(&$s), before, "storage changed");
    }};
}

/// A store with one event emitted in `q`, so "unchanged" means something.
fn seeded() -> (TestStore, String) {
    let (mut s, _clock) = store();
    let id = emit(&mut s, "q", "seed.event", "{}");
    (s, id)
}

fn spec(cron: &str, tz: Option<&str>, payload: &str) -> TaskSpec {
    TaskSpec {
        name: "t".into(),
        cron: cron.into(),
        timezone: tz.map(str::to_string),
        event_type: "a.b".into(),
        payload: payload.into(),
    }
}

#[test]
fn emit_rejects_bad_payloads_types_and_namespaces() {
    let (mut s, _) = seeded();
    rejects!(
        s,
        s.emit("q", draft("a.b", "{not json")),
        Error::InvalidArgument(_)
    );
    rejects!(s, s.emit("q", draft("a.b", "")), Error::InvalidArgument(_));
    rejects!(
        s,
        s.emit("q", draft("bad type", "{}")),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.emit("q", draft("a..b", "{}")),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.emit("_hidden", draft("a.b", "{}")),
        Error::InvalidNamespace(_)
    );
    rejects!(
        s,
        s.emit("fresh", draft("a.b", "nope")),
        Error::InvalidArgument(_)
    );
    rejects!(s, s.emit_batch("q", vec![]), Error::InvalidArgument(_));
    rejects!(
        s,
        s.emit_batch("q", vec![draft("a.b", "{}"), draft("a.b", "[")]),
        Error::InvalidArgument(_)
    );
    let big = format!("\"{}\"", "x".repeat(2 * 1024 * 1024));
    rejects!(s, s.emit("q", draft("a.b", &big)), Error::ValueTooLarge(_));
}

#[test]
fn receive_rejects_out_of_range_arguments() {
    let (mut s, _) = seeded();
    rejects!(
        s,
        s.receive("q", &receive_req(None, "c", 0, 1_000)),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.receive("q", &receive_req(None, "c", 101, 1_000)),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.receive("q", &receive_req(None, "c", 1, 0)),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.receive("q", &receive_req(None, "", 1, 1_000)),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.receive("q", &receive_req(Some("nope"), "c", 1, 1_000)),
        Error::NotFound(_)
    );
}

#[test]
fn ack_and_nack_of_unknown_or_unheld_messages_fail() {
    let (mut s, id) = seeded();
    rejects!(s, s.ack("q", None, "c", "not-an-id"), Error::NotFound(_));
    rejects!(
        s,
        s.ack("q", None, "c", "0000000000000000000a"),
        Error::NotFound(_)
    );
    rejects!(s, s.ack("q", None, "c", &id), Error::ConditionFailed(_));
    rejects!(
        s,
        s.nack("q", None, "c", &id, "r", None),
        Error::ConditionFailed(_)
    );
    receive(&mut s, "q", "holder", 1);
    rejects!(
        s,
        s.ack("q", None, "someone-else", &id),
        Error::ConditionFailed(_)
    );
    rejects!(s, s.ack("other", None, "holder", &id), Error::NotFound(_));
    rejects!(s, s.dlq_replay("q", &id), Error::NotFound(_));
    rejects!(s, s.dlq_get("q", "garbage"), Error::NotFound(_));
}

#[test]
fn tasks_reject_bad_cron_time_zones_and_payloads() {
    let (mut s, _) = seeded();
    rejects!(
        s,
        s.create_task("q", &spec("61 * * * *", None, "{}")),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.create_task("q", &spec("* * * *", None, "{}")),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.create_task("q", &spec("0 0 * * * *", None, "{}")),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.create_task("q", &spec("every day", None, "{}")),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.create_task("q", &spec("0 9 * * *", Some("Europe/Atlantis"), "{}")),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.create_task("q", &spec("0 9 * * *", None, "{")),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.set_task_active("q", "missing", false),
        Error::NotFound(_)
    );
    rejects!(s, s.get_task("q", "missing"), Error::NotFound(_));
}

#[test]
fn nodes_subscriptions_config_and_queries_validate_their_input() {
    let (mut s, _) = seeded();
    let node = |metadata: &str, subs: &[&str]| NodeRegistration {
        display_name: "n".into(),
        description: String::new(),
        metadata: metadata.into(),
        subscriptions: subs.iter().map(|p| p.to_string()).collect(),
    };
    rejects!(
        s,
        s.register_node("q", &node("[1]", &[])),
        Error::InvalidMetadata(_)
    );
    rejects!(
        s,
        s.register_node("q", &node("{", &[])),
        Error::InvalidMetadata(_)
    );
    rejects!(
        s,
        s.register_node("q", &node("{}", &["a.b*"])),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.register_node(
            "q",
            &NodeRegistration {
                display_name: " ".into(),
                ..node("{}", &[])
            }
        ),
        Error::InvalidArgument(_)
    );
    rejects!(s, s.heartbeat("q", "node-missing"), Error::NotFound(_));
    rejects!(s, s.subscribe("q", "g", &[]), Error::InvalidArgument(_));
    rejects!(
        s,
        s.subscribe("q", "bad name", &["#".into()]),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.set_events_config(
            "q",
            EventsConfig {
                max_attempts: 0,
                ..Default::default()
            }
        ),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.set_events_config(
            "q",
            EventsConfig {
                base_delay_ms: 10,
                max_delay_ms: 5,
                ..Default::default()
            }
        ),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.log_query("q", &LogQuery::default()),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.log_query(
            "q",
            &LogQuery {
                after_id: Some("x".into()),
                limit: 5,
                ..Default::default()
            }
        ),
        Error::InvalidArgument(_)
    );
    rejects!(s, s.dlq_list("q", None, 0), Error::InvalidArgument(_));
    rejects!(
        s,
        s.dlq_list("q", Some("not-an-id"), 10),
        Error::InvalidArgument(_)
    );
}
