//! The embedded batch: operations of any namespaces and kinds in one call
//! ([`Store::batch`]), run the way `handle-batch` runs REST requests.

use crate::error::Result;
use crate::events::{Delivery, EventDraft, NackOutcome, ReceiveRequest};
use crate::storage::{Storage, StorageError};
use crate::{Clock, Entry, SetOptions, Store, keys, namespace};

use super::Item;

/// One operation of a [`Store::batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Get {
        ns: String,
        key: Vec<u8>,
    },
    Set {
        ns: String,
        key: Vec<u8>,
        value: Vec<u8>,
        options: SetOptions,
    },
    Delete {
        ns: String,
        key: Vec<u8>,
    },
    Increment {
        ns: String,
        key: Vec<u8>,
        delta: i64,
    },
    Emit {
        ns: String,
        draft: EventDraft,
    },
    /// Never waits: `wait_ms` is ignored (a batch answers at once).
    Receive {
        ns: String,
        request: ReceiveRequest,
    },
    Ack {
        ns: String,
        group: Option<String>,
        consumer: String,
        message_id: String,
    },
    Nack {
        ns: String,
        group: Option<String>,
        consumer: String,
        message_id: String,
        reason: String,
        error: Option<String>,
    },
    DeadLetter {
        ns: String,
        group: Option<String>,
        consumer: String,
        message_id: String,
        reason: String,
        error: Option<String>,
    },
    Heartbeat {
        ns: String,
        node_id: String,
    },
}

/// What an [`Operation`] answers, case for case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A get.
    Entry(Option<Entry>),
    /// A set: the new version.
    Version(u64),
    /// A delete: whether the key existed.
    Existed(bool),
    /// An increment: the new value.
    Value(i64),
    /// An emit: the new message's id.
    MessageId(String),
    /// A receive.
    Deliveries(Vec<Delivery>),
    /// A nack.
    Nacked(NackOutcome),
    /// An ack, a dead letter, a heartbeat.
    Done,
}

impl Operation {
    /// The namespace it acts on.
    pub fn namespace(&self) -> &str {
        match self {
            Operation::Get { ns, .. }
            | Operation::Set { ns, .. }
            | Operation::Delete { ns, .. }
            | Operation::Increment { ns, .. }
            | Operation::Emit { ns, .. }
            | Operation::Receive { ns, .. }
            | Operation::Ack { ns, .. }
            | Operation::Nack { ns, .. }
            | Operation::DeadLetter { ns, .. }
            | Operation::Heartbeat { ns, .. } => ns,
        }
    }
}

impl Item for Operation {
    type Answer = Result<Outcome>;

    /// Every operation here only reads and commits puts, deletes and
    /// counter additions.
    fn stages(&self) -> bool {
        true
    }

    fn reads(&self) -> Vec<Vec<u8>> {
        let (Operation::Get { ns, key }
        | Operation::Set { ns, key, .. }
        | Operation::Delete { ns, key }
        | Operation::Increment { ns, key, .. }) = self
        else {
            return Vec::new();
        };
        if namespace::validate(ns).is_err() {
            return Vec::new();
        }
        vec![keys::namespace_record(ns), keys::entry(ns, key)]
    }

    fn run<S: Storage, C: Clock>(&self, store: &mut Store<S, C>) -> Result<Outcome> {
        Ok(match self {
            Operation::Get { ns, key } => Outcome::Entry(store.get(ns, key)?),
            Operation::Set {
                ns,
                key,
                value,
                options,
            } => Outcome::Version(store.set(ns, key, value, options)?),
            Operation::Delete { ns, key } => Outcome::Existed(store.delete(ns, key)?),
            Operation::Increment { ns, key, delta } => {
                Outcome::Value(store.increment(ns, key, *delta)?)
            }
            Operation::Emit { ns, draft } => Outcome::MessageId(store.emit(ns, draft.clone())?),
            Operation::Receive { ns, request } => {
                let request = ReceiveRequest {
                    wait_ms: 0,
                    ..request.clone()
                };
                Outcome::Deliveries(store.receive(ns, &request)?)
            }
            Operation::Ack {
                ns,
                group,
                consumer,
                message_id,
            } => {
                store.ack(ns, group.as_deref(), consumer, message_id)?;
                Outcome::Done
            }
            Operation::Nack {
                ns,
                group,
                consumer,
                message_id,
                reason,
                error,
            } => Outcome::Nacked(store.nack(
                ns,
                group.as_deref(),
                consumer,
                message_id,
                reason,
                error.as_deref(),
            )?),
            Operation::DeadLetter {
                ns,
                group,
                consumer,
                message_id,
                reason,
                error,
            } => {
                store.dead_letter(
                    ns,
                    group.as_deref(),
                    consumer,
                    message_id,
                    reason,
                    error.as_deref(),
                )?;
                Outcome::Done
            }
            Operation::Heartbeat { ns, node_id } => {
                store.heartbeat(ns, node_id)?;
                Outcome::Done
            }
        })
    }

    fn failed(&self, error: StorageError) -> Result<Outcome> {
        Err(error.into())
    }
}

impl<S: Storage, C: Clock> Store<S, C> {
    /// Runs `operations` in one call, in order, as if one after another:
    /// each gets its own answer or error, later ones see earlier ones'
    /// writes, and their storage reads and writes are shared (one
    /// `get-many`, one commit). `None`: not run in this call (another writer
    /// changed a key it checked); nothing of it was written, so run it
    /// again. At least one operation is answered.
    pub fn batch(&mut self, operations: &[Operation]) -> Vec<Option<Result<Outcome>>> {
        self.run_batch(operations)
    }
}
