//! The events API of a [`Namespace`]: queues with consumer groups, the
//! dead-letter queue, the event log, nodes, cron tasks, metrics and settings
//! (semantics in `docs/events.md` and in `wit/store.wit`).
//!
//! The types are `nexus_store::events`'s, re-exported here, so a program
//! that also runs the logic natively uses the same ones.
//!
//! ```no_run
//! use nexus_host::events::ReceiveRequest;
//!
//! let nexus = nexus_host::Nexus::memory()?;
//! let app = nexus.namespace("app1")?;
//! app.emit("user.created", r#"{"id":1}"#)?;
//! let request = ReceiveRequest {
//!     group: None,
//!     consumer: "worker-1".into(),
//!     max: 10,
//!     visibility_timeout_ms: 30_000,
//!     wait_ms: 0,
//! };
//! for d in app.receive(&request)? {
//!     // ... handle d.envelope.payload ...
//!     app.ack(None, "worker-1", &d.envelope.message_id)?;
//! }
//! # Ok::<(), nexus_host::Error>(())
//! ```

pub use nexus_store::events::{
    DeadLetter, DeadLetterPage, Delivery, EmitOptions, Envelope, EventDraft, EventsConfig, LogPage,
    LogQuery, Metrics, NackOutcome, Node, NodeRegistration, ReceiveRequest, Subscription, Task,
    TaskSpec,
};

use event_listener::Listener as _;
use nexus_store::http::WaitHint;

use crate::bindings::exports::nexus::store::events as wit;
use crate::error::{Error, StoreError};
use crate::nexus::{Namespace, all_into};
use crate::wait::Hold;

impl Namespace {
    /// Emits an event of type `event_type` with a JSON `payload`, delivered
    /// now and to the subscriptions whose patterns match; returns its message id.
    pub fn emit(&self, event_type: &str, payload: &str) -> Result<String, Error> {
        self.emit_with(event_type, payload, &EmitOptions::default())
    }

    /// [`Namespace::emit`] with a delay, a producer node id or broadcast.
    pub fn emit_with(
        &self,
        event_type: &str,
        payload: &str,
        options: &EmitOptions,
    ) -> Result<String, Error> {
        let draft = wit::EventDraft {
            event_type: event_type.to_string(),
            payload: payload.to_string(),
            options: options.clone().into(),
        };
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_emit(s, ns, &draft)
        }))
    }

    /// Emits 1-100 events in one commit, all or none; returns their ids in order.
    pub fn emit_batch(&self, drafts: &[EventDraft]) -> Result<Vec<String>, Error> {
        let drafts: Vec<wit::EventDraft> = all_into(drafts.iter().cloned());
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_emit_batch(s, ns, &drafts)
        }))
    }

    /// Leases up to `request.max` visible messages of the namespace's queue
    /// or of a subscription; empty when none is visible. With a `wait_ms`,
    /// an empty queue blocks this thread until an emit or a nack in the
    /// namespace (from this process or, on PostgreSQL, any host), or a
    /// delayed message, an expired lease or a backoff makes one visible, or
    /// the time is up: long polling, never polling the storage meanwhile.
    pub fn receive(&self, request: &ReceiveRequest) -> Result<Vec<Delivery>, Error> {
        self.receive_while(request, || true)
    }

    /// [`Namespace::receive`] whose wait also ends, empty, when a wake-up
    /// finds `keep_waiting` false (the node runtime stopping).
    pub(crate) fn receive_while(
        &self,
        request: &ReceiveRequest,
        keep_waiting: impl Fn() -> bool,
    ) -> Result<Vec<Delivery>, Error> {
        let request: wit::ReceiveRequest = request.clone().into();
        if request.wait_ms == 0 {
            return self.receive_now(&request);
        }
        let nexus = self.nexus();
        // From the call's start: a wake-up before the first ask must not
        // push the deadline out.
        let hold = Hold::new(self.name(), nexus.now_ms().saturating_add(request.wait_ms));
        loop {
            let listener = nexus.waiters().listen(self.name());
            let deliveries = self.receive_now(&request)?;
            if !deliveries.is_empty() {
                return Ok(deliveries);
            }
            let now_ms = nexus.now_ms();
            let hint = WaitHint {
                namespace: self.name().to_string(),
                deadline_ms: now_ms.saturating_add(request.wait_ms),
                next_visible_ms: self.next_visible_at(request.group.as_deref())?,
            };
            match hold.sleep_for(Some(&hint), now_ms) {
                Some(sleep) if !nexus.waiters().closed() && keep_waiting() => {
                    listener.wait_timeout(sleep);
                }
                _ => return Ok(deliveries),
            }
        }
    }

    fn receive_now(&self, request: &wit::ReceiveRequest) -> Result<Vec<Delivery>, Error> {
        let ns = self.name();
        let deliveries = self.call(Box::new(|b, s| {
            b.nexus_store_events().call_receive(s, ns, request)
        }))?;
        Ok(all_into(deliveries))
    }

    /// When the earliest delivery of the queue (`None`: the namespace's
    /// own) that is not visible yet becomes visible, on the store's clock.
    pub fn next_visible_at(&self, group: Option<&str>) -> Result<Option<u64>, Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_next_visible_at(s, ns, group)
        }))
    }

    /// Removes a message `consumer` holds. `condition-failed` if it holds no
    /// lease on it or the lease expired; `not-found` if the message is not
    /// in that queue.
    pub fn ack(&self, group: Option<&str>, consumer: &str, message_id: &str) -> Result<(), Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events()
                .call_ack(s, ns, group, consumer, message_id)
        }))
    }

    /// Acks 1-100 messages `consumer` holds in one commit; one outcome per
    /// id, in order (`None` = acked, else why that id was refused, which
    /// changed nothing).
    pub fn ack_batch(
        &self,
        group: Option<&str>,
        consumer: &str,
        message_ids: &[impl AsRef<str>],
    ) -> Result<Vec<Option<StoreError>>, Error> {
        let ids: Vec<String> = message_ids
            .iter()
            .map(|id| id.as_ref().to_string())
            .collect();
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events()
                .call_ack_batch(s, ns, group, consumer, &ids)
        }))
        .map(|outcomes| outcomes.into_iter().map(|e| e.map(Into::into)).collect())
    }

    /// Moves a message `consumer` holds straight to the dead-letter queue,
    /// whatever attempts it has left (a failure no retry can fix). WIT
    /// `dead-letter-message`.
    pub fn dead_letter(
        &self,
        group: Option<&str>,
        consumer: &str,
        message_id: &str,
        reason: &str,
        error: Option<&str>,
    ) -> Result<(), Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events()
                .call_dead_letter_message(s, ns, group, consumer, message_id, reason, error)
        }))
    }

    /// Gives back a message `consumer` holds: it retries after the backoff,
    /// or is dead-lettered if this was its last attempt.
    pub fn nack(
        &self,
        group: Option<&str>,
        consumer: &str,
        message_id: &str,
        reason: &str,
        error: Option<&str>,
    ) -> Result<NackOutcome, Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events()
                .call_nack(s, ns, group, consumer, message_id, reason, error)
        }))
        .map(Into::into)
    }

    /// Dead letters in message-id order after the letter id `after`
    /// (`limit` 1-1000).
    pub fn dlq_list(&self, after: Option<&str>, limit: u32) -> Result<DeadLetterPage, Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_dlq_list(s, ns, after, limit)
        }))
        .map(Into::into)
    }

    pub fn dlq_get(&self, letter_id: &str) -> Result<DeadLetter, Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_dlq_get(s, ns, letter_id)
        }))
        .map(Into::into)
    }

    /// Re-emits the letter's event as a new message (with `replay_of` set)
    /// into the queue it failed in, and removes the letter; returns the new id.
    pub fn dlq_replay(&self, letter_id: &str) -> Result<String, Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_dlq_replay(s, ns, letter_id)
        }))
    }

    /// Replays every letter; returns how many.
    pub fn dlq_replay_all(&self) -> Result<u64, Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_dlq_replay_all(s, ns)
        }))
    }

    /// Removes every letter; returns how many there were.
    pub fn dlq_purge(&self) -> Result<u64, Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_dlq_purge(s, ns)
        }))
    }

    /// The event log by type and emission time (WIT `query-log`).
    pub fn log_query(&self, query: &LogQuery) -> Result<LogPage, Error> {
        let query: wit::LogQuery = query.clone().into();
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_query_log(s, ns, &query)
        }))
        .map(Into::into)
    }

    /// Registers a node; returns its id.
    pub fn register_node(&self, registration: &NodeRegistration) -> Result<String, Error> {
        let registration: wit::NodeRegistration = registration.clone().into();
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events()
                .call_register_node(s, ns, &registration)
        }))
    }

    pub fn heartbeat(&self, node_id: &str) -> Result<(), Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_heartbeat(s, ns, node_id)
        }))
    }

    pub fn get_node(&self, node_id: &str) -> Result<Node, Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_get_node(s, ns, node_id)
        }))
        .map(Into::into)
    }

    /// Every node in registration order, with liveness.
    pub fn list_nodes(&self) -> Result<Vec<Node>, Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_list_nodes(s, ns)
        }))
        .map(all_into)
    }

    pub fn deregister_node(&self, node_id: &str) -> Result<(), Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_deregister_node(s, ns, node_id)
        }))
    }

    /// Creates the subscription (consumer group) `name`, or replaces its
    /// patterns; it receives events emitted from now on.
    pub fn subscribe(
        &self,
        name: &str,
        patterns: &[impl AsRef<str>],
    ) -> Result<Subscription, Error> {
        let patterns: Vec<String> = patterns.iter().map(|p| p.as_ref().to_string()).collect();
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events()
                .call_subscribe(s, ns, name, &patterns)
        }))
        .map(Into::into)
    }

    pub fn list_subscriptions(&self) -> Result<Vec<Subscription>, Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_list_subscriptions(s, ns)
        }))
        .map(all_into)
    }

    /// Removes a subscription and its waiting messages; false if it did not exist.
    pub fn unsubscribe(&self, name: &str) -> Result<bool, Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_unsubscribe(s, ns, name)
        }))
    }

    /// Creates an active cron task; it fires in [`crate::Nexus::tick`].
    pub fn create_task(&self, spec: &TaskSpec) -> Result<Task, Error> {
        let spec: wit::TaskSpec = spec.clone().into();
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_create_task(s, ns, &spec)
        }))
        .map(Into::into)
    }

    pub fn get_task(&self, name: &str) -> Result<Task, Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_get_task(s, ns, name)
        }))
        .map(Into::into)
    }

    pub fn list_tasks(&self) -> Result<Vec<Task>, Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_list_tasks(s, ns)
        }))
        .map(all_into)
    }

    /// Pauses or resumes a task; resuming schedules it from now.
    pub fn set_task_active(&self, name: &str, active: bool) -> Result<Task, Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events()
                .call_set_task_active(s, ns, name, active)
        }))
        .map(Into::into)
    }

    pub fn delete_task(&self, name: &str) -> Result<(), Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_delete_task(s, ns, name)
        }))
    }

    /// Queue depths, in-flight, DLQ depth, ages and totals (WIT `get-metrics`).
    pub fn metrics(&self) -> Result<Metrics, Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_get_metrics(s, ns)
        }))
        .map(Into::into)
    }

    /// Retries, node liveness and log retention (WIT `get-events-config`).
    pub fn events_config(&self) -> Result<EventsConfig, Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_get_events_config(s, ns)
        }))
        .map(Into::into)
    }

    pub fn set_events_config(&self, config: &EventsConfig) -> Result<(), Error> {
        let config: wit::EventsConfig = (*config).into();
        let ns = self.name();
        self.call(Box::new(|b, s| {
            b.nexus_store_events().call_set_events_config(s, ns, config)
        }))
    }
}
