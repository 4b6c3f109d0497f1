//! One operation applied at most once per idempotency key
//! ([`Store::apply_once`]): the typed face of `crate::idempotency`, what
//! the `Idempotency-Key` header is over REST.

use super::Item;
use super::operations::{
    AckIn, EmitIn, IncrementIn, KeyIn, NackIn, NodeIn, Operation, Outcome, SetIn,
};
use crate::error::{Error, Result};
use crate::events::NackOutcome;
use crate::idempotency::{Fingerprint, Idempotent, fingerprint, validate_key};
use crate::storage::Storage;
use crate::{Clock, Store, namespace};

impl Idempotent for Operation {
    type Answer = Result<Outcome>;

    fn run<S: Storage, C: Clock>(&self, store: &mut Store<S, C>) -> Result<Outcome> {
        Item::run(self, store)
    }

    /// An error wrote nothing, so it is not recorded (a retry runs again);
    /// reads and receives are refused before they run.
    fn encode(answer: &Result<Outcome>) -> Option<Vec<u8>> {
        let tagged = |tag: u8, rest: &[u8]| [&[tag][..], rest].concat();
        Some(match answer.as_ref().ok()? {
            Outcome::Version(v) => tagged(b'v', &v.to_le_bytes()),
            Outcome::Existed(existed) => tagged(b'e', &[u8::from(*existed)]),
            Outcome::Value(n) => tagged(b'n', &n.to_le_bytes()),
            Outcome::MessageId(id) => tagged(b'm', id.as_bytes()),
            Outcome::Nacked(NackOutcome::Retry { visible_at }) => {
                tagged(b'r', &visible_at.to_le_bytes())
            }
            Outcome::Nacked(NackOutcome::DeadLettered) => vec![b'd'],
            Outcome::Done => vec![b'.'],
            Outcome::Entry(_) | Outcome::Deliveries(_) => return None,
        })
    }

    fn decode(recorded: &[u8]) -> Result<Result<Outcome>> {
        let corrupt = || Error::Storage("corrupt recorded outcome".into());
        let (&tag, rest) = recorded.split_first().ok_or_else(corrupt)?;
        let eight = || <[u8; 8]>::try_from(rest).map_err(|_| corrupt());
        Ok(Ok(match tag {
            b'v' => Outcome::Version(u64::from_le_bytes(eight()?)),
            b'e' => Outcome::Existed(rest == [1]),
            b'n' => Outcome::Value(i64::from_le_bytes(eight()?)),
            b'm' => Outcome::MessageId(String::from_utf8(rest.to_vec()).map_err(|_| corrupt())?),
            b'r' => Outcome::Nacked(NackOutcome::Retry {
                visible_at: u64::from_le_bytes(eight()?),
            }),
            b'd' => Outcome::Nacked(NackOutcome::DeadLettered),
            b'.' => Outcome::Done,
            _ => return Err(corrupt()),
        }))
    }
}

/// What a retry must repeat to get the recorded answer: every argument.
fn fingerprint_of(operation: &Operation) -> Fingerprint {
    let opt = |s: &Option<String>| match s {
        Some(s) => [b"+", s.as_bytes()].concat(),
        None => b"-".to_vec(),
    };
    let nack = |kind: &[u8], n: &NackIn| {
        fingerprint(&[
            kind,
            n.ns.as_bytes(),
            &opt(&n.group),
            n.consumer.as_bytes(),
            n.message_id.as_bytes(),
            n.reason.as_bytes(),
            &opt(&n.error),
        ])
    };
    match operation {
        Operation::Set(SetIn {
            ns,
            key,
            value,
            options,
        }) => fingerprint(&[
            b"set",
            ns.as_bytes(),
            key,
            value,
            &opt(&options.ttl_ms.map(|t| t.to_string())),
            &[u8::from(options.only_if_absent)],
            &opt(&options.only_if_version.map(|v| v.to_string())),
        ]),
        Operation::Delete(KeyIn { ns, key }) => fingerprint(&[b"delete", ns.as_bytes(), key]),
        Operation::Get(KeyIn { ns, key }) => fingerprint(&[b"get", ns.as_bytes(), key]),
        Operation::Increment(IncrementIn { ns, key, delta }) => {
            fingerprint(&[b"increment", ns.as_bytes(), key, &delta.to_le_bytes()])
        }
        Operation::Emit(EmitIn { ns, draft }) => fingerprint(&[
            b"emit",
            ns.as_bytes(),
            draft.event_type.as_bytes(),
            draft.payload.as_bytes(),
            &draft.options.delay_ms.to_le_bytes(),
            &opt(&draft.options.producer_node_id),
            &[u8::from(draft.options.broadcast)],
        ]),
        Operation::Receive(r) => fingerprint(&[b"receive", r.ns.as_bytes()]),
        Operation::Ack(AckIn {
            ns,
            group,
            consumer,
            message_id,
        }) => fingerprint(&[
            b"ack",
            ns.as_bytes(),
            &opt(group),
            consumer.as_bytes(),
            message_id.as_bytes(),
        ]),
        Operation::Nack(n) => nack(b"nack", n),
        Operation::DeadLetter(n) => nack(b"dead-letter", n),
        Operation::Heartbeat(NodeIn { ns, node_id }) => {
            fingerprint(&[b"heartbeat", ns.as_bytes(), node_id.as_bytes()])
        }
    }
}

impl<S: Storage, C: Clock> Store<S, C> {
    /// Applies `operation` at most once per `idempotency_key` in its
    /// namespace: sent again with the key (within the namespace's
    /// `idempotency_window_ms`), it answers the first outcome and writes
    /// nothing; the key with another operation is
    /// [`Error::IdempotencyKeyReused`]. An error is not recorded: it wrote
    /// nothing, and a retry runs again. Gets and receives take no key (a
    /// get applies nothing; a receive's deliveries are leases to renew,
    /// not answers to repeat).
    pub fn apply_once(&mut self, idempotency_key: &str, operation: &Operation) -> Result<Outcome> {
        validate_key(idempotency_key)?;
        let ns = operation.namespace();
        namespace::validate(ns)?;
        if matches!(operation, Operation::Get(_) | Operation::Receive(_)) {
            return Err(Error::InvalidArgument(
                "a get or a receive takes no idempotency key: only writes are applied once".into(),
            ));
        }
        let print = fingerprint_of(operation);
        self.run_idempotent(ns, idempotency_key, &print, operation)?
            .answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_recorded_outcome_reads_back() {
        for outcome in [
            Outcome::Version(7),
            Outcome::Existed(true),
            Outcome::Existed(false),
            Outcome::Value(-3),
            Outcome::MessageId("0190abc".into()),
            Outcome::Nacked(NackOutcome::Retry { visible_at: 9 }),
            Outcome::Nacked(NackOutcome::DeadLettered),
            Outcome::Done,
        ] {
            let recorded = Operation::encode(&Ok(outcome.clone())).unwrap();
            assert_eq!(Operation::decode(&recorded).unwrap().unwrap(), outcome);
        }
        assert!(Operation::encode(&Err(Error::NotFound("x".into()))).is_none());
        assert!(Operation::decode(b"v123").is_err());
        assert!(Operation::decode(b"?").is_err());
    }
}
