//! The `events` export: converts between the WIT records and
//! `nexus_store::events`, field for field, and calls the store.

use nexus_store::events as ev;

use crate::bindings::exports::nexus::store::events::{
    self as wit, DeadLetter, DeadLetterPage, Delivery, Envelope, Error, EventDraft, EventsConfig,
    LogPage, LogQuery, Metrics, NackOutcome, Node, NodeRegistration, ReceiveRequest, Subscription,
    Task, TaskSpec,
};
use crate::convert::wit_error;
use crate::{Component, with_store};

impl wit::Guest for Component {
    fn emit(ns: String, draft: EventDraft) -> Result<String, Error> {
        with_store(|s| s.emit(&ns, event_draft(draft)))
    }

    fn emit_batch(ns: String, drafts: Vec<EventDraft>) -> Result<Vec<String>, Error> {
        let drafts = drafts.into_iter().map(event_draft).collect();
        with_store(|s| s.emit_batch(&ns, drafts))
    }

    fn receive(ns: String, request: ReceiveRequest) -> Result<Vec<Delivery>, Error> {
        let request = ev::ReceiveRequest {
            group: request.group,
            consumer: request.consumer,
            max: request.max,
            visibility_timeout_ms: request.visibility_timeout_ms,
            wait_ms: request.wait_ms,
        };
        with_store(|s| s.receive(&ns, &request)).map(|v| v.into_iter().map(delivery).collect())
    }

    fn next_visible_at(ns: String, group: Option<String>) -> Result<Option<u64>, Error> {
        with_store(|s| s.next_visible_at(&ns, group.as_deref()))
    }

    fn ack(
        ns: String,
        group: Option<String>,
        consumer: String,
        message_id: String,
    ) -> Result<(), Error> {
        with_store(|s| s.ack(&ns, group.as_deref(), &consumer, &message_id))
    }

    fn ack_batch(
        ns: String,
        group: Option<String>,
        consumer: String,
        message_ids: Vec<String>,
    ) -> Result<Vec<Option<Error>>, Error> {
        with_store(|s| s.ack_batch(&ns, group.as_deref(), &consumer, &message_ids))
            .map(|v| v.into_iter().map(|e| e.map(wit_error)).collect())
    }

    fn dead_letter_message(
        ns: String,
        group: Option<String>,
        consumer: String,
        message_id: String,
        reason: String,
        error: Option<String>,
    ) -> Result<(), Error> {
        with_store(|s| {
            s.dead_letter(
                &ns,
                group.as_deref(),
                &consumer,
                &message_id,
                &reason,
                error.as_deref(),
            )
        })
    }

    fn nack(
        ns: String,
        group: Option<String>,
        consumer: String,
        message_id: String,
        reason: String,
        error: Option<String>,
    ) -> Result<NackOutcome, Error> {
        with_store(|s| {
            s.nack(
                &ns,
                group.as_deref(),
                &consumer,
                &message_id,
                &reason,
                error.as_deref(),
            )
        })
        .map(|o| match o {
            ev::NackOutcome::Retry { visible_at } => NackOutcome::Retry(visible_at),
            ev::NackOutcome::DeadLettered => NackOutcome::DeadLettered,
        })
    }

    fn dlq_list(ns: String, after: Option<String>, limit: u32) -> Result<DeadLetterPage, Error> {
        with_store(|s| s.dlq_list(&ns, after.as_deref(), limit)).map(|p| DeadLetterPage {
            letters: p.letters.into_iter().map(dead_letter).collect(),
            next: p.next,
        })
    }

    fn dlq_get(ns: String, letter_id: String) -> Result<DeadLetter, Error> {
        with_store(|s| s.dlq_get(&ns, &letter_id)).map(dead_letter)
    }

    fn dlq_replay(ns: String, letter_id: String) -> Result<String, Error> {
        with_store(|s| s.dlq_replay(&ns, &letter_id))
    }

    fn dlq_replay_all(ns: String) -> Result<u64, Error> {
        with_store(|s| s.dlq_replay_all(&ns))
    }

    fn dlq_purge(ns: String) -> Result<u64, Error> {
        with_store(|s| s.dlq_purge(&ns))
    }

    fn query_log(ns: String, query: LogQuery) -> Result<LogPage, Error> {
        let query = ev::LogQuery {
            event_type: query.event_type,
            since: query.since,
            until: query.until,
            after_id: query.after_id,
            limit: query.limit,
        };
        with_store(|s| s.log_query(&ns, &query)).map(|p| LogPage {
            events: p.events.into_iter().map(envelope).collect(),
            next: p.next,
        })
    }

    fn register_node(ns: String, registration: NodeRegistration) -> Result<String, Error> {
        let registration = ev::NodeRegistration {
            display_name: registration.display_name,
            description: registration.description,
            metadata: registration.metadata,
            subscriptions: registration.subscriptions,
        };
        with_store(|s| s.register_node(&ns, &registration))
    }

    fn heartbeat(ns: String, node_id: String) -> Result<(), Error> {
        with_store(|s| s.heartbeat(&ns, &node_id))
    }

    fn get_node(ns: String, node_id: String) -> Result<Node, Error> {
        with_store(|s| s.get_node(&ns, &node_id)).map(node)
    }

    fn list_nodes(ns: String) -> Result<Vec<Node>, Error> {
        with_store(|s| s.list_nodes(&ns)).map(|v| v.into_iter().map(node).collect())
    }

    fn deregister_node(ns: String, node_id: String) -> Result<(), Error> {
        with_store(|s| s.deregister_node(&ns, &node_id))
    }

    fn subscribe(ns: String, name: String, patterns: Vec<String>) -> Result<Subscription, Error> {
        with_store(|s| s.subscribe(&ns, &name, &patterns)).map(subscription)
    }

    fn list_subscriptions(ns: String) -> Result<Vec<Subscription>, Error> {
        with_store(|s| s.list_subscriptions(&ns)).map(|v| v.into_iter().map(subscription).collect())
    }

    fn unsubscribe(ns: String, name: String) -> Result<bool, Error> {
        with_store(|s| s.unsubscribe(&ns, &name))
    }

    fn create_task(ns: String, spec: TaskSpec) -> Result<Task, Error> {
        let spec = ev::TaskSpec {
            name: spec.name,
            cron: spec.cron,
            timezone: spec.timezone,
            event_type: spec.event_type,
            payload: spec.payload,
        };
        with_store(|s| s.create_task(&ns, &spec)).map(task)
    }

    fn get_task(ns: String, name: String) -> Result<Task, Error> {
        with_store(|s| s.get_task(&ns, &name)).map(task)
    }

    fn list_tasks(ns: String) -> Result<Vec<Task>, Error> {
        with_store(|s| s.list_tasks(&ns)).map(|v| v.into_iter().map(task).collect())
    }

    fn set_task_active(ns: String, name: String, active: bool) -> Result<Task, Error> {
        with_store(|s| s.set_task_active(&ns, &name, active)).map(task)
    }

    fn delete_task(ns: String, name: String) -> Result<(), Error> {
        with_store(|s| s.delete_task(&ns, &name))
    }

    fn get_metrics(ns: String) -> Result<Metrics, Error> {
        with_store(|s| s.metrics(&ns)).map(|m| Metrics {
            queue_depth: m.queue_depth,
            in_flight: m.in_flight,
            dlq_depth: m.dlq_depth,
            oldest_message_age_ms: m.oldest_message_age_ms,
            newest_message_age_ms: m.newest_message_age_ms,
            emitted: m.emitted,
            acked: m.acked,
            nacked: m.nacked,
            dead_lettered: m.dead_lettered,
        })
    }

    fn get_events_config(ns: String) -> Result<EventsConfig, Error> {
        with_store(|s| s.events_config(&ns)).map(|c| EventsConfig {
            max_attempts: c.max_attempts,
            base_delay_ms: c.base_delay_ms,
            max_delay_ms: c.max_delay_ms,
            node_stale_after_ms: c.node_stale_after_ms,
            log_retention_ms: c.log_retention_ms,
        })
    }

    fn set_events_config(ns: String, config: EventsConfig) -> Result<(), Error> {
        let config = ev::EventsConfig {
            max_attempts: config.max_attempts,
            base_delay_ms: config.base_delay_ms,
            max_delay_ms: config.max_delay_ms,
            node_stale_after_ms: config.node_stale_after_ms,
            log_retention_ms: config.log_retention_ms,
        };
        with_store(|s| s.set_events_config(&ns, config))
    }
}

fn event_draft(d: EventDraft) -> ev::EventDraft {
    ev::EventDraft {
        event_type: d.event_type,
        payload: d.payload,
        options: ev::EmitOptions {
            delay_ms: d.options.delay_ms,
            producer_node_id: d.options.producer_node_id,
            broadcast: d.options.broadcast,
        },
    }
}

fn envelope(e: ev::Envelope) -> Envelope {
    Envelope {
        message_id: e.message_id,
        namespace: e.namespace,
        event_type: e.event_type,
        payload: e.payload,
        emitted_at: e.emitted_at,
        producer_node_id: e.producer_node_id,
        redelivery_count: e.redelivery_count,
        scheduled_task_id: e.scheduled_task_id,
        replay_of: e.replay_of,
        broadcast: e.broadcast,
    }
}

fn delivery(d: ev::Delivery) -> Delivery {
    Delivery {
        envelope: envelope(d.envelope),
        group: d.group,
        consumer: d.consumer,
        visible_until: d.visible_until,
        attempt: d.attempt,
    }
}

fn dead_letter(l: ev::DeadLetter) -> DeadLetter {
    DeadLetter {
        id: l.id,
        original_event: envelope(l.original_event),
        reason: l.reason,
        failed_at: l.failed_at,
        error: l.error,
        group: l.group,
    }
}

fn node(n: ev::Node) -> Node {
    Node {
        node_id: n.node_id,
        display_name: n.display_name,
        description: n.description,
        metadata: n.metadata,
        subscriptions: n.subscriptions,
        registered_at: n.registered_at,
        last_heartbeat: n.last_heartbeat,
        live: n.live,
    }
}

fn subscription(s: ev::Subscription) -> Subscription {
    Subscription {
        name: s.name,
        patterns: s.patterns,
        created_at: s.created_at,
    }
}

fn task(t: ev::Task) -> Task {
    Task {
        task_id: t.task_id,
        name: t.name,
        cron: t.cron,
        timezone: t.timezone,
        event_type: t.event_type,
        payload: t.payload,
        active: t.active,
        created_at: t.created_at,
        next_run_at: t.next_run_at,
        last_run_at: t.last_run_at,
        run_count: t.run_count,
    }
}
