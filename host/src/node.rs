//! The node runtime: a registered node that polls a queue, hands each event
//! to the handler registered for its type, acks on success, nacks with the
//! error on failure, dead-letters events no handler takes (the acks, nacks
//! and dead letters of one poll settled in one call, `Nexus::batch`), and
//! sends heartbeats. A started node long-polls: on an empty queue its receive
//! waits until an emit wakes it, so it neither sleeps past a new event nor
//! polls the storage while idle.
//!
//! ```no_run
//! let nexus = nexus_host::Nexus::open("./nexus-data")?;
//! let node = nexus
//!     .namespace("app1")?
//!     .node("mailer")
//!     .on_event("user.created", |event| {
//!         println!("welcome mail for {}", event.payload);
//!         Ok(())
//!     })
//!     .register()?;
//! let running = node.start();
//! // ...
//! running.stop()?;
//! # Ok::<(), nexus_host::Error>(())
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nexus_store::events::{
    Envelope, MAX_WAIT_MS, NackOutcome, NodeRegistration, ReceiveRequest, matches,
};

use crate::batch::{AckIn, NackIn, Operation, Outcome};
use crate::error::Error;
use crate::nexus::Namespace;

/// Handles one event; an `Err` nacks it with the error's text.
pub type Handler = Arc<dyn Fn(&Envelope) -> anyhow::Result<()> + Send + Sync>;

/// Sets up a node before it registers.
pub struct NodeBuilder {
    ns: Namespace,
    registration: NodeRegistration,
    group: Option<String>,
    handlers: Vec<(String, Handler)>,
    settings: Settings,
}

#[derive(Debug, Clone, Copy)]
struct Settings {
    batch: u32,
    visibility_timeout: Duration,
    max_wait: Duration,
    retry_interval: Duration,
    heartbeat_interval: Duration,
}

impl Namespace {
    /// A node of this namespace named `display_name`; add handlers, then
    /// [`NodeBuilder::register`].
    pub fn node(&self, display_name: &str) -> NodeBuilder {
        NodeBuilder {
            ns: self.clone(),
            registration: NodeRegistration {
                display_name: display_name.to_string(),
                description: String::new(),
                metadata: "{}".into(),
                subscriptions: Vec::new(),
            },
            group: None,
            handlers: Vec::new(),
            settings: Settings {
                batch: 10,
                visibility_timeout: Duration::from_secs(30),
                max_wait: Duration::from_secs(5),
                retry_interval: Duration::from_millis(200),
                heartbeat_interval: Duration::from_secs(10),
            },
        }
    }
}

impl NodeBuilder {
    pub fn description(mut self, description: &str) -> Self {
        self.registration.description = description.to_string();
        self
    }

    /// A JSON object stored with the node.
    pub fn metadata(mut self, json: &str) -> Self {
        self.registration.metadata = json.to_string();
        self
    }

    /// Consumes from the subscription `group` (created or updated with the
    /// handlers' patterns on register) instead of the namespace queue, so
    /// several groups each see every matching event.
    pub fn group(mut self, group: &str) -> Self {
        self.group = Some(group.to_string());
        self
    }

    /// Handles events whose type matches `pattern` (an exact type such as
    /// `user.created`, or a pattern such as `user.*`). The first matching
    /// handler, in the order they were added, takes an event.
    pub fn on_event(
        mut self,
        pattern: &str,
        handler: impl Fn(&Envelope) -> anyhow::Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.handlers.push((pattern.to_string(), Arc::new(handler)));
        self
    }

    /// Messages leased per poll (default 10).
    pub fn batch_size(mut self, n: u32) -> Self {
        self.settings.batch = n;
        self
    }

    /// How long a leased message stays invisible to others (default 30 s).
    pub fn visibility_timeout(mut self, timeout: Duration) -> Self {
        self.settings.visibility_timeout = timeout;
        self
    }

    /// How long a started node's receive waits on an empty queue (default
    /// 5 s; at most 20 s, and never past the next heartbeat). An emit ends
    /// the wait at once, so this only bounds how often an idle node asks.
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.settings.max_wait = wait;
        self
    }

    /// The pause after a poll that failed, e.g. while the storage is
    /// unavailable (default 200 ms).
    pub fn retry_interval(mut self, interval: Duration) -> Self {
        self.settings.retry_interval = interval;
        self
    }

    /// How often a started node heartbeats (default 10 s).
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.settings.heartbeat_interval = interval;
        self
    }

    /// Registers the node (its subscriptions are the handlers' patterns)
    /// and, with [`NodeBuilder::group`], its subscription.
    pub fn register(mut self) -> Result<Node, Error> {
        let patterns: Vec<String> = self.handlers.iter().map(|(p, _)| p.clone()).collect();
        self.registration.subscriptions = patterns.clone();
        if let Some(group) = &self.group {
            self.ns.subscribe(group, &patterns)?;
        }
        let id = self.ns.register_node(&self.registration)?;
        Ok(Node {
            ns: self.ns,
            id,
            group: self.group,
            handlers: self.handlers,
            settings: self.settings,
        })
    }
}

/// A registered node. [`Node::poll_once`] does one round by hand (tests
/// drive it with a manual clock); [`Node::start`] runs rounds on a thread.
pub struct Node {
    ns: Namespace,
    id: String,
    group: Option<String>,
    handlers: Vec<(String, Handler)>,
    settings: Settings,
}

/// What one poll did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PollReport {
    pub received: u32,
    pub acked: u32,
    pub nacked: u32,
    /// Dead-lettered: no handler, or a nack on the last attempt.
    pub dead_lettered: u32,
}

impl Node {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn heartbeat(&self) -> Result<(), Error> {
        self.ns.heartbeat(&self.id)
    }

    /// Receives one batch and handles each message: ack on `Ok`, nack with
    /// the error on `Err`, dead letter with reason `No handler for event
    /// {type}` when no handler matches. A handler that panics counts as an
    /// `Err`.
    pub fn poll_once(&self) -> Result<PollReport, Error> {
        self.poll(Duration::ZERO)
    }

    /// [`Node::poll_once`], waiting up to `wait` for a message if none is
    /// visible.
    pub fn poll(&self, wait: Duration) -> Result<PollReport, Error> {
        self.poll_while(wait, || true)
    }

    /// [`Node::poll`] whose wait ends early once `keep_waiting` is false
    /// at a wake-up.
    fn poll_while(
        &self,
        wait: Duration,
        keep_waiting: impl Fn() -> bool,
    ) -> Result<PollReport, Error> {
        let request = ReceiveRequest {
            group: self.group.clone(),
            consumer: self.id.clone(),
            max: self.settings.batch,
            visibility_timeout_ms: self.settings.visibility_timeout.as_millis() as u64,
            wait_ms: (wait.as_millis() as u64).min(MAX_WAIT_MS),
        };
        let deliveries = self.ns.receive_while(&request, keep_waiting)?;
        let mut report = PollReport {
            received: deliveries.len() as u32,
            ..Default::default()
        };
        // Every handler runs first; their acks, nacks and dead letters then
        // go to the store in one call (one commit).
        let mut settle = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            let event = &d.envelope;
            let message_id = event.message_id.clone();
            let (ns, group, consumer) = (
                self.ns.name().to_string(),
                self.group.clone(),
                self.id.clone(),
            );
            let Some((_, handler)) = self
                .handlers
                .iter()
                .find(|(p, _)| matches(p, &event.event_type))
            else {
                settle.push(Operation::DeadLetter(NackIn {
                    ns,
                    group,
                    consumer,
                    message_id,
                    reason: format!("No handler for event {}", event.event_type),
                    error: None,
                }));
                continue;
            };
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(event)))
                .unwrap_or_else(|_| Err(anyhow::anyhow!("the handler panicked")));
            settle.push(match outcome {
                Ok(()) => Operation::Ack(AckIn {
                    ns,
                    group,
                    consumer,
                    message_id,
                }),
                Err(e) => Operation::Nack(NackIn {
                    ns,
                    group,
                    consumer,
                    message_id,
                    reason: "handler failed".into(),
                    error: Some(format!("{e:#}")),
                }),
            });
        }
        if settle.is_empty() {
            return Ok(report);
        }
        for (operation, answer) in settle.iter().zip(self.ns.nexus().batch(&settle)) {
            match (operation, answer?) {
                (Operation::DeadLetter(_), _) => report.dead_lettered += 1,
                (_, Outcome::Nacked(NackOutcome::DeadLettered)) => report.dead_lettered += 1,
                (_, Outcome::Nacked(NackOutcome::Retry { .. })) => report.nacked += 1,
                _ => report.acked += 1,
            }
        }
        Ok(report)
    }

    /// Polls on a thread until stopped: heartbeats every heartbeat interval;
    /// on an empty queue each poll waits up to the node's `max_wait` for a
    /// message. A failed poll is logged, and the loop goes on after the
    /// retry interval.
    pub fn start(self) -> RunningNode {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let ns = self.ns.clone();
        let wait = self.settings.max_wait.min(self.settings.heartbeat_interval);
        let thread = std::thread::Builder::new()
            .name(format!("nexus-node-{}", self.id))
            .spawn(move || {
                let mut last_beat = Instant::now();
                while !flag.load(Ordering::Relaxed) {
                    if last_beat.elapsed() >= self.settings.heartbeat_interval {
                        if let Err(e) = self.heartbeat() {
                            tracing::warn!(node = %self.id, error = %e, "heartbeat failed");
                        }
                        last_beat = Instant::now();
                    }
                    if let Err(e) = self.poll_while(wait, || !flag.load(Ordering::Relaxed)) {
                        tracing::warn!(node = %self.id, error = %e, "poll failed");
                        std::thread::sleep(self.settings.retry_interval);
                    }
                }
                self
            })
            .expect("spawning a node thread");
        RunningNode {
            stop,
            ns,
            thread: Some(thread),
        }
    }

    /// Removes the node from the namespace's registry.
    pub fn deregister(self) -> Result<(), Error> {
        self.ns.deregister_node(&self.id)
    }
}

/// A node polling on its own thread; [`RunningNode::stop`] ends it.
pub struct RunningNode {
    stop: Arc<AtomicBool>,
    /// Woken on stop, so a poll waiting on an empty queue ends now.
    ns: Namespace,
    thread: Option<JoinHandle<Node>>,
}

impl RunningNode {
    /// Finishes the message in hand, stops polling and deregisters.
    pub fn stop(mut self) -> Result<(), Error> {
        self.stop.store(true, Ordering::Relaxed);
        self.ns.nexus().waiters().wake(self.ns.name());
        let node = self
            .thread
            .take()
            .expect("joined once")
            .join()
            .map_err(|_| Error::Setup(anyhow::anyhow!("the node thread panicked")))?;
        node.deregister()
    }
}

impl Drop for RunningNode {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.ns.nexus().waiters().wake(self.ns.name());
    }
}
