//! Nothing of one namespace's queue, subscriptions, DLQ, log, nodes or tasks
//! is visible from another: a model-based property test over random event
//! operations in namespaces whose names prefix each other.

#[macro_use]
mod common;

use std::collections::BTreeMap;

use common::*;
use nexus_store::events::{EventsConfig, LogQuery, NodeRegistration, TaskSpec};
use proptest::prelude::*;

const NAMESPACES: [&str; 4] = ["a", "a1", "a-1", "default"];

#[derive(Debug, Clone)]
enum Action {
    Emit { ns: usize, kind: u8 },
    ReceiveAck { ns: usize },
    ReceiveNack { ns: usize },
    Subscribe { ns: usize },
    Register { ns: usize },
    CreateTask { ns: usize, n: u8 },
    Advance { ms: u64 },
    Tick,
}

fn action() -> impl Strategy<Value = Action> {
    let ns = 0..NAMESPACES.len();
    prop_oneof![
        4 => (ns.clone(), 0u8..3).prop_map(|(ns, kind)| Action::Emit { ns, kind }),
        2 => ns.clone().prop_map(|ns| Action::ReceiveAck { ns }),
        2 => ns.clone().prop_map(|ns| Action::ReceiveNack { ns }),
        1 => ns.clone().prop_map(|ns| Action::Subscribe { ns }),
        1 => ns.clone().prop_map(|ns| Action::Register { ns }),
        1 => (ns, 0u8..3).prop_map(|(ns, n)| Action::CreateTask { ns, n }),
        1 => (1u64..120_000).prop_map(|ms| Action::Advance { ms }),
        1 => Just(Action::Tick),
    ]
}

/// What a namespace should hold, counted without looking at the store.
#[derive(Debug, Default, Clone, PartialEq)]
struct Model {
    emitted: u64,
    acked: u64,
    dead: u64,
    nodes: usize,
    tasks: usize,
    subscribed: bool,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn namespaces_share_no_events(actions in prop::collection::vec(action(), 1..60)) {
        let (mut s, clock) = store();
        for ns in NAMESPACES {
            // One attempt each, so every nack dead-letters.
            s.set_events_config(ns, EventsConfig { max_attempts: 1, ..Default::default() }).unwrap();
        }
        let mut model: BTreeMap<&str, Model> = NAMESPACES.iter().map(|n| (*n, Model::default())).collect();
        for a in actions {
            match a {
                Action::Emit { ns, kind } => {
                    let ns = NAMESPACES[ns];
                    let id = emit(&mut s, ns, &format!("{ns}.kind{kind}"), &format!("{{\"ns\":\"{ns}\"}}"));
                    prop_assert!(!id.is_empty());
                    model.get_mut(ns).unwrap().emitted += 1;
                }
                Action::ReceiveAck { ns } | Action::ReceiveNack { ns } => {
                    let name = NAMESPACES[ns];
                    let nack = matches!(a, Action::ReceiveNack { .. });
                    for d in receive(&mut s, name, "c", 3) {
                        prop_assert_eq!(&d.envelope.namespace, name);
                        let prefix = format!("{name}.");
                        prop_assert!(d.envelope.event_type.starts_with(&prefix));
                        let id = &d.envelope.message_id;
                        if nack {
                            s.nack(name, None, "c", id, "no", None).unwrap();
                            model.get_mut(name).unwrap().dead += 1;
                        } else {
                            s.ack(name, None, "c", id).unwrap();
                            model.get_mut(name).unwrap().acked += 1;
                        }
                    }
                }
                Action::Subscribe { ns } => {
                    let ns = NAMESPACES[ns];
                    s.subscribe(ns, "g", &[format!("{ns}.#")]).unwrap();
                    model.get_mut(ns).unwrap().subscribed = true;
                }
                Action::Register { ns } => {
                    let ns = NAMESPACES[ns];
                    s.register_node(ns, &NodeRegistration { display_name: ns.into(), ..Default::default() }).unwrap();
                    model.get_mut(ns).unwrap().nodes += 1;
                }
                Action::CreateTask { ns, n } => {
                    let ns = NAMESPACES[ns];
                    let spec = TaskSpec {
                        name: format!("t{n}"),
                        cron: "* * * * *".into(),
                        timezone: None,
                        event_type: format!("{ns}.task"),
                        payload: "{}".into(),
                    };
                    if s.create_task(ns, &spec).is_ok() {
                        model.get_mut(ns).unwrap().tasks += 1;
                    }
                }
                Action::Advance { ms } => clock.advance(ms),
                Action::Tick => {
                    s.tick(1_000).unwrap();
                }
            }
        }
        for ns in NAMESPACES {
            let m = &model[ns];
            let runs: u64 = s.list_tasks(ns).unwrap().iter().map(|t| t.run_count).sum();
            let metrics = s.metrics(ns).unwrap();
            let groups = u64::from(m.subscribed);
            // Task runs emit too.
            prop_assert_eq!(metrics.emitted, m.emitted + runs);
            let log = s.log_query(ns, &LogQuery { limit: 1000, since: Some(0), ..Default::default() }).unwrap();
            let prefix = format!("{ns}.");
            prop_assert!(log.events.iter().all(|e| e.namespace == ns && e.event_type.starts_with(&prefix)));
            prop_assert_eq!(log.events.len() as u64, metrics.emitted);
            prop_assert_eq!(metrics.acked, m.acked);
            prop_assert_eq!(metrics.dlq_depth, m.dead);
            prop_assert!(metrics.queue_depth <= metrics.emitted * (1 + groups));
            let letters = s.dlq_list(ns, None, 1000).unwrap().letters;
            prop_assert_eq!(letters.len() as u64, m.dead);
            prop_assert!(letters.iter().all(|l| l.original_event.namespace == ns));
            prop_assert_eq!(s.list_nodes(ns).unwrap().len(), m.nodes);
            prop_assert!(s.list_nodes(ns).unwrap().iter().all(|n| n.display_name == ns));
            prop_assert_eq!(s.list_tasks(ns).unwrap().len(), m.tasks);
            prop_assert_eq!(s.list_subscriptions(ns).unwrap().len() as u64, groups);
        }
    }
}
