//! The embedded batch: operations of any namespaces and kinds in one call
//! ([`Store::batch`]), run the way `handle-batch` runs REST requests.

use crate::error::Result;
use crate::events::{Delivery, EventDraft, NackOutcome, ReceiveRequest};
use crate::storage::{Storage, StorageError};
use crate::{Clock, Entry, SetOptions, Store, keys, namespace};

use super::Item;

/// A key of a namespace: what a get or a delete names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyIn {
    pub ns: String,
    pub key: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetIn {
    pub ns: String,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    pub options: SetOptions,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncrementIn {
    pub ns: String,
    pub key: Vec<u8>,
    pub delta: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmitIn {
    pub ns: String,
    pub draft: EventDraft,
}

/// Never waits: `wait_ms` is ignored (a batch answers at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiveIn {
    pub ns: String,
    pub request: ReceiveRequest,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckIn {
    pub ns: String,
    pub group: Option<String>,
    pub consumer: String,
    pub message_id: String,
}

/// A nack, or (as [`Operation::DeadLetter`]) a message given up on at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NackIn {
    pub ns: String,
    pub group: Option<String>,
    pub consumer: String,
    pub message_id: String,
    pub reason: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeIn {
    pub ns: String,
    pub node_id: String,
}

/// One operation of a [`Store::batch`]: the calls of the key-value and
/// events APIs a batch can carry, each with its arguments (the WIT
/// `batch.operation`, case for case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Get(KeyIn),
    Set(SetIn),
    Delete(KeyIn),
    Increment(IncrementIn),
    Emit(EmitIn),
    Receive(ReceiveIn),
    Ack(AckIn),
    Nack(NackIn),
    DeadLetter(NackIn),
    Heartbeat(NodeIn),
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
            Operation::Get(KeyIn { ns, .. })
            | Operation::Delete(KeyIn { ns, .. })
            | Operation::Set(SetIn { ns, .. })
            | Operation::Increment(IncrementIn { ns, .. })
            | Operation::Emit(EmitIn { ns, .. })
            | Operation::Receive(ReceiveIn { ns, .. })
            | Operation::Ack(AckIn { ns, .. })
            | Operation::Nack(NackIn { ns, .. })
            | Operation::DeadLetter(NackIn { ns, .. })
            | Operation::Heartbeat(NodeIn { ns, .. }) => ns,
        }
    }

    /// The key a key-value operation names.
    fn key(&self) -> Option<&[u8]> {
        match self {
            Operation::Get(KeyIn { key, .. })
            | Operation::Delete(KeyIn { key, .. })
            | Operation::Set(SetIn { key, .. })
            | Operation::Increment(IncrementIn { key, .. }) => Some(key),
            Operation::Emit(_)
            | Operation::Receive(_)
            | Operation::Ack(_)
            | Operation::Nack(_)
            | Operation::DeadLetter(_)
            | Operation::Heartbeat(_) => None,
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
        let ns = self.namespace();
        match self.key() {
            Some(key) if namespace::validate(ns).is_ok() => {
                vec![keys::namespace_record(ns), keys::entry(ns, key)]
            }
            _ => Vec::new(),
        }
    }

    fn run<S: Storage, C: Clock>(&self, store: &mut Store<S, C>) -> Result<Outcome> {
        Ok(match self {
            Operation::Get(KeyIn { ns, key }) => Outcome::Entry(store.get(ns, key)?),
            Operation::Set(SetIn {
                ns,
                key,
                value,
                options,
            }) => Outcome::Version(store.set(ns, key, value, options)?),
            Operation::Delete(KeyIn { ns, key }) => Outcome::Existed(store.delete(ns, key)?),
            Operation::Increment(IncrementIn { ns, key, delta }) => {
                Outcome::Value(store.increment(ns, key, *delta)?)
            }
            Operation::Emit(EmitIn { ns, draft }) => {
                Outcome::MessageId(store.emit(ns, draft.clone())?)
            }
            Operation::Receive(ReceiveIn { ns, request }) => {
                let request = ReceiveRequest {
                    wait_ms: 0,
                    ..request.clone()
                };
                Outcome::Deliveries(store.receive(ns, &request)?)
            }
            Operation::Ack(a) => {
                store.ack(&a.ns, a.group.as_deref(), &a.consumer, &a.message_id)?;
                Outcome::Done
            }
            Operation::Nack(n) => Outcome::Nacked(store.nack(
                &n.ns,
                n.group.as_deref(),
                &n.consumer,
                &n.message_id,
                &n.reason,
                n.error.as_deref(),
            )?),
            Operation::DeadLetter(n) => {
                store.dead_letter(
                    &n.ns,
                    n.group.as_deref(),
                    &n.consumer,
                    &n.message_id,
                    &n.reason,
                    n.error.as_deref(),
                )?;
                Outcome::Done
            }
            Operation::Heartbeat(NodeIn { ns, node_id }) => {
                store.heartbeat(ns, node_id)?;
                Outcome::Done
            }
        })
    }

    fn failed(&self, error: StorageError) -> Result<Outcome> {
        Err(error.into())
    }

    /// Consecutive unconditional SETs of one namespace: one read of all
    /// their keys and one staged write, as `set_many` (conditions see the
    /// value a SET before them wrote, so a conditional SET runs alone).
    fn group_len(operations: &[Self]) -> usize {
        let Some(Operation::Set(first)) = operations.first() else {
            return 1;
        };
        operations
            .iter()
            .take_while(
                |o| matches!(o, Operation::Set(set) if set.ns == first.ns && unconditional(set)),
            )
            .count()
            .max(1)
    }

    fn run_group<S: Storage, C: Clock>(
        operations: &[Self],
        store: &mut Store<S, C>,
    ) -> Option<Vec<Result<Outcome>>> {
        let sets: Vec<(&[u8], &[u8], Option<u64>)> = operations
            .iter()
            .filter_map(|o| match o {
                Operation::Set(set) => Some((&set.key[..], &set.value[..], set.options.ttl_ms)),
                _ => None,
            })
            .collect();
        let Some(Operation::Set(first)) = operations.first() else {
            return None;
        };
        if sets.len() != operations.len() {
            return None;
        }
        // An error (a bad key, a value over the limit) belongs to one SET:
        // each runs by itself then, to answer it.
        let versions = store.set_run(&first.ns, &sets).ok()??;
        Some(
            versions
                .into_iter()
                .map(|v| Ok(Outcome::Version(v)))
                .collect(),
        )
    }
}

fn unconditional(set: &SetIn) -> bool {
    !set.options.only_if_absent && set.options.only_if_version.is_none()
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
