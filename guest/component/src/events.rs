//! The `events` export: calls the store with the logic's types and answers
//! with the WIT records (conversions in `convert.rs`).

use crate::bindings::exports::nexus::store::events::{
    self as wit, DeadLetter, DeadLetterPage, Delivery, Error, EventDraft, EventsConfig, LogPage,
    LogQuery, Metrics, NackOutcome, Node, NodeRegistration, ReceiveRequest, Subscription, Task,
    TaskSpec,
};
use crate::{Component, all_into, with_store};

impl wit::Guest for Component {
    fn emit(ns: String, draft: EventDraft) -> Result<String, Error> {
        with_store(|s| s.emit(&ns, draft.into()))
    }

    fn emit_batch(ns: String, drafts: Vec<EventDraft>) -> Result<Vec<String>, Error> {
        with_store(|s| s.emit_batch(&ns, all_into(drafts)))
    }

    fn receive(ns: String, request: ReceiveRequest) -> Result<Vec<Delivery>, Error> {
        with_store(|s| s.receive(&ns, &request.into())).map(all_into)
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
            .map(|v| v.into_iter().map(|e| e.map(Into::into)).collect())
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
        .map(Into::into)
    }

    fn dlq_list(ns: String, after: Option<String>, limit: u32) -> Result<DeadLetterPage, Error> {
        with_store(|s| s.dlq_list(&ns, after.as_deref(), limit)).map(Into::into)
    }

    fn dlq_get(ns: String, letter_id: String) -> Result<DeadLetter, Error> {
        with_store(|s| s.dlq_get(&ns, &letter_id)).map(Into::into)
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
        with_store(|s| s.log_query(&ns, &query.into())).map(Into::into)
    }

    fn register_node(ns: String, registration: NodeRegistration) -> Result<String, Error> {
        with_store(|s| s.register_node(&ns, &registration.into()))
    }

    fn heartbeat(ns: String, node_id: String) -> Result<(), Error> {
        with_store(|s| s.heartbeat(&ns, &node_id))
    }

    fn get_node(ns: String, node_id: String) -> Result<Node, Error> {
        with_store(|s| s.get_node(&ns, &node_id)).map(Into::into)
    }

    fn list_nodes(ns: String) -> Result<Vec<Node>, Error> {
        with_store(|s| s.list_nodes(&ns)).map(all_into)
    }

    fn deregister_node(ns: String, node_id: String) -> Result<(), Error> {
        with_store(|s| s.deregister_node(&ns, &node_id))
    }

    fn subscribe(ns: String, name: String, patterns: Vec<String>) -> Result<Subscription, Error> {
        with_store(|s| s.subscribe(&ns, &name, &patterns)).map(Into::into)
    }

    fn list_subscriptions(ns: String) -> Result<Vec<Subscription>, Error> {
        with_store(|s| s.list_subscriptions(&ns)).map(all_into)
    }

    fn unsubscribe(ns: String, name: String) -> Result<bool, Error> {
        with_store(|s| s.unsubscribe(&ns, &name))
    }

    fn create_task(ns: String, spec: TaskSpec) -> Result<Task, Error> {
        with_store(|s| s.create_task(&ns, &spec.into())).map(Into::into)
    }

    fn get_task(ns: String, name: String) -> Result<Task, Error> {
        with_store(|s| s.get_task(&ns, &name)).map(Into::into)
    }

    fn list_tasks(ns: String) -> Result<Vec<Task>, Error> {
        with_store(|s| s.list_tasks(&ns)).map(all_into)
    }

    fn set_task_active(ns: String, name: String, active: bool) -> Result<Task, Error> {
        with_store(|s| s.set_task_active(&ns, &name, active)).map(Into::into)
    }

    fn delete_task(ns: String, name: String) -> Result<(), Error> {
        with_store(|s| s.delete_task(&ns, &name))
    }

    fn get_metrics(ns: String) -> Result<Metrics, Error> {
        with_store(|s| s.metrics(&ns)).map(Into::into)
    }

    fn get_events_config(ns: String) -> Result<EventsConfig, Error> {
        with_store(|s| s.events_config(&ns)).map(Into::into)
    }

    fn set_events_config(ns: String, config: EventsConfig) -> Result<(), Error> {
        with_store(|s| s.set_events_config(&ns, config.into()))
    }
}
